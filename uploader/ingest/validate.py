"""Rows in, records or rejection reasons out: the ingest rules of issue 3.

Rejected, with the reason as text: an unknown or missing account; an empty, over-long (> 100)
or non-text RemoteInvId, or one holding a non-printable character (controls, NUL, line
breaks: only surrounding spaces are stripped); a Timestamp that is not `YYYY-MM-DD` or not a
calendar date, or a day in the future; an energy value that is not a number (text in ASCII
digits, no `_` separators), negative, too large (more than 15 digits before the point, also
once rounded), or with more than three decimal places when `decimals = "reject"` (by default
it is rounded half-even, counted and noted in `roundings`). Accepted with a flag: a day
before the residual-mix rule's earliest claimable date, and an accumulated value that falls
from the previous row of the same inverter.

The falling check compares each row with the previous row of the same (account, inverter)
in this validator's input stream, whatever the gap between their days, and a row repeating
an earlier row's (account, inverter, day) supersedes it: `uploader.ingest.history` keeps
both, in bounded memory. Rows already in the queue are not consulted.

This is the 150,000 rows/s path: days are parsed once per distinct text, and the decimal
checks work on the text of the value where they can.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Literal, NamedTuple

from uploader.ingest.history import History
from uploader.records import Flag, Record, canonical
from uploader.residual_mix import earliest_claim_date

__all__ = ["MAX_ID_LENGTH", "Decimals", "Rounding", "Validator"]

Decimals = Literal["round", "reject"]

MAX_ID_LENGTH = 100  # the registry's RemoteInvId limit
MAX_INTEGER_DIGITS = 15  # 10^15 kWh is far beyond any inverter; bigger is a unit mistake
MAX_CACHED_DAYS = 20_000  # distinct Timestamp texts remembered

FIELDS = ("RemoteInvId", "Timestamp", "PeriodProductionInKWh", "AccumulatedEnergyInKWh")
ACCOUNT_FIELD = "Account"

# Digits, at most three places, no trailing zero: the text is exact and canonical as it is.
_plain = re.compile(r"[0-9]{1,15}(?:\.[0-9]{0,2}[1-9])?").fullmatch
_MILLI = Decimal("0.001")
_ZERO = Decimal(0)
_BEFORE = int(Flag.BEFORE_CLAIMABLE)
_FALLS = int(Flag.ACCUMULATED_FALLS)


class Rounding(NamedTuple):
    """A value rounded to three places: where, which field, as given and as kept."""

    source: str
    field: str
    given: str
    kept: str


def _show(raw: object) -> str:
    """A value as a reason quotes it: repr, cut short."""
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."


class Validator:
    """Checks the rows of one input stream against the ingest rules.

    `rounded` counts the values rounded to three places (`roundings` lists them until a
    reader takes them), `flagged` the records accepted with a flag. A validator remembers
    each inverter's previous row, so use one per stream (a file, a request body) and feed it
    the rows in their order.
    """

    def __init__(
        self,
        accounts: Collection[str],
        *,
        today: dt.date,
        decimals: Decimals = "round",
        default_account: str | None = None,
    ) -> None:
        self.accounts = frozenset(accounts)
        self.today = today
        self.earliest = earliest_claim_date(today)
        self.decimals = decimals
        self.default_account = default_account
        self.rounded = 0
        self.roundings: list[Rounding] = []
        self.flagged = 0
        self._days: dict[str, tuple[dt.date, int, int] | str] = {}
        self.history = History()

    def row(self, row: Mapping[str, object], source: str, line: int | None = None) -> Record | str:
        """Check a mapping keyed by the CSV header's names (JSON Lines, an HTTP body).

        `line` is the row's number in its input (by default, read from the end of `source`).
        """
        for name in FIELDS:
            if name not in row:
                return f"missing key {name}"
        account = row.get(ACCOUNT_FIELD) or self.default_account
        inv, ts = row["RemoteInvId"], row["Timestamp"]
        if account is not None and not isinstance(account, str):
            return f"unknown account {_show(account)}"
        if not isinstance(inv, str):
            return f"RemoteInvId {_show(inv)} is not text"
        if not isinstance(ts, str):
            return f"Timestamp {_show(ts)} is not a date in the form YYYY-MM-DD"
        period, accumulated = row["PeriodProductionInKWh"], row["AccumulatedEnergyInKWh"]
        return self.fields(account, inv, ts, period, accumulated, source, line)

    def fields(
        self,
        account: str | None,
        inv: str,
        ts: str,
        period: object,
        acc: object,
        source: str,
        line: int | None = None,
    ) -> Record | str:
        """Check one row given field by field; the record, or why it is rejected.

        The values may be text, int or Decimal; a record's values come out in canonical form
        (no exponent, no trailing zeros), so `canonical()` of them is their `str()`.
        """
        if account not in self.accounts:
            return self._account_reason(account)
        inv = inv.strip(" ")
        if not (0 < len(inv) <= MAX_ID_LENGTH and inv.isascii() and inv.isprintable()):
            reason = self._id_reason(inv)
            if reason:
                return reason
        checked = self._days.get(ts) or self._day(ts)
        if isinstance(checked, str):
            return checked
        period_kwh = self._decimal(period, "PeriodProductionInKWh", source)
        if isinstance(period_kwh, str):
            return period_kwh
        accumulated_kwh = self._decimal(acc, "AccumulatedEnergyInKWh", source)
        if isinstance(accumulated_kwh, str):
            return accumulated_kwh
        at = line_of(source) if line is None else line
        return self._accept(account, inv, checked, period_kwh, accumulated_kwh, source, at)

    def plain(
        self, account: str | None, inv: str, ts: str, period: str, acc: str, source: str, line: int
    ) -> Record | None:
        """`fields` for values known to be plain decimals (digits, at most three places).

        The CSV reader's fast path: None when the row needs a closer look, and `fields`
        then gives the same answer the long way (nothing is remembered before the record
        is accepted, so a row is never counted twice).
        """
        checked = self._days.get(ts) or self._day(ts)
        if account not in self.accounts or isinstance(checked, str):
            return None
        inv = inv.strip(" ")
        if not (0 < len(inv) <= MAX_ID_LENGTH and inv.isascii() and inv.isprintable()):
            return None
        if period[-1] == "0" and "." in period:
            period = period.rstrip("0").rstrip(".")
        if acc[-1] == "0" and "." in acc:
            acc = acc.rstrip("0").rstrip(".")
        return self._accept(account, inv, checked, Decimal(period), Decimal(acc), source, line)

    def _accept(
        self,
        account: str,
        inv: str,
        checked: tuple[dt.date, int, int],
        period_kwh: Decimal,
        accumulated_kwh: Decimal,
        source: str,
        line: int,
    ) -> Record:
        """The record of a row that passed every check, with its flags."""
        day, flags, ordinal = checked
        if self.history.see(account, inv, ordinal, accumulated_kwh, line):
            flags |= _FALLS
        if flags:
            self.flagged += 1
        return Record(
            account=account,
            remote_inv_id=inv,
            day=day,
            period_kwh=period_kwh,
            accumulated_kwh=accumulated_kwh,
            flags=flags,
            source=source,
        )

    def _account_reason(self, account: object) -> str:
        if account is None or account == "":
            return "no account: give --account or an Account value"
        return f"unknown account {_show(account)}"

    @staticmethod
    def _id_reason(inv: str) -> str | None:
        if not inv:
            return "RemoteInvId is empty"
        if len(inv) > MAX_ID_LENGTH:
            return f"RemoteInvId is longer than {MAX_ID_LENGTH} characters"
        try:
            inv.encode()
        except UnicodeEncodeError:
            return "RemoteInvId is not valid UTF-8"
        # Controls and line breaks would be sent as they are, or lost by some reader on the way.
        bad = next((c for c in inv if not c.isprintable()), None)
        if bad is not None:
            return f"RemoteInvId {_show(inv)} contains the non-printable character U+{ord(bad):04X}"
        return None

    def _day(self, ts: str) -> tuple[dt.date, int, int] | str:
        """Parse and judge a Timestamp the first time its text is seen: (day, flags, ordinal)."""
        result: tuple[dt.date, int, int] | str
        if len(ts) != 10 or ts[4] != "-" or ts[7] != "-":
            return f"Timestamp {_show(ts)} is not a date in the form YYYY-MM-DD"
        try:
            day = dt.date.fromisoformat(ts)
        except ValueError:
            result = f"Timestamp {_show(ts)} is not a calendar date"
        else:
            if day > self.today:
                result = f"Timestamp {ts} is in the future"
            else:
                result = (day, _BEFORE if day < self.earliest else 0, day.toordinal())
        if len(self._days) >= MAX_CACHED_DAYS:
            self._days.clear()
        self._days[ts] = result
        return result

    def _decimal(self, raw: object, name: str, source: str) -> Decimal | str:
        """The value as an exact decimal with at most three places, or why it is not one."""
        if type(raw) is str:
            if _plain(raw):
                return Decimal(raw)
            # Decimal() also reads "1_000" and digits of any script ("١٢"): not what was meant.
            if not raw.isascii() or "_" in raw:
                return f"{name} {_show(raw)} is not a number"
            try:
                value = Decimal(raw)
            except InvalidOperation:
                return f"{name} {_show(raw)} is not a number"
        elif type(raw) is Decimal:
            value = raw
        elif type(raw) is int:
            value = Decimal(raw)
        else:
            return f"{name} {_show(raw)} is not a number (give text or an exact decimal)"
        # The common case decided on the text: digits, at most three places, no sign.
        text = str(value)
        dot = text.find(".")
        if dot < 0:
            if text.isdigit() and len(text) <= MAX_INTEGER_DIGITS:
                return value
        elif (
            dot <= MAX_INTEGER_DIGITS
            and len(text) - dot <= 4
            and text[0] != "-"
            and "E" not in text
        ):
            return value if text[-1] != "0" else Decimal(text.rstrip("0").rstrip("."))
        return self._unusual(value, raw, name, source)

    def _unusual(self, value: Decimal, raw: object, name: str, source: str) -> Decimal | str:
        """Signs, exponents, specials, magnitudes and rounding: the slow, general path."""
        if not value.is_finite():
            return f"{name} {_show(raw)} is not a number"
        if value.is_signed():
            if value:
                return f"{name} {value} is negative"
            value = _ZERO
        # Checked before rounding too: quantize fails on magnitudes beyond the context.
        if value and value.adjusted() >= MAX_INTEGER_DIGITS:
            return f"{name} {value} is too large"
        if -int(value.as_tuple().exponent) > 3:
            rounded = value.quantize(_MILLI, rounding=ROUND_HALF_EVEN)
            if rounded.adjusted() >= MAX_INTEGER_DIGITS:
                return f"{name} {value} is too large"
            if rounded != value:
                if self.decimals == "reject":
                    return f"{name} {value} has more than 3 decimal places"
                self._note_rounding(source, name, value, rounded)
            value = rounded
        return Decimal(canonical(value))

    def _note_rounding(self, source: str, name: str, given: Decimal, kept: Decimal) -> None:
        self.rounded += 1
        self.roundings.append(Rounding(source, name, str(given), canonical(kept)))


def line_of(source: str) -> int:
    """The line number that ends a source ("file.csv:17"), 0 when there is none."""
    tail = source.rpartition(":")[2]
    return int(tail) if tail.isdigit() else 0
