"""`uploader run`: the long-lived push service (`--drain` to stop once everything went)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import structlog

from uploader.commands import Subparsers, settings
from uploader.config import Settings
from uploader.errors import ConfigError, QueueError
from uploader.http import HttpServer, Service, build_app
from uploader.observe import logs
from uploader.observe.metrics import Metrics
from uploader.observe.summary import drain_summary
from uploader.push.service import Uploader
from uploader.queue import AccountCounts, open_queue
from uploader.registry.client import RegistryClient

log = structlog.get_logger("uploader.run")


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "run",
        help="push queued records to the registry until stopped (SIGTERM/SIGINT)",
        description=(
            "Push queued records to the registry at the rate its limits allow. Stops taking new "
            "batches on SIGTERM or SIGINT, lets in-flight requests finish within "
            "worker.shutdown_timeout_s, returns the rest to the queue and exits 0. One run serves "
            "an SQLite queue file at a time (a second exits 2); it returns the records a killed "
            "run had claimed to pending as it starts. Replicas on one Redis queue share its "
            "accounts: each serves a fair share, and takes over those of a replica that leaves "
            "or dies."
        ),
    )
    parser.add_argument(
        "--drain",
        action="store_true",
        help="exit once nothing of the configured accounts is pending, leased or delayed (whoever "
        "serves them), with a summary on stderr: 0, or 1 "
        "if any record was dead-lettered (refused, or its processing Failed twice) or an account "
        "was paused",
    )
    parser.add_argument(
        "--confirm",
        action="store_true",
        help="with --drain: also wait until the registry reports every batch's processing final "
        "(Success, or Failed and sent again)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the uploader until it is stopped or, with --drain, until the queue is empty."""
    config = settings(args)
    if not config.accounts:
        raise ConfigError(
            "accounts: no account is configured; add an [[accounts]] table with id and token_env "
            "(see `uploader config init`)"
        )
    logs.configure(config.log.format, config.log.level)
    return asyncio.run(serve(config, drain=args.drain, confirm=args.confirm))


async def serve(config: Settings, *, drain: bool, confirm: bool = False) -> int:
    """Open the queue and the client, run the uploader, close everything.

    The HTTP surface (`[server] listen`) runs beside the uploader and stops last, so `/readyz`
    answers 503 while in-flight batches finish. The leases say which accounts this process
    serves, and follow the fleet while it runs.
    """
    async with (
        open_queue(config.queue) as queue,
        RegistryClient.from_settings(config) as client,
        queue.account_leases(sorted(config.account_ids)) as leases,
    ):
        metrics = Metrics(config.account_ids)
        client.response_hooks.append(metrics.observe_request)
        uploader = Uploader(config, queue, client, hooks=(metrics.observe,), leases=leases)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, uploader.stop)
        service = Service.create(config, uploader, metrics)
        async with HttpServer(build_app(service), config.server) as server:
            log.info("serving", url=server.url, ingest=service.ingest_token is not None)
            code = await uploader.run(drain=drain, confirm=confirm)
        if drain:
            print(await _summary(uploader), file=sys.stderr)
        return code


async def _summary(uploader: Uploader) -> str:
    """What the drain did, and what it left, for the person who ran it."""
    left: dict[str, AccountCounts] | None
    try:
        counts = await uploader.queue.counts()
    except QueueError:
        left = None
    else:
        left = {a: counts.accounts.get(a) or AccountCounts() for a in uploader.workers}
    paused = {a: w.paused for a, w in uploader.workers.items()}
    return drain_summary(uploader.stats, left, paused)
