"""What the simulated registry holds: accounts, their inverters and data, and counters."""

from __future__ import annotations

import datetime as dt
from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeAlias

from uploader.simulator.wire import MONTHS, DailyData, FastDaily, RegisteredDevice

# A stored day: Decimal values from the precise path, canonical strings from the fast one.
StoredDay: TypeAlias = DailyData | FastDaily


def as_text(value: Decimal | str) -> str:
    """An energy value as exact text (`1000`, never `1E+3`)."""
    return value if isinstance(value, str) else f"{value:f}"


def as_decimal(value: Decimal | str) -> Decimal:
    """An energy value as a Decimal."""
    return value if isinstance(value, Decimal) else Decimal(value)


@dataclass(frozen=True, slots=True)
class InverterInfo:
    """What registration tells about an inverter; None means "not stated"."""

    capacity_kw: Decimal | None = None
    grid_connection: dt.date | None = None
    effective_start: dt.date | None = None
    effective_end: dt.date | None = None

    @property
    def first_day(self) -> dt.date | None:
        """The first day the inverter may report: effective start, never before grid connection."""
        days = [d for d in (self.grid_connection, self.effective_start) if d is not None]
        return max(days) if days else None

    @property
    def max_daily_kwh(self) -> Decimal | None:
        """Installed capacity times 24 hours."""
        return None if self.capacity_kw is None else self.capacity_kw * 24


@dataclass(slots=True)
class AccountState:
    """One business account: known inverters, their daily and monthly data, recent bodies.

    `bodies` keeps the raw bytes of the last accepted requests with their route name, so
    remembering them costs nothing on the hot path.
    """

    keep_bodies: int
    inverters: dict[str, InverterInfo] = field(default_factory=dict)
    days: dict[str, dict[dt.date, StoredDay]] = field(default_factory=dict)
    monthly: dict[str, dict[int, dict[str, Decimal]]] = field(default_factory=dict)
    bodies: deque[tuple[str, bytes]] = field(init=False)

    def __post_init__(self) -> None:
        self.bodies = deque(maxlen=self.keep_bodies)

    def snapshot(self, summary: bool) -> dict[str, Any]:
        """This account as plain JSON-ready data (decimals as exact strings)."""
        if summary:
            return {
                "inverter_count": len(self.days),
                "day_count": sum(len(days) for days in self.days.values()),
                "monthly_count": sum(len(years) for years in self.monthly.values()),
            }
        return {"inverters": _days_json(self.days), "monthly": _monthly_json(self.monthly)}


def _days_json(days: dict[str, dict[dt.date, StoredDay]]) -> dict[str, Any]:
    return {
        rid: {
            day.isoformat(): {
                "PeriodProductionInKWh": as_text(rec.PeriodProductionInKWh),
                "AccumulatedEnergyInKWh": as_text(rec.AccumulatedEnergyInKWh),
            }
            for day, rec in sorted(by_day.items())
        }
        for rid, by_day in sorted(days.items())
    }


def _monthly_json(monthly: dict[str, dict[int, dict[str, Decimal]]]) -> dict[str, Any]:
    return {
        rid: {
            str(year): {m: f"{months[m]:f}" for m in MONTHS if m in months}
            for year, months in sorted(years.items())
        }
        for rid, years in sorted(monthly.items())
    }


@dataclass(slots=True)
class Stats:
    """Request counters for `/_sim/state`."""

    by_status: Counter[str] = field(default_factory=Counter)
    by_account: dict[str, Counter[str]] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)
    total: int = 0
    records_accepted: int = 0
    records_stored: int = 0

    def count(self, account: str | None, status: int | str) -> None:
        """Count one answered request (or one whose connection was reset)."""
        key = str(status)
        self.total += 1
        self.by_status[key] += 1
        if account is not None:
            self.by_account.setdefault(account, Counter())[key] += 1


@dataclass(frozen=True, slots=True)
class Group:
    """What a grouped-device application says of the group as a whole."""

    english_name: str
    local_name: str
    country: str
    province: str
    frequency: str  # Daily or Monthly


@dataclass(frozen=True, slots=True)
class Application:
    """A registered grouped-device application; it is the grouped device issuance names."""

    id: str
    number: int  # in order of registration, from 1
    account: str
    group: Group
    devices: list[RegisteredDevice]
    approved_at: float  # InProgress until then, then Approved

    @property
    def remote_inv_ids(self) -> list[str]:
        """Every inverter of the group."""
        return [i.RemoteInvId for device in self.devices for i in device.Inverters]

    def status(self, now: float) -> str:
        """InProgress, or Approved once `approved_at` has come."""
        return "Approved" if now >= self.approved_at else "InProgress"


@dataclass(slots=True)
class RecApplication:
    """A request for issuance: a grouped device's vintage; its status may change later."""

    id: str
    number: int  # in order of submission, from 1
    device: Application
    vintage: tuple[dt.date, dt.date]  # first and last day, as requested
    quantity_mwh: Decimal
    status: str = "InProgress"


@dataclass(slots=True)
class SimState:
    """Everything the registry holds, by account."""

    keep_bodies: int
    accounts: dict[str, AccountState] = field(default_factory=dict)
    stats: Stats = field(default_factory=Stats)
    files: dict[str, str] = field(default_factory=dict)  # uploaded file id -> account
    applications: dict[str, Application] = field(default_factory=dict)
    rec_applications: dict[str, RecApplication] = field(default_factory=dict)

    def account(self, name: str) -> AccountState:
        """The account's state, created on first use."""
        state = self.accounts.get(name)
        if state is None:
            state = self.accounts[name] = AccountState(self.keep_bodies)
        return state

    def snapshot(self, summary: bool) -> dict[str, Any]:
        """Accounts and request counters as plain data (processes are added by the caller)."""
        stats = self.stats
        return {
            "accounts": {
                name: acc.snapshot(summary) for name, acc in sorted(self.accounts.items())
            },
            "requests": {
                "by_status": dict(sorted(stats.by_status.items())),
                "by_account": {
                    name: dict(sorted(c.items())) for name, c in sorted(stats.by_account.items())
                },
                "total": stats.total,
            },
            "rate_limited": stats.by_status.get("429", 0),
            "faults": dict(sorted(stats.faults.items())),
            "records_accepted": stats.records_accepted,
            "records_stored": stats.records_stored,
        }
