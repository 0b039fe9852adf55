"""`FakeRegistry`: the simulated REDEX registry as an aiohttp application on a real port.

    async with FakeRegistry(SimOptions(tokens={"acme": "tok-acme"})) as sim:
        ...  # talk HTTP to sim.url; sim.state() shows what it holds

The same class backs `uploader simulate`, the tests and the benchmarks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import time
from collections.abc import Iterable
from decimal import Decimal
from types import TracebackType
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.typedefs import Handler

from uploader.simulator import (
    admin,
    bodies,
    documents,
    generation,
    issuance,
    metadata,
    monthly,
    query,
    registration,
)
from uploader.simulator import tokens as token_routes
from uploader.simulator.bodies import BatchBody, InverterDays, LegacyBody, MonthlyBody
from uploader.simulator.core import CORE, Clock, Core
from uploader.simulator.faults import Answer
from uploader.simulator.options import SimOptions
from uploader.simulator.pipeline import pipeline
from uploader.simulator.responses import JSON
from uploader.simulator.routes import PREFIX, REGISTRY_ROUTES, SIM_ROUTES
from uploader.simulator.state import InverterInfo
from uploader.simulator.wire import ENCODER

AcceptedBody = BatchBody | InverterDays | LegacyBody | MonthlyBody
_ACCEPTED_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "batch": bodies.batch_decoder,
    "single": bodies.single_decoder,
    "legacy": bodies.legacy_decoder,
    "monthly": bodies.monthly_decoder,
}
MAX_BODY_BYTES = 64 * 1024 * 1024  # big enough to answer "more than 3000 records" with a 400
SHUTDOWN_TIMEOUT_S = 2.0

# Each route name of `routes` and its handler.
HANDLERS: dict[str, Handler] = {
    "token": token_routes.post_token,
    "refresh": token_routes.post_refresh,
    "legacy": generation.post_legacy,
    "single": generation.post_single,
    "query": query.get_generation,
    "batch": generation.post_batch,
    "monthly": monthly.post_monthly,
    "statuses": query.get_status,
    "statuses:status": query.get_status,
    "documents": documents.post_document,
    "documents:grouped": documents.post_document,
    "register": registration.post_grouped,
    "devices": registration.get_devices,
    "brands": metadata.get_brands,
    "applications": registration.get_applications,
    "issuance": issuance.post_issuance,
    "rec-applications": issuance.get_rec_applications,
}


async def _state(request: web.Request) -> web.Response:
    """`GET /_sim/state[?summary=1]`: everything the simulator holds, as JSON."""
    summary = request.query.get("summary", "0") not in ("", "0", "false")
    body = ENCODER.encode(request.app[CORE].snapshot(summary))
    return web.Response(body=body, content_type=JSON)


SIM_HANDLERS: dict[str, Handler] = {
    "sim-state": _state,
    "sim-drop-days": admin.post_drop_days,
    "sim-alter-day": admin.post_alter_day,
    "sim-rec-status": admin.post_rec_status,
}


def build_app(core: Core) -> web.Application:
    """The aiohttp application serving every route of the contract, plus `/_sim/*`."""
    app = web.Application(middlewares=[pipeline], client_max_size=MAX_BODY_BYTES)
    app[CORE] = core
    for method, path, name in REGISTRY_ROUTES:
        app.router.add_route(method, PREFIX + path, HANDLERS[name], name=name)
    for method, path, name in SIM_ROUTES:
        app.router.add_route(method, path, SIM_HANDLERS[name], name=name)
    return app


class FakeRegistry:
    """The simulated registry: start it on a port, talk HTTP to it, inspect its state."""

    def __init__(self, options: SimOptions | None = None, *, clock: Clock = time.time) -> None:
        self._core = Core(options or SimOptions(), clock)
        self.app = build_app(self._core)
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.port = 0

    @property
    def options(self) -> SimOptions:
        """The options in force."""
        return self._core.options

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0: any free port); returns the base URL."""
        self._core.closing.clear()
        sock = socket.create_server((host, port), reuse_port=False)
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        )
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://{host}:{self.port}"
        return self.url

    async def stop(self) -> None:
        """End stalled requests and stop listening."""
        self._core.closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeRegistry:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def state(self, summary: bool = False) -> dict[str, Any]:
        """The same dict `GET /_sim/state` answers (decimals as exact strings)."""
        return self._core.snapshot(summary)

    def script(self, account: str, answers: Iterable[Answer], *, retry_after_s: int = 1) -> None:
        """Answer the account's next requests with these statuses, in order.

        200 means "process normally"; 429 carries `Retry-After: retry_after_s`; "reset"
        drops the connection; "stall" holds the answer for `stall_s`.
        """
        self._core.scripts.add(account, answers, retry_after_s)

    def clear_scripts(self, account: str | None = None) -> None:
        """Forget scripted answers (of one account, or all)."""
        self._core.scripts.clear(account)

    def add_inverter(
        self,
        account: str,
        remote_inv_id: str,
        *,
        capacity_kw: Decimal | int | str | None = None,
        grid_connection: dt.date | None = None,
        effective_start: dt.date | None = None,
        effective_end: dt.date | None = None,
    ) -> None:
        """Make an inverter known to the account, as a registration would."""
        capacity = None if capacity_kw is None else Decimal(capacity_kw)
        info = InverterInfo(capacity, grid_connection, effective_start, effective_end)
        self._core.state.account(account).inverters[remote_inv_id] = info

    def accepted(self, account: str) -> list[AcceptedBody]:
        """The account's last accepted generation bodies as wire Structs, oldest first.

        Types by endpoint (from `uploader.simulator.bodies`): `BatchBody`, `InverterDays`
        (single), `LegacyBody`, `MonthlyBody`; decimals are Decimals.
        """
        kept = self._core.state.account(account).bodies
        return [_ACCEPTED_DECODERS[kind].decode(raw) for kind, raw in kept]

    def drop_days(
        self, account: str, remote_inv_id: str | None, first: dt.date, last: dt.date
    ) -> int:
        """Make the registry lose stored days (of one inverter, or all with None); how many."""
        return admin.drop_days(self._core, account, remote_inv_id, first, last)

    def alter_day(
        self,
        account: str,
        remote_inv_id: str,
        day: dt.date,
        *,
        produced: Decimal | int | str | None = None,
        accumulated: Decimal | int | str | None = None,
    ) -> None:
        """Change a stored day's values (KeyError when the registry does not hold that day)."""
        values = (None if v is None else Decimal(v) for v in (produced, accumulated))
        admin.alter_day(self._core, account, remote_inv_id, day, *values)

    def set_rec_status(self, rec_application_id: str, status: str) -> None:
        """Decide a REC application (Approved, Rejected, ...), as the registry's staff would."""
        admin.set_rec_status(self._core, rec_application_id, status)

    def reconfigure(self, **changes: Any) -> SimOptions:
        """Change options while running (faults, limits, delays...); data is kept.

        The rate windows start afresh.
        """
        options = dataclasses.replace(self._core.options, **changes)
        self._core.configure(options)
        return options

    def __repr__(self) -> str:
        stats = self._core.state.stats
        return (
            f"<FakeRegistry url={self.url or '-'} accounts={len(self._core.state.accounts)}"
            f" requests={stats.total}>"
        )
