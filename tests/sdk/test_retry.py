"""Retry rules and backoff timing, with injected randomness and clock (no real sleeps)."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from backendai_jupyter.sdk.retry import RetryPolicy, is_idempotent, parse_retry_after


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
