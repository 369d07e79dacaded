"""HMAC signing: the docs/protocol.md §2.1 test vector and the header set."""

from __future__ import annotations

from typing import Any

import pytest

from backendai_jupyter.sdk.auth import (
    authorization_header,
    format_date,
    sign_request,
    signature,
    string_to_sign,
)

VECTOR: dict[str, Any] = {
    "method": "GET",
    "path_with_query": "/session/mysess?owner_access_key=AK2",
    "date_header": "2024-01-02T03:04:05+00:00",
    "host": "127.0.0.1:8081",
    "content_type": "text/plain",
    "api_version": "v7.20230615",
}
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXPECTED = "545a37e15be82e18c738b885ead67e1418a0e978e4f0cf8499a6df14d8d29ced"


def test_protocol_test_vector() -> None:
    assert signature(**VECTOR, secret_key=SECRET) == EXPECTED


def test_sign_request_headers() -> None:
    headers = sign_request(**VECTOR, access_key="AKIAIOSFODNN7EXAMPLE", secret_key=SECRET)
    assert headers == {
        "Date": "2024-01-02T03:04:05+00:00",
        "X-BackendAI-Version": "v7.20230615",
        "Content-Type": "text/plain",
        "Authorization": f"BackendAI signMethod=HMAC-SHA256, credential=AKIAIOSFODNN7EXAMPLE:{EXPECTED}",
    }
    assert SECRET not in "".join(headers.values())


def test_string_to_sign_shape() -> None:
    text = string_to_sign(**{**VECTOR, "content_type": "application/json; charset=utf-8", "method": "post"})
    assert text.split("\n") == [
        "POST",
        "/session/mysess?owner_access_key=AK2",
        "2024-01-02T03:04:05+00:00",
        "host:127.0.0.1:8081",
        "content-type:application/json",
        "x-backendai-version:v7.20230615",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]


def test_no_content_type_signs_octet_stream() -> None:
    headers = sign_request(**{**VECTOR, "content_type": None}, access_key="AK", secret_key=SECRET)
    assert "Content-Type" not in headers
    explicit = signature(**{**VECTOR, "content_type": "application/octet-stream"}, secret_key=SECRET)
    assert headers["Authorization"].endswith(explicit)


def test_every_input_changes_the_signature() -> None:
    base = signature(**VECTOR, secret_key=SECRET)
    variants = [
        {"method": "POST"},
        {"path_with_query": "/session/mysess"},
        {"date_header": "2024-01-03T03:04:05+00:00"},
        {"host": "127.0.0.1:8082"},
        {"content_type": "application/json"},
        {"api_version": "v8.20240315"},
    ]
    for change in variants:
        assert signature(**{**VECTOR, **change}, secret_key=SECRET) != base, change
    assert signature(**VECTOR, secret_key=SECRET + "x") != base


def test_other_hash_and_header_name() -> None:
    sig = signature(**VECTOR, secret_key=SECRET, hash_type="sha1")
    assert len(sig) == 40
    assert authorization_header(access_key="AK", signature=sig, hash_type="sha1").startswith(
        "BackendAI signMethod=HMAC-SHA1, credential=AK:"
    )
    with pytest.raises(ValueError, match="md4x"):
        signature(**VECTOR, secret_key=SECRET, hash_type="md4x")


def test_format_date_is_utc_iso() -> None:
    from datetime import datetime, timedelta, timezone

    local = datetime(2024, 1, 2, 12, 4, 5, tzinfo=timezone(timedelta(hours=9)))
    assert format_date(local) == "2024-01-02T03:04:05+00:00"
