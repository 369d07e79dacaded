"""Authentication helpers: session-mode login/logout and password-to-keypair authorization."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import BackendClientError
from ..sync import SyncResource, sync_method
from ..types import KeypairInfo

if TYPE_CHECKING:
    from ..client import AsyncClient

__all__ = ["Auth", "SyncAuth"]


class Auth:
    """Log in through a web server, or trade an email and password for a keypair."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def login(self, username: str, password: str, *, otp: str | None = None) -> dict[str, Any]:
        """Session-mode login (``POST /server/login``); see ``AsyncClient.login``."""
        return await self._client.login(username, password, otp=otp)

    async def logout(self) -> None:
        """Session-mode logout."""
        await self._client.logout()

    async def authorize(
        self,
        username: str,
        password: str,
        *,
        domain: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> KeypairInfo:
        """``POST /auth/authorize`` (anonymous): the keypair of this email and password."""
        body: dict[str, Any] = {
            "type": "keypair",
            "domain": domain or self._client.config.domain,
            "username": username,
            "password": password,
            **(extra or {}),
        }
        resp = await self._client.request("POST", "/auth/authorize", json=body, anonymous=True)
        data = resp.json()
        inner = data.get("data") if isinstance(data, Mapping) else None
        if not isinstance(inner, Mapping):
            keys = sorted(data) if isinstance(data, Mapping) else type(data).__name__  # never the values
            raise BackendClientError(
                f"the authorize reply carries no keypair under 'data' (it has {keys}); "
                "check that the endpoint is a Backend.AI manager (BACKEND_ENDPOINT)"
            )
        return KeypairInfo.from_api(inner)

    async def test(self, echo: str = "") -> Mapping[str, Any]:
        """``POST /auth/test``: whether the current credentials are accepted (echoes ``echo``)."""
        resp = await self._client.request("POST", "/auth/test", json={"echo": echo}, idempotent=True)
        data = resp.json()
        return dict(data) if isinstance(data, Mapping) else {}


class SyncAuth(SyncResource[Auth]):
    """The blocking twin of ``Auth`` (for an OTP prompt use ``Client.login``)."""

    login = sync_method(Auth.login)
    logout = sync_method(Auth.logout)
    authorize = sync_method(Auth.authorize)
    test = sync_method(Auth.test)
