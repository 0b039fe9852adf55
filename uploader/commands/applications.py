"""`uploader applications`: the account's grouped-device and REC applications, with status.

Reads `GET device-applications` (grouped devices: Id, name, status, inverters) and `GET
rec-applications` (issuance requests: number, device, vintage, MWh, status), every page.
"""

from __future__ import annotations

import argparse
import asyncio

import msgspec

from uploader.commands import Subparsers, settings
from uploader.registration.runner import pick_account, with_api
from uploader.registry.applications import RegistrationApi
from uploader.registry.wire import DeviceApplication, RecApplication, value_of
from uploader.registry.wire.codec import number_encoder

STATUSES = ("Draft", "InProgress", "Approved", "Rejected", "Withdrawn", "ToReSubmit")
EPILOG = """\
--json prints {"device_applications": [...], "rec_applications": [...]}, each item as the
registry sent it.
exit codes: 0 listed; 1 the registry refused or did not answer; 2 bad usage or configuration.
"""


class Listing(msgspec.Struct):
    """What `applications --json` prints."""

    device_applications: list[DeviceApplication]
    rec_applications: list[RecApplication]


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "applications",
        help="list the account's grouped-device and REC (issuance) applications",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--status", choices=STATUSES, help="only applications in this status")
    parser.add_argument("--json", action="store_true", help="print both lists as JSON")
    parser.add_argument("--account", metavar="ID", help="whose applications (default: the first)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print both lists."""
    config = settings(args)
    account = pick_account(config, args.account)

    async def show(api: RegistrationApi) -> int:
        devices = [
            d
            for d in await api.device_applications()
            if args.status is None or value_of(d.Status) == args.status
        ]
        recs = await api.rec_applications(status=args.status)
        if args.json:
            encoded = number_encoder.encode(Listing(devices, recs))
            print(msgspec.json.format(encoded, indent=2).decode())
            return 0
        print(f"device applications ({len(devices)}):")
        print("\n".join(_device_line(d) for d in devices) or "  none")
        print(f"REC applications ({len(recs)}):")
        print("\n".join(_rec_line(r) for r in recs) or "  none")
        return 0

    return asyncio.run(with_api(config, account, show))


def _device_line(device: DeviceApplication) -> str:
    name = device.GroupedEnglishName or device.GroupedLocalName or "-"
    return (
        f"  {device.Id}  {value_of(device.Status) or '-'}  {name}  "
        f"{device.CountryCode or '-'}  {len(device.Inverters)} inverter(s)"
    )


def _rec_line(rec: RecApplication) -> str:
    quantity = "-" if rec.Quantity is None else f"{rec.Quantity} MWh"
    return (
        f"  {rec.ApplicationNumber or rec.Id}  {value_of(rec.Status) or '-'}  device "
        f"{rec.DeviceId or '-'}  {rec.VintageFrom}..{rec.VintageTo}  {quantity}"
    )
