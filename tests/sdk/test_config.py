"""APIConfig: resolution order, environment names, clear errors, immutability, masking."""

from __future__ import annotations

from pathlib import Path

import pytest
from yarl import URL

from backendai_jupyter.sdk import config as config_module
from backendai_jupyter.sdk.config import DEFAULTS, APIConfig, get_config, get_env, set_config
from backendai_jupyter.sdk.errors import ConfigError
from backendai_jupyter.sdk.retry import RetryPolicy

pytestmark = pytest.mark.usefixtures("clean_env")


def test_defaults() -> None:
    conf = APIConfig()
    assert conf.endpoint == URL("https://api.cloud.backend.ai")
    assert conf.endpoint_type == "api"
    assert conf.version == "v8.20240315"
    assert conf.domain == conf.group == "default"
    assert conf.hash_type == "sha256"
    assert conf.timeout == (10.0, 0.0)
    assert conf.access_key == conf.secret_key == ""
    assert conf.is_anonymous
    assert conf.retry == RetryPolicy()
    assert conf.user_agent.startswith("backendai-jupyter/")
    assert conf.vfolder_mounts == ()
    assert conf.source_of("endpoint") == "default"
    assert DEFAULTS["connection_timeout"] == 10.0
    assert DEFAULTS["read_timeout"] == 0


def test_argument_beats_environment_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_DOMAIN", "envdom")
    monkeypatch.setenv("SORNA_DOMAIN", "sornadom")
    monkeypatch.setenv("SORNA_GROUP", "sornagroup")
    conf = APIConfig(access_key="AK")
    assert conf.domain == "envdom"
    assert conf.group == "sornagroup"
    assert conf.access_key == "AK"
    assert conf.source_of("domain") == "environment"
    assert conf.source_of("access_key") == "argument"
    assert conf.source_of("hash_type") == "default"
    assert APIConfig(domain="argdom").domain == "argdom"


def test_environment_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    env = {
        "BACKEND_ENDPOINT": "http://a.example:8081, https://b.example/prefix",
        "BACKEND_ENDPOINT_TYPE": "Session",
        "BACKEND_ACCESS_KEY": "AK",
        "BACKEND_SECRET_KEY": "SK",
        "BACKEND_VERSION": "v7.20230615",
        "BACKEND_HASH_TYPE": "SHA512",
        "BACKEND_VFOLDER_MOUNTS": "data, models",
        "BACKEND_SKIP_SSLCERT_VALIDATION": "yes",
        "BACKEND_CONNECTION_TIMEOUT": "3",
        "BACKEND_READ_TIMEOUT": "0",
        "BACKEND_OVERRIDE_STORAGE_PROXY": (
            "http://10.0.0.5:6021=https://st.example, 10.0.0.6:6021=st2.example:443"
        ),
        "BACKEND_CA_BUNDLE": str(ca),
        "BACKEND_POOL_SIZE": "7",
        "BACKEND_MAX_RETRIES": "0",
    }
    for k, val in env.items():
        monkeypatch.setenv(k, val)
    conf = APIConfig()
    assert conf.endpoints == (URL("http://a.example:8081"), URL("https://b.example/prefix"))
    assert conf.endpoint_type == "session"
    assert (conf.access_key, conf.secret_key, conf.version, conf.hash_type) == (
        "AK",
        "SK",
        "v7.20230615",
        "sha512",
    )
    assert conf.vfolder_mounts == ("data", "models")
    assert conf.skip_sslcert_validation is True
    assert conf.timeout == (3.0, 0.0)
    assert conf.ca_bundle == ca
    assert conf.pool_size == 7
    assert conf.retry.max_retries == 0
    assert dict(conf.storage_proxy_address_map) == {
        "http://10.0.0.5:6021": "https://st.example",
        "10.0.0.6:6021": "st2.example:443",
    }
    assert conf.map_storage_url("http://10.0.0.5:6021/upload?token=a.b") == URL(
        "https://st.example/upload?token=a.b"
    )
    assert conf.map_storage_url("http://10.0.0.6:6021/download") == URL("http://st2.example:443/download")
    assert conf.map_storage_url("http://other:1/x") == URL("http://other:1/x")
    assert conf.source_of("timeout") == "environment"


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        (
            "BACKEND_READ_TIMEOUT",
            "abc",
            "BACKEND_READ_TIMEOUT='abc' is not a number of seconds; set it to e.g. 30 or 0 for no limit",
        ),
        ("SORNA_CONNECTION_TIMEOUT", "-1", "SORNA_CONNECTION_TIMEOUT='-1' is not a number of seconds >= 0"),
        ("BACKEND_ENDPOINT", "localhost:8081", "BACKEND_ENDPOINT='localhost:8081' is not an http(s) URL"),
        ("BACKEND_ENDPOINT_TYPE", "web", "BACKEND_ENDPOINT_TYPE='web' is not one of ['api', 'session']"),
        ("BACKEND_VERSION", "7", "BACKEND_VERSION='7' is not an API version"),
        ("BACKEND_HASH_TYPE", "crc", "BACKEND_HASH_TYPE='crc' is not a supported hash"),
        (
            "BACKEND_SKIP_SSLCERT_VALIDATION",
            "maybe",
            "BACKEND_SKIP_SSLCERT_VALIDATION='maybe' is not a yes/no flag",
        ),
        ("BACKEND_POOL_SIZE", "0", "BACKEND_POOL_SIZE='0' must be a whole number >= 1"),
        ("BACKEND_MAX_RETRIES", "two", "BACKEND_MAX_RETRIES='two' is not a whole number"),
        (
            "BACKEND_OVERRIDE_STORAGE_PROXY",
            "a-b",
            "BACKEND_OVERRIDE_STORAGE_PROXY='a-b' is not a list of orig=new",
        ),
        (
            "BACKEND_CA_BUNDLE",
            "/nonexistent/ca.pem",
            "BACKEND_CA_BUNDLE='/nonexistent/ca.pem' is not an existing file",
        ),
        ("BACKEND_CLIENT_KEY", "/x.pem", "BACKEND_CLIENT_KEY is set but BACKEND_CLIENT_CERT is not"),
    ],
)
def test_malformed_environment(monkeypatch: pytest.MonkeyPatch, var: str, value: str, message: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        APIConfig()
    assert str(info.value).startswith(message)


def test_malformed_argument_names_the_parameter() -> None:
    with pytest.raises(ConfigError, match=r"^APIConfig\(read_timeout\)='x' is not a number of seconds"):
        APIConfig(read_timeout="x")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="give only one of them"):
        APIConfig(timeout=5, read_timeout=3)
    with pytest.raises(ConfigError, match=r"\(connect, read\) pair"):
        APIConfig(timeout=(1, 2, 3))  # type: ignore[arg-type]


