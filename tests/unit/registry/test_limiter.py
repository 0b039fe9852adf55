"""KeyedLimiter on a loop clock that only the test moves (the aiolimiter way).

Times are multiples of 1/64 s and windows whole seconds, so every sum is exact in binary
floating point and "exactly W after the response" can be asserted with `==`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.registry.loopclock import (
    START,
    TICK,
    Clock,
    cancel_all,
    make_limiter,
    settle,
    start,
)
from uploader.registry.limiter import Key, KeyedLimiter, Policy
from uploader.registry.ratespec import RateSpec

ACME: Key = ("account", "acme")
BETA: Key = ("account", "beta")
IP: Key = ("ip", "default")


async def test_up_to_n_requests_start_at_once(clock: Clock) -> None:
    """N requests take their slots immediately and the N+1st waits."""
    limiter = make_limiter("2/1s")
    requests = [await start(limiter, ACME, IP) for _ in range(3)]
    assert [r.started for r in requests] == [START, START, None]
    assert limiter.remaining(ACME) == 0
    assert limiter.waiting(ACME) == 1
    await cancel_all(requests)


async def test_waiter_wakes_exactly_one_window_after_the_response(clock: Clock) -> None:
    """A freed slot goes to the waiter at response end + W: not a tick earlier, not later."""
    limiter = make_limiter("1/1s")
    first = await start(limiter, ACME, IP)
    second = await start(limiter, ACME, IP)
    await clock.to(START + 0.25)
    await first.end()
    await clock.to(START + 1.25 - TICK)
    assert second.started is None
    await clock.to(START + 1.25)
    assert second.started == START + 1.25
    await cancel_all([second])


async def test_in_flight_slot_does_not_count_down(clock: Clock) -> None:
    """A slot held for five windows frees W after its response, not W after its start."""
    limiter = make_limiter("1/1s")
    slow = await start(limiter, ACME)
    waiter = await start(limiter, ACME)
    await clock.by(5.0)
    assert waiter.started is None
    await slow.end()
    await clock.by(1.0 - TICK)
    assert waiter.started is None
    await clock.by(TICK)
    assert waiter.started == START + 6.0
    await cancel_all([waiter])


async def test_a_failed_request_still_uses_its_slot(clock: Clock) -> None:
    """Leaving the block by an exception starts the countdown like a response does."""
    limiter = make_limiter("1/1s")
    failing = await start(limiter, ACME, fail=True)
    waiter = await start(limiter, ACME)
    await failing.end()
    assert isinstance(failing.task.exception(), ConnectionResetError)
    await clock.by(1.0 - TICK)
    assert waiter.started is None
    await clock.by(TICK)
    assert waiter.started == START + 1.0
    await cancel_all([waiter])


async def test_waiters_are_served_first_come_first_served(clock: Clock) -> None:
    """Waiters on one key get slots in the order they asked."""
    limiter = make_limiter("1/1s")
    order: list[int] = []

    async def request(n: int) -> None:
        async with limiter.slot(ACME):
            order.append(n)

    tasks = []
    for n in range(6):
        tasks.append(asyncio.create_task(request(n)))
        await settle(2)
    for _ in range(6):
        await clock.by(1.0)
    await asyncio.gather(*tasks)
    assert order == list(range(6))


async def test_a_blocked_account_does_not_delay_another(clock: Clock) -> None:
    """Accounts share only the IP key: a full account queues while another proceeds."""
    limiter = make_limiter("1/1s", "10/1s")
    held = await start(limiter, ACME, IP)
    queued = await start(limiter, ACME, IP)
    other = await start(limiter, BETA, IP)
    assert queued.started is None
    assert other.started == START
    # The queued request waits at its account and holds no IP slot meanwhile.
    assert limiter.remaining(IP) == 8
    await cancel_all([held, queued, other])


async def test_the_ip_budget_goes_first_come_first_served_across_accounts(clock: Clock) -> None:
    """When the shared IP key is full, accounts get it in the order their requests came."""
    limiter = make_limiter("5/1s", "1/1s")
    first = await start(limiter, ACME, IP)
    queued = [await start(limiter, key, IP) for key in (BETA, ACME, BETA)]
    await first.end()
    starts = []
    for _ in queued:
        await clock.by(1.0)
        starts.append([r.started is not None for r in queued])
        await next(r for r in queued if r.started is not None and not r.finish.is_set()).end()
    assert starts == [[True, False, False], [True, True, False], [True, True, True]]
    await cancel_all(queued)


async def test_success_mode_refund_frees_the_slot_at_once(clock: Clock) -> None:
    """With account_counts="success", a refused request hands its account slot on now."""
    limiter = make_limiter("1/1s", "10/1s", counts="success")
    refused = await start(limiter, ACME, IP, refund=True)
    waiter = await start(limiter, ACME, IP)
    await refused.end()
    assert waiter.started == START
    # The IP policy counts any request: the refused one still cools there.
    assert limiter.remaining(IP) == 8
    await cancel_all([waiter])


async def test_any_mode_refund_keeps_the_slot(clock: Clock) -> None:
    """With account_counts="any", a refund changes nothing: the slot cools for W."""
    limiter = make_limiter("1/1s", counts="any")
    refused = await start(limiter, ACME, refund=True)
    waiter = await start(limiter, ACME)
    await refused.end()
    await clock.by(1.0 - TICK)
    assert waiter.started is None
    await clock.by(TICK)
    assert waiter.started == START + 1.0
    await cancel_all([waiter])


async def test_block_until_is_a_floor_for_the_whole_key(clock: Clock) -> None:
    """After block_until nobody acquires the key before that time, free slots or not."""
    limiter = make_limiter("5/1s")
    limiter.block_until(ACME, START + 3.0)
    limiter.block_until(ACME, START + 1.0)  # never shortens
    requests = [await start(limiter, ACME) for _ in range(2)]
    other = await start(limiter, BETA)
    assert limiter.remaining(ACME) == 0
    await clock.to(START + 3.0 - TICK)
    assert [r.started for r in requests] == [None, None]
    await clock.to(START + 3.0)
    assert [r.started for r in requests] == [START + 3.0, START + 3.0]
    assert other.started == START
    await cancel_all([*requests, other])


async def test_a_floor_set_while_waiting_for_the_ip_still_holds(clock: Clock) -> None:
    """A request holding its account slot while queued for the IP still obeys a new floor."""
    limiter = make_limiter("5/1s", "1/1s")
    ip_holder = await start(limiter, BETA, IP)
    queued = await start(limiter, ACME, IP)
    limiter.block_until(ACME, START + 4.0)  # a 429 with Retry-After: 4 for the account
    await ip_holder.end()
    await clock.to(START + 1.0)  # the IP slot frees, the account floor does not
    assert queued.started is None
    assert limiter.remaining(IP) == 1  # handed back unused while it waits
    await clock.to(START + 4.0)
    assert queued.started == START + 4.0
    await cancel_all([queued])


async def test_a_request_sent_back_by_a_floor_keeps_its_place(clock: Clock) -> None:
    """A request that had its account slot before a floor was set goes first after it."""
    limiter = make_limiter("1/1s", "1/1s")
    ip_holder = await start(limiter, BETA, IP)
    early = await start(limiter, ACME, IP)  # holds ACME's only slot, queued for the IP
    late = await start(limiter, ACME, IP)  # queued for ACME
    limiter.block_until(ACME, START + 4.0)
    await ip_holder.end()
    await clock.to(START + 1.0)  # `early` gets the IP, meets the floor and queues again
    await clock.to(START + 4.0)
    assert (early.started, late.started) == (START + 4.0, None)
    await cancel_all([early, late])


async def test_cancelling_a_waiter_leaks_nothing(clock: Clock) -> None:
    """A waiter cancelled in line leaves it, and the next waiter still gets the slot."""
    limiter = make_limiter("1/1s", "1/1s")
    holder = await start(limiter, ACME, IP)
    doomed = await start(limiter, BETA, IP)  # holds BETA's slot while queued for the IP
    patient = await start(limiter, ACME, IP)
    doomed.task.cancel()
    await settle()
    assert limiter.waiting(IP) == 0
    assert limiter.remaining(BETA) == 1
    await holder.end()
    await clock.by(1.0)
    assert patient.started == START + 1.0
    await cancel_all([patient, doomed])


async def test_cancelling_a_waiter_just_handed_a_slot_gives_it_back(clock: Clock) -> None:
    """A waiter cancelled after it was handed a slot, before it ran, passes the slot on."""
    limiter = make_limiter("1/1s", counts="success")
    holder = await start(limiter, ACME, refund=True)
    handed = await start(limiter, ACME)
    third = await start(limiter, ACME)
    holder.finish.set()
    await settle(1)  # the holder refunds, which hands the slot to `handed` synchronously
    handed.task.cancel()
    await settle()
    assert handed.started is None
    assert third.started == START
    await cancel_all([handed, third])


async def test_a_waiter_cancelled_as_its_key_empties_ends_cleanly(clock: Clock) -> None:
    """A cancelled waiter whose key was forgotten before its handler ran just leaves."""
    limiter = make_limiter("1/1s", counts="success")
    holder = await start(limiter, ACME, refund=True)
    waiter = await start(limiter, ACME)
    holder.finish.set()  # the holder runs first: it refunds and the key empties
    waiter.task.cancel()
    await settle()
    assert waiter.task.cancelled()
    assert limiter.key_count == 0
    assert limiter.remaining(ACME) == 1


async def test_cancelled_requests_leave_no_held_slots(clock: Clock) -> None:
    """Cancelling every waiter and holder empties the limiter once the windows pass."""
    limiter = make_limiter("2/1s", "3/1s")
    requests = [await start(limiter, key, IP) for key in (ACME, BETA) * 4]
    await cancel_all(requests)
    await clock.by(1.0)
    assert limiter.key_count == 0
    assert repr(limiter) == "<KeyedLimiter keys=0 waiting=0>"


async def test_idle_keys_are_forgotten(clock: Clock) -> None:
    """Thousands of accounts leave no state behind once their windows have passed."""
    limiter = make_limiter("2/1s", "5000/1s")
    for n in range(2000):
        async with limiter.slot(("account", f"a{n}"), IP):
            pass
    assert limiter.key_count == 2001
    await clock.by(1.0)
    assert limiter.key_count == 0


async def test_waiting_sets_no_timers_while_time_passes(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiter costs one timer at the moment a slot frees; moving the clock polls nothing."""
    loop = asyncio.get_running_loop()
    scheduled: list[float] = []
    call_at: Callable[..., asyncio.TimerHandle] = loop.call_at

    def counting_call_at(when: float, *args: Any, **kw: Any) -> asyncio.TimerHandle:
        scheduled.append(when)
        return call_at(when, *args, **kw)

    monkeypatch.setattr(loop, "call_at", counting_call_at)
    limiter = make_limiter("1/1s")
    holder = await start(limiter, ACME)
    waiters = [await start(limiter, ACME) for _ in range(50)]
    await holder.end()
    for _ in range(127):
        await clock.by(TICK / 2)
    assert scheduled == [START + 1.0]
    assert waiters[0].started is None
    await clock.by(TICK / 2)
    assert waiters[0].started == START + 1.0
    await cancel_all(waiters)


