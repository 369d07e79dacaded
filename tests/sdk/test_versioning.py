"""Version parsing, negotiation and the version-dependent paths and fields."""

from __future__ import annotations

import pytest

from backendai_jupyter.sdk import versioning as v


def test_parse_and_format() -> None:
    assert v.parse_version("v7.20230615") == (7, "20230615")
    assert v.format_version((8, "20240315")) == "v8.20240315"
    for bad in ("7.20230615", "v7", "v7.2023061", "vx.20230615", ""):
        with pytest.raises(ValueError, match=r"vMAJOR\.YYYYMMDD"):
            v.parse_version(bad)


def test_negotiate_is_min() -> None:
    assert v.negotiate("v8.20240315", "v7.20230615") == "v7.20230615"
    assert v.negotiate("v7.20230615", "v8.20240315") == "v7.20230615"
    assert v.negotiate("v8.20240915", "v8.20240315") == "v8.20240315"
    assert v.negotiate((10, "20200101"), (9, "20250722")) == "v9.20250722"


@pytest.mark.parametrize(
    ("version", "prefix", "name", "image", "cluster", "gql", "proxy"),
    [
        ("v4.20181215", "/kernel", "clientSessionToken", "lang", True, "/admin/graphql", False),
        ("v4.20190615", "/kernel", "clientSessionToken", "image", True, "/admin/graphql", False),
        ("v5.20191215", "/session", "name", "image", True, "/admin/graphql", False),
        ("v6.20200815", "/session", "name", "image", False, "/admin/graphql", True),
        ("v6.20210815", "/session", "name", "image", False, "/admin/gql", True),
        ("v7.20230615", "/session", "name", "image", False, "/admin/gql", True),
        ("v8.20240315", "/session", "name", "image", False, "/admin/gql", True),
    ],
)
def test_choices(
    version: str, prefix: str, name: str, image: str, cluster: bool, gql: str, proxy: bool
) -> None:
    assert v.session_prefix(version) == prefix
    assert v.stream_prefix(version) == "/stream" + prefix
    assert v.name_field(version) == name
    assert v.image_field(version) == image
    assert v.cluster_in_config(version) is cluster
    assert v.gql_path(version) == gql
    assert v.uses_storage_proxy(version) is proxy


def test_session_download_method() -> None:
    assert v.session_download_method("v7.20230615") == "GET"
    assert v.session_download_method("v8.20240315") == "GET"
    assert v.session_download_method("v8.20240315", "24.03.7") == "GET"
    assert v.session_download_method("v8.20240315", "24.03.11") == "POST"
    assert v.session_download_method("v8.20240915") == "POST"


def test_events_path_and_params() -> None:
    assert v.events_path_and_params("v4.20190615", session_name="s1") == (
        "/stream/kernel/_/events",
        {"sessionId": "s1"},
    )
    assert v.events_path_and_params("v5.20191215", session_name="s1", scope="kernel") == (
        "/events/session",
        {"name": "s1"},
    )
    assert v.events_path_and_params(
        "v7.20230615", session_id="u-1", session_name="s1", owner_access_key="AK", scope="*"
    ) == ("/events/session", {"sessionId": "u-1", "ownerAccessKey": "AK", "scope": "*"})
    assert v.events_path_and_params("v8.20240315") == ("/events/session", {"sessionName": "*"})
