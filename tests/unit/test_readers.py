"""File readers and the ingest pipeline: rows in, records and dead letters out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from uploader.errors import ConfigError
from uploader.ingest.pipeline import Chunk, IngestSummary, check_rows, ingest
from uploader.ingest.readers import CsvSource, Source, open_source
from uploader.ingest.validate import Validator
from uploader.testing import InMemoryQueue

HEADER = "RemoteInvId,Timestamp,PeriodProductionInKWh,AccumulatedEnergyInKWh\n"
TODAY = dt.date(2025, 3, 10)


def validator(default: str | None = "acme") -> Validator:
    """A validator for acme and bolt on TODAY."""
    return Validator({"acme", "bolt"}, today=TODAY, default_account=default)


def write(tmp_path: Path, name: str, content: bytes | str) -> str:
    """A file under tmp_path; returns its path as text."""
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def chunks(source: Source, size: int = 1000, default: str | None = "acme") -> list[Chunk]:
    """Every chunk of a source."""
    try:
        return list(source.chunks(validator(default), size))
    finally:
        source.close()


def test_csv_rows_become_records_with_their_line_as_source(tmp_path: Path) -> None:
    """Each CSV row is validated; its source names the file and the line."""
    path = write(tmp_path, "a.csv", HEADER + "INV1,2024-05-01,1.5,10\nINV1,2024-05-02,2,12\n")
    (chunk,) = chunks(open_source(path))
    assert [(r.remote_inv_id, r.period_kwh, r.source) for r in chunk.records] == [
        ("INV1", Decimal("1.5"), f"{path}:2"),
        ("INV1", Decimal("2"), f"{path}:3"),
    ]
    assert chunk.dead == []


def test_csv_columns_are_found_by_name_in_any_order_and_case(tmp_path: Path) -> None:
    """The header maps the columns; an Account column gives each row its account."""
    content = "accumulatedenergyinkwh,Account,TIMESTAMP,RemoteInvId,PeriodProductionInKWh\n"
    content += "10,bolt,2024-05-01,INV9,0.25\n"
    (chunk,) = chunks(open_source(write(tmp_path, "b.csv", content)))
    (record,) = chunk.records
    assert (record.account, record.remote_inv_id, record.accumulated_kwh) == (
        "bolt",
        "INV9",
        Decimal(10),
    )


def test_an_empty_account_cell_falls_back_to_the_default(tmp_path: Path) -> None:
    """--account fills the Account cells left empty."""
    content = "Account," + HEADER + ",INV1,2024-05-01,1,1\nbolt,INV2,2024-05-01,1,1\n"
    (chunk,) = chunks(open_source(write(tmp_path, "c.csv", content)))
    assert [r.account for r in chunk.records] == ["acme", "bolt"]


def test_bad_rows_become_dead_rows_and_never_stop_the_good_ones(tmp_path: Path) -> None:
    """Short, long, undecodable and invalid rows are refused one by one, in place."""
    content = (
        HEADER.encode()
        + b"INV1,2024-05-01,1,1\n"
        + b"INV1,2024-05-02,1\n"  # a field short
        + b"INV1,2024-05-03,1,1,9\n"  # a field too many
        + b"INV\xff,2024-05-04,1,1\n"  # not UTF-8
        + b"\n"  # blank: skipped
        + b'"INV1,2024-05-05,1,1\n'  # an unbalanced quote spoils this line only
        + b"INV1,2024-05-06,x,1\n"
        + b"INV1,2024-05-07,1,2\n"
    )
    path = write(tmp_path, "d.csv", content)
    (chunk,) = chunks(open_source(path))
    assert [r.day.day for r in chunk.records] == [1, 7]
    assert [(d.source.rsplit(":", 1)[1], d.reason) for d in chunk.dead] == [
        ("3", "expected 4 fields as in the header, found 3"),
        ("4", "expected 4 fields as in the header, found 5"),
        ("5", "RemoteInvId is not valid UTF-8"),
        ("7", "expected 4 fields as in the header, found 1"),
        ("8", "PeriodProductionInKWh 'x' is not a number"),
    ]
    assert chunk.dead[2].raw == "INV\\xff,2024-05-04,1,1"
    assert chunk.dead[4].account == "acme"


def test_quoted_csv_fields_are_unquoted(tmp_path: Path) -> None:
    """A quoted field (as spreadsheets write them) reads as its content."""
    content = HEADER + '"INV,1","2024-05-01","1.5","10"\n'
    (chunk,) = chunks(open_source(write(tmp_path, "q.csv", content)))
    assert chunk.records[0].remote_inv_id == "INV,1"


def test_a_bom_and_crlf_line_ends_are_accepted(tmp_path: Path) -> None:
    """Files saved by Windows tools read the same."""
    content = b"\xef\xbb\xbf" + HEADER.replace("\n", "\r\n").encode() + b"INV1,2024-05-01,1,2\r\n"
    (chunk,) = chunks(open_source(write(tmp_path, "w.csv", content)))
    assert chunk.records[0].accumulated_kwh == Decimal(2)


def test_bad_rows_fill_chunks_too(tmp_path: Path) -> None:
    """A file of nothing but bad rows still comes in bounded chunks."""
    rows = "x,y\n" * 25
    found = chunks(open_source(write(tmp_path, "bad.csv", HEADER + rows)), size=10)
    assert [len(c.dead) for c in found] == [10, 10, 5]


def test_reading_is_chunked(tmp_path: Path) -> None:
    """Rows come in chunks of the asked size, so memory does not grow with the file."""
    rows = "".join(f"INV1,2024-05-{d:02d},1,{d}\n" for d in range(1, 24))
    found = chunks(open_source(write(tmp_path, "e.csv", HEADER + rows)), size=10)
    assert [c.rows for c in found] == [10, 10, 3]
    assert found[-1].position == len(HEADER) + len(rows)


@pytest.mark.parametrize(
    ("name", "content", "fmt", "message"),
    [
        ("missing.csv", None, None, "cannot read"),
        ("f.txt", HEADER, None, "cannot tell the format"),
        ("g.csv", "RemoteInvId,Timestamp,PeriodProductionInKWh\n", None, "no column Accumulated"),
        ("h.csv", HEADER, "xml", "is not csv or jsonl"),
    ],
)
def test_an_unusable_file_is_a_usage_error(
    tmp_path: Path, name: str, content: str | None, fmt: str | None, message: str
) -> None:
    """Unreadable files, unknown formats and missing columns raise ConfigError up front."""
    path = write(tmp_path, name, content) if content is not None else str(tmp_path / name)
    with pytest.raises(ConfigError, match=message):
        open_source(path, fmt)


def test_an_empty_csv_file_has_no_rows(tmp_path: Path) -> None:
    """A file without even a header is nothing to do, not an error."""
    source = open_source(write(tmp_path, "empty.csv", ""))
    assert isinstance(source, CsvSource)
    assert chunks(source) == []


def test_json_lines_decode_numbers_exactly(tmp_path: Path) -> None:
    """JSON numbers become Decimals from their text, never through a float."""
    content = (
        '{"RemoteInvId": "INV1", "Timestamp": "2024-05-01", '
        '"PeriodProductionInKWh": 0.1, "AccumulatedEnergyInKWh": 1234567.891}\n'
        '{"RemoteInvId": "INV1", "Timestamp": "2024-05-02", '
        '"PeriodProductionInKWh": "0.2", "AccumulatedEnergyInKWh": 1234568, "Account": "bolt"}\n'
    )
    (chunk,) = chunks(open_source(write(tmp_path, "a.jsonl", content)))
    assert [(r.account, r.period_kwh, r.accumulated_kwh) for r in chunk.records] == [
        ("acme", Decimal("0.1"), Decimal("1234567.891")),
        ("bolt", Decimal("0.2"), Decimal("1234568")),
    ]


def test_bad_json_lines_become_dead_rows(tmp_path: Path) -> None:
    """A line that is not JSON, not an object, or lacks a key is refused with its reason."""
    good = '{"RemoteInvId": "I", "Timestamp": "2024-05-01", "PeriodProductionInKWh": 1, '
    good += '"AccumulatedEnergyInKWh": 1}'
    content = f"{good}\nnot json\n[1, 2]\n\n{{}}\n{good}\n"
    (chunk,) = chunks(open_source(write(tmp_path, "b.ndjson", content)), default=None)
    assert len(chunk.records) == 0  # no --account and no Account key: refused as well
    reasons = [(d.source.rsplit(":", 1)[1], d.reason.split(":")[0]) for d in chunk.dead]
    assert reasons == [
        ("1", "no account"),
        ("2", "not JSON"),
        ("3", "not a JSON object"),
        ("5", "missing key RemoteInvId"),
        ("6", "no account"),
    ]
    assert chunk.dead[1].raw == "not json"


def test_check_rows_serves_decoded_bodies() -> None:
    """Rows already decoded (an HTTP body) give the same records and dead rows."""
    rows: list[tuple[int, dict[str, object]]] = [
        (1, {"RemoteInvId": "I", "Timestamp": "2024-05-01", "PeriodProductionInKWh": "1.23456",
             "AccumulatedEnergyInKWh": "9"}),
        (2, {"RemoteInvId": "I", "Timestamp": "2024-05-02", "PeriodProductionInKWh": "-1",
             "AccumulatedEnergyInKWh": Decimal("8.5")}),
    ]  # fmt: skip
    chunk = check_rows(rows, validator(), "ingest:req1")
    assert [r.source for r in chunk.records] == ["ingest:req1:1"]
    assert len(chunk.rounded) == 1
    (dead,) = chunk.dead
    assert (dead.source, dead.account) == ("ingest:req1:2", "acme")
    assert '"AccumulatedEnergyInKWh":8.5' in dead.raw


async def test_ingest_queues_records_and_keeps_rejections(tmp_path: Path) -> None:
    """ingest() upserts every chunk, keeps every dead row, and counts what it did."""
    content = HEADER + "INV1,2023-06-01,1,10\nINV1,2024-05-02,1,9\nINV1,2024-05-03,z,1\n"
    path = write(tmp_path, "f.csv", content)
    async with InMemoryQueue() as queue:
        with open_source(path) as source:
            summary = await ingest(source.chunks(validator()), queue)
        with open_source(path) as source:
            again = await ingest(source.chunks(validator()), queue)
        counts = await queue.counts()
    assert summary == IngestSummary(accepted=2, unchanged=0, rejected=1, flagged=2,
                                    flags=summary.flags)  # fmt: skip
    assert (summary.flags.before_claimable, summary.flags.accumulated_falls) == (1, 1)
    assert (again.accepted, again.unchanged, again.rejected) == (2, 2, 1)
    assert (counts.total.pending, counts.total.dead) == (2, 1)
    assert counts.accounts["acme"].flagged.before_claimable == 1


def test_check_rows_survives_a_mistyped_account() -> None:
    """An Account that is not text (a JSON list) is a reason, never an exception."""
    row: dict[str, object] = {"RemoteInvId": "I", "Timestamp": "2024-05-01",
                              "PeriodProductionInKWh": 1, "AccumulatedEnergyInKWh": 1,
                              "Account": ["acme"]}  # fmt: skip
    chunk = check_rows([(1, row)], validator(), "ingest:r")
    (dead,) = chunk.dead
    assert (dead.reason, dead.account) == ("unknown account ['acme']", None)


FAST_PATH_ROWS = [
    "INV1,2024-05-01,1.50,10.000",  # trailing zeros: canonical text
    "INV1,2024-05-02,007.5,0.000",  # leading zeros
    "INV1,2024-05-03,1.,.5",  # a bare point either side
    "INV1,2024-05-04,1.0001,2",  # four places: rounded
    "INV1,2024-05-05,1.25000,3",  # zeros past the third place
    "INV1,2024-05-06,1e3,4",  # exponent
    "INV1,2024-05-07,-1,5",  # negative
    "INV1,2024-05-08, 2 ,6",  # spaces around a value
    " INV2 ,2024-05-09,1,7",  # spaces around the inverter
    "INV2,2024-13-01,1,8",  # not a calendar date
    "INV2,2099-01-01,1,9",  # in the future
    "INV2,2024-05-10,1234567890123456,9",  # too large
    "INV2,2024-05-11,2,1",  # falling accumulated value
    "INV2,2024-05-12,٣,10",  # a non-ASCII digit
]


@pytest.mark.parametrize("line", FAST_PATH_ROWS)
def test_the_csv_fast_path_answers_as_the_validator_does(tmp_path: Path, line: str) -> None:
    """Each row read from a file gives what `Validator.fields` gives for its fields."""
    rows = ["INV2,2024-05-08,1,5", line]  # a previous row, for the falling check
    path = write(tmp_path, "f.csv", "Account," + HEADER + "".join(f"acme,{r}\n" for r in rows))
    (chunk,) = chunks(open_source(path))
    expected = validator()
    got: dict[str | None, object] = {r.source: r for r in chunk.records}
    got.update({r.source: r.reason for r in chunk.dead})
    for n, row in enumerate(rows, start=2):
        inv, ts, period, acc = row.split(",")
        result = expected.fields("acme", inv, ts, period, acc, f"{path}:{n}")
        assert got[f"{path}:{n}"] == result
        if not isinstance(result, str):
            assert str(result.period_kwh) == str(chunk.records[-1 if n > 2 else 0].period_kwh)
