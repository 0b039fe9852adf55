"""`uploader demo`: the simulator, a generated fleet and the upload, in one command."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from dataclasses import replace
from pathlib import Path

from uploader.commands import Subparsers
from uploader.observe import logs


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "demo",
        help="run a local registry simulator, generate a fleet, and upload it (about a minute)",
        description=(
            "Start the registry simulator on a free port with the seed's per-account rate on "
            "shorter windows, generate a realistic fleet (3 accounts x 1,000 inverters x 60 "
            "days), queue it, and upload it with a live progress view, a few injected faults "
            "and two deliberately impossible records, then print a summary."
        ),
    )
    parser.add_argument("--quick", action="store_true", help="a smaller fleet (for CI)")
    parser.add_argument("--inverters", type=int, help="inverters per account (default 1000)")
    parser.add_argument("--days", type=int, help="days per inverter (default 60)")
    parser.add_argument(
        "--workdir", type=Path, help="where the queue and config go (default: a new temp dir)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; 0 when every good record arrived exactly and the two bad ones were refused."""
    from uploader.demo.run import DemoPlan, run_demo  # the simulator loads only for the demo

    logs.configure("console", "error")
    plan = DemoPlan.quick() if args.quick else DemoPlan()
    if args.inverters:
        plan = replace(plan, inverters=args.inverters)
    if args.days:
        plan = replace(plan, days=args.days)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="uploader-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(run_demo(plan, workdir))
