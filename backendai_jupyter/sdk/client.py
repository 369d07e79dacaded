"""``AsyncClient``: signed requests, version negotiation, failover, retries, timeouts, TLS, session mode."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json as jsonlib
import logging
import random
import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, cast

import aiohttp
import multidict
from yarl import URL

from ..wire import PROBLEM_PREFIX
from ._constants import (
    DEFAULT_WS_HEARTBEAT,
    MAX_WS_MESSAGE_SIZE,
    NEGOTIATE_READ_TIMEOUT,
    OLDEST_WARN_VERSION,
)
from .auth import format_date, sign_request
from .config import APIConfig, get_config
from .errors import (
    AuthenticationError,
    BackendAPIError,
    BackendClientError,
    BackendConnectionError,
    BackendError,
    BackendTimeoutError,
    ConfigError,
    OTPRequiredError,
    error_from_response,
)
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

__all__ = ["UNSET", "AsyncClient", "RateLimit", "Response", "TimeoutArg"]

log = logging.getLogger(__name__)

TimeoutArg = float | tuple[float, float]
Body = bytes | aiohttp.FormData | AsyncIterable[bytes]
OTPPrompt = Callable[[], str | Awaitable[str]]


class _Unset:
    """The type of ``UNSET``: "no JSON body" (``json=None`` sends ``null``)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RateLimit:
    """The ``X-RateLimit-*`` headers of a reply (None when absent, e.g. on errors)."""

    limit: int | None
    remaining: int | None
    window: int | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit:
        """Read the three headers."""
        return cls(
            limit=_int_header(headers, "X-RateLimit-Limit"),
            remaining=_int_header(headers, "X-RateLimit-Remaining"),
            window=_int_header(headers, "X-RateLimit-Window"),
        )


@dataclass(frozen=True)
class Response:
    """A fully read reply with status < 400."""

    status: int
    reason: str
    headers: multidict.CIMultiDictProxy[str]
    body: bytes
    url: URL

    def json(self) -> Any:
        """The body parsed as JSON; BackendClientError if it is not JSON."""
        try:
            return jsonlib.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            snippet = self.body[:80].decode("utf-8", errors="replace")
            raise BackendClientError(
                f"expected JSON from {self.url.path} (status {self.status}) but got {snippet!r}"
            ) from exc

    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", errors="replace")

    @property
    def rate_limit(self) -> RateLimit:
        """The rate-limit window state the server reported."""
        return RateLimit.from_headers(self.headers)


@dataclass
class _Body:
    payload: Any
    content_type: str | None  # the header sent; None = none
    replayable: bool


@dataclass
class _Failure(Exception):
    """A send that failed without a reply; ``sent`` says whether the server may have seen the request."""

    error: BackendClientError
    cause: BaseException
    sent: bool
    retryable: bool = True


def _clean_params(params: Mapping[str, str | int | bool | None] | None) -> list[tuple[str, str]]:
    if not params:
        return []
    cleaned: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            cleaned.append((key, "true" if value else "false"))
        else:
            cleaned.append((key, str(value)))
    return cleaned


def _host_header(url: URL) -> str:
    # Sign and send the authority exactly as configured (protocol.md §2.1: URL.raw_authority).
    return url.raw_authority.rpartition("@")[2]


