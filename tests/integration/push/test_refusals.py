"""Refusals: the registry's reason kept verbatim, and bisection that stops when it should."""

from __future__ import annotations

import math
from decimal import Decimal

import msgspec
from aiohttp import web
from structlog.testing import capture_logs

from tests.integration.push.conftest import SettingsFactory, drain, enqueue, records_for
from tests.integration.push.stub import BATCHES, Reply, StubRegistry, accepted, envelope, reply
from uploader.commands.dead_letter import describe
from uploader.observe.metrics import Metrics
from uploader.push.service import Uploader
from uploader.queue import DeadLetter, open_queue
from uploader.records import Record
from uploader.registry.client import RegistryClient
from uploader.registry.issues import REASON_MAX_CHARS

REGISTRY_ERROR = (
    '{"ErrorCode":"E_CAPACITY","ErrorMessage":"above the installed capacity","PropertyName":"%s"}'
)


async def dead_after_drain(
    stub: StubRegistry, make_settings: SettingsFactory, records: list[Record]
) -> tuple[int, list[DeadLetter]]:
    """Drain `records` of acme into the stub: the exit code and the dead letters."""
    settings = make_settings(stub.url, accounts=("acme",))
    await enqueue(settings, records)
    code, _ = await drain(settings)
    async with open_queue(settings.queue) as queue:
        return code, await queue.list_dead()


def refused(status: int, message: object, errors: str) -> Reply:
    """A refusal whose `Errors` is the JSON text given, verbatim."""
    body = envelope(None, status, "x").replace(b'"Errors":null', b'"Errors":' + errors.encode())
    return reply(
        status, body.replace(b'"Message":"x"', b'"Message":' + msgspec.json.encode(message))
    )


async def test_the_registry_error_object_is_kept_and_shown(make_settings: SettingsFactory) -> None:
    """`{"ErrorCode","ErrorMessage","PropertyName"}` names its record; the dead letter keeps
    the Message and the error verbatim, and `dead-letter list` shows them."""
    records = records_for(("acme",), inverters=3, days=4)
    path = "$.devices[1].data[2].periodProductionInKWh"  # a JSON path, in camelCase
    error = REGISTRY_ERROR % path
    async with StubRegistry({BATCHES: [refused(422, "Validation failed", f"[{error}]")]}) as stub:
        code, dead = await dead_after_drain(stub, make_settings, records)
        second = stub.sent(BATCHES)[1]
    (letter,) = dead
    bad = sorted(records, key=lambda r: (r.remote_inv_id, r.day))[1 * 4 + 2]
    assert code == 1
    assert (letter.remote_inv_id, letter.day) == (bad.remote_inv_id, bad.day.isoformat())
    assert second.count(b'"Timestamp"') == len(records) - 1
    assert "422 Validation failed" in letter.reason
    assert f"{path}: above the installed capacity" in letter.reason
    assert error in letter.reason
    listed = describe(letter)
    assert "E_CAPACITY" in listed
    assert "above the installed capacity" in listed


async def test_errors_of_any_shape_survive_verbatim(make_settings: SettingsFactory) -> None:
    """Errors that are numbers, lists, nested objects or strings, and a Message that is an
    object, reach the dead letter as the registry wrote them."""
    records = records_for(("acme",), inverters=1, days=1)
    errors = '[42,["x"],{"weird":{"deep":1}},"plain words",null]'
    async with StubRegistry({BATCHES: [refused(400, {"Text": "no"}, errors)]}) as stub:
        code, (letter,) = await dead_after_drain(stub, make_settings, records)
    assert code == 1
    assert letter.reason.startswith('400 {"Text":"no"}: ')
    assert 'Errors: [42,["x"],{"weird":{"deep":1}},"plain words"]' in letter.reason


async def test_a_long_reason_is_bounded(make_settings: SettingsFactory) -> None:
    """A refusal with 10 kB of errors leaves a reason of at most 2 KiB."""
    records = records_for(("acme",), inverters=1, days=1)
    errors = "[" + ",".join(['"' + "e" * 1000 + '"'] * 10) + "]"
    async with StubRegistry({BATCHES: [refused(400, "Bad Request", errors)]}) as stub:
        code, (letter,) = await dead_after_drain(stub, make_settings, records)
    assert code == 1
    assert len(letter.reason) == REASON_MAX_CHARS
    assert letter.reason.startswith("400 Bad Request: eeee")


