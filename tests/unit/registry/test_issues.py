"""The registry's error objects read whatever their shape, and kept verbatim."""

from __future__ import annotations

import pytest

from uploader.registry.issues import REASON_MAX_CHARS, Issue, headline, reason, said

REGISTRY = '{"ErrorCode":"E1","ErrorMessage":"too big","PropertyName":"Devices[0].Data[3]"}'


@pytest.mark.parametrize(
    ("body", "message", "issues"),
    [
        (  # the shape the registry was seen answering
            b'{"Message":"Bad","Errors":[{"ErrorCode":"E1","ErrorMessage":"too big",'
            b'"PropertyName":"Devices[0].Data[3]"}]}',
            "Bad",
            [Issue(REGISTRY, field="Devices[0].Data[3]", code="E1", message="too big")],
        ),
        (  # the simulator's shape
            b'{"Errors":[{"Code":"C","Message":"m","Field":"Data[1]"}],"Message":null}',
            None,
            [Issue('{"Code":"C","Message":"m","Field":"Data[1]"}', field="Data[1]", code="C",
                   message="m")],
        ),
        (  # camelCase keys, a numeric code
            b'{"message":"Bad","errors":[{"errorCode":17,"propertyName":"data[0]"}]}',
            "Bad",
            [Issue('{"errorCode":17,"propertyName":"data[0]"}', field="data[0]", code="17")],
        ),
        (  # items of any shape; null items dropped; a Message that is an object
            b'{"Message":{"Text":"no"},"Errors":[42,["x"],{"w":{"d":1}},"plain",null]}',
            '{"Text":"no"}',
            [Issue("42"), Issue('["x"]'), Issue('{"w":{"d":1}}'),
             Issue('"plain"', message="plain")],
        ),
        (b'{"Errors":{"Field":"Data[0]"}}', None, [Issue('{"Field":"Data[0]"}', field="Data[0]")]),
        (b'{"Errors":"one text"}', None, [Issue('"one text"', message="one text")]),
        (b'{"Errors":null,"Message":"Bad Request"}', "Bad Request", []),
        (b"<html>Bad Request</html>", "<html>Bad Request</html>", []),
        (b"", None, []),
    ],
)  # fmt: skip
def test_errors_are_read_whatever_their_shape(
    body: bytes, message: str | None, issues: list[Issue]
) -> None:
    """Each item keeps its JSON text; its path, code and message are read where they exist."""
    assert said(body) == (message, issues)


def test_a_reason_keeps_the_errors_verbatim_and_is_bounded() -> None:
    """A reason reads `status Message: lines | Errors: [raw, ...]`, cut at 2 KiB."""
    issue = Issue('{"ErrorCode":"E1","PropertyName":"Data[0]"}', field="Data[0]", code="E1")
    assert reason(422, "Invalid", [issue]) == (
        '422 Invalid: Data[0]: E1 | Errors: [{"ErrorCode":"E1","PropertyName":"Data[0]"}]'
    )
    assert reason(400, None, []) == "400: no errors given"
    long = reason(400, "Bad", [Issue('"' + "e" * 5000 + '"', message="e" * 5000)])
    assert len(long) == REASON_MAX_CHARS
    assert long.endswith("...")


def test_a_headline_leaves_the_path_out() -> None:
    """Records refused for the same rule share one headline, wherever they sit in the body."""
    first = Issue("{}", field="Devices[0].Data[1]", code="E1", message="too big")
    second = Issue("{}", field="Devices[7].Data[0]", code="E1", message="too big")
    assert headline(422, None, [first]) == headline(422, None, [second]) == "422 E1"
    assert headline(400, "Bad Request", []) == "400 Bad Request"