def test_timeout_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_READ_TIMEOUT", "30")
    assert APIConfig().timeout == (10.0, 30.0)
    assert APIConfig(timeout=5).timeout == (5.0, 5.0)
    assert APIConfig(timeout=(2, 0)).timeout == (2.0, 0.0)
    assert APIConfig(timeout=(2, 0)).source_of("read_timeout") == "argument"
    assert APIConfig(connection_timeout=1).timeout == (1.0, 30.0)


def test_client_cert_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("c")
    key.write_text("k")
    monkeypatch.setenv("BACKEND_CLIENT_CERT", str(cert))
    assert APIConfig().client_cert == (cert, None)
    monkeypatch.setenv("BACKEND_CLIENT_KEY", str(key))
    assert APIConfig().client_cert == (cert, key)
    assert APIConfig(client_cert=(cert, key)).source_of("client_cert") == "argument"


def test_repr_masks_secret_and_is_frozen() -> None:
    conf = APIConfig(access_key="AKIAEXAMPLE", secret_key="super-secret-value")
    assert "super-secret-value" not in repr(conf)
    assert "AKIAEXAMPLE" in repr(conf)
    with pytest.raises(AttributeError, match="immutable"):
        conf.domain = "x"  # type: ignore[misc]
    changed = conf.replace(domain="other", timeout=3)
    assert (changed.domain, changed.secret_key, changed.timeout) == (
        "other",
        "super-secret-value",
        (3.0, 3.0),
    )
    assert conf.domain == "default"


def test_get_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_env("NOPE", "fallback") == "fallback"
    with pytest.raises(ConfigError, match="BACKEND_NOPE is not set"):
        get_env("NOPE")
    monkeypatch.setenv("SORNA_THING", "12")
    assert get_env("THING", 0, clean=int) == 12
    monkeypatch.setenv("BACKEND_THING", "x")
    with pytest.raises(ConfigError, match=r"^BACKEND_THING='x' is invalid"):
        get_env("THING", 0, clean=int)


def test_get_and_set_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_ACCESS_KEY", "FROMENV")
    assert get_config().access_key == "FROMENV"
    assert get_config() is get_config()
    mine = APIConfig(access_key="MINE")
    set_config(mine)
    assert get_config() is mine
    set_config(None)
    assert config_module.get_config().access_key == "FROMENV"


def test_malformed_secret_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        APIConfig(secret_key=12345)  # type: ignore[arg-type]
    assert "12345" not in str(info.value)
    assert str(info.value).startswith("APIConfig(secret_key)='***' is not a string")
