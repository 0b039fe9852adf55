"""Daily-record cases: one inverter's records, as a grouped single-inverter body carries them.

A verdict's field paths are those of that body (`Data[1].Timestamp`); in a batch they sit
under `Devices[0].`. The inverter is known to the account, with no capacity stated, and
`TODAY` is the registry's today. The client's rounding is its one deliberate difference:
by default it rounds a value past 3 decimals (half-even) instead of refusing it, and
refuses it only when configured with `decimals = "reject"`; such cases say `client_rounds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tests.documented_cases import DELETE, TODAY, TOMORROW, Verdict, encode, refused

RID = "STR10000000338444"  # the generation pages' example inverter
ACCEPTED = Verdict(200)
GROUPED = "generation pages"
LEGACY = "legacy page"


def day(
    when: Any = "2023-05-01", produced: Any = "0.123", accumulated: Any = "5.123"
) -> dict[str, Any]:
    """A daily record (the generation pages' example by default); DELETE leaves a field out."""
    fields = {
        "Timestamp": when,
        "PeriodProductionInKWh": produced,
        "AccumulatedEnergyInKWh": accumulated,
    }
    return {name: value for name, value in fields.items() if value is not DELETE}


@dataclass(frozen=True)
class DailyCase:
    """Records of one inverter, their verdict, and the documentation it comes from."""

    name: str
    records: tuple[dict[str, Any], ...]
    verdict: Verdict
    source: str
    client_rounds: bool = False  # the client's default rounds where the registry refuses

    def body(self) -> bytes:
        """`POST generation-datas`: the grouped single-inverter body."""
        return encode({"RemoteInvId": RID, "Data": list(self.records)})

    def batch(self) -> bytes:
        """`POST generation-datas/batches`: the same records as a batch of one inverter."""
        return encode({"Devices": [{"RemoteInvId": RID, "Data": list(self.records)}]})


def one(name: str, record: dict[str, Any], verdict: Verdict, source: str) -> DailyCase:
    """A case of one record."""
    return DailyCase(name, (record,), verdict, source)


P, A, T = "Data[0].PeriodProductionInKWh", "Data[0].AccumulatedEnergyInKWh", "Data[0].Timestamp"
ACCEPTED_CASES = [
    one("example", day(), ACCEPTED, f"{GROUPED}: the example record"),
    DailyCase(
        "example-batch",
        (day(), day("2023-05-02", "0.234", "5.357")),
        ACCEPTED,
        f"{GROUPED}: the batch example's records",
    ),
    one("numbers", day(produced=Decimal("0.5"), accumulated=Decimal("1234.125")), ACCEPTED,
        f"{GROUPED}: values are typed number (the examples quote them)"),
    one("integers", day(produced=7, accumulated=1200), ACCEPTED, f"{GROUPED}: number"),
    one("zero", day(produced="0"), ACCEPTED, "contract: only negative values are refused"),
    one("three-places", day(produced="1.500"), ACCEPTED, f"{GROUPED}: max 3 decimal places"),
    one("today", day(TODAY.isoformat()), ACCEPTED, "contract: only later days are in the future"),
    one("before-the-deadline", day("2023-12-31"), ACCEPTED,
        "registration page: the residual-mix deadline limits issuance, not the data sent"),
    DailyCase(
        "accumulated-falls",
        (day("2024-01-01", "1", "500.000"), day("2024-01-02", "1", "10.000")),
        ACCEPTED,
        "contract: the 400 and 422 lists have no rule on accumulated values",
    ),
]  # fmt: skip

REFUSED_CASES = [
    one("future", day(TOMORROW), refused(422, T), "contract: 422 for a day in the future"),
    one("negative", day(produced="-1.000"), refused(422, P), "contract: 422 for a negative value"),
    one("negative-accumulated", day(accumulated="-0.001"), refused(422, A), "contract: negative"),
    DailyCase("four-places", (day(produced="0.1234"),), refused(422, P),
              f"{GROUPED}: restricted to 3 decimal places (V1.0.2)", client_rounds=True),
    DailyCase("four-places-accumulated", (day(accumulated=Decimal("5.1234")),), refused(422, A),
              f"{GROUPED}: restricted to 3 decimal places (V1.0.2)", client_rounds=True),
    one("slashes", day("2023/05/01"), refused(400, T), f"{LEGACY}: Timestamp 'YYYY-MM-DD'"),
    one("day-first", day("01-05-2023"), refused(400, T), f"{LEGACY}: Timestamp 'YYYY-MM-DD'"),
    one("short", day("2023-5-1"), refused(400, T), f"{LEGACY}: Timestamp 'YYYY-MM-DD'"),
    one("no-such-day", day("2023-02-30"), refused(400, T), f"{LEGACY}: a date 'YYYY-MM-DD'"),
    one("no-timestamp", day(DELETE), refused(400, T), f"{GROUPED}: Timestamp required"),
    one("no-production", day(produced=DELETE), refused(400, P), f"{GROUPED}: required"),
    one("no-accumulated", day(accumulated=DELETE), refused(400, A), f"{GROUPED}: required"),
    one("word", day(produced="abc"), refused(400, P), f"{GROUPED}: PeriodProductionInKWh number"),
    one("NaN", day(produced="NaN"), refused(400, P), f"{GROUPED}: a number"),
    one("boolean", day(accumulated=True), refused(400, A), f"{GROUPED}: a number"),
    one("null", day(produced=None), refused(400, P), f"{GROUPED}: required number"),
    DailyCase(
        "second-record-wrong",
        (day("2023-05-01"), day("2023-05-02", produced="-2")),
        refused(422, "Data[1].PeriodProductionInKWh"),
        "contract: all or nothing, each error at its path",
    ),
]  # fmt: skip

DAILY_CASES: list[DailyCase] = [*ACCEPTED_CASES, *REFUSED_CASES]
