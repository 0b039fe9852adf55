"""What a registry answer means: one classification for every caller.

Pushes, status polls, token calls, registration and reads all turn a `RegistryResponse` into
an `Answer` here, so a status is interpreted in one place:

    2xx of the expected shape Accepted    the registry took the request
    2xx of another shape,    Malformed    not the registry's answer (a proxy's page, a captive
    3xx, an oversized answer              portal, a redirect, which is never followed): try again
    429                      Throttled    the key waits `retry_after_s` (a floor), then again
    400 413 422              Refused      as sent, the request will never be taken
    401 403 404 405          Denied       the account (or the configuration) cannot go on
    5xx, anything else,      Unavailable  try again later
    no answer at all

A call that raised (`unanswered`): refused credentials at the token endpoint are Denied; no
token (the token endpoint failed) or no answer at all is Unavailable.

A caller that knows what its endpoint answers passes that `Shape` (e.g. `PROCESS_ID`): only a
2xx whose body has it is Accepted. What each caller then does is its own decision
(`uploader.push.policy` for the push path).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import msgspec

from uploader.errors import AuthError, RegistryError
from uploader.registry.issues import Issue, said
from uploader.registry.wire.codec import (
    object_envelope,
    process_id_envelope,
    process_status_envelope,
    token_envelope,
)

DEFAULT_RETRY_AFTER_S = 1.0  # a 429 without a usable Retry-After header
REFUSED = frozenset({400, 413, 422})
DENIED = {
    401: "the registry refused the account's token",
    403: "the account is forbidden",
    404: "the endpoint does not exist (check registry.base_url and paths)",
    405: "the endpoint does not take this method (check registry.paths)",
}
_SECONDS = re.compile(r"\d+(?:\.\d+)?")  # RFC 9110 delay-seconds, plus fractions for tests
HEAD_BYTES = 120  # of an unexpected body, quoted in the reason (and so in logs)

# Whether a 2xx body is the answer an endpoint documents.
Shape = Callable[[bytes], bool]


@dataclass(frozen=True, slots=True)
class RegistryResponse:
    """What the registry answered to one request."""

    status: int
    body: bytes  # at most the client's cap: the first bytes of an oversized answer
    retry_after_s: float | None
    elapsed_s: float
    location: str | None = None  # a redirect's target (redirects are not followed)
    oversized: int | None = None  # the cap (bytes) the answer went over; it was not read on

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Accepted:
    """2xx: the registry took the request; `body` holds its envelope."""

    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Malformed:
    """Not the registry's answer (a 2xx without the expected envelope, a redirect, an answer
    over the size cap): nothing was delivered; try again later."""

    status: int
    reason: str  # names the status and the body's first bytes, or the redirect's target


@dataclass(frozen=True, slots=True)
class Throttled:
    """429: nobody may use the key for `retry_after_s`; then the same request goes again."""

    retry_after_s: float


@dataclass(frozen=True, slots=True)
class Refused:
    """400/413/422: the registry's `message` and `errors`, whatever their shape (see `issues`)."""

    status: int
    message: str | None
    errors: list[Issue]


@dataclass(frozen=True, slots=True)
class Denied:
    """401 (after a fresh token), 403, 404, 405: sending again will not help this account."""

    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A 5xx, an unexpected status, or no answer (timeout, reset): try again later."""

    reason: str


Answer = Accepted | Malformed | Throttled | Refused | Denied | Unavailable


def classify(response: RegistryResponse, shape: Shape | None = None) -> Answer:
    """The meaning of one answer; with `shape`, a 2xx must have it to be Accepted."""
    status = response.status
    if response.oversized is not None:
        cap = response.oversized
        return Malformed(status, f"HTTP {status}: an answer over {cap:,} bytes, not read on")
    if 300 <= status < 400:
        return Malformed(status, f"HTTP {status}: a redirect to {response.location} (not followed)")
    if response.ok:
        if shape is None or shape(response.body):
            return Accepted(status, response.body)
        return Malformed(status, f"HTTP {status}: not the registry's answer: {head(response.body)}")
    floor = throttle_floor(response)
    if floor is not None:
        return Throttled(floor)
    if status in DENIED:
        return Denied(status, f"{status}: {DENIED[status]}")
    if status in REFUSED:
        return _refused(response)
    return Unavailable(f"HTTP {status}")


def unanswered(error: RegistryError) -> Answer:
    """The meaning of a call that raised instead of answering: the account's credentials were
    refused at the token endpoint (Denied), or no token or no answer came (Unavailable)."""
    if isinstance(error, AuthError):
        return Denied(error.status or 401, str(error))
    return Unavailable(str(error))


def head(body: bytes) -> str:
    """The first bytes of a body, quoted on one line."""
    text = body[:HEAD_BYTES].decode("utf-8", "replace")
    return repr(text + ("..." if len(body) > HEAD_BYTES else ""))


def _data_of(decoder: msgspec.json.Decoder[Any]) -> Shape:
    """The shape: an envelope whose `Data` `decoder` reads, and is not null."""

    def fits(body: bytes) -> bool:
        try:
            return decoder.decode(body).Data is not None
        except msgspec.DecodeError:
            return False

    return fits


PROCESS_ID = _data_of(process_id_envelope)  # the grouped endpoints: `Data: {"ProcessId": int}`
DATA_OBJECT = _data_of(object_envelope)  # the legacy endpoint: `Data: {}` (an object)
PROCESS_STATUS = _data_of(process_status_envelope)  # generation-datas/statuses
TOKEN = _data_of(token_envelope)  # connect/token: `Data: {"AccessToken": ...}`


def throttle_floor(response: RegistryResponse) -> float | None:
    """For a 429, how long the key must wait (Retry-After, else a second); else None."""
    if response.status != 429:
        return None
    retry_after = response.retry_after_s
    return DEFAULT_RETRY_AFTER_S if retry_after is None else max(retry_after, 0.0)


def _refused(response: RegistryResponse) -> Refused:
    message, errors = said(response.body)
    return Refused(response.status, message, errors)


def process_id(answer: Accepted) -> int | None:
    """The ProcessId an accepted generation-data request was given, if the answer has one."""
    try:
        data = process_id_envelope.decode(answer.body).Data
    except msgspec.DecodeError:
        return None  # the legacy endpoint answers `Data: {}`
    return data.ProcessId if data is not None else None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110).

    `now` is the wall clock (`time.time()`) for dates. A date in the past gives 0.0; an
    absent or unparseable header gives None.
    """
    if value is None:
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # asctime and "-0000" dates: RFC 9110 reads them as UTC
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now, 0.0)