async def test_keys_are_acquired_account_first() -> None:
    """A request's keys are taken in a fixed order: account, other kinds, then the IP."""
    limiter = KeyedLimiter(
        {kind: Policy(RateSpec(1, 1.0)) for kind in ("ip", "account", "endpoint")}
    )
    slot = limiter.slot(IP, ("endpoint", "batch"), ACME, IP)
    assert slot.keys == (ACME, ("endpoint", "batch"), IP)


async def test_a_key_without_a_policy_is_refused() -> None:
    """Asking for a kind no policy covers is a programming error, reported at once."""
    with pytest.raises(ValueError, match="tenant"):
        make_limiter().slot(("tenant", "x"))


async def test_repr_shows_keys_and_waiters(clock: Clock) -> None:
    """The repr counts remembered keys and queued requests."""
    limiter = make_limiter("1/1s")
    requests = [await start(limiter, ACME, IP) for _ in range(3)]
    assert repr(limiter) == "<KeyedLimiter keys=2 waiting=2>"
    await cancel_all(requests)


# -- the invariant, over random schedules ------------------------------------------------

POLICIES = {"account": (4, 1.0), "ip": (6, 1.0)}


class Trace:
    """What one simulated request did: its keys, when it got its slots and when it ended."""

    def __init__(self, keys: tuple[Key, ...]) -> None:
        self.keys = keys
        self.start: float | None = None
        self.end: float | None = None


