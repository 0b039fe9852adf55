"""`uploader request-issuance`: file a REC application for a grouped device's vintage.

Before anything is sent, the device's inverters are read from the registry (`GET
device-applications/{id}/devices`) and the queue is asked about each inverter's records of
the vintage: every one must be delivered and confirmed (the registry reported its batch's
processing Success; on an endpoint without processing statuses, delivered is enough). If
some are still pending, leased, unconfirmed or dead, the request is refused, naming how many
of each per inverter, unless --force. Then `POST rec-applications/grouped-device` files it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import sys

from uploader import commands
from uploader.commands import Subparsers
from uploader.config import Settings
from uploader.errors import Rejected, TransportError
from uploader.push.endpoints import ENDPOINTS
from uploader.queue import RecordState, open_queue
from uploader.registration.runner import pick_account, print_problems, with_api
from uploader.registry.applications import RegistrationApi
from uploader.registry.wire import IssuanceRequest, value_of
from uploader.residual_mix import earliest_claim_date, registry_today

EPILOG = """\
DEVICE_ID is the grouped device application's Id, as register-grouped printed it.
exit codes: 0 filed (its Id printed), or ready (--dry-run); 1 refused, here (records not
delivered and confirmed) or by the registry (400: past the residual-mix deadline; 422: the
period, or part of it, was already submitted, the device is not approved yet, or the
vintage ends in the future), or no answer; 2 bad usage or configuration.
"""
NOT_READY: tuple[RecordState, ...] = ("pending", "leased", "sent", "dead")
SHOWN: dict[RecordState, str] = {"sent": "unconfirmed"}
CLOSED = frozenset({"Rejected", "Withdrawn"})  # applications whose period is free again


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "request-issuance",
        help="request RECs for a grouped device's vintage, once its records are confirmed",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--account", metavar="ID", required=True, help="the business account")
    parser.add_argument("--device", metavar="DEVICE_ID", required=True,
                        help="the grouped device application's Id")  # fmt: skip
    parser.add_argument("--from", dest="first", metavar="YYYY-MM-DD", required=True,
                        type=commands.day, help="the vintage's first day")  # fmt: skip
    parser.add_argument("--to", dest="last", metavar="YYYY-MM-DD", required=True,
                        type=commands.day, help="the vintage's last day")  # fmt: skip
    parser.add_argument("--dry-run", action="store_true", help="check only, file nothing")
    parser.add_argument("--force", action="store_true",
                        help="file even if records are not delivered and confirmed")  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the vintage's records, then file the request."""
    if args.last < args.first:
        print(f"uploader request-issuance: error: --to {args.last} is before --from "
              f"{args.first}", file=sys.stderr)  # fmt: skip
        return 2
    config = commands.settings(args)
    account = pick_account(config, args.account)
    request = IssuanceRequest(VintageFrom=args.first, VintageTo=args.last, DeviceId=args.device)
    filing = _Filing(config, account, request, args.dry_run, args.force)
    return asyncio.run(with_api(config, account, filing.run))


@dataclasses.dataclass(frozen=True)
class _Filing:
    config: Settings
    account: str
    request: IssuanceRequest
    dry_run: bool
    force: bool

    async def run(self, api: RegistrationApi) -> int:
        """Check, warn, then file (unless a dry run)."""
        devices = await api.devices(self.request.DeviceId)
        inverters = sorted({i.RemoteInvId for d in devices for i in d.Inverters})
        ready = await self._check(inverters)
        _warn_deadline(self.request, earliest_claim_date(registry_today()))
        if not ready and not self.force:
            return 1
        vintage = f"{self.request.VintageFrom}..{self.request.VintageTo}"
        if self.dry_run:
            print(f"ready: device {self.request.DeviceId}, vintage {vintage} (dry run: not filed)")
            return 0
        try:
            filed, message = await api.request_issuance(self.request)
        except Rejected as exc:
            print_problems(exc.errors, await _refusal(api, self.request, exc))
            return 1
        except TransportError as exc:
            print(f"uploader: no answer ({exc}): the request may have been filed; "
                  "`uploader applications` lists what was", file=sys.stderr)  # fmt: skip
            return 1
        if message:
            print(f"registry: {message}", file=sys.stderr)
        print(filed)
        return 0

    async def _check(self, inverters: list[str]) -> bool:
        """Whether every queued record of the vintage is delivered and confirmed; says why not."""
        first, last = self.request.VintageFrom, self.request.VintageTo
        async with open_queue(self.config.queue) as queue:
            counts = await queue.state_counts(self.account, first, last, inverters)
        if not ENDPOINTS[self.config.registry.endpoint].confirmed:
            for mine in counts.values():  # no processing status to wait for: delivered is all
                mine["confirmed"] += mine.pop("sent")
                mine["sent"] = 0
        if not any(sum(mine.values()) for mine in counts.values()):
            print(f"warning: the queue holds no records of the device's {len(inverters)} "
                  f"inverter(s) from {first} to {last}", file=sys.stderr)  # fmt: skip
        lines = [line for inverter, mine in counts.items() if (line := _line(inverter, mine))]
        if lines:
            undone = sum(mine[state] for mine in counts.values() for state in NOT_READY)
            verdict = "filing anyway (--force)" if self.force else "not filed (--force files it)"
            print_problems(lines, f"{undone} record(s) of {len(lines)} inverter(s) of the "
                           f"vintage are not delivered and confirmed; {verdict}")  # fmt: skip
        return not lines


def _line(inverter: str, counts: dict[RecordState, int]) -> str | None:
    parts = [f"{counts[state]} {SHOWN.get(state, state)}" for state in NOT_READY if counts[state]]
    return f"{inverter}: {', '.join(parts)}" if parts else None


def _warn_deadline(request: IssuanceRequest, earliest: dt.date) -> None:
    if request.VintageTo < earliest:
        print(f"warning: the whole vintage is before the earliest claimable date {earliest} "
              "(residual-mix deadline): the registry will refuse it", file=sys.stderr)  # fmt: skip
    elif request.VintageFrom < earliest:
        print(f"warning: the vintage starts before the earliest claimable date {earliest} "
              "(residual-mix deadline): the days before it will not be issued",
              file=sys.stderr)  # fmt: skip


async def _refusal(api: RegistrationApi, request: IssuanceRequest, exc: Rejected) -> str:
    """The registry's refusal in words."""
    if exc.status == 400:
        earliest = earliest_claim_date(registry_today())
        if request.VintageTo < earliest:
            return (f"refused: the vintage is past the residual-mix deadline (the earliest "
                    f"claimable date is {earliest}) — {exc}")  # fmt: skip
        return f"refused: the registry could not read the request — {exc}"
    if exc.status == 422:
        overlapping = await _overlapping(api, request)
        if overlapping:
            return f"refused: this period was already submitted ({overlapping}) — {exc}"
        return ("refused: the period (or part of it) was already submitted, the device is not "
                f"approved yet, or the vintage ends in the future — {exc}")  # fmt: skip
    return f"refused — {exc}"


async def _overlapping(api: RegistrationApi, request: IssuanceRequest) -> str | None:
    """The device's live application that shares a day with the vintage, if the list says."""
    for listed in await api.rec_applications(device_id=request.DeviceId):
        first, last, status = listed.VintageFrom, listed.VintageTo, value_of(listed.Status)
        if first is None or last is None or status in CLOSED:
            continue
        if first <= request.VintageTo and request.VintageFrom <= last:
            return f"application {listed.ApplicationNumber or listed.Id}, {first}..{last}, {status}"
    return None
