"""POST /v1/records: auth, partial acceptance with line numbers, 400, 413, durability."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.service.conftest import (
    MAX_BODY_BYTES,
    TOKEN,
    Running,
    ServiceFactory,
)
from uploader.queue import open_queue

DAY = (dt.date.today() - dt.timedelta(days=3)).isoformat()
LATER = (dt.date.today() - dt.timedelta(days=2)).isoformat()
FUTURE = (dt.date.today() + dt.timedelta(days=5)).isoformat()


def row(inv: str = "INV-1", day: str = DAY, period: Any = "12.345", acc: Any = "5012.345") -> str:
    return json.dumps(
        {
            "RemoteInvId": inv,
            "Timestamp": day,
            "PeriodProductionInKWh": period,
            "AccumulatedEnergyInKWh": acc,
        }
    )


def ndjson(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


async def body_of(running: Running, body: bytes, **kw: Any) -> tuple[int, dict[str, Any]]:
    """POST and decode the JSON answer."""
    headers = {"Authorization": f"Bearer {kw.pop('token', TOKEN)}"}
    params = {"account": kw.pop("account", "acme")}
    async with running.http.post(
        f"{running.url}/v1/records", data=body, headers=headers, params=params, **kw
    ) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x", "Bearer "],
)
async def test_ingest_refuses_a_missing_or_wrong_token(
    running: Running, authorization: str | None
) -> None:
    """Without exactly `Bearer <ingest token>` the answer is 401 and nothing is queued."""
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with running.http.post(
        f"{running.url}/v1/records", data=ndjson(row()), params={"account": "acme"}, headers=headers
    ) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    counts = await running.service.queue.counts()
    assert counts.total.pending == 0


async def test_ingest_without_a_configured_token_is_disabled(
    start_service: ServiceFactory,
) -> None:
    """With no ingest token configured the endpoint answers 503 "ingest disabled"."""
    running = await start_service(ingest_token_env=None)
    status, answer = await body_of(running, ndjson(row()))
    assert status == 503
    assert "ingest disabled" in answer["error"]


async def test_ingest_queues_good_lines_and_names_bad_ones(running: Running) -> None:
    """Good lines are queued while each bad one is reported with its line number and reason."""
    body = ndjson(
        row("INV-1"),
        row("INV-2", day="2024-02-30"),
        "this is not json",
        "",
        row("INV-3", period=-1),
        row("INV-4", day=FUTURE),
        json.dumps({"RemoteInvId": "INV-5"}),
        row("INV-6", period=7, acc=9.5),
    )
    status, answer = await body_of(running, body)
    assert status == 202
    assert answer["accepted"] == 2
    assert answer["unchanged"] == 0
    lines = [r["line"] for r in answer["rejected"]]
    assert lines == [2, 3, 5, 6, 7]
    reasons = {r["line"]: r["reason"] for r in answer["rejected"]}
    assert "not JSON" in reasons[3]
    assert "Timestamp" in reasons[6] or "future" in reasons[6]
    assert "missing key" in reasons[7]
    counts = await running.service.queue.counts()
    assert counts.accounts["acme"].pending == 2


async def test_rejected_lines_are_kept_as_dead_letters(running: Running) -> None:
    """Each refused line becomes a dead letter whose source names the request and the line."""
    async with running.http.post(
        f"{running.url}/v1/records",
        data=ndjson(row(), row(day="yesterday")),
        params={"account": "acme"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        assert response.status == 202
        request_id = response.headers["X-Request-Id"]
    dead = await running.service.queue.list_dead(account="acme")
    assert [d.source for d in dead] == [f"ingest:{request_id}:2"]
    assert dead[0].raw is not None
    assert "yesterday" in dead[0].raw


async def test_a_json_array_keeps_decimals_exact(running: Running) -> None:
    """A JSON array is accepted, numbers and strings alike, and values stay exact decimals."""
    body = f"[{row('A', period=0.1, acc=1234567.891)}, {row('B', period='2.5')}, 3]".encode()
    status, answer = await body_of(running, body)
    assert status == 202
    assert answer["accepted"] == 2
    assert answer["rejected"] == [{"line": 3, "reason": "not a JSON object"}]
    claim = await running.service.queue.claim("acme", 10, 30.0)
    assert claim is not None
    values = {r.remote_inv_id: (r.period_kwh, r.accumulated_kwh) for r in claim.records}
    assert values == {"A": ("0.1", "1234567.891"), "B": ("2.5", "5012.345")}


async def test_sending_the_same_records_again_changes_nothing(running: Running) -> None:
    """A repeated body reports its records as unchanged; a changed value is accepted anew."""
    first = ndjson(row("INV-1"), row("INV-1", day=LATER, acc="5020"))
    assert (await body_of(running, first))[1]["unchanged"] == 0
    status, answer = await body_of(running, first)
    assert (status, answer["accepted"], answer["unchanged"]) == (202, 2, 2)
    _, answer = await body_of(running, ndjson(row("INV-1", period="13")))
    assert (answer["accepted"], answer["unchanged"]) == (1, 0)


async def test_records_are_durable_before_the_202(running: Running) -> None:
    """After the 202, a fresh queue object on the same SQLite file already sees the records."""
    status, _ = await body_of(running, ndjson(*(row(f"INV-{i}") for i in range(50))))
    assert status == 202
    async with open_queue(running.queue_url) as fresh:
        counts = await fresh.counts()
    assert counts.accounts["acme"].pending == 50


async def test_ingest_wakes_the_accounts_idle_lanes(running: Running) -> None:
    """Accepted records wake the account's worker, and only that account's."""
    workers = running.service.uploader.workers
    await body_of(running, ndjson(row()))
    assert workers["acme"].wakeup.is_set()
    assert not workers["beta"].wakeup.is_set()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"\n  \n", "empty"),
        (b"hello there", "neither"),
        (b'"a string"\n{"RemoteInvId": "x"}', "neither"),
        (b"[1, 2", "not a JSON array"),
        (b'[{"a": 1}] trailing', "not a JSON array"),
    ],
)
async def test_a_body_of_neither_shape_is_a_400(
    running: Running, body: bytes, message: str
) -> None:
    """A body that is neither NDJSON nor a JSON array is refused whole with 400."""
    status, answer = await body_of(running, body)
    assert status == 400
    assert message in answer["error"]


@pytest.mark.parametrize(
    ("account", "named"), [("nobody", "unknown account 'nobody'"), ("", "account")]
)
async def test_an_unknown_or_missing_account_is_a_400_naming_it(
    running: Running, account: str, named: str
) -> None:
    """The account must be one of the configuration's; the error names what was given."""
    params = {"account": account} if account else {}
    async with running.http.post(
        f"{running.url}/v1/records",
        data=ndjson(row()),
        params=params,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        assert response.status == 400
        assert named in (await response.json())["error"]


async def test_a_row_of_another_account_is_rejected(running: Running) -> None:
    """A row whose Account differs from ?account= is rejected, not queued for the other."""
    other = json.dumps({**json.loads(row()), "Account": "beta"})
    status, answer = await body_of(running, ndjson(row("INV-9"), other))
    assert status == 202
    assert [r["line"] for r in answer["rejected"]] == [2]
    assert "beta" in answer["rejected"][0]["reason"]
    assert "beta" not in (await running.service.queue.counts()).accounts


async def test_a_body_over_the_limit_is_a_413(running: Running) -> None:
    """A body above max_body_bytes is refused with 413, and nothing of it is queued."""
    line = row()
    body = ndjson(*([line] * (MAX_BODY_BYTES // len(line) + 1)))
    assert len(body) > MAX_BODY_BYTES
    status, answer = await body_of(running, body)
    assert status == 413
    assert "max_body_bytes" in answer["error"]
    assert (await running.service.queue.counts()).total.pending == 0


async def test_a_chunked_body_over_the_limit_is_a_413(running: Running) -> None:
    """Without Content-Length the limit holds all the same."""

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b" " * 1024

    status, answer = await body_of(running, stream())  # type: ignore[arg-type]
    assert status == 413
    assert "max_body_bytes" in answer["error"]


async def test_a_repeated_account_parameter_is_a_400(running: Running) -> None:
    """`?account=acme&account=beta` is refused naming the parameter, not read as the first."""
    async with running.http.post(
        f"{running.url}/v1/records?account=acme&account=beta",
        data=ndjson(row()),
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        assert response.status == 400
        assert "account" in (await response.json())["error"]
        assert "more than once" in (await response.json())["error"]
    assert (await running.service.queue.counts()).total.pending == 0


async def test_reinterpreted_values_are_refused_with_line_and_field(running: Running) -> None:
    """Underscores, non-ASCII digits, 16 digits after rounding and control characters: refused."""
    body = ndjson(
        row("INV-1", period="1_000"),
        row("INV-2", acc="١٢"),
        row("INV-3", acc="999999999999999.9999"),
        row("INV-4\u0000"),
        row("INV-5\t"),
        row("INV-6\n"),
        row("INV-7"),
    )
    status, answer = await body_of(running, body)
    assert status == 202
    assert answer["accepted"] == 1
    reasons = {r["line"]: r["reason"] for r in answer["rejected"]}
    assert reasons == {
        1: "PeriodProductionInKWh '1_000' is not a number",
        2: "AccumulatedEnergyInKWh '١٢' is not a number",
        3: "AccumulatedEnergyInKWh 999999999999999.9999 is too large",
        4: "RemoteInvId 'INV-4\\x00' contains the non-printable character U+0000",
        5: "RemoteInvId 'INV-5\\t' contains the non-printable character U+0009",
        6: "RemoteInvId 'INV-6\\n' contains the non-printable character U+000A",
    }


async def test_the_answer_reports_each_rounded_value(running: Running) -> None:
    """Values rounded to three places are listed with line, field, given and kept values."""
    body = ndjson(row("INV-1", period="1.2345"), row("INV-2"), row("INV-3", acc="9.99999"))
    status, answer = await body_of(running, body)
    assert status == 202
    assert answer["rounded"] == [
        {"line": 1, "field": "PeriodProductionInKWh", "given": "1.2345", "kept": "1.234"},
        {"line": 3, "field": "AccumulatedEnergyInKWh", "given": "9.99999", "kept": "10"},
    ]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (b'{"RemoteInvId": "INV-\xff"}', "not UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "nested too deeply"),
    ],
)
async def test_a_bad_last_line_of_a_long_body_is_named_and_the_rest_queued(
    start_service: ServiceFactory, bad: bytes, reason: str
) -> None:
    """6,000 lines whose last is undecodable: 202, that line rejected, exactly 5,999 queued."""
    running = await start_service(max_body_bytes=4_000_000)
    lines = [row(f"INV-{n}").encode() for n in range(5999)] + [bad]
    status, answer = await body_of(running, b"\n".join(lines) + b"\n")
    assert status == 202
    assert answer["accepted"] == 5999
    assert [r["line"] for r in answer["rejected"]] == [6000]
    assert reason in answer["rejected"][0]["reason"]
    counts = await running.service.queue.counts()
    assert counts.accounts["acme"].pending == 5999
    assert len(await running.service.queue.list_dead(account="acme")) == 1


async def test_a_bad_entry_of_a_json_array_is_named_and_the_rest_queued(
    start_service: ServiceFactory,
) -> None:
    """A JSON array whose last entry cannot be decoded: 202, that entry rejected, rest queued."""
    running = await start_service(max_body_bytes=4_000_000)
    entries = [row(f"INV-{n}").encode() for n in range(5999)] + [b'{"RemoteInvId": "I-\xff"}']
    status, answer = await body_of(running, b"[" + b",".join(entries) + b"]")
    assert (status, answer["accepted"]) == (202, 5999)
    assert [r["line"] for r in answer["rejected"]] == [6000]
    assert "not UTF-8" in answer["rejected"][0]["reason"]
    assert (await running.service.queue.counts()).accounts["acme"].pending == 5999


@pytest.mark.parametrize(
    ("last", "message"),
    [
        (b"] trailing", "not a JSON array"),
        (b", " + b"[" * 5000 + b"]" * 5000 + b"]", "not a JSON array: nested too deeply"),
    ],
)
async def test_a_body_refused_whole_queues_nothing(
    start_service: ServiceFactory, last: bytes, message: str
) -> None:
    """A body whose shape is refused (400) leaves the queue and the dead letters untouched."""
    running = await start_service(max_body_bytes=4_000_000)
    lines = [row(f"INV-{n}").encode() for n in range(6000)]
    status, answer = await body_of(running, b"[" + b",".join(lines) + last)
    assert status == 400
    assert message in answer["error"]
    assert (await running.service.queue.counts()).total.pending == 0
    assert await running.service.queue.list_dead() == []


async def test_repeated_lines_are_superseded_and_counted_once(running: Running) -> None:
    """Two lines for one inverter and day: the later wins; the earlier is listed as superseded."""
    body = ndjson(row("INV-1", period="1"), row("INV-2"), row("INV-1", period="2"))
    status, answer = await body_of(running, body)
    assert status == 202
    assert (answer["accepted"], answer["queued"], answer["unchanged"]) == (3, 2, 0)
    assert answer["superseded"] == [{"line": 1, "by": 3}]
    claim = await running.service.queue.claim("acme", 10, 30.0)
    assert claim is not None
    assert {r.remote_inv_id: r.period_kwh for r in claim.records} == {
        "INV-1": "2",
        "INV-2": "12.345",
    }