async def traced(limiter: KeyedLimiter, trace: Trace, arrive: float, duration: float) -> None:
    """Arrive, take the slots, be in flight for `duration` (virtual time), end."""
    await asyncio.sleep(arrive)
    async with limiter.slot(*trace.keys):
        trace.start = asyncio.get_running_loop().time()
        try:
            await asyncio.sleep(duration)
        finally:  # cancelled in flight: the slot cools from now, like after a response
            trace.end = asyncio.get_running_loop().time()


def busy_at(traces: list[Trace], key: Key, moment: float, window: float) -> int:
    """Slots of `key` held, or freed less than a window ago, at `moment`."""
    return sum(
        1
        for t in traces
        if key in t.keys
        and t.start is not None
        and t.start <= moment
        and (t.end is None or moment < t.end + window)
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_never_more_than_n_slots_in_any_window(clock: Clock, seed: int) -> None:
    """Under random arrivals, latencies and cancellations, no key has N+1 slots busy or cooling.

    Afterwards every key is forgotten: no cancelled request leaked a slot or a waiter.
    """
    rng = random.Random(seed)
    print(f"seed={seed}")
    limiter = KeyedLimiter({k: Policy(RateSpec(n, w)) for k, (n, w) in POLICIES.items()})
    accounts: list[Key] = [("account", f"a{n}") for n in range(3)]
    traces = [Trace((rng.choice(accounts), IP)) for _ in range(150)]
    tasks = [
        asyncio.create_task(
            traced(limiter, t, rng.randrange(0, 640) * TICK, rng.randrange(1, 40) * TICK)
        )
        for t in traces
    ]
    cancel_at = {rng.randrange(0, 1600): task for task in rng.sample(tasks, 20)}
    tick = 0
    while not all(task.done() for task in tasks):
        if tick in cancel_at:
            cancel_at[tick].cancel()
        tick += 1
        await clock.by(TICK)
    assert sum(t.start is None for t in traces) > 0  # some were cancelled while waiting
    for trace in traces:
        if trace.start is None:
            continue
        for key in trace.keys:
            limit, window = POLICIES[key[0]]
            assert busy_at(traces, key, trace.start, window) <= limit
    await clock.by(1.0)
    assert limiter.key_count == 0


@pytest.mark.parametrize("seed", [5, 6])
async def test_any_fixed_window_sees_at_most_n_arrivals(clock: Clock, seed: int) -> None:
    """Whatever the server's window phase and wherever a request lands in flight, <= N."""
    rng = random.Random(seed)
    print(f"seed={seed}")
    limiter = make_limiter("3/1s", "100/1s")
    traces = [Trace((ACME,)) for _ in range(60)]
    tasks = [
        asyncio.create_task(
            traced(limiter, t, rng.randrange(0, 128) * TICK, rng.randrange(1, 30) * TICK)
        )
        for t in traces
    ]
    while not all(task.done() for task in tasks):
        await clock.by(TICK)
    for _ in range(200):
        phase = rng.random()
        windows: dict[int, int] = {}
        for t in traces:
            assert t.start is not None
            assert t.end is not None
            arrival = rng.uniform(t.start, t.end)
            index = int((arrival - phase) // 1.0)
            windows[index] = windows.get(index, 0) + 1
        assert max(windows.values()) <= 3
