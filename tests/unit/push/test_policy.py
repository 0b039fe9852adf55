"""The push path's decision table and its jittered backoff, as pure functions."""

from __future__ import annotations

import pytest

from uploader.config import RetrySettings
from uploader.push.policy import (
    Ack,
    Bisect,
    DeadLetter,
    Decision,
    Pause,
    Retry,
    Split,
    backoff_s,
    decide,
)
from uploader.registry.answers import (
    Accepted,
    Answer,
    Denied,
    Malformed,
    Refused,
    Throttled,
    Unavailable,
)
from uploader.registry.issues import Issue

RETRY = RetrySettings(base_s=1.0, cap_s=30.0)
REFUSED = Refused(422, "Unprocessable Entity", [])


def half() -> float:
    """A jitter source that always draws the middle."""
    return 0.5


@pytest.mark.parametrize(
    ("answer", "attempt", "records", "named", "expected"),
    [
        (Accepted(200, b"{}"), 1, 3000, 0, Ack()),
        (Accepted(201, b"{}"), 9, 1, 0, Ack()),
        (Throttled(7.0), 1, 3000, 0, Retry(7.0, "429")),
        (Throttled(7.0), 6, 3000, 0, Retry(7.0, "429")),  # exactly the floor, however late
        (Throttled(0.0), 1, 10, 0, Retry(0.0, "429")),
        (Unavailable("HTTP 503"), 0, 10, 0, Retry(0.5, "HTTP 503")),
        (Unavailable("HTTP 500"), 3, 10, 0, Retry(4.0, "HTTP 500")),
        (Unavailable("timeout"), 10, 10, 0, Retry(15.0, "timeout")),  # the cap, jittered
        (Unavailable("reset"), 5000, 10, 0, Retry(15.0, "reset")),
        (Malformed(200, "HTTP 200: <html>"), 3, 10, 0, Retry(4.0, "HTTP 200: <html>")),
        (Malformed(302, "HTTP 302: to x"), 0, 10, 0, Retry(0.5, "HTTP 302: to x")),
        (Denied(401, "401: token"), 1, 10, 0, Pause("401: token")),
        (Denied(403, "403: forbidden"), 4, 10, 0, Pause("403: forbidden")),
        (Denied(404, "404: no such path"), 1, 10, 0, Pause("404: no such path")),
        (REFUSED, 1, 10, 3, DeadLetter(whole=False)),
        (REFUSED, 1, 10, 10, DeadLetter(whole=False)),
        (REFUSED, 1, 10, 0, Bisect()),
        (REFUSED, 1, 2, 0, Bisect()),
        (REFUSED, 1, 1, 0, DeadLetter(whole=True)),
        (Refused(400, None, [Issue('"bad"', message="bad")]), 1, 1, 1, DeadLetter(whole=False)),
    ],
)
def test_decision_table(
    answer: Answer, attempt: int, records: int, named: int, expected: Decision
) -> None:
    """Each meaning of an answer maps to exactly one action, with its delay."""
    decision = decide(answer, attempt=attempt, records=records, named=named, retry=RETRY, rand=half)
    assert decision == expected


OTHER = Refused(400, "Bad Request", [Issue('"other"', message="other")])


@pytest.mark.parametrize(
    ("answer", "records", "split", "expected"),
    [
        # Both halves refused as their batch was: at the first level that may be one bad
        # record in each half, so halve on; at the second level in a row it is the batch's.
        (REFUSED, 8, Split(REFUSED, REFUSED, alike=0), Bisect()),
        (REFUSED, 8, Split(REFUSED, REFUSED, alike=1), DeadLetter(whole=True)),
        (REFUSED, 8, Split(REFUSED, REFUSED, alike=5), DeadLetter(whole=True)),
        # The other half was accepted, or refused differently: the records are to be found.
        (REFUSED, 8, Split(REFUSED, Accepted(200, b"{}"), alike=1), Bisect()),
        (REFUSED, 8, Split(REFUSED, OTHER, alike=1), Bisect()),
        (REFUSED, 8, Split(OTHER, REFUSED, alike=1), Bisect()),
        (REFUSED, 8, Split(REFUSED, Unavailable("HTTP 503"), alike=1), Bisect()),
        (REFUSED, 1, Split(REFUSED, Accepted(200, b"{}")), DeadLetter(whole=True)),
        # A half whose answer is not a refusal is decided as any answer.
        (Accepted(200, b"{}"), 8, Split(REFUSED, REFUSED, alike=1), Ack()),
    ],
)
def test_bisection_stops_at_a_refusal_of_the_whole_batch(
    answer: Answer, records: int, split: Split, expected: Decision
) -> None:
    """A half refused exactly as its batch and its sibling, two levels in a row, is the
    batch's refusal: dead-lettered whole rather than halved down to every record."""
    decision = decide(answer, attempt=1, records=records, named=0, retry=RETRY, split=split)
    assert decision == expected


def test_transient_delays_grow_and_stay_under_the_cap() -> None:
    """Backoff after a transient failure doubles per attempt up to `retry.cap_s`."""
    delays = [
        decide(Unavailable("x"), attempt=n, records=1, named=0, retry=RETRY, rand=lambda: 1.0)
        for n in range(8)
    ]
    assert [d.delay_s for d in delays if isinstance(d, Retry)] == [
        1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0
    ]  # fmt: skip


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
