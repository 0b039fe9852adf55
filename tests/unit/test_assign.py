"""How the live replicas divide the accounts: every replica computes the same fair shares."""

from __future__ import annotations

import itertools

from uploader.queue.leases import assign

ACCOUNTS = [f"acct-{n:02d}" for n in range(12)]


def shares(owners: dict[str, str]) -> dict[str, int]:
    """How many accounts each replica serves."""
    counted: dict[str, int] = {}
    for replica in owners.values():
        counted[replica] = counted.get(replica, 0) + 1
    return counted


def test_identical_replicas_get_shares_that_differ_by_one_at_most() -> None:
    """For 1 to 7 replicas with the same 12 accounts, every account is served once and shares
    differ by one at most."""
    for n in range(1, 8):
        members = {f"host:{i}": ACCOUNTS for i in range(n)}
        owners = assign(members)
        assert sorted(owners) == ACCOUNTS
        counted = shares(owners)
        assert max(counted.values()) - min(counted.values()) <= 1, (n, counted)
        assert len(counted) == min(n, len(ACCOUNTS))


def test_three_accounts_on_three_replicas_give_each_one() -> None:
    """Whatever the replicas' ids, three of them with three accounts serve one each."""
    for seed in range(50):
        members = {f"replica-{seed}-{i}": ["acme", "bolt", "cera"] for i in range(3)}
        assert sorted(shares(assign(members)).values()) == [1, 1, 1]


def test_every_replica_computes_the_same_owners_whatever_the_order() -> None:
    """The answer depends on the members only, not on the order they are listed in."""
    members = {f"host:{i}": ACCOUNTS for i in range(4)}
    answers = {
        tuple(sorted(assign(dict(order)).items()))
        for order in itertools.permutations(members.items())
    }
    assert len(answers) == 1


def test_a_join_or_a_death_moves_few_accounts() -> None:
    """A fifth replica takes about a fifth of the accounts; most of the rest stay put."""
    four = {f"host:{i}": ACCOUNTS for i in range(4)}
    before = assign(four)
    after = assign({**four, "host:4": ACCOUNTS})
    moved = [a for a in ACCOUNTS if before[a] != after[a]]
    taken = [a for a in ACCOUNTS if after[a] == "host:4"]
    assert len(taken) in (2, 3)
    assert len(moved) <= len(taken) + 3
    dead = assign({m: a for m, a in four.items() if m != "host:0"})
    kept = [a for a in ACCOUNTS if before[a] != "host:0" and dead[a] == before[a]]
    assert len(kept) >= 6  # of the 9 the survivors served


def test_an_account_goes_only_to_replicas_configured_with_it() -> None:
    """Replicas with different accounts (a rolling change): each account to one that has it."""
    members = {"old": ["acme", "bolt"], "new": ["acme", "bolt", "cera"]}
    owners = assign(members)
    assert owners["cera"] == "new"
    assert sorted(owners) == ["acme", "bolt", "cera"]
    assert assign({}) == {}
