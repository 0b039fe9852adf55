"""One module per `uploader` subcommand; see `uploader.cli`."""

from __future__ import annotations

import argparse
import datetime as dt
import re
from typing import TypeAlias

from uploader import config

# The type argparse hands to add_parser (a string: the class is not subscriptable at run time).
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def settings(args: argparse.Namespace) -> config.Settings:
    """The configuration named by the global `--config` option, env overrides applied."""
    return config.load(getattr(args, "config", None))


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def day(text: str) -> dt.date:
    """An argparse type: a calendar day written YYYY-MM-DD (argparse names the flag)."""
    try:
        if _DAY.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)")