def _describe(seconds: float) -> str:
    return "no limit" if not seconds else f"{seconds:g} s"


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
            connector=aiohttp.TCPConnector(limit=self.config.pool_size, ssl=self._ssl()),
            # unsafe=True: keep the web server's login cookie also when the endpoint is an IP address.
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect or None),
        )
        self._session_loop = loop
        return self._session

    def _ssl(self) -> ssl.SSLContext | bool:
        conf = self.config
        if conf.ca_bundle is None and conf.client_cert is None and not conf.skip_sslcert_validation:
            return True
        try:
            ctx = ssl.create_default_context(cafile=str(conf.ca_bundle) if conf.ca_bundle else None)
            if conf.client_cert is not None:
                cert, key = conf.client_cert
                # A password callback that fails: never block on a terminal prompt for an encrypted key.
                ctx.load_cert_chain(str(cert), str(key) if key else None, password=lambda: b"")
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(
                f"cannot load TLS files (ca_bundle={conf.ca_bundle}, client_cert={conf.client_cert}): {exc}; "
                "point BACKEND_CA_BUNDLE / BACKEND_CLIENT_CERT / BACKEND_CLIENT_KEY at unencrypted PEM files"
            ) from exc
        if conf.skip_sslcert_validation:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

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

    def _url(self, endpoint: URL, path: str, params: Mapping[str, str | int | bool | None] | None) -> URL:
        # A leading "/" keeps yarl from reading "a:b" as a scheme; yarl quotes what needs it and keeps %XX.
        rel = URL("/" + path.lstrip("/"))
        rel_path = rel.raw_path.lstrip("/")
        if self.config.endpoint_type == "session" and not rel_path.startswith("server"):
            rel_path = "func/" + rel_path
        url = endpoint.with_path(endpoint.raw_path.rstrip("/") + "/" + rel_path, encoded=True)
        if rel.raw_query_string:
            url = url.with_query(rel.raw_query_string)
        extra = _clean_params(params)
        return url.extend_query(extra) if extra else url

    def _prepare_body(
        self, json: Any, data: Body | None, headers: Mapping[str, str] | None, *, bodyless_type: str | None
    ) -> _Body:
        given = {k.lower(): v for k, v in (headers or {}).items()}.get("content-type")
        if not isinstance(json, _Unset):
            if data is not None:
                raise TypeError("request() takes json= or data=, not both")
            return _Body(jsonlib.dumps(json).encode(), given or "application/json", True)
        if data is None:
            return _Body(None, given or bodyless_type, True)
        if isinstance(data, (bytes, bytearray, memoryview)):
            return _Body(bytes(data), given or "application/octet-stream", True)
        if isinstance(data, aiohttp.FormData):
            payload = data()
            return _Body(payload, payload.content_type, False)
        return _Body(data, given or "application/octet-stream", False)

    def _headers(
        self,
        method: str,
        url: URL,
        *,
        date: str,
        content_type: str | None,
        extra: Mapping[str, str] | None,
        anonymous: bool,
        probe: bool,
    ) -> dict[str, str]:
        conf = self.config
        headers: dict[str, str] = {"User-Agent": conf.user_agent, "X-BackendAI-Domain": conf.domain}
        for key, value in (extra or {}).items():
            if key.lower() != "content-type":
                headers[key] = value
        host = _host_header(url)
        headers["Host"] = host
        headers["Date"] = date
        if content_type is not None:
            headers["Content-Type"] = content_type
        if probe:
            return headers
        headers["X-BackendAI-Version"] = self._version
        if anonymous or conf.endpoint_type == "session" or conf.access_key == "":
            return headers
        if not conf.secret_key:
            raise ConfigError(
                "an access key is configured but no secret key; set BACKEND_SECRET_KEY "
                "(or APIConfig(secret_key=...))"
            )
        headers.update(
            sign_request(
                method=method,
                path_with_query=url.raw_path_qs,
                date_header=date,
                host=host,
                content_type=content_type,
                api_version=self._version,
                access_key=conf.access_key,
                secret_key=conf.secret_key,
                hash_type=conf.hash_type,
            )
        )
        return headers

    def _timeout_error(
        self, method: str, path: str, pair: tuple[float, float], exc: BaseException
    ) -> BackendTimeoutError:
        what = "connecting" if isinstance(exc, aiohttp.ConnectionTimeoutError) else "waiting for the server"
        limit = pair[0] if isinstance(exc, aiohttp.ConnectionTimeoutError) else pair[1]
        return BackendTimeoutError(
            f"{method} /{path.lstrip('/')} timed out after {_describe(limit)} {what}; raise the limit with "
            "timeout=(connect, read) on the call, APIConfig(connection_timeout=..., read_timeout=...) or "
            "BACKEND_CONNECTION_TIMEOUT / BACKEND_READ_TIMEOUT (0 = no limit)"
        )

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | bool | None] | None,
        body: _Body,
        headers: Mapping[str, str] | None,
        idempotent: bool,
        timeout: tuple[float, float],
        anonymous: bool,
        probe: bool,
    ) -> aiohttp.ClientResponse:
        """One attempt: try each endpoint from the current one, moving on when a connection fails."""
        session = await self._get_session()
        endpoints = self.config.endpoints
        date = format_date(self._now())  # the same Date for every endpoint, re-signed per host
        tried: list[str] = []
        sent = False
        last: BaseException | None = None
        for offset in range(len(endpoints)):
            index = (self._endpoint_index + offset) % len(endpoints)
            url = self._url(endpoints[index], path, params)
            hdrs = self._headers(
                method,
                url,
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
            except aiohttp.ClientSSLError as exc:
                raise _Failure(
                    BackendConnectionError(
                        f"TLS failed for {endpoints[index]}: {exc}; set BACKEND_CA_BUNDLE to your CA file "
                        "(or BACKEND_SKIP_SSLCERT_VALIDATION=1, insecure)"
                    ),
                    exc,
                    sent=False,
                    retryable=False,
                ) from exc
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                # Nothing reached the server: safe to fail over for any method.
                tried.append(str(endpoints[index]))
                last = exc
                log.info("cannot reach %s (%s); trying the next endpoint", endpoints[index], exc)
                continue
            except aiohttp.ServerTimeoutError as exc:
                raise _Failure(
                    self._timeout_error(method, path, timeout, exc), exc, sent=True, retryable=False
                ) from exc
            except aiohttp.ClientConnectionError as exc:
                # The request may have reached the server: only idempotent calls move on.
                tried.append(str(endpoints[index]))
                last, sent = exc, True
                if idempotent:
                    continue
                break
            except aiohttp.ClientError as exc:
                raise _Failure(
                    BackendConnectionError(f"{method} /{path.lstrip('/')} failed: {exc}"), exc, sent=True
                ) from exc
            self._endpoint_index = index
            return resp
        raise _Failure(
            BackendConnectionError(
                f"cannot connect to Backend.AI ({', '.join(tried)}): {last}; check BACKEND_ENDPOINT "
                "and that the server is running"
            ),
            last or ConnectionError("no endpoint configured"),
            sent=sent,
        )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | bool | None] | None = None,
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
        body = self._prepare_body(json, data, headers, bodyless_type=bodyless_type)
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
            raise await self._error(resp)

    @staticmethod
    async def _error(resp: aiohttp.ClientResponse) -> BackendAPIError:
        try:
            body = await resp.read()
        except aiohttp.ClientError:
            body = b""
        finally:
            resp.release()
        return error_from_response(
            resp.status, resp.reason or "", body, resp.headers.get("Content-Type"), headers=dict(resp.headers)
        )

    async def _read(
        self, resp: aiohttp.ClientResponse, method: str, path: str, pair: tuple[float, float]
    ) -> bytes:
        try:
            return await resp.read()
        except aiohttp.ServerTimeoutError as exc:
            raise self._timeout_error(method, path, pair, exc) from exc
        except aiohttp.ClientError as exc:
            raise BackendConnectionError(
                f"{method} /{path.lstrip('/')}: the reply was cut off ({exc})"
            ) from exc
        finally:
            resp.release()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | bool | None] | None = None,
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
        body = await self._read(resp, method.upper(), path, self._timeout(timeout))
        return Response(
            status=resp.status, reason=resp.reason or "", headers=resp.headers, body=body, url=resp.url
        )

    # -- public transport --
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | bool | None] | None = None,
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
        params: Mapping[str, str | int | bool | None] | None = None,
        json: Any = UNSET,
        data: Body | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: TimeoutArg | None = None,
        anonymous: bool = False,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A signed request whose body is left unread (SSE, large downloads); raises for >= 400 first."""
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
        endpoints = self.config.endpoints
        date = format_date(self._now())
        tried: list[str] = []
        last: BaseException | None = None
        for offset in range(len(endpoints)):
            index = (self._endpoint_index + offset) % len(endpoints)
            url = self._url(endpoints[index], path, params)
            hdrs = self._headers(
                "GET", url, date=date, content_type=None, extra=None, anonymous=False, probe=False
            )
            try:
                ws = await session.ws_connect(
                    url, headers=hdrs, heartbeat=heartbeat, max_msg_size=MAX_WS_MESSAGE_SIZE
                )
            except aiohttp.WSServerHandshakeError as exc:
                raise error_from_response(exc.status, exc.message, b"", None) from exc
            except aiohttp.ClientSSLError as exc:
                raise BackendConnectionError(f"TLS failed for {endpoints[index]}: {exc}") from exc
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                tried.append(str(endpoints[index]))
                last = exc
                continue
            except aiohttp.ClientError as exc:
                raise BackendConnectionError(f"WebSocket /{path.lstrip('/')} failed: {exc}") from exc
            self._endpoint_index = index
            # aiohttp 3.14 types the socket by decode_text; we use its default (text frames as str).
            return cast(aiohttp.ClientWebSocketResponse, ws)
        raise BackendConnectionError(
            f"cannot connect to Backend.AI ({', '.join(tried)}): {last}; check BACKEND_ENDPOINT "
            "and that the server is running"
        ) from last

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
        target = self.config.map_storage_url(url)
        if params:
            target = target.extend_query(_clean_params(params))
        session = await self._get_session()
        pair = self._timeout(timeout)
        hdrs = {"User-Agent": self.config.user_agent, **(headers or {})}
        try:
            resp = await session.request(
                method.upper(),
                target,
                headers=hdrs,
                data=data,
                allow_redirects=False,
                timeout=self._client_timeout(pair),
            )
        except (aiohttp.ServerTimeoutError, aiohttp.ConnectionTimeoutError) as exc:
            # not chained, here and below: aiohttp's errors quote the URL, whose query holds the token
            raise self._timeout_error(method.upper(), target.path, pair, exc) from None
        except aiohttp.ClientError as exc:
            where = target.with_query(None)
            raise BackendConnectionError(
                f"cannot reach the storage proxy at {where}: {_without_tokens(str(exc), target)}; if the "
                "manager advertises an address you cannot reach, map it with "
                "BACKEND_OVERRIDE_STORAGE_PROXY='orig=new'"
            ) from None
        try:
            if check and resp.status >= 400:
                raise await self._error(resp)
            yield resp
        finally:
            _finish(resp)

    # -- session mode --
    async def login(self, username: str, password: str, *, otp: str | None = None) -> dict[str, Any]:
        """Log in to a web-server endpoint (session mode); keeps the ``AIOHTTP_SESSION`` cookie."""
        if self.config.endpoint_type != "session":
            raise ConfigError(
                "login() needs a web-server endpoint; set BACKEND_ENDPOINT_TYPE=session "
                "(or APIConfig(endpoint_type='session'))"
            )
        body: dict[str, str] = {"username": username, "password": password}
        if otp is not None:
            body["otp"] = otp
        reply = (await self.request("POST", "/server/login", json=body, anonymous=True)).json()
        data = reply.get("data") if isinstance(reply, dict) else None
        data = data if isinstance(data, dict) else {}
        if isinstance(reply, dict) and reply.get("authenticated"):
            return dict(data)
        details = data.get("details")
        problem = {
            "type": data.get("type") or PROBLEM_PREFIX + "auth-failed",
            "title": data.get("title") or "Login failed.",
            "msg": details if isinstance(details, str) else None,
        }
        if otp is None and details == "OTP not provided":
            if self._otp_prompt is None:
                raise OTPRequiredError(401, "Unauthorized", problem)
            code = self._otp_prompt()
            if inspect.isawaitable(code):
                code = await code
            return await self.login(username, password, otp=str(code))
        raise AuthenticationError(401, "Unauthorized", problem)

    async def logout(self) -> None:
        """Log out of the web server and forget the cookie."""
        try:
            await self.request("POST", "/server/logout", anonymous=True)
        finally:
            if self._session is not None:
                self._session.cookie_jar.clear()

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


def _without_tokens(text: str, url: URL) -> str:
    """``text`` with the values of the URL's token parameters masked (they are bearer credentials)."""
    for key, value in url.query.items():
        if "token" in key.lower() and value:
            text = text.replace(value, "***")
    return text


def _finish(resp: aiohttp.ClientResponse) -> None:
    # A fully read body lets the connection go back to the pool; a half-read stream must be closed.
    if resp.content.at_eof():
        resp.release()
    else:
        resp.close()
