"""One module per `uploader` subcommand; see `uploader.cli`."""

from __future__ import annotations

import argparse
import datetime as dt
import re
from typing import TypeAlias

from uploader import config
from uploader.errors import ConfigError

# The type argparse hands to add_parser (a string: the class is not subscriptable at run time).
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

# ASCII digits only: `date.fromisoformat` also takes 20240101, which the help does not promise.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def settings(args: argparse.Namespace) -> config.Settings:
    """The configuration named by the global `--config` option, env overrides applied."""
    return config.load(getattr(args, "config", None))


def calendar_day(text: str) -> dt.date | None:
    """The day `text` names when it is exactly YYYY-MM-DD and a calendar date, else None."""
    if _DAY.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    return None


def day_option(flag: str, text: str) -> dt.date:
    """A date option's value, exactly YYYY-MM-DD and a calendar date; ConfigError otherwise."""
    parsed = calendar_day(text)
    if parsed is None:
        raise ConfigError(f"{flag}: {text!r} is not a date in the form YYYY-MM-DD")
    return parsed


def day(text: str) -> dt.date:
    """An argparse type: a calendar day written YYYY-MM-DD (argparse names the flag)."""
    parsed = calendar_day(text)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)")
    return parsed
