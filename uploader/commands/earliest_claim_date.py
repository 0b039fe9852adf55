"""`uploader earliest-claim-date`: the residual-mix rule for a request made on a given day."""

from __future__ import annotations

import argparse
import datetime as dt

from uploader.commands import Subparsers, day_option
from uploader.residual_mix import earliest_claim_date


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "earliest-claim-date",
        help="the earliest generation day a request made on a date may claim",
        description=(
            "Print the earliest claimable generation date of the registry's residual-mix rule "
            "(deadlines 31 May and 30 September) for an issuance request made on --on."
        ),
    )
    parser.add_argument("--on", metavar="YYYY-MM-DD", help="the request date (default: today)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the date; exit 2 when --on is not a calendar date written YYYY-MM-DD."""
    on = day_option("--on", args.on) if args.on is not None else dt.date.today()
    print(earliest_claim_date(on).isoformat())
    return 0
