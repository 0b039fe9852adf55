"""`uploader deadline`: the last day an issuance request can still claim a generation day."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from uploader.commands import Subparsers
from uploader.residual_mix import claim_deadline, registry_today

EPILOG = """\
The residual-mix rule (deadlines 31 May and 30 September): generation of January to June of
year Y can be claimed by requests made until 31 May of Y+1, generation of July to December
until 30 September of Y+1. Prints the date (YYYY-MM-DD), then on stderr how far off it is
on the registry's calendar (UTC+08:00).
exit codes: 0 printed; 2 --day missing or not a date.
"""


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "deadline",
        help="the last date an issuance request can include a generation day",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--day", metavar="YYYY-MM-DD", required=True, help="the generation day")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the deadline; exit 2 when --day is not a calendar date."""
    try:
        day = dt.date.fromisoformat(args.day)
    except ValueError:
        print(f"uploader: error: --day: {args.day!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
        return 2
    deadline = claim_deadline(day)
    print(deadline.isoformat())
    print(_distance(deadline, registry_today()), file=sys.stderr)
    return 0


def _distance(deadline: dt.date, today: dt.date) -> str:
    days = (deadline - today).days
    if days < 0:
        return f"closed {-days} day(s) ago: this day can no longer be issued"
    return "closes today" if days == 0 else f"closes in {days} day(s)"