def refusing(*markers: bytes) -> Reply:
    """Refuse, naming no record, every body that carries one of the markers; accept the rest."""
    unnamed = refused(400, "Bad Request", "[]")

    async def answer(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if any(marker in body for marker in markers):
            return await unnamed(request)
        return await accepted(request)

    return answer


def marked(records: list[Record], *positions: int) -> tuple[list[Record], list[bytes]]:
    """The records with those at `positions` given a value only they carry, and that value."""
    out, markers = list(records), []
    for n in positions:
        value = Decimal(f"7{n:03d}.123")  # no trailing zero: canonical text is the same
        out[n] = Record(**{**{f: getattr(out[n], f) for f in Record.__struct_fields__},
                           "period_kwh": value})  # fmt: skip
        markers.append(f'"{value}"'.encode())
    return out, markers


async def test_a_whole_batch_refusal_is_recognised(make_settings: SettingsFactory) -> None:
    """Refused however it is halved, a batch of 64 costs 1 + 2 + 4 requests, not 127, and
    every record is dead-lettered with the registry's reason."""
    records = records_for(("acme",), inverters=4, days=16)
    async with StubRegistry(answers={BATCHES: refused(400, "Bad Request", "[]")}) as stub:
        code, dead = await dead_after_drain(stub, make_settings, records)
        sent = len(stub.sent(BATCHES))
    assert code == 1
    assert sent == 7
    assert len(dead) == 64
    assert {d.reason for d in dead} == {"400 Bad Request: no errors given"}


async def test_one_bad_record_costs_a_logarithm_of_requests(
    make_settings: SettingsFactory,
) -> None:
    """One record refused without being named, among 64: at most log2(64) + 1 refused
    requests find it; the other 63 are delivered and it alone is dead-lettered."""
    records, markers = marked(records_for(("acme",), inverters=4, days=16), 37)
    async with StubRegistry(answers={BATCHES: refusing(*markers)}) as stub:
        code, dead = await dead_after_drain(stub, make_settings, records)
        bodies = stub.sent(BATCHES)
    refusals = [b for b in bodies if markers[0] in b]
    assert code == 1
    assert [(d.remote_inv_id, d.day) for d in dead] == [
        (records[37].remote_inv_id, records[37].day.isoformat())
    ]
    assert len(refusals) <= math.ceil(math.log2(64)) + 1
    assert len(bodies) <= 2 * math.ceil(math.log2(64)) + 1


async def test_two_bad_records_in_both_halves_are_not_a_whole_refusal(
    make_settings: SettingsFactory,
) -> None:
    """A bad record in each half refuses both halves alike once; that is not taken for the
    batch's refusal: only the two records are dead-lettered."""
    records, markers = marked(records_for(("acme",), inverters=4, days=16), 5, 50)
    async with StubRegistry(answers={BATCHES: refusing(*markers)}) as stub:
        code, dead = await dead_after_drain(stub, make_settings, records)
    assert code == 1
    assert sorted((d.remote_inv_id, d.day) for d in dead) == sorted(
        (records[n].remote_inv_id, records[n].day.isoformat()) for n in (5, 50)
    )


async def test_every_dead_letter_counts_in_logs_metrics_and_the_exit_code(
    make_settings: SettingsFactory,
) -> None:
    """A record dead-lettered at the end of a bisection shows in its batch log line
    (`rejected`), in uploader_records_rejected, in the run's reasons and in the exit code."""
    records, markers = marked(records_for(("acme",), inverters=1, days=4), 2)
    async with StubRegistry(answers={BATCHES: refusing(*markers)}) as stub:
        settings = make_settings(stub.url, accounts=("acme",))
        await enqueue(settings, records)
        metrics = Metrics(["acme"])
        async with (
            open_queue(settings.queue) as queue,
            RegistryClient.from_settings(settings) as client,
        ):
            uploader = Uploader(settings, queue, client, hooks=(metrics.observe,))
            with capture_logs() as logs:
                code = await uploader.run(drain=True)
    rejected = [e["rejected"] for e in logs if e["event"] == "batch"]
    labels = {"account": "acme", "stage": "registry"}
    assert code == 1
    assert sorted(rejected, reverse=True)[:2] == [1, 0]
    assert sum(rejected) == 1
    assert metrics.registry.get_sample_value("uploader_records_rejected_total", labels) == 1
    assert uploader.stats.dead_reasons == {"400 Bad Request": 1}
