"""`uploader register-grouped`: check a grouped-device payload, upload its ODFs, submit it.

Every documented rule is checked locally first; when any fails, each violation is printed
as `Field.Path: message` and nothing is sent. Then the brand codes are checked against the
registry's list, each ODF named by path is uploaded, and the application is submitted.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from uploader.commands import Subparsers, settings
from uploader.config import Settings
from uploader.errors import Rejected
from uploader.registration import ValidationContext, validate
from uploader.registration.fields import as_decimal
from uploader.registration.odf import Prepared, odf_problem, prepare
from uploader.registration.payload import read
from uploader.registration.runner import pick_account, print_problems, with_api
from uploader.registration.schema import json_schema, unknown_fields
from uploader.registration.template import TEMPLATE
from uploader.registry.applications import RegistrationApi
from uploader.registry.wire import GroupedDeviceApplication
from uploader.registry.wire.codec import number_encoder

EPILOG = """\
payload: JSON; any object may carry a "//" key as a comment (dropped before sending). A
device may name its ODF by path, "DeclarationFormFile": "odf/device-1.pdf" (relative to the
payload file; a PDF of at most 5 MB), instead of "DeclarationFormFileId".
exit codes: 0 registered (the application Id is printed) or valid (--dry-run); 1 invalid,
or refused by the registry (every problem printed as Field.Path: message); 2 usage errors.
"""


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "register-grouped",
        help="register inverters as a grouped device (I-REC)",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("payload", nargs="?", metavar="PAYLOAD.json", help="the application")
    parser.add_argument("--account", metavar="ID", help="the business account to register for")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check only, send nothing (with --account, brand codes are checked against the "
        "registry's list: a read-only request)",
    )
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--template", action="store_true", help="print a commented example")
    shown.add_argument("--schema", action="store_true", help="print the payload's JSON Schema")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the template or schema, or check (and unless --dry-run submit) a payload."""
    if args.template:
        sys.stdout.write(TEMPLATE)
        return 0
    if args.schema:
        print(json.dumps(json_schema(), indent=2))
        return 0
    if args.payload is None:
        return _usage("PAYLOAD.json is required (or --template, --schema)")
    if args.account is None and not args.dry_run:
        return _usage("--account is required to submit (or --dry-run to check only)")
    return _check_and_submit(args, settings(args))


def _usage(message: str) -> int:
    print(f"uploader register-grouped: error: {message}", file=sys.stderr)
    return 2


def _check_and_submit(args: argparse.Namespace, config: Settings) -> int:
    """Local checks first: nothing is sent unless every rule holds."""
    account = pick_account(config, args.account) if args.account else None
    path = Path(args.payload)
    payload = read(path)
    for warning in unknown_fields(payload):
        print(f"warning: {warning}", file=sys.stderr)
    prepared, problems = prepare(payload, path.parent)
    countries = frozenset(config.registration.countries)
    ctx = ValidationContext(today=dt.date.today(), countries=countries)
    violations = [*problems, *validate(prepared.payload, ctx)]
    if violations:
        print_problems(map(str, violations), f"{len(violations)} problem(s); nothing was sent")
        return 1
    if account is None:
        print(f"valid: {_summary(prepared.payload)} (brand codes not checked; nothing sent)")
        return 0
    submit = _Submission(prepared, ctx, args.dry_run)
    return asyncio.run(with_api(config, account, submit.run))


@dataclasses.dataclass(frozen=True)
class _Submission:
    prepared: Prepared
    ctx: ValidationContext
    dry_run: bool

    async def run(self, api: RegistrationApi) -> int:
        """Check brand codes, upload the ODFs, submit; print the application Id."""
        ctx = dataclasses.replace(self.ctx, brands=await api.brand_codes())
        violations = validate(self.prepared.payload, ctx)
        if violations:
            print_problems(map(str, violations), f"{len(violations)} problem(s); nothing sent")
            return 1
        if self.dry_run:
            print(f"valid: {_summary(self.prepared.payload)} (dry run: nothing sent)")
            return 0
        ids = {path: await _upload(api, path) for path in self.prepared.odfs}
        application = msgspec.convert(
            self.prepared.with_file_ids(ids), GroupedDeviceApplication, strict=False
        )
        # The registration page writes its numbers as JSON numbers; so do we.
        print(await api.register(number_encoder.encode(application)))
        return 0


async def _upload(api: RegistrationApi, path: Path) -> str:
    data = await asyncio.to_thread(path.read_bytes)
    problem = odf_problem(path, data)  # the file may have changed since it was checked
    if problem is not None:
        raise Rejected([f"{path}: {problem}"], "an ODF changed after it was checked")
    file_id = await api.upload(path.name, data)
    print(f"uploaded {path}: {file_id}", file=sys.stderr)
    return file_id


def _summary(payload: Any) -> str:
    devices = payload["Devices"]
    inverters = [inverter for device in devices for inverter in device["Inverters"]]
    total = sum(as_decimal(i["InstalledCapacity"]) or 0 for i in inverters)
    return f"{len(devices)} device(s), {len(inverters)} inverter(s), {total} kW"
