"""The TLS context of the connection pool, built from the settings (CA bundle, client certificate, skip)."""

from __future__ import annotations

import ssl

from .config import APIConfig
from .errors import ConfigError

__all__ = ["ssl_context"]


def ssl_context(config: APIConfig) -> ssl.SSLContext | bool:
    """What aiohttp's connector takes as ``ssl=``: True (system defaults) unless a setting asks otherwise.

    An unreadable or encrypted key file is a ConfigError naming the settings, never a password prompt.
    """
    if config.ca_bundle is None and config.client_cert is None and not config.skip_sslcert_validation:
        return True
    try:
        ctx = ssl.create_default_context(cafile=str(config.ca_bundle) if config.ca_bundle else None)
        if config.client_cert is not None:
            cert, key = config.client_cert
            # A password callback that fails: never block on a terminal prompt for an encrypted key.
            ctx.load_cert_chain(str(cert), str(key) if key else None, password=lambda: b"")
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            f"cannot load TLS files (ca_bundle={config.ca_bundle}, client_cert={config.client_cert}): {exc}; "
            "point BACKEND_CA_BUNDLE / BACKEND_CLIENT_CERT / BACKEND_CLIENT_KEY at unencrypted PEM files"
        ) from exc
    if config.skip_sslcert_validation:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
