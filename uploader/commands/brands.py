"""`uploader brands`: the registry's inverter brands (the codes registration accepts)."""

from __future__ import annotations

import argparse
import asyncio
import sys

import msgspec

from uploader.commands import Subparsers, settings
from uploader.registration.runner import pick_account, with_api
from uploader.registry.applications import RegistrationApi


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "brands",
        help="list the registry's inverter brands",
        description="List the registry's inverter brands, every page of them. A brand not "
        "listed registers as OT27 with its name in OtherBrandName.",
    )
    parser.add_argument("--code", metavar="C", help="only the brand with this code")
    parser.add_argument("--json", action="store_true", help="a JSON array of {Code, Name}")
    parser.add_argument("--account", metavar="ID", help="whose token to use (default: the first)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the brands, one `CODE  Name` line each (or JSON); exit 1 if none matched --code
    or the registry refuses."""
    config = settings(args)
    account = pick_account(config, args.account)

    async def show(api: RegistrationApi) -> int:
        brands = await api.brands(args.code)
        if not brands:
            named = f"has the code {args.code!r}" if args.code else "is listed by the registry"
            print(f"uploader: no brand {named}", file=sys.stderr)
            return 1
        if args.json:
            print(msgspec.json.format(msgspec.json.encode(brands), indent=2).decode())
        else:
            for brand in brands:
                print(f"{brand.Code:<8} {brand.Name}")
        return 0

    return asyncio.run(with_api(config, account, show))
