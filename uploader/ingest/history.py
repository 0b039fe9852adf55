"""What one input stream said of each inverter so far: the falling check and repeated days.

Two rows of one input for the same (account, inverter, day) are one record: the later row
wins, as the queue's upsert would make it, and the earlier one is *superseded*. Finding the
earlier row's line for any repeat means remembering every (inverter, day, line) read, so the
memory is shaped after how files are written: an inverter's days in order, one row per day,
whether the file lists an inverter's days together or one day of every inverter after the
other. Such rows form a *run* (consecutive days, lines a constant step apart) held as four
numbers however long it is, and a row that continues the open run of the latest day cannot
be a repeat: it costs a few comparisons. Any other row is checked against a bitmask of the
inverter's days, and starts a run of its own.

Memory is bounded: past `MAX_TRACKED_INVERTERS` inverters or `MAX_TRACKED_RUNS` runs the
history starts over, and a repeat of a row it forgot is then not recognised (it reaches the
queue as an ordinary update, as in the time before this history existed).
"""

from __future__ import annotations

from array import array
from decimal import Decimal
from typing import NamedTuple

__all__ = ["MAX_TRACKED_INVERTERS", "MAX_TRACKED_RUNS", "History", "Superseded"]

MAX_TRACKED_INVERTERS = 200_000  # inverters remembered before the history starts over
MAX_TRACKED_RUNS = 1_000_000  # closed runs remembered (32 bytes each) before it starts over


class Superseded(NamedTuple):
    """A row that a later row of the same input replaced (same account, inverter and day)."""

    name: str  # the input, as sources name it: "daily.csv", "ingest:<request id>"
    line: int  # the row that lost
    by: int  # the row that replaced it

    @property
    def source(self) -> str:
        """The lost row's source, as its record carried it."""
        return f"{self.name}:{self.line}"

    @property
    def by_source(self) -> str:
        """The winning row's source."""
        return f"{self.name}:{self.by}"


class _Inverter:
    """One inverter's rows: the previous one, the open run, closed runs, a mask of days."""

    __slots__ = ("acc", "day", "first", "line", "mask", "runs", "start", "start_line", "step")

    def __init__(self, day: int, acc: Decimal, line: int) -> None:
        self.day, self.acc, self.line = day, acc, line  # the previous row
        self.start, self.start_line = day, line  # the open run's first row
        # Lines between the open run's rows; -1 until its second row (lines only grow, so -1
        # never lets a row pass as the run's next).
        self.step = -1
        self.first = day  # bit 0 of `mask`
        self.mask = 0  # the days of the closed runs
        self.runs = array("q")  # closed runs: (first day, first line, step, days) each

    def top(self) -> int:
        """The latest day seen (the open run ends at it when it is the latest run)."""
        closed = self.mask.bit_length() - 1 + self.first if self.mask else self.day
        return max(self.day, closed)

    def holds(self, day: int) -> bool:
        """Whether a row of this day was seen."""
        if self.start <= day <= self.day:
            return True
        offset = day - self.first
        return offset >= 0 and bool(self.mask >> offset & 1)

    def line_of(self, day: int) -> int:
        """The line of the latest row of a day this inverter holds."""
        if self.start <= day <= self.day:
            return self.start_line + self.step * (day - self.start)
        runs = self.runs
        for i in range(len(runs) - 4, -1, -4):
            if runs[i] <= day < runs[i] + runs[i + 3]:
                return runs[i + 1] + runs[i + 2] * (day - runs[i])
        raise LookupError(day)  # unreachable while `holds(day)`

    def restart(self, day: int, line: int) -> None:
        """Close the open run and open one at this row."""
        days = self.day - self.start + 1
        self.runs.extend((self.start, self.start_line, self.step, days))
        if self.start < self.first:
            self.mask <<= self.first - self.start
            self.first = self.start
        self.mask |= ((1 << days) - 1) << (self.start - self.first)
        self.start, self.start_line, self.step = day, line, -1


class History:
    """The inverters of one input stream, in the order their rows came.

    `see` answers the falling check for each accepted row and notes repeats in `repeats` as
    (line that lost, line that won), for the reader to take.
    """

    def __init__(self) -> None:
        self._inverters: dict[tuple[str, str], _Inverter] = {}
        # The current inverter; "" matches no row (an empty RemoteInvId is refused).
        self._account = self._inv = ""
        self._cur = _Inverter(0, Decimal(0), 0)
        self._runs = 0
        self.repeats: list[tuple[int, int]] = []

    def see(self, account: str, inv: str, day: int, acc: Decimal, line: int) -> bool:
        """Remember a row; whether its accumulated value contradicts the inverter's previous row.

        Accumulated energy never decreases with time: a later day with less, or an earlier
        day with more, than the previous row of the inverter flags the row that comes second.
        """
        if inv != self._inv or account != self._account:
            found = self._switch(account, inv, day, acc, line)
            if found is None:
                return False
            cur = found
        else:
            cur = self._cur
        # A step is set only on a run that holds the latest day, so its next row is new.
        if day == cur.day + 1 and line == cur.line + cur.step:
            falls = acc < cur.acc
            cur.day, cur.acc, cur.line = day, acc, line
            return falls
        return self._irregular(cur, day, acc, line)

    def _switch(
        self, account: str, inv: str, day: int, acc: Decimal, line: int
    ) -> _Inverter | None:
        """Make (account, inv) the current inverter; None when this row is its first."""
        key = (account, inv)
        found = self._inverters.get(key)
        if found is None:
            if len(self._inverters) >= MAX_TRACKED_INVERTERS:
                self._forget()
            self._inverters[key] = self._cur = _Inverter(day, acc, line)
            self._account, self._inv = account, inv
            return None
        self._account, self._inv, self._cur = account, inv, found
        return found

    def _irregular(self, cur: _Inverter, day: int, acc: Decimal, line: int) -> bool:
        """A row that does not simply continue the open run: runs, repeats, the falling check."""
        falls = acc < cur.acc if day > cur.day else day < cur.day and acc > cur.acc
        top = cur.top()
        if day == cur.day + 1 and cur.day == top and cur.step == -1:
            cur.step = line - cur.line  # the run's second row sets its step
        else:
            if day <= top and cur.holds(day):
                self.repeats.append((cur.line_of(day), line))
            cur.restart(day, line)
            self._runs += 1
            if self._runs >= MAX_TRACKED_RUNS:
                self._forget()
                return falls
        cur.day, cur.acc, cur.line = day, acc, line
        return falls

    def _forget(self) -> None:
        self._inverters.clear()
        self._account = self._inv = ""
        self._runs = 0
