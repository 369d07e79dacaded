"""data: URIs -> (mime, bare base64) or decoded text."""

from __future__ import annotations

import base64

import pytest

from backendai_jupyter.display.datauri import DataURI, is_data_uri, parse_data_uri, to_bare_base64

PNG_B64 = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(40))).decode()


def test_base64_uri() -> None:
    uri = parse_data_uri(f"data:image/png;base64,{PNG_B64}")
    assert uri == DataURI("image/png", PNG_B64, True, ())
    assert uri.base64() == PNG_B64


def test_wrapped_percent_encoded_and_unpadded_base64() -> None:
    wrapped = PNG_B64[:20] + "\n" + PNG_B64[20:40] + "\r\n " + PNG_B64[40:]
    assert parse_data_uri(f"data:image/png;base64,{wrapped}").data == PNG_B64
    encoded = PNG_B64.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    assert parse_data_uri(f"data:image/png;base64,{encoded}").data == PNG_B64
    unpadded = base64.b64encode(b"ab").decode().rstrip("=")
    assert parse_data_uri(f"data:image/gif;base64,{unpadded}").data == "YWI="
    urlsafe = base64.urlsafe_b64encode(b"\xfb\xff").decode()
    assert base64.b64decode(parse_data_uri(f"data:image/gif;base64,{urlsafe}").data) == b"\xfb\xff"


def test_params_and_text_uris() -> None:
    uri = parse_data_uri("data:text/html;charset=utf-8,%3Cb%3Ehi%20%C3%A9%3C%2Fb%3E")
    assert uri == DataURI("text/html", "<b>hi é</b>", False, (("charset", "utf-8"),))
    assert base64.b64decode(uri.base64()).decode() == "<b>hi é</b>"
    latin = parse_data_uri(
        "data:text/plain;charset=latin-1;base64," + base64.b64encode("é".encode("latin-1")).decode()
    )
    assert latin.text() == "é"
    assert parse_data_uri("data:,hello") == DataURI("text/plain", "hello", False, ())
    assert parse_data_uri("DATA:Image/SVG+XML,<svg/>").mime == "image/svg+xml"


def test_to_bare_base64() -> None:
    assert to_bare_base64(f"data:image/png;base64,{PNG_B64}") == PNG_B64
    assert to_bare_base64(PNG_B64) == PNG_B64
    with pytest.raises(ValueError, match="outside the base64 alphabet"):
        to_bare_base64("<svg/>")


def test_detection_and_errors() -> None:
    assert is_data_uri(f"data:image/png;base64,{PNG_B64}")
    assert not is_data_uri("<svg/>")
    assert not is_data_uri("data without comma")
    assert not is_data_uri(None)
    with pytest.raises(ValueError, match="is not a data URI"):
        parse_data_uri("image/png;base64,xx")
    with pytest.raises(ValueError, match="base64 payload of image/png is invalid"):
        parse_data_uri("data:image/png;base64,A")
    with pytest.raises(ValueError, match="outside the base64 alphabet"):
        parse_data_uri("data:image/png;base64,ab$c")
