"""Which endpoint to try next: one ordered walk over the configured endpoints, for every kind of call.

A failure before anything was sent (refused, unresolvable, connect timeout) moves on for any request;
a connection lost after sending moves on only for a request that may run twice. Everything else (TLS,
a read timeout, a reply) ends the walk: another endpoint would not fare better, or the server has acted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import aiohttp
from yarl import URL

from ._errormap import unreachable
from .errors import BackendConnectionError

__all__ = ["EndpointWalk", "failed_before_send"]

log = logging.getLogger(__name__)


def failed_before_send(exc: BaseException) -> bool:
    """Whether ``exc`` struck before any byte of the request could reach a server."""
    if isinstance(exc, aiohttp.ClientSSLError):
        return False  # a TLS failure is about the certificate, not the endpoint being down
    return isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError))


def _lost_after_send(exc: BaseException) -> bool:
    return isinstance(exc, aiohttp.ClientConnectionError) and not isinstance(
        exc, (aiohttp.ClientSSLError, aiohttp.ServerTimeoutError)
    )


class EndpointWalk:
    """One pass over the endpoints, starting at the one in use; iterate, and report failures to ``absorb``.

    ::

        walk = EndpointWalk(endpoints, current, idempotent=True)
        for index, endpoint in walk:
            try:
                return await attempt(endpoint)
            except aiohttp.ClientError as exc:
                if walk.absorb(endpoint, exc):
                    continue
                raise
        raise walk.exhausted()
    """

    def __init__(self, endpoints: Sequence[URL], start: int, *, idempotent: bool) -> None:
        self._endpoints = endpoints
        self._start = start
        self._idempotent = idempotent
        self._stopped = False
        self.tried: list[str] = []
        #: The last connection failure absorbed.
        self.last: BaseException | None = None
        #: Whether an absorbed failure may have reached a server (a retry must then be safe to repeat).
        self.sent = False

    def __iter__(self) -> Iterator[tuple[int, URL]]:
        count = len(self._endpoints)
        for offset in range(count):
            if self._stopped:
                return
            index = (self._start + offset) % count
            yield index, self._endpoints[index]

    def absorb(self, endpoint: URL, exc: BaseException) -> bool:
        """Record a connection failure and say whether to go on; False: not a connection failure, raise it.

        A connection lost after sending a non-idempotent request is absorbed but ends the walk: the
        request must not be sent again, and ``exhausted`` reports it.
        """
        if failed_before_send(exc):
            log.info("cannot reach %s (%s); trying the next endpoint", endpoint, exc)
        elif _lost_after_send(exc):
            self.sent = True
            self._stopped = not self._idempotent
        else:
            return False
        self.tried.append(str(endpoint))
        self.last = exc
        return True

    def exhausted(self) -> BackendConnectionError:
        """The error once the walk ended without a reply."""
        return unreachable(self.tried, self.last or ConnectionError("no endpoint configured"))
