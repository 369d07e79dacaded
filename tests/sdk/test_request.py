"""The pure request builder: URLs, bodies and signed headers, checked without any server or session."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

import aiohttp
import pytest
from yarl import URL

from backendai_jupyter.sdk._request import (
    build_headers,
    build_url,
    clean_params,
    host_header,
    prepare_body,
)
from backendai_jupyter.sdk.config import APIConfig
from backendai_jupyter.sdk.errors import ConfigError
from backendai_jupyter.sdk.response import UNSET

DATE = "2024-03-15T12:00:00+00:00"


def config(**overrides: object) -> APIConfig:
    values: dict[str, object] = {"endpoint": "http://127.0.0.1:8081", "access_key": "AK", "secret_key": "SK"}
    values.update(overrides)
    return APIConfig(**values)  # type: ignore[arg-type]


def test_params_drop_none_and_spell_booleans(clean_env: None) -> None:
    assert clean_params(None) == []
    assert clean_params({"a": None, "b": True, "c": False, "d": 3, "e": "x y"}) == [
        ("b", "true"),
        ("c", "false"),
        ("d", "3"),
        ("e", "x y"),
    ]


def test_host_is_the_configured_authority_without_user_info() -> None:
    assert host_header(URL("http://user:pw@127.0.0.1:8081/api")) == "127.0.0.1:8081"
    assert host_header(URL("https://api.example.com/x")) == "api.example.com"  # no default port added
    assert host_header(URL("http://[::1]:9000/")) == "[::1]:9000"


def test_url_keeps_prefix_quotes_and_merges_queries() -> None:
    base = URL("http://h:1/gateway/")
    assert str(build_url(base, "/folders/x y/files", {"path": "a+b"}, session_mode=False)) == (
        "http://h:1/gateway/folders/x%20y/files?path=a%2Bb"
    )
    assert build_url(base, "folders/already%20quoted", None, session_mode=False).raw_path == (
        "/gateway/folders/already%20quoted"
    )
    # a query inside the path survives, and params are appended after it
    url = build_url(base, "/session?all=1", {"owner": "AK2"}, session_mode=False)
    assert url.raw_query_string == "all=1&owner=AK2"
    # "a:b" is a path, not a scheme
    assert build_url(base, "a:b", None, session_mode=False).raw_path == "/gateway/a:b"


def test_session_mode_routes_through_func_except_server() -> None:
    base = URL("http://web:8090")
    assert build_url(base, "/folders", None, session_mode=True).raw_path == "/func/folders"
    assert build_url(base, "/server/login", None, session_mode=True).raw_path == "/server/login"
    assert build_url(base, "", None, session_mode=True).raw_path == "/func/"


async def _chunks() -> AsyncIterator[bytes]:
    yield b"x"


def test_bodies_and_their_content_types() -> None:
    body = prepare_body({"a": 1}, None, None, bodyless_type="text/plain")
    assert (body.payload, body.content_type, body.replayable) == (b'{"a": 1}', "application/json", True)
    assert prepare_body(None, None, None, bodyless_type=None).payload == b"null"  # json=None sends null
    empty = prepare_body(UNSET, None, None, bodyless_type="text/plain")
    assert (empty.payload, empty.content_type) == (None, "text/plain")
    assert prepare_body(UNSET, None, None, bodyless_type=None).content_type is None
    raw = prepare_body(UNSET, bytearray(b"\x00"), {"content-TYPE": "text/yaml"}, bodyless_type=None)
    assert (raw.payload, raw.content_type, raw.replayable) == (b"\x00", "text/yaml", True)
    stream = prepare_body(UNSET, _chunks(), None, bodyless_type=None)
    assert (stream.content_type, stream.replayable) == ("application/octet-stream", False)
    form = aiohttp.FormData()
    form.add_field("src", b"abc", filename="a.txt")
    multipart = prepare_body(UNSET, form, {"Content-Type": "ignored/for-forms"}, bodyless_type=None)
    assert multipart.content_type is not None
    assert multipart.content_type.startswith("multipart/form-data")
    assert not multipart.replayable
    with pytest.raises(TypeError, match="json= or data="):
        prepare_body({}, b"x", None, bodyless_type=None)


def _expected_signature(method: str, url: URL, content_type: str, version: str) -> str:
    # recomputed from docs/protocol.md §2.1, independently of sdk.auth
    host = url.raw_authority
    text = "\n".join(
        [
            method,
            url.raw_path_qs,
            DATE,
            f"host:{host}",
            f"content-type:{content_type}",
            f"x-backendai-version:{version}",
            hashlib.sha256(b"").hexdigest(),
        ]
    )
    k1 = hmac.new(b"SK", b"20240315", hashlib.sha256).digest()
    key = hmac.new(k1, host.encode(), hashlib.sha256).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def test_signed_headers(clean_env: None) -> None:
    conf = config()
    url = URL("http://127.0.0.1:8081/session/s1?x=1")
    headers = build_headers(
        conf,
        "POST",
        url,
        api_version="v8.20240315",
        date=DATE,
        content_type="application/json",
        extra={"content-type": "text/other", "X-Extra": "1"},
    )
    assert headers["Host"] == "127.0.0.1:8081"
    assert headers["Date"] == DATE
    assert headers["Content-Type"] == "application/json"  # the prepared type, not the caller's copy
    assert headers["X-Extra"] == "1"
    assert headers["X-BackendAI-Version"] == "v8.20240315"
    assert headers["X-BackendAI-Domain"] == "default"
    signature = _expected_signature("POST", url, "application/json", "v8.20240315")
    assert headers["Authorization"] == f"BackendAI signMethod=HMAC-SHA256, credential=AK:{signature}"
    # no Content-Type (WebSocket, SSE): signed as application/octet-stream
    bare = build_headers(conf, "GET", url, api_version="v8.20240315", date=DATE, content_type=None)
    assert "Content-Type" not in bare
    assert bare["Authorization"].endswith(
        _expected_signature("GET", url, "application/octet-stream", "v8.20240315")
    )


def test_unsigned_headers(clean_env: None) -> None:
    url = URL("http://127.0.0.1:8081/")
    probe = build_headers(
        config(), "GET", url, api_version="v8.20240315", date=DATE, content_type=None, probe=True
    )
    assert "X-BackendAI-Version" not in probe
    assert "Authorization" not in probe
    anonymous = build_headers(
        config(), "GET", url, api_version="v8.20240315", date=DATE, content_type=None, anonymous=True
    )
    assert anonymous["X-BackendAI-Version"] == "v8.20240315"
    assert "Authorization" not in anonymous
    session = config(endpoint_type="session")
    assert "Authorization" not in build_headers(
        session, "GET", url, api_version="v8", date=DATE, content_type=None
    )
    with pytest.raises(ConfigError, match="BACKEND_SECRET_KEY"):
        build_headers(config(secret_key=""), "GET", url, api_version="v8", date=DATE, content_type=None)
