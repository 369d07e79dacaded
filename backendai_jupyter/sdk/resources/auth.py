"""Authentication: session-mode login/logout (their only home) and password-to-keypair authorization."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...wire import PROBLEM_PREFIX
from .._facade import LoopThread, SyncResource, await_, sync_method
from ..errors import AuthenticationError, BackendClientError, ConfigError, OTPRequiredError
from ..types import KeypairInfo

if TYPE_CHECKING:
    from ..client import AsyncClient, OTPPrompt

__all__ = ["Auth", "SyncAuth"]


class Auth:
    """Log in through a web server, or trade an email and password for a keypair."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def login(self, username: str, password: str, *, otp: str | None = None) -> dict[str, Any]:
        """Log in to a web-server endpoint (session mode); the client keeps the ``AIOHTTP_SESSION`` cookie.

        When the server wants a one-time password and none was given, the client's ``otp_prompt`` is
        asked once; without one, OTPRequiredError. Returns the server's ``data`` (e.g. the access key).
        """
        if self._client.config.endpoint_type != "session":
            raise ConfigError(
                "login() needs a web-server endpoint; set BACKEND_ENDPOINT_TYPE=session "
                "(or APIConfig(endpoint_type='session'))"
            )
        body: dict[str, str] = {"username": username, "password": password}
        if otp is not None:
            body["otp"] = otp
        reply = (await self._client.request("POST", "/server/login", json=body, anonymous=True)).json()
        data = reply.get("data") if isinstance(reply, dict) else None
        data = data if isinstance(data, dict) else {}
        if isinstance(reply, dict) and reply.get("authenticated"):
            return dict(data)
        details = data.get("details")
        # the web server answers 200 with authenticated=false: raise what a 401 would have raised
        problem = {
            "type": data.get("type") or PROBLEM_PREFIX + "auth-failed",
            "title": data.get("title") or "Login failed.",
            "msg": details if isinstance(details, str) else None,
        }
        if otp is None and details == "OTP not provided":
            prompt = self._client.otp_prompt
            if prompt is None:
                raise OTPRequiredError(401, "Unauthorized", problem)
            code = prompt()
            if inspect.isawaitable(code):
                code = await code
            return await self.login(username, password, otp=str(code))
        raise AuthenticationError(401, "Unauthorized", problem)

    async def logout(self) -> None:
        """Log out of the web server and forget the cookie (also when the server cannot be reached)."""
        try:
            await self._client.request("POST", "/server/logout", anonymous=True)
        finally:
            self._client.clear_cookies()

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
    """The blocking twin of ``Auth``; ``login`` asks the sync ``otp_prompt`` in the caller's thread."""

    def __init__(
        self, auth: Auth, *, loop: LoopThread | None = None, otp_prompt: OTPPrompt | None = None
    ) -> None:
        super().__init__(auth, loop=loop)
        self._otp_prompt = otp_prompt

    def login(self, username: str, password: str, *, otp: str | None = None) -> dict[str, Any]:
        """Log in to a web-server endpoint; asks ``otp_prompt`` (it may call ``input()``) for an OTP."""
        try:
            return self._loop.run(self._async.login(username, password, otp=otp))
        except OTPRequiredError:
            if otp is not None or self._otp_prompt is None:
                raise
        code = self._otp_prompt()
        if inspect.isawaitable(code):
            code = self._loop.run(await_(code))
        return self._loop.run(self._async.login(username, password, otp=str(code)))

    logout = sync_method(Auth.logout)
    authorize = sync_method(Auth.authorize)
    test = sync_method(Auth.test)
