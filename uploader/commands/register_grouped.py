"""`uploader register-grouped`: check a grouped-device payload, upload its ODFs, submit it.

Every documented rule is checked locally first; when any fails, each violation is printed
as `Field.Path: message` and nothing is sent. Then the brand codes are checked against the
registry's list, each ODF named by path is uploaded, and the application is submitted.

Running it again with the same payload (a retry after a timeout) registers nothing new: a
journal keyed by the payload's content remembers each ODF's file id and the application's
Id, and before posting, the account's applications are looked up for one with exactly the
payload's inverters (a POST whose answer was lost may have registered it). --force
registers anew, ODFs uploaded again.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from uploader.commands import Subparsers, settings
from uploader.config import Settings
from uploader.errors import Rejected, TransportError
from uploader.queue import sqlite_path
from uploader.registration import ValidationContext, advice, validate
from uploader.registration.fields import as_decimal
from uploader.registration.journal import Journal, Recorded, Step, content_key
from uploader.registration.odf import Prepared, odf_problem, prepare
from uploader.registration.payload import read, seed_names
from uploader.registration.runner import pick_account, print_problems, with_api
from uploader.registration.schema import json_schema, unknown_fields
from uploader.registration.template import TEMPLATE
from uploader.registry.applications import RegistrationApi
from uploader.registry.wire import GroupedDeviceApplication, value_of
from uploader.registry.wire.codec import number_encoder

EPILOG = """\
payload: JSON; any object may carry a "//" key as a comment (dropped before sending). A
device may name its ODF by path, "DeclarationFormFile": "odf/device-1.pdf" (relative to the
payload file; a PDF of at most 5 MB), instead of "DeclarationFormFileId".
journal: registration.journal, else uploader-registrations.jsonl beside the SQLite queue file
(or in the working directory).
exit codes: 0 registered, now or before (the application Id is printed), or valid
(--dry-run); 1 invalid, refused by the registry (every problem printed as Field.Path:
message), or no answer (run it again: it finds what was registered); 2 usage errors.
"""
JOURNAL_NAME = "uploader-registrations.jsonl"
CLOSED = frozenset({"Rejected", "Withdrawn"})  # applications that no longer hold inverters


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
    parser.add_argument(
        "--force",
        action="store_true",
        help="register anew, even if the journal or the registry has this payload registered",
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
    for warning in [*unknown_fields(payload), *advice(payload)]:
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
    journal = Journal(journal_path(config))
    submit = _Submission(prepared, ctx, args.dry_run, args.force, journal, account)
    return asyncio.run(with_api(config, account, submit.run))


def journal_path(config: Settings) -> Path:
    """`registration.journal`, else beside the SQLite queue file, else the working directory."""
    if config.registration.journal:
        return Path(config.registration.journal)
    if config.queue.startswith("sqlite:"):
        return Path(sqlite_path(config.queue)).parent / JOURNAL_NAME
    return Path(JOURNAL_NAME)


@dataclasses.dataclass(frozen=True)
class _Submission:
    prepared: Prepared
    ctx: ValidationContext
    dry_run: bool
    force: bool
    journal: Journal
    account: str

    async def run(self, api: RegistrationApi) -> int:
        """Check brand codes, then register once: print the application Id."""
        ctx = dataclasses.replace(self.ctx, brands=await api.brand_codes())
        violations = validate(self.prepared.payload, ctx)
        if violations:
            print_problems(map(str, violations), f"{len(violations)} problem(s); nothing sent")
            return 1
        if self.dry_run:
            print(f"valid: {_summary(self.prepared.payload)} (dry run: nothing sent)")
            return 0
        odfs = await asyncio.to_thread(_read_odfs, list(self.prepared.odfs))
        named = self.prepared.odfs.items()
        key = content_key(self.prepared.payload, {i: odfs[p][1] for p, at in named for i in at})
        recorded = Recorded()
        if not self.force:
            recorded = await asyncio.to_thread(self.journal.recorded, key, self.account)
            before = await self._registered_before(api, key, recorded)
            if before is not None:
                print(before)
                return 0
        ids = {path: await self._upload(api, key, path, *odfs[path], recorded) for path in odfs}
        return await self._register(api, key, ids)

    async def _write(self, key: str, step: Step, **fields: str) -> None:
        await asyncio.to_thread(self.journal.write, key, self.account, step, **fields)

    async def _registered_before(
        self, api: RegistrationApi, key: str, recorded: Recorded
    ) -> str | None:
        """The Id of this registration, from the journal or the registry's applications."""
        if recorded.application is not None:
            print(f"already registered (journal {self.journal.path}); --force registers anew",
                  file=sys.stderr)  # fmt: skip
            return recorded.application
        found = await _same_inverters(api, self.prepared.payload)
        if found is not None:
            print(f"the account's application {found} has exactly these inverters: not "
                  "registered again (--force registers anew)", file=sys.stderr)  # fmt: skip
            await self._write(key, "registered", application=found)
        return found

    async def _upload(
        self, api: RegistrationApi, key: str, path: Path, data: bytes, digest: str, had: Recorded
    ) -> str:
        file_id = had.file_ids.get(digest)
        if file_id is not None:
            print(f"{path}: uploaded before as {file_id} (journal)", file=sys.stderr)
            return file_id
        file_id = await api.upload(path.name, data)
        await self._write(key, "uploaded", odf=digest, file_id=file_id)
        print(f"uploaded {path}: {file_id}", file=sys.stderr)
        return file_id

    async def _register(self, api: RegistrationApi, key: str, ids: dict[Path, str]) -> int:
        payload = seed_names(self.prepared.with_file_ids(ids))
        application = msgspec.convert(payload, GroupedDeviceApplication, strict=False)
        await self._write(key, "posting")
        try:
            # The registration page writes its numbers as JSON numbers; so do we.
            registered = await api.register(number_encoder.encode(application))
        except TransportError as exc:
            print(f"uploader: no answer ({exc}): the application may have been registered; run "
                  "the same command again: it looks for it before registering again",
                  file=sys.stderr)  # fmt: skip
            return 1
        await self._write(key, "registered", application=registered)
        print(registered)
        return 0


