"""When to retry and how long to wait: every retry rule of the SDK lives here.

Three kinds of repetition: API requests (``RetryPolicy``), resumable transfers through the storage proxy
(``is_transient_transfer_error`` + ``transfer_backoff``) and status polling (``poll_delays``). This
module needs no aiohttp: transport failures reach it already mapped to the SDK's errors.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from ._constants import (
    DEFAULT_INITIAL_RETRY_DELAY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_DELAY,
    DEFAULT_RETRY_JITTER,
    IDEMPOTENT_METHODS,
    MAX_RETRY_AFTER,
    POLL_FACTOR,
    POLL_FIRST_DELAY,
    POLL_MAX_DELAY,
    RETRY_STATUSES,
    TRANSFER_FIRST_BACKOFF,
    TRANSFER_MAX_BACKOFF,
    TRANSIENT_SERVER_STATUSES,
)
from .errors import BackendConnectionError, BackendTimeoutError, ServerError

__all__ = [
    "RetryPolicy",
    "is_idempotent",
    "is_transient_transfer_error",
    "parse_retry_after",
    "poll_delays",
    "transfer_backoff",
]


def is_idempotent(method: str, declared: bool | None = None) -> bool:
    """Whether a request may be sent twice: the caller's declaration, else the HTTP method's nature."""
    if declared is not None:
        return declared
    return method.upper() in IDEMPOTENT_METHODS


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now())


@dataclass(frozen=True)
class RetryPolicy:
    """Retry rules: which failures, how often, how long to wait (exponential backoff with jitter)."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = DEFAULT_INITIAL_RETRY_DELAY
    max_delay: float = DEFAULT_MAX_RETRY_DELAY
    #: Fraction of each delay removed at random (0 = deterministic).
    jitter: float = DEFAULT_RETRY_JITTER
    statuses: frozenset[int] = field(default=RETRY_STATUSES)
    retry_connection_errors: bool = True

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries={self.max_retries!r} must be >= 0 (0 disables retries)")
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError(
                f"initial_delay={self.initial_delay!r} and max_delay={self.max_delay!r} must be >= 0 seconds"
            )
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter={self.jitter!r} must be between 0 and 1")

    def should_retry(
        self,
        *,
        idempotent: bool,
        attempt: int,
        status: int | None = None,
        exception: BaseException | None = None,
        request_sent: bool = True,
    ) -> bool:
        """Whether failed attempt number ``attempt`` (0-based) may be repeated.

        A status or an error after the request may have reached the server is retried only for idempotent
        requests; a connection error before anything was sent (``request_sent=False``) is safe for any method.
        """
        if attempt >= self.max_retries:
            return False
        if status is not None:
            return idempotent and status in self.statuses
        if exception is not None:
            if not self.retry_connection_errors:
                return False
            return idempotent or not request_sent
        return False

    def backoff_seconds(
        self,
        attempt: int,
        retry_after: str | None = None,
        *,
        rng: random.Random | None = None,
        now: Callable[[], float] = time.time,
    ) -> float:
        """Delay before retry ``attempt`` (0-based): the server's Retry-After if sane, else our backoff."""
        hinted = parse_retry_after(retry_after, now=now)
        if hinted is not None and hinted <= MAX_RETRY_AFTER:
            return hinted
        delay = min(self.initial_delay * (2.0**attempt), self.max_delay)
        fraction = (rng or random).random()
        return delay * (1.0 - self.jitter * fraction)


#: Failures after which a transfer resumes from where the server has got to (raw OS and asyncio errors
#: too: a body source or an ``_IncompleteTransfer`` check may raise them outside aiohttp).
_TRANSIENT_TRANSFER_ERRORS: tuple[type[BaseException], ...] = (
    BackendConnectionError,
    BackendTimeoutError,
    ConnectionError,
    asyncio.TimeoutError,
)


def is_transient_transfer_error(exc: BaseException) -> bool:
    """Whether a transfer should resume after ``exc``: a lost connection, a timeout, or a 502/503/504.

    Transfers resume from the server's offset, so unlike ``RetryPolicy`` this does not ask whether the
    request was idempotent.
    """
    if isinstance(exc, ServerError):
        return exc.status in TRANSIENT_SERVER_STATUSES
    return isinstance(exc, _TRANSIENT_TRANSFER_ERRORS)


def transfer_backoff(
    attempt: int,
    *,
    initial: float = TRANSFER_FIRST_BACKOFF,
    maximum: float = TRANSFER_MAX_BACKOFF,
    rng: random.Random | None = None,
) -> float:
    """Delay before resume ``attempt`` (0-based): exponential, with the upper half jittered."""
    ceiling = min(maximum, initial * 2.0**attempt)
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def poll_delays(
    first: float = POLL_FIRST_DELAY, factor: float = POLL_FACTOR, cap: float = POLL_MAX_DELAY
) -> Iterator[float]:
    """Pauses between status polls: ``first``, then ``factor`` times longer each, never above ``cap``.

    Infinite (the caller decides when to stop) and without jitter: a poll is one client watching its own
    session, not many clients retrying in lockstep. ``zip(range(n), poll_delays())`` bounds it.
    """
    if first < 0 or cap < 0:
        raise ValueError(f"first={first!r} and cap={cap!r} must be >= 0 seconds")
    if factor < 1:
        raise ValueError(f"factor={factor!r} must be >= 1 (the delays must not shrink)")
    return _growing(first, factor, cap)


def _growing(delay: float, factor: float, cap: float) -> Iterator[float]:
    while True:
        yield min(delay, cap)
        delay = min(delay * factor, cap)
