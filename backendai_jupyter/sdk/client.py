"""``AsyncClient``: the I/O half of the SDK core (session, negotiation, failover, retries, timeouts, TLS).

What a request looks like is built by ``_request``; what a failure means is decided by ``_errormap``;
which endpoint comes next, by ``_failover``; whether to try again, by ``retry``; the TLS context, by
``_tls``. This module wires them to one aiohttp session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

import aiohttp
from yarl import URL

from ..wire import MAX_WS_MESSAGE_SIZE
from ._constants import DEFAULT_WS_HEARTBEAT, NEGOTIATE_READ_TIMEOUT, OLDEST_WARN_VERSION
from ._errormap import BODY_ERRORS, describe_call, error_from_reply, map_transport_error
from ._failover import EndpointWalk
from ._request import Body, Params, PreparedBody, build_headers, build_url, clean_params, prepare_body
from ._tls import ssl_context
from .auth import format_date
from .config import APIConfig, get_config
from .errors import BackendClientError, BackendConnectionError, BackendError
from .response import UNSET, RateLimit, Response
from .retry import is_idempotent
from .versioning import Version, format_version, parse_version

if TYPE_CHECKING:
    from typing_extensions import Self

    from .resources.auth import Auth
    from .resources.events import Events
    from .resources.images import Images
    from .resources.manager import Manager
    from .resources.sessions import Sessions
    from .resources.vfolders import VFolders

__all__ = ["UNSET", "AsyncClient", "Body", "OTPPrompt", "RateLimit", "Response", "TimeoutArg"]

log = logging.getLogger(__name__)

TimeoutArg = float | tuple[float, float]
#: Asked for a one-time password when a session-mode login needs one (may be async).
OTPPrompt = Callable[[], str | Awaitable[str]]


@dataclass
class _Failure(Exception):
    """A send that failed without a reply; ``sent`` says whether the server may have seen the request."""

    error: BackendError
    cause: BaseException
    sent: bool
    retryable: bool = True


class AsyncClient:
    """The async core: one aiohttp session, signed requests, negotiation, failover and retries."""

    config: APIConfig

    def __init__(
        self,
        config: APIConfig | None = None,
        *,
        otp_prompt: OTPPrompt | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config if config is not None else get_config()
        self._otp_prompt = otp_prompt
        self._sleep = sleep
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._clock = clock
        self._rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._endpoint_index = 0
        self._version = self.config.version
        self._server_version: str | None = None
        self._manager_version: str | None = None
        self._negotiated = False
        self._negotiate_lock = asyncio.Lock()

    # -- lifecycle --
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool (a later request opens a new one)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def __repr__(self) -> str:
        return f"AsyncClient({self.config!r}, api_version={self._version!r})"

    # -- versions --
    @property
    def api_version(self) -> str:
        """The negotiated API version (the configured one before negotiation)."""
        return self._version

    @property
    def api_version_tuple(self) -> Version:
        """The negotiated API version as ``(major, "YYYYMMDD")``."""
        return parse_version(self._version)

    @property
    def server_version(self) -> str | None:
        """The API version the server reported, once negotiated."""
        return self._server_version

    @property
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        """The sleep used for every backoff (injected in tests so that no real time passes)."""
        return self._sleep

    @property
    def manager_version(self) -> str | None:
        """The manager release the server reported (e.g. ``"24.03.11"``), once negotiated."""
        return self._manager_version

    @property
    def otp_prompt(self) -> OTPPrompt | None:
        """Asked for a one-time password by ``auth.login`` (None: raise OTPRequiredError instead)."""
        return self._otp_prompt

    @property
    def endpoint(self) -> URL:
        """The endpoint currently in use (the last one that answered)."""
        return self.config.endpoints[self._endpoint_index]

    async def negotiate(self) -> str:
        """Probe ``GET /`` once and use min(server, client); on an error reply keep the configured version."""
        async with self._negotiate_lock:
            if self._negotiated:
                return self._version
            connect, read = self.config.timeout
            probe_read = min(read, NEGOTIATE_READ_TIMEOUT) if read else NEGOTIATE_READ_TIMEOUT
            try:
                resp = await self._request(
                    "GET", "", probe=True, retry=False, timeout=(connect, probe_read), anonymous=True
                )
                info = resp.json()
                server = parse_version(str(info["version"]))
            except BackendConnectionError:
                raise
            except (BackendError, KeyError, TypeError, ValueError) as exc:
                log.warning(
                    "API version negotiation failed (%s); using the configured %s", exc, self.config.version
                )
                self._negotiated = True
                return self._version
            client = parse_version(self.config.version)
            self._version = format_version(min(server, client))
            self._server_version = format_version(server)
            manager = info.get("manager")
            self._manager_version = str(manager) if manager is not None else None
            if server < OLDEST_WARN_VERSION:
                log.warning("server API %s is older than this SDK supports well", self._server_version)
            elif server > client:
                log.info("server API %s is newer than ours; using %s", self._server_version, self._version)
            self._negotiated = True
        await self._announce()
        return self._version

    async def _announce(self) -> None:
        handler = self.config.announcement_handler
        if handler is None:
            return
        try:
            info = (await self.request("GET", "/manager/announcement", anonymous=True)).json()
        except BackendError:
            return  # announcements are best effort, as in the official SDK
        if isinstance(info, dict) and info.get("enabled") and info.get("message"):
            handler(str(info["message"]))

    async def _ensure_negotiated(self) -> None:
        if self._negotiated:
            return
        try:
            await self.negotiate()
        except BackendConnectionError as exc:
            # Let the request itself fail over, retry and report; the next request probes again.
            log.info("version probe failed (%s); using %s for now", exc, self._version)

    # -- plumbing --
    async def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is not None and not self._session.closed:
            if self._session_loop is not loop:
                raise BackendClientError(
                    "this AsyncClient is bound to the event loop it was first used in; "
                    "create one client per event loop, or use the sync Client"
                )
            return self._session
        connect, _ = self.config.timeout
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.config.pool_size, ssl=ssl_context(self.config)),
            # unsafe=True: keep the web server's login cookie also when the endpoint is an IP address.
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect or None),
        )
        self._session_loop = loop
        return self._session

    def clear_cookies(self) -> None:
        """Forget every cookie, the web server's login session included (``auth.logout``)."""
        if self._session is not None:
            self._session.cookie_jar.clear()

    def _timeout(self, override: TimeoutArg | None) -> tuple[float, float]:
        if override is None:
            return self.config.timeout
        if isinstance(override, tuple):
            return float(override[0]), float(override[1])
        return float(override), float(override)

    @staticmethod
    def _client_timeout(pair: tuple[float, float]) -> aiohttp.ClientTimeout:
        connect, read = pair
        return aiohttp.ClientTimeout(total=None, sock_connect=connect or None, sock_read=read or None)

    def _signed_target(
        self,
        method: str,
        endpoint: URL,
        path: str,
        params: Params | None,
        *,
        date: str,
        content_type: str | None,
        extra: Mapping[str, str] | None = None,
        anonymous: bool = False,
        probe: bool = False,
    ) -> tuple[URL, dict[str, str]]:
        """The URL and headers of one request to ``endpoint`` (re-signed per endpoint: the Host differs)."""
        url = build_url(endpoint, path, params, session_mode=self.config.endpoint_type == "session")
        headers = build_headers(
            self.config,
            method,
            url,
            api_version=self._version,
            date=date,
            content_type=content_type,
            extra=extra,
            anonymous=anonymous,
            probe=probe,
        )
        return url, headers

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        params: Params | None,
        body: PreparedBody,
        headers: Mapping[str, str] | None,
        idempotent: bool,
        timeout: tuple[float, float],
        anonymous: bool,
        probe: bool,
    ) -> aiohttp.ClientResponse:
        """One attempt: try each endpoint from the current one, moving on when a connection fails."""
        session = await self._get_session()
        date = format_date(self._now())  # the same Date for every endpoint, re-signed per host
        walk = EndpointWalk(self.config.endpoints, self._endpoint_index, idempotent=idempotent)
        for index, endpoint in walk:
            url, hdrs = self._signed_target(
                method,
                endpoint,
                path,
                params,
                date=date,
                content_type=body.content_type,
                extra=headers,
                anonymous=anonymous,
                probe=probe,
            )
            try:
                resp = await session.request(
                    method,
                    url,
                    data=body.payload,
                    headers=hdrs,
                    allow_redirects=False,
                    timeout=self._client_timeout(timeout),
                )
            except aiohttp.ClientError as exc:
                if walk.absorb(endpoint, exc):
                    continue
                error = map_transport_error(
                    exc, call=describe_call(method, path), timeout=timeout, endpoint=endpoint
                )
                # TLS fails the same way again; a read timeout has already waited the whole limit.
                tls = isinstance(exc, aiohttp.ClientSSLError)
                final = tls or isinstance(exc, aiohttp.ServerTimeoutError)
                raise _Failure(error, exc, sent=not tls, retryable=not final) from exc
            self._endpoint_index = index
            return resp
        raise _Failure(walk.exhausted(), walk.last or ConnectionError("no endpoint"), sent=walk.sent)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = UNSET,
        data: Body | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: TimeoutArg | None = None,
        anonymous: bool = False,
        bodyless_type: str | None = "text/plain",
        probe: bool = False,
        retry: bool = True,
    ) -> aiohttp.ClientResponse:
        """Send with retries; return the open response (status < 400) or raise the mapped error."""
        if not probe:
            await self._ensure_negotiated()
        method = method.upper()
        body = prepare_body(json, data, headers, bodyless_type=bodyless_type)
        idem = is_idempotent(method, idempotent)
        policy = self.config.retry
        pair = self._timeout(timeout)
        attempt = 0
        while True:
            try:
                resp = await self._send_once(
                    method,
                    path,
                    params=params,
                    body=body,
                    headers=headers,
                    idempotent=idem,
                    timeout=pair,
                    anonymous=anonymous,
                    probe=probe,
                )
            except _Failure as failure:
                if (
                    retry
                    and failure.retryable
                    and (body.replayable or not failure.sent)
                    and policy.should_retry(
                        idempotent=idem, attempt=attempt, exception=failure.cause, request_sent=failure.sent
                    )
                ):
                    await self._sleep(policy.backoff_seconds(attempt, rng=self._rng, now=self._clock))
                    attempt += 1
                    continue
                raise failure.error from failure.cause
            if resp.status < 400:
                return resp
            if (
                retry
                and body.replayable
                and policy.should_retry(idempotent=idem, attempt=attempt, status=resp.status)
            ):
                delay = policy.backoff_seconds(
                    attempt, resp.headers.get("Retry-After"), rng=self._rng, now=self._clock
                )
                resp.release()
                log.info("%s %s answered %d; retrying in %.2f s", method, path, resp.status, delay)
                await self._sleep(delay)
                attempt += 1
                continue
            raise await error_from_reply(resp)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = UNSET,
        data: Body | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: TimeoutArg | None = None,
        anonymous: bool = False,
        probe: bool = False,
        retry: bool = True,
    ) -> Response:
        resp = await self._send(
            method,
            path,
            params=params,
            json=json,
            data=data,
            headers=headers,
            idempotent=idempotent,
            timeout=timeout,
            anonymous=anonymous,
            probe=probe,
            retry=retry,
        )
        try:
            body = await resp.read()
        except BODY_ERRORS as exc:
            call = describe_call(method.upper(), path)
            raise map_transport_error(exc, call=call, timeout=self._timeout(timeout), reading=True) from exc
        finally:
            resp.release()
        return Response(
            status=resp.status, reason=resp.reason or "", headers=resp.headers, body=body, url=resp.url
        )

    # -- public transport --
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = UNSET,
        data: Body | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: TimeoutArg | None = None,
        anonymous: bool = False,
    ) -> Response:
        """Send one API request and read the reply; raises a BackendAPIError subclass for status >= 400."""
        return await self._request(
            method,
            path,
            params=params,
            json=json,
            data=data,
            headers=headers,
            idempotent=idempotent,
            timeout=timeout,
            anonymous=anonymous,
        )

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = UNSET,
        data: Body | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: TimeoutArg | None = None,
        anonymous: bool = False,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A signed request whose body is left unread (SSE, large downloads); raises for >= 400 first.

        A transport failure while the body is read inside the block becomes a BackendConnectionError
        (or BackendTimeoutError), like any other.
        """
        resp = await self._send(
            method,
            path,
            params=params,
            json=json,
            data=data,
            headers=headers,
            idempotent=idempotent,
            timeout=timeout,
            anonymous=anonymous,
            bodyless_type=None,
        )
        try:
            yield resp
        except BODY_ERRORS as exc:
            call = describe_call(method.upper(), path)
            raise map_transport_error(exc, call=call, timeout=self._timeout(timeout), reading=True) from exc
        finally:
            _finish(resp)

    async def ws_connect(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        heartbeat: float | None = DEFAULT_WS_HEARTBEAT,
    ) -> aiohttp.ClientWebSocketResponse:
        """A signed WebSocket upgrade, failing over across endpoints on connection errors."""
        await self._ensure_negotiated()
        session = await self._get_session()
        date = format_date(self._now())
        # The upgrade carries no body and runs nothing: repeating it elsewhere is safe.
        walk = EndpointWalk(self.config.endpoints, self._endpoint_index, idempotent=True)
        for index, endpoint in walk:
            url, hdrs = self._signed_target("GET", endpoint, path, params, date=date, content_type=None)
            try:
                ws = await session.ws_connect(
                    url, headers=hdrs, heartbeat=heartbeat, max_msg_size=MAX_WS_MESSAGE_SIZE
                )
            except aiohttp.ClientError as exc:
                if walk.absorb(endpoint, exc):
                    continue
                call = describe_call("WebSocket", path)
                raise map_transport_error(
                    exc, call=call, timeout=self.config.timeout, endpoint=endpoint
                ) from exc
            self._endpoint_index = index
            # aiohttp 3.14 types the socket by decode_text; we use its default (text frames as str).
            return cast(aiohttp.ClientWebSocketResponse, ws)
        raise walk.exhausted() from walk.last

    @contextlib.asynccontextmanager
    async def raw(
        self,
        method: str,
        url: str | URL,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | AsyncIterable[bytes] | None = None,
        params: Mapping[str, str] | None = None,
        timeout: TimeoutArg | None = None,
        check: bool = True,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """An unsigned request to an absolute URL (storage proxy), address map applied; body left unread."""
        method = method.upper()
        target = self.config.map_storage_url(url)
        if params:
            target = target.extend_query(clean_params(params))
        session = await self._get_session()
        pair = self._timeout(timeout)
        call = describe_call(method, target.path)
        hdrs = {"User-Agent": self.config.user_agent, **(headers or {})}
        try:
            resp = await session.request(
                method,
                target,
                headers=hdrs,
                data=data,
                allow_redirects=False,
                timeout=self._client_timeout(pair),
            )
        except aiohttp.ClientError as exc:
            # not chained, here and below: aiohttp's errors quote the URL, whose query holds the token
            raise map_transport_error(exc, call=call, timeout=pair, storage=target) from None
        try:
            if check and resp.status >= 400:
                raise await error_from_reply(resp)
            yield resp
        except BODY_ERRORS as exc:
            raise map_transport_error(exc, call=call, timeout=pair, storage=target, reading=True) from None
        finally:
            _finish(resp)

    # -- resources (written by the resources module; imported lazily) --
    @cached_property
    def sessions(self) -> Sessions:
        """Compute sessions."""
        from .resources.sessions import Sessions

        return Sessions(self)

    @cached_property
    def vfolders(self) -> VFolders:
        """Virtual folders."""
        from .resources.vfolders import VFolders

        return VFolders(self)

    @cached_property
    def images(self) -> Images:
        """Images."""
        from .resources.images import Images

        return Images(self)

    @cached_property
    def auth(self) -> Auth:
        """Authentication helpers (password to keypair, auth test)."""
        from .resources.auth import Auth

        return Auth(self)

    @cached_property
    def manager(self) -> Manager:
        """Manager status and announcement."""
        from .resources.manager import Manager

        return Manager(self)

    @cached_property
    def events(self) -> Events:
        """Session lifecycle and background-task events (SSE)."""
        from .resources.events import Events

        return Events(self)


def _finish(resp: aiohttp.ClientResponse) -> None:
    # A fully read body lets the connection go back to the pool; a half-read stream must be closed.
    if resp.content.at_eof():
        resp.release()
    else:
        resp.close()
