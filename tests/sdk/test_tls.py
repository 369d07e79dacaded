"""The TLS context built from the settings (the handshakes themselves are in test_client)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from backendai_jupyter.sdk._tls import ssl_context
from backendai_jupyter.sdk.config import APIConfig
from backendai_jupyter.sdk.errors import ConfigError

ENDPOINT = "https://127.0.0.1:8443"


def test_system_defaults_unless_asked(clean_env: None) -> None:
    assert ssl_context(APIConfig(endpoint=ENDPOINT)) is True


def test_skip_validation(clean_env: None) -> None:
    ctx = ssl_context(APIConfig(endpoint=ENDPOINT, skip_sslcert_validation=True))
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_NONE
    assert not ctx.check_hostname


def test_unreadable_pem_is_a_config_error_naming_the_settings(clean_env: None, tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="BACKEND_CA_BUNDLE") as caught:
        ssl_context(APIConfig(endpoint=ENDPOINT, ca_bundle=bad))
    assert str(bad) in str(caught.value)
