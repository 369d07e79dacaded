"""Retry rules and backoff timing, with injected randomness and clock (no real sleeps)."""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from backendai_jupyter.sdk.errors import (
    BackendConnectionError,
    BackendTimeoutError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from backendai_jupyter.sdk.retry import (
    RetryPolicy,
    is_idempotent,
    is_transient_transfer_error,
    parse_retry_after,
    poll_delays,
    transfer_backoff,
)


def test_idempotent_methods() -> None:
    assert all(is_idempotent(m) for m in ("GET", "head", "OPTIONS", "PUT", "DELETE"))
    assert not is_idempotent("POST")
    assert not is_idempotent("PATCH")
    assert is_idempotent("POST", declared=True)
    assert not is_idempotent("GET", declared=False)


def test_statuses_only_for_idempotent() -> None:
    policy = RetryPolicy()
    for status in (429, 502, 503, 504):
        assert policy.should_retry(idempotent=True, attempt=0, status=status)
        assert not policy.should_retry(idempotent=False, attempt=0, status=status)
    assert not policy.should_retry(idempotent=True, attempt=0, status=500)
    assert not policy.should_retry(idempotent=True, attempt=0, status=404)


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.should_retry(idempotent=True, attempt=1, status=503)
    assert not policy.should_retry(idempotent=True, attempt=2, status=503)
    assert not RetryPolicy(max_retries=0).should_retry(idempotent=True, attempt=0, status=503)


def test_connection_errors() -> None:
    policy = RetryPolicy()
    exc = ConnectionRefusedError()
    # Nothing was sent: safe even for POST.
    assert policy.should_retry(idempotent=False, attempt=0, exception=exc, request_sent=False)
    # The server may have seen it: only idempotent calls.
    assert not policy.should_retry(idempotent=False, attempt=0, exception=exc, request_sent=True)
    assert policy.should_retry(idempotent=True, attempt=0, exception=exc, request_sent=True)
    off = RetryPolicy(retry_connection_errors=False)
    assert not off.should_retry(idempotent=True, attempt=0, exception=exc, request_sent=False)


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=8.0, jitter=0.0)
    assert [policy.backoff_seconds(a) for a in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_stays_in_range() -> None:
    policy = RetryPolicy(initial_delay=1.0, jitter=0.25)
    rng = random.Random(7)
    delays = [policy.backoff_seconds(0, rng=rng) for _ in range(200)]
    assert all(0.75 <= d <= 1.0 for d in delays)
    assert len(set(delays)) > 100


def test_retry_after_seconds_and_date() -> None:
    policy = RetryPolicy(jitter=0.0)
    assert policy.backoff_seconds(0, "3") == 3.0
    now = 1_700_000_000.0
    when = format_datetime(datetime.fromtimestamp(now + 12, tz=timezone.utc), usegmt=True)
    assert policy.backoff_seconds(0, when, now=lambda: now) == pytest.approx(12.0)
    # Unparseable or absurd hints fall back to our own backoff.
    assert policy.backoff_seconds(1, "soon") == 1.0
    assert policy.backoff_seconds(1, "3600") == 1.0


def test_parse_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412480.0 + 10) == 0.0


def test_policy_validates() -> None:
    with pytest.raises(ValueError, match="max_retries=-1"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=2)


def test_poll_delays_grow_by_half_up_to_one_second() -> None:
    delays = list(itertools.islice(poll_delays(), 9))
    assert delays == pytest.approx([0.1, 0.15, 0.225, 0.3375, 0.50625, 0.759375, 1.0, 1.0, 1.0])
    assert max(delays) == 1.0  # the cap exactly, not a float just above it


def test_poll_delays_are_endless_and_configurable() -> None:
    delays = poll_delays(first=0.5, factor=2.0, cap=3.0)
    assert [next(delays) for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert next(delays) == 3.0
    assert list(itertools.islice(poll_delays(first=0.2, factor=1.0), 3)) == [0.2, 0.2, 0.2]
    assert list(itertools.islice(poll_delays(first=2.0, cap=1.0), 2)) == [1.0, 1.0]
    # two iterators do not share state
    assert next(poll_delays()) == next(poll_delays()) == 0.1


def test_poll_delays_validate_at_once() -> None:
    with pytest.raises(ValueError, match="factor"):
        poll_delays(factor=0.5)
    with pytest.raises(ValueError, match="first"):
        poll_delays(first=-1)


def test_transfer_backoff_doubles_jitters_and_caps() -> None:
    rng = random.Random(3)
    for attempt in range(12):
        ceiling = min(5.0, 0.02 * 2.0**attempt)
        delay = transfer_backoff(attempt, rng=rng)
        assert ceiling / 2 <= delay <= ceiling
    assert transfer_backoff(0, initial=0.2, rng=random.Random(1)) <= 0.2
    assert transfer_backoff(30, rng=random.Random(1)) <= 5.0


def test_transient_transfer_errors() -> None:
    transient: list[BaseException] = [
        BackendConnectionError("lost"),
        BackendTimeoutError("slow"),
        ConnectionResetError(),
        asyncio.TimeoutError(),
        *(ServerError(status, "Bad Gateway", {}) for status in (502, 503, 504)),
    ]
    assert all(is_transient_transfer_error(e) for e in transient)
    final: list[BaseException] = [
        ServerError(500, "Internal Server Error", {}),
        NotFoundError(404, "Not Found", {}),
        BadRequestError(400, "Bad Request", {}),
        RateLimitError(429, "Too Many Requests", {}),
        ValueError("a bug"),
    ]
    assert not any(is_transient_transfer_error(e) for e in final)
