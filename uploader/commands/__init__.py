"""One module per `uploader` subcommand; see `uploader.cli`."""

from __future__ import annotations

import argparse
from typing import TypeAlias

from uploader import config

# The type argparse hands to add_parser (a string: the class is not subscriptable at run time).
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def settings(args: argparse.Namespace) -> config.Settings:
    """The configuration named by the global `--config` option, env overrides applied."""
    return config.load(getattr(args, "config", None))
