"""One classification of every registry answer, and Retry-After parsing."""

from __future__ import annotations

import pytest

from uploader.errors import AuthError, TransientError, TransportError
from uploader.registry.answers import (
    DATA_OBJECT,
    DEFAULT_RETRY_AFTER_S,
    DENIED,
    PROCESS_ID,
    PROCESS_STATUS,
    TOKEN,
    Accepted,
    Answer,
    Denied,
    Malformed,
    Refused,
    RegistryResponse,
    Shape,
    Throttled,
    Unavailable,
    classify,
    parse_retry_after,
    process_id,
    unanswered,
)
from uploader.registry.issues import Issue

NOW = 784_111_777.0  # Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example date
ERRORS = b'{"Errors":[{"Code":"Rule","Message":"too big","Field":"Devices[0].Data[1]"}]}'


def answer(status: int, body: bytes = b"{}", retry_after_s: float | None = None) -> Answer:
    """The classification of a response with this status and body."""
    return classify(RegistryResponse(status, body, retry_after_s, 0.01))


@pytest.mark.parametrize(
    ("status", "retry_after_s", "expected"),
    [
        (200, None, Accepted(200, b"{}")),
        (201, None, Accepted(201, b"{}")),
        (204, None, Accepted(204, b"{}")),
        (429, 7.0, Throttled(7.0)),
        (429, None, Throttled(DEFAULT_RETRY_AFTER_S)),
        (401, None, Denied(401, f"401: {DENIED[401]}")),
        (403, None, Denied(403, "403: the account is forbidden")),
        (404, None, Denied(404, f"404: {DENIED[404]}")),
        (405, None, Denied(405, f"405: {DENIED[405]}")),
        (500, None, Unavailable("HTTP 500")),
        (503, 30.0, Unavailable("HTTP 503")),
        (302, None, Malformed(302, "HTTP 302: a redirect to None (not followed)")),
        (418, None, Unavailable("HTTP 418")),
    ],
)  # fmt: skip
def test_statuses_are_classified_once(
    status: int, retry_after_s: float | None, expected: Answer
) -> None:
    """Every status has one meaning, whoever made the request."""
    assert answer(status, retry_after_s=retry_after_s) == expected


@pytest.mark.parametrize("status", [400, 413, 422])
def test_a_refusal_keeps_the_registry_errors(status: int) -> None:
    """400/413/422 are refusals that carry the registry's error items."""
    refused = answer(status, ERRORS)
    raw = '{"Code":"Rule","Message":"too big","Field":"Devices[0].Data[1]"}'
    assert refused == Refused(
        status, None, [Issue(raw, field="Devices[0].Data[1]", code="Rule", message="too big")]
    )


def test_a_refusal_that_is_not_json_keeps_its_first_bytes() -> None:
    """A refusal without the registry's envelope says what it was, as text."""
    assert answer(400, b"<html>Bad Request</html>") == Refused(400, "<html>Bad Request</html>", [])


@pytest.mark.parametrize(
    ("shape", "body", "accepted"),
    [
        (PROCESS_ID, b'{"Data":{"ProcessId":42},"StatusCode":200}', True),
        (PROCESS_ID, b'{"Data":{}}', False),
        (PROCESS_ID, b'{"Data":null}', False),
        (PROCESS_ID, b'{"Data":{"ProcessId":"42"}}', False),
        (PROCESS_ID, b"<html>portal</html>", False),
        (PROCESS_ID, b"", False),
        (DATA_OBJECT, b'{"Data":{}}', True),
        (DATA_OBJECT, b'{"Data":{"ProcessId":7}}', True),
        (DATA_OBJECT, b'{"Data":[]}', False),
        (DATA_OBJECT, b"{}", False),
        (TOKEN, b'{"Data":{"AccessToken":"a","ExpiresIn":60}}', True),
        (TOKEN, b'{"Data":{"ExpiresIn":60}}', False),
        (TOKEN, b'{"Data":null,"Message":"ok"}', False),
        (PROCESS_STATUS, b'{"Data":{"ProcessId":1,"Status":"Done"}}', False),
    ],
)
def test_a_2xx_counts_only_in_the_expected_shape(shape: Shape, body: bytes, accepted: bool) -> None:
    """With the endpoint's shape a 2xx is Accepted only when its envelope has that `Data`; else
    it is Malformed, quoting the status and the body's first bytes."""
    meaning = classify(RegistryResponse(200, body, None, 0.0), shape)
    if accepted:
        assert meaning == Accepted(200, body)
    else:
        assert isinstance(meaning, Malformed)
        assert meaning.reason.startswith("HTTP 200: not the registry's answer: ")
        assert repr(body[:10].decode())[1:-1] in meaning.reason


def test_redirects_and_oversized_answers_are_malformed() -> None:
    """A redirect names its target; an answer over the cap says so, whatever its status."""
    moved = RegistryResponse(307, b"", None, 0.0, location="https://portal.example/login")
    assert classify(moved) == Malformed(
        307, "HTTP 307: a redirect to https://portal.example/login (not followed)"
    )
    huge = RegistryResponse(200, b"x" * 10, None, 0.0, oversized=1_048_576)
    assert classify(huge, PROCESS_ID) == Malformed(
        200, "HTTP 200: an answer over 1,048,576 bytes, not read on"
    )


def test_the_process_id_of_an_accepted_batch() -> None:
    """An accepted grouped request carries its ProcessId; the legacy `Data: {}` none."""
    assert process_id(Accepted(200, b'{"Data":{"ProcessId":42}}')) == 42
    assert process_id(Accepted(200, b'{"Data":{}}')) is None
    assert process_id(Accepted(200, b"<html>")) is None


def test_error_lines_read_like_local_violations() -> None:
    """A registry error prints as `Field.Path: message`."""
    assert Issue("{}", field="Devices[0]", message="too big").line == "Devices[0]: too big"
    assert Issue('{"Code":"X"}', code="X").line == "X"
    assert Issue('"plain"', message="plain").line == "plain"
    assert Issue("[1,2]").line == "[1,2]"


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


def test_a_call_that_raised_has_a_meaning_too() -> None:
    """Refused credentials at the token endpoint are Denied; no token or no answer Unavailable."""
    refused = AuthError("account a: the registry refused its credentials (400)", status=400)
    assert unanswered(refused) == Denied(400, str(refused))
    assert unanswered(TransientError("token endpoint answered 500")) == Unavailable(
        "token endpoint answered 500"
    )
    assert unanswered(TransportError("POST /x: reset")) == Unavailable("POST /x: reset")
