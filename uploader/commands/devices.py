"""`uploader devices`: a registered grouped-device application's devices and inverters."""

from __future__ import annotations

import argparse
import asyncio

import msgspec

from uploader.commands import Subparsers, settings
from uploader.registration.runner import pick_account, with_api
from uploader.registry.applications import RegistrationApi
from uploader.registry.wire import DeviceWithInverters, RegisteredInverter
from uploader.registry.wire.codec import number_encoder


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "devices",
        help="list a registered application's devices and inverters",
        description="List the devices and inverters of a grouped-device application, as the "
        "registry holds them (inverter Id, RemoteInvId, serial, brand, capacity, period).",
    )
    parser.add_argument("--application", metavar="ID", required=True, help="the application Id")
    parser.add_argument("--json", action="store_true", help="the registry's devices as JSON")
    parser.add_argument("--account", metavar="ID", help="whose token to use (default: the first)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print each device and its inverters; exit 1 if the registry refuses."""
    config = settings(args)
    account = pick_account(config, args.account)

    async def show(api: RegistrationApi) -> int:
        devices = await api.devices(args.application)
        if args.json:
            print(msgspec.json.format(number_encoder.encode(devices), indent=2).decode())
        else:
            for device in devices:
                print(_device_line(device))
                for inverter in device.Inverters:
                    print(_inverter_line(inverter))
        return 0

    return asyncio.run(with_api(config, account, show))


def _device_line(device: DeviceWithInverters) -> str:
    return (
        f"device {device.Id}  {device.InstallationName}  grid {device.GridConnectionDate}  "
        f"{len(device.Inverters)} inverter(s)"
    )


def _inverter_line(inverter: RegisteredInverter) -> str:
    brand = inverter.OtherBrandName if inverter.BrandCode == "OT27" else inverter.BrandCode
    start, end = inverter.EffectiveStartDate, inverter.EffectiveEndDate
    period = f"  effective {start or 'grid connection'}..{end or ''}" if start or end else ""
    return (
        f"  inverter {inverter.Id}  {inverter.RemoteInvId}  serial "
        f"{inverter.ElectronicSerialNumber}  brand {brand}  {inverter.InstalledCapacity} kW"
        f"{period}"
    )