def _read_odfs(paths: list[Path]) -> dict[Path, tuple[bytes, str]]:
    """Each ODF's bytes and SHA-256, checked again (it may have changed since)."""
    read: dict[Path, tuple[bytes, str]] = {}
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise Rejected([f"{path}: cannot read: {exc.strerror}"], "an ODF is gone") from None
        problem = odf_problem(path, data)
        if problem is not None:
            raise Rejected([f"{path}: {problem}"], "an ODF changed after it was checked")
        read[path] = (data, hashlib.sha256(data).hexdigest())
    return read


async def _same_inverters(api: RegistrationApi, payload: Any) -> str | None:
    """The Id of a live application of the account with exactly the payload's inverters; a
    warning for each that shares only some."""
    mine = {i["RemoteInvId"].casefold() for d in payload["Devices"] for i in d["Inverters"]}
    for listed in await api.device_applications():
        if value_of(listed.Status) in CLOSED:
            continue
        theirs = {i.RemoteInvId.casefold() for i in listed.Inverters}
        if theirs == mine:
            return listed.Id
        if theirs & mine:
            print(f"warning: application {listed.Id} already has {len(theirs & mine)} of these "
                  "inverters", file=sys.stderr)  # fmt: skip
    return None


def _summary(payload: Any) -> str:
    devices = payload["Devices"]
    inverters = [inverter for device in devices for inverter in device["Inverters"]]
    total = sum(as_decimal(i["InstalledCapacity"]) or 0 for i in inverters)
    return f"{len(devices)} device(s), {len(inverters)} inverter(s), {total} kW"
