"""`uploader simulate`: run the REDEX registry simulator until SIGTERM or SIGINT.

The simulator itself (aiohttp and every rule module) is imported only to run it, so
`uploader simulate --help` stays instant.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uploader.commands import Subparsers
from uploader.registry.ratespec import RateSpec
from uploader.simulator.routes import route_lines

if TYPE_CHECKING:
    from uploader.simulator import Credentials, SimOptions

DESCRIPTION = """\
Serve every endpoint of the REDEX public API v2 (Part 1 of the contract) with its rules,
fixed-window rate limits, asynchronous processing and injectable faults. GET /_sim/state
shows what it holds (?summary=1 without the per-day data); SIGTERM or SIGINT writes that
JSON to --state-file and exits 0. The /_sim/* routes below (plain JSON, no auth) let a
test make the registry lose or change stored days and decide REC applications.

Auth: with neither --token nor --credentials, any non-empty bearer token is accepted and is
itself the account id (handy for demos). Requests carry `Authorization: Bearer <token>`;
--bare-token also takes the token alone, as the oldest pages' `{{token}}` may be read.
"""

RULES = """\
rules it enforces, as the registry's pages describe them:
  auth        every /public/v2 call needs `Authorization: Bearer TOKEN` (or the bare token).
              --token ACCOUNT=TOKEN makes TOKEN act for ACCOUNT; --credentials adds the api-key
              grant (POST /public/v2/connect/token); with neither, any non-empty token is
              accepted and is itself the account id. Unknown or expired token: 401; an account
              named by --forbid: 403.
  limits      fixed windows whose phase clients cannot see: --ip-limit per client IP counts
              every request, --account-limit per business account counts successes (every
              request with --account-counts any). Past either: 429 with Retry-After (seconds);
              a 429 uses no slot.
  bodies      at most 3000 daily records per request, all devices counted, and no
              (RemoteInvId, Timestamp) twice in one body: else 400. Values >= 0 with at most
              3 decimal places (4 on the legacy endpoint), a day neither in the future nor
              outside the inverter's effective period, production <= capacity x 24 h: else 422.
  inverters   an account knows only the inverters it registered (register-grouped, POST
              /public/v2/device-applications/i-rec/grouped); data of any other RemoteInvId
              is refused with 422, unless --open-inverters.
  processing  an accepted batch gets a ProcessId, New then Processing then Success after
              --process-delay-s (or Failed: --process-fail-rate); GET
              /public/v2/generation-datas/statuses?ProcessId= reports it.
"""


def _pair(text: str) -> tuple[str, str]:
    account, sep, value = text.partition("=")
    if not sep or not account or not value:
        raise argparse.ArgumentTypeError(f"{text!r}: expected ACCOUNT=VALUE")
    return account, value


def _credentials(text: str) -> tuple[str, Credentials]:
    from uploader.simulator import Credentials

    account, value = _pair(text)
    parts = value.split(":")
    if len(parts) != 3 or not all(parts):
        raise argparse.ArgumentTypeError("expected ACCOUNT=APIKEY:CLIENTID:CLIENTSECRET")
    return account, Credentials(*parts)


def _rate(text: str) -> RateSpec:
    try:
        return RateSpec.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability in [0, 1]")
    return value


def _span_ms(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        span = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected MIN-MAX milliseconds") from None
    if not 0 <= span[0] <= span[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 0 <= MIN <= MAX")
    return span


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "simulate",
        help="run the REDEX registry simulator",
        description=DESCRIPTION,
        epilog=RULES + "\nroutes:\n" + "\n".join(f"  {line}" for line in route_lines()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _server_flags(parser)
    _auth_flags(parser)
    _limit_flags(parser)
    _rule_flags(parser)
    _fault_flags(parser)
    parser.set_defaults(handler=run)


def _server_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server")
    group.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    group.add_argument("--port", type=int, default=8080, help="port; 0 binds a free one")
    group.add_argument("--port-file", metavar="PATH", help="write the bound port here")
    group.add_argument("--state-file", metavar="PATH", help="write the state JSON here on exit")
    group.add_argument(
        "--seed", type=int, metavar="N", help="seed the randomness (faults, phases, ids)"
    )
    group.add_argument(
        "--keep-bodies", type=int, default=64, metavar="N", help="accepted bodies kept per account"
    )


def _auth_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("auth")
    group.add_argument(
        "--token", type=_pair, action="append", default=[], metavar="ACCOUNT=TOKEN",
        help="a static bearer token of an account (repeatable)",
    )  # fmt: skip
    group.add_argument(
        "--credentials", type=_credentials, action="append", default=[],
        metavar="ACCOUNT=APIKEY:CLIENTID:CLIENTSECRET",
        help="credentials of the api-key grant (repeatable)",
    )  # fmt: skip
    group.add_argument(
        "--token-ttl-s",
        type=float,
        default=3600.0,
        metavar="S",
        help="access token lifetime (3600)",
    )
    group.add_argument(
        "--bare-token", action="store_true",
        help="also accept `Authorization: <token>` without the Bearer scheme",
    )  # fmt: skip
    group.add_argument(
        "--forbid", action="append", default=[], metavar="ACCOUNT",
        help="answer this account's requests with 403 (repeatable)",
    )  # fmt: skip


def _limit_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("rate limits (fixed windows)")
    group.add_argument(
        "--account-limit", type=_rate, default="50/60s", metavar="N/Ws",
        help="requests per window per business account (default 50/60s)",
    )  # fmt: skip
    group.add_argument(
        "--account-counts", choices=("success", "any"), default="success",
        help="what the account policy counts (default success, as the seed says)",
    )  # fmt: skip
    group.add_argument(
        "--account-scope", choices=("shared", "endpoint"), default="shared",
        help="one window for all the account's endpoints, or one per endpoint",
    )  # fmt: skip
    group.add_argument(
        "--ip-limit", type=_rate, default="3000/300s", metavar="N/Ws",
        help="requests per window per client IP, every request counted (default 3000/300s)",
    )  # fmt: skip
    group.add_argument(
        "--window-phase-s", type=float, metavar="S",
        help="fix the windows' phase (default: random, unseen by clients)",
    )  # fmt: skip


def _rule_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("rules and processing")
    group.add_argument(
        "--open-inverters", action="store_true", help="accept any RemoteInvId (demo, benchmarks)"
    )
    group.add_argument(
        "--countries",
        default="SG,CN,VN,MY,ID",
        metavar="CC,CC",
        help="registration's country list (default SG,CN,VN,MY,ID; a later page adds BR,MX)",
    )
    group.add_argument(
        "--process-delay-s",
        type=float,
        default=0.0,
        metavar="S",
        help="time from New (then Processing) to Success; 0: Success at once",
    )
    group.add_argument(
        "--process-fail-rate", type=_probability, default=0.0, metavar="P",
        help="share of processes that end Failed (their data is dropped)",
    )  # fmt: skip
    group.add_argument(
        "--approval-delay-s", type=float, default=0.0, metavar="S",
        help="time from registration (InProgress) to Approved; 0: Approved at once",
    )  # fmt: skip


def _fault_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("faults (never on /_sim/*)")
    group.add_argument("--latency-ms", type=_span_ms, metavar="MIN-MAX", help="extra latency")
    group.add_argument("--fail-rate", type=_probability, default=0.0, metavar="P", help="503s")
    group.add_argument(
        "--reset-rate", type=_probability, default=0.0, metavar="P", help="connection resets"
    )
    group.add_argument(
        "--timeout-rate", type=_probability, default=0.0, metavar="P",
        help="answers that stall --stall-s seconds",
    )  # fmt: skip
    group.add_argument(
        "--stall-s", type=float, default=120.0, metavar="S", help="stall length (120)"
    )


def options_from(args: argparse.Namespace) -> SimOptions:
    """The simulator's options from the parsed flags."""
    from uploader.simulator import SimOptions

    return SimOptions(
        tokens=dict(args.token),
        credentials=dict(args.credentials),
        token_ttl_s=args.token_ttl_s,
        bare_token=args.bare_token,
        account_limit=_as_rate(args.account_limit),
        account_counts=args.account_counts,
        account_scope=args.account_scope,
        ip_limit=_as_rate(args.ip_limit),
        window_phase_s=args.window_phase_s,
        open_inverters=args.open_inverters,
        forbid=frozenset(args.forbid),
        latency_ms=args.latency_ms or (0.0, 0.0),
        fail_rate=args.fail_rate,
        reset_rate=args.reset_rate,
        timeout_rate=args.timeout_rate,
        stall_s=args.stall_s,
        process_delay_s=args.process_delay_s,
        process_fail_rate=args.process_fail_rate,
        approval_delay_s=args.approval_delay_s,
        seed=args.seed,
        keep_bodies=args.keep_bodies,
        countries=frozenset(c.strip().upper() for c in args.countries.split(",") if c.strip()),
    )


def _as_rate(value: RateSpec | str) -> RateSpec:
    return value if isinstance(value, RateSpec) else RateSpec.parse(value)


def write_atomically(path: str, data: bytes) -> None:
    """Write a file so that readers see either nothing or all of it."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, target)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT; then write --state-file and exit 0."""
    return asyncio.run(_serve(options_from(args), args))


async def _serve(options: SimOptions, args: argparse.Namespace) -> int:
    from uploader.simulator import FakeRegistry

    sim = FakeRegistry(options)
    await sim.start(args.host, args.port)
    if args.port_file:
        await asyncio.to_thread(write_atomically, args.port_file, f"{sim.port}\n".encode())
    print(f"simulator listening on {sim.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    if args.state_file:
        state: dict[str, Any] = sim.state()
        await asyncio.to_thread(_dump, args.state_file, state)
    await sim.stop()
    print("simulator stopped", file=sys.stderr, flush=True)
    return 0


def _dump(path: str, state: dict[str, Any]) -> None:
    from uploader.registry.wire.codec import string_encoder

    write_atomically(path, string_encoder.encode(state))
