"""Account tasks follow the leases: started when held, cancelled at a lapse, handed off in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from uploader.push.serving import AccountTasks
from uploader.queue.leases import LocalLeases

GRACE_S = 0.2


class Steered(LocalLeases):
    """Leases a test sets by hand; `release` records the order of events."""

    def __init__(self, accounts: list[str], events: list[str]) -> None:
        super().__init__(accounts, holder="test")
        self.holding = set(accounts)
        self.handing: set[str] = set()
        self.events = events

    def held(self) -> frozenset[str]:
        return frozenset(self.holding)

    def handing_off(self) -> frozenset[str]:
        return frozenset(self.handing & self.holding)

    async def release(self, account: str) -> None:
        self.events.append(f"released {account}")
        self.holding.discard(account)
        self.handing.discard(account)

    def set(self, *, held: set[str] | None = None, handing: set[str] | None = None) -> None:
        self.holding = self.holding if held is None else held
        self.handing = self.handing if handing is None else handing
        self.changed.set()


class Fleet:
    """The tasks under test, their leases, and what the served accounts did."""

    def __init__(self, accounts: list[str], *, linger_s: float = 0.0) -> None:
        self.events: list[str] = []
        self.leases = Steered(accounts, self.events)
        self.paused: set[str] = set()
        self.linger_s = linger_s  # how long an account's task takes to leave
        self.tasks = AccountTasks(
            self.leases, self.serve, can_serve=lambda a: a not in self.paused, grace_s=GRACE_S
        )
        self.stopping = asyncio.Event()

    async def serve(self, account: str, leaving: asyncio.Event) -> None:
        self.events.append(f"serving {account}")
        try:
            await leaving.wait()
            await asyncio.sleep(self.linger_s)
            self.events.append(f"left {account}")
        except asyncio.CancelledError:
            self.events.append(f"cancelled {account}")
            raise


@pytest.fixture
async def running() -> AsyncIterator[Fleet]:
    """Two held accounts, their tasks running; stopped at the end."""
    fleet = Fleet(["acme", "bolt"])
    task = asyncio.create_task(fleet.tasks.run(fleet.stopping))
    await settle()
    yield fleet
    fleet.stopping.set()
    await asyncio.wait_for(task, 5)


async def settle(seconds: float = 0.05) -> None:
    """Let the tasks react."""
    await asyncio.sleep(seconds)


async def test_a_task_runs_for_each_held_account(running: Fleet) -> None:
    """Held accounts are served; the repr names them."""
    assert running.tasks.serving() == {"acme", "bolt"}
    assert "serving=['acme', 'bolt']" in repr(running.tasks)


async def test_an_account_whose_lease_lapses_is_cancelled_at_once_and_served_again_later(
    running: Fleet,
) -> None:
    """No grace for a lease that cannot be proven; held again, it starts anew."""
    running.leases.set(held={"bolt"})
    await settle()
    assert "cancelled acme" in running.events
    assert running.tasks.serving() == {"bolt"}
    running.leases.set(held={"acme", "bolt"})
    await settle()
    assert running.events.count("serving acme") == 2


async def test_a_hand_off_lets_the_task_leave_then_releases_the_lease(running: Fleet) -> None:
    """The task is asked to leave; the lease goes back only once it has."""
    running.leases.set(handing={"acme"})
    await settle()
    assert running.events.index("left acme") < running.events.index("released acme")
    assert running.tasks.serving() == {"bolt"}


async def test_a_task_that_does_not_leave_within_the_grace_is_cancelled_before_release() -> None:
    """In-flight work gets the grace, not more."""
    fleet = Fleet(["acme"], linger_s=10)
    task = asyncio.create_task(fleet.tasks.run(fleet.stopping))
    await settle()
    fleet.leases.set(handing={"acme"})
    await settle(GRACE_S + 0.1)
    assert fleet.events == ["serving acme", "cancelled acme", "released acme"]
    fleet.stopping.set()
    await asyncio.wait_for(task, 5)


async def test_a_paused_account_is_not_started_again(running: Fleet) -> None:
    """A task that ended while its account is paused stays ended while the lease is held."""
    running.paused.add("acme")
    running.leases.set(held={"bolt"})
    await settle()
    running.leases.set(held={"acme", "bolt"})
    await settle()
    assert running.events.count("serving acme") == 1


async def test_stopping_asks_every_task_to_leave() -> None:
    """At a stop every served account leaves (the service's grace bounds the wait)."""
    fleet = Fleet(["acme", "bolt"])
    task = asyncio.create_task(fleet.tasks.run(fleet.stopping))
    await settle()
    fleet.stopping.set()
    await asyncio.wait_for(task, 5)
    assert sorted(e for e in fleet.events if e.startswith("left")) == ["left acme", "left bolt"]


async def test_a_task_that_fails_ends_the_run_with_its_error() -> None:
    """An account task's exception is the run's, as a worker's bug always was."""
    fleet = Fleet(["acme"])

    async def broken(account: str, leaving: asyncio.Event) -> None:
        raise RuntimeError(f"bug in {account}")

    tasks = AccountTasks(fleet.leases, broken, can_serve=lambda a: True, grace_s=GRACE_S)
    with pytest.raises(RuntimeError, match="bug in acme"):
        await asyncio.wait_for(tasks.run(fleet.stopping), 5)
