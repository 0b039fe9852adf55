"""The retry table, the jittered backoff and Retry-After parsing, as pure functions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from uploader import retry
from uploader.config import RetrySettings
from uploader.errors import (
    AuthError,
    Forbidden,
    PermanentError,
    RateLimited,
    RegistryError,
    Rejected,
    ServerError,
    TransientError,
    TransportError,
)
from uploader.retry import RetryDecision, RetryPolicy, backoff_s, parse_retry_after

NOW = 784_111_777.0  # Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example date


@pytest.fixture(autouse=True)
def _not_testing() -> Iterator[None]:
    """Each test runs with real delays; the switch is restored for whatever runs next."""
    before = retry.is_testing()
    retry.set_testing(False)
    yield
    retry.set_testing(before)


def half() -> float:
    """A jitter source that always draws the middle."""
    return 0.5


POLICY = RetryPolicy(base_s=1.0, cap_s=30.0, rand=half)


@pytest.mark.parametrize(
    ("error", "attempt", "expected"),
    [
        (ServerError(status=503), 0, RetryDecision("retry", "ServerError", 0.5)),
        (ServerError(status=500), 3, RetryDecision("retry", "ServerError", 4.0)),
        (ServerError(status=502), 10, RetryDecision("retry", "ServerError", 15.0)),
        (TransportError(), 1, RetryDecision("retry", "TransportError", 1.0)),
        (TransportError(), 5000, RetryDecision("retry", "TransportError", 15.0)),
        (TransientError(), 0, RetryDecision("retry", "TransientError", 0.5)),
        (RegistryError(status=418), 2, RetryDecision("retry", "RegistryError", 2.0)),
        (RateLimited(7.0), 0, RetryDecision("retry", "RateLimited", 7.0, key_floor_s=7.0)),
        (RateLimited(-3.0), 0, RetryDecision("retry", "RateLimited", 0.0, key_floor_s=0.0)),
        (RateLimited(7.0), 3, RetryDecision("retry", "RateLimited", 9.0, key_floor_s=7.0)),
        (Rejected([{"Field": "Devices[0]"}]), 0, RetryDecision("dead_letter", "Rejected")),
        (PermanentError(status=410), 0, RetryDecision("dead_letter", "PermanentError")),
        (AuthError(status=401), 0, RetryDecision("pause", "AuthError")),
        (Forbidden(status=403), 4, RetryDecision("pause", "Forbidden")),
    ],
)
def test_decide_maps_each_error_to_its_outcome(
    error: RegistryError, attempt: int, expected: RetryDecision
) -> None:
    """Each error class gets the documented outcome, with the delay the table states."""
    assert POLICY.decide(error, attempt) == expected


def test_only_a_429_delays_the_whole_key() -> None:
    """A 429's delay is key-wide; a 5xx backoff concerns only the batch."""
    assert POLICY.decide(RateLimited(2.0), 0).key_wide
    assert not POLICY.decide(ServerError(), 0).key_wide


def test_transient_errors_retry_without_limit_by_default() -> None:
    """With no max_attempts, the millionth failure is still retried, at the cap."""
    decision = POLICY.decide(TransportError(), 1_000_000)
    assert (decision.action, decision.delay_s) == ("retry", 15.0)


def test_max_attempts_gives_up() -> None:
    """With max_attempts=3, the third failure of a batch gives up instead of retrying."""
    policy = RetryPolicy(base_s=1.0, cap_s=30.0, max_attempts=3, rand=half)
    assert policy.decide(ServerError(), 1).action == "retry"
    assert policy.decide(ServerError(), 2) == RetryDecision("give_up", "ServerError")
    assert policy.decide(Rejected([]), 2).action == "dead_letter"


def test_testing_mode_zeroes_backoff_but_keeps_retry_after() -> None:
    """set_testing(True) removes our own delays; the registry's Retry-After still holds."""
    retry.set_testing(True)
    assert retry.is_testing()
    assert POLICY.decide(ServerError(), 8).delay_s == 0.0
    assert backoff_s(8, 0.5, 60.0) == 0.0
    assert POLICY.decide(RateLimited(5.0), 4) == RetryDecision(
        "retry", "RateLimited", 5.0, key_floor_s=5.0
    )


@pytest.mark.parametrize(
    ("attempt", "draw", "expected"),
    [(0, 1.0, 0.5), (1, 1.0, 1.0), (4, 1.0, 8.0), (7, 1.0, 60.0), (7, 0.25, 15.0), (3, 0.0, 0.0)],
)
def test_backoff_is_capped_exponential_with_full_jitter(
    attempt: int, draw: float, expected: float
) -> None:
    """backoff_s draws uniformly below min(cap, base * 2**attempt)."""
    assert backoff_s(attempt, 0.5, 60.0, lambda: draw) == expected


def test_backoff_refuses_a_negative_attempt() -> None:
    """Attempts count from zero; a negative one is a caller's bug."""
    with pytest.raises(ValueError, match="attempt"):
        backoff_s(-1, 0.5, 60.0)


def test_policy_from_settings_uses_the_retry_table() -> None:
    """RetryPolicy.from_settings takes base_s and cap_s from `[retry]`."""
    policy = RetryPolicy.from_settings(RetrySettings(base_s=0.25, cap_s=5.0))
    assert (policy.base_s, policy.cap_s, policy.max_attempts) == (0.25, 5.0, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        ("0.25", 0.25),
        ("Sun, 06 Nov 1994 08:50:07 GMT", 30.0),  # IMF-fixdate
        ("Sunday, 06-Nov-94 08:50:37 GMT", 60.0),  # obsolete RFC 850
        ("Sun Nov  6 08:49:47 1994", 10.0),  # asctime, read as UTC
        ("Sun, 06 Nov 1994 08:00:00 GMT", 0.0),  # already past
        (None, None),
        ("", None),
        ("-5", None),
        ("soon", None),
        ("1e3", None),
        ("inf", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Retry-After is delay-seconds or an HTTP date; anything else is None."""
    assert parse_retry_after(value, NOW) == expected
