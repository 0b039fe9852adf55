"""The simulator's parts, shared by the pipeline and every handler through the app."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from uploader.simulator.auth import Authenticator
from uploader.simulator.faults import Faults, Scripts
from uploader.simulator.limits import RateLimits
from uploader.simulator.options import SimOptions
from uploader.simulator.processes import Processes
from uploader.simulator.state import SimState

Clock = Callable[[], float]  # wall-clock seconds since the epoch

# A day is "in the future" only once it has begun nowhere on Earth: the latest time zone
# is UTC+14, so a client in any zone may report its own today.
_LATEST_ZONE = dt.timezone(dt.timedelta(hours=14))
FIRST_INVERTER_ID = 1_000_001  # registered inverters' ids are bigints since V1.0.2


class Core:
    """Options, clock, randomness, state, auth, limits, processes, faults and scripts."""

    def __init__(self, options: SimOptions, clock: Clock) -> None:
        self.clock = clock
        self.rng = random.Random(options.seed)
        self.closing = asyncio.Event()
        self.state = SimState(options.keep_bodies)
        self.scripts = Scripts()
        self._inverter_ids = itertools.count(FIRST_INVERTER_ID)
        self.configure(options)

    def configure(self, options: SimOptions) -> None:
        """Apply options; the registry's data, tokens issued and counters are kept."""
        self.options = options
        self.limits = RateLimits(options, self.rng)
        self.faults = Faults(options, self.rng, self.closing)
        previous = getattr(self, "auth", None)
        self.auth = Authenticator(options)
        if previous is not None:
            self.auth.adopt(previous)
        processes = getattr(self, "processes", None)
        if processes is None:
            self.processes = Processes(options.process_delay_s, options.process_fail_rate, self.rng)
        else:
            processes.delay_s = options.process_delay_s
            processes.fail_rate = options.process_fail_rate

    def today(self, now: float) -> dt.date:
        """The latest calendar date anywhere at `now`."""
        return dt.datetime.fromtimestamp(now, _LATEST_ZONE).date()

    def new_id(self) -> str:
        """A random UUID (reproducible with a seed)."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def next_inverter_id(self) -> int:
        """The id of the next registered inverter."""
        return next(self._inverter_ids)

    def snapshot(self, summary: bool) -> dict[str, Any]:
        """The whole state as plain data: what `/_sim/state` answers."""
        now = self.clock()
        processes = self.processes.counts(now)  # settles due processes first
        snapshot = self.state.snapshot(summary)
        snapshot["processes"] = processes
        return snapshot


CORE = web.AppKey("sim_core", Core)
ACCOUNT = web.RequestKey("sim_account", str)
