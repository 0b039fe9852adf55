"""The human summary that ends `uploader run --drain`, on stderr beside the JSON logs.

    drain: 5,980 records sent (120 re-sent), 20 dead-lettered, 0 still pending, 3 429s received
    dead-lettered, by reason:
          15  422 E_CAPACITY
           5  processing Failed twice
    account bolt paused (401: the registry refused the account's token): its records stay queued

`re-sent` counts records that had to go again (after a 429, a transient failure, an answer that
was not the registry's, a refusal of other records, a bisection, or Failed processing); `still
pending` is what the queue holds for the served accounts at the end: pending, delayed, leased.
"""

from __future__ import annotations

from collections.abc import Mapping

from uploader.push.events import Stats
from uploader.queue import AccountCounts

TOP_REASONS = 5  # dead-letter reasons listed


def drain_summary(
    stats: Stats, left: Mapping[str, AccountCounts] | None, paused: Mapping[str, str | None]
) -> str:
    """The summary of a drain: `left` is the queue's counts of the served accounts at its end
    (None when the queue could not be read)."""
    dead = sum(stats.records_rejected.values())
    lines = [
        f"drain: {sum(stats.records_sent.values()):,} records sent "
        f"({sum(stats.records_resent.values()):,} re-sent), {dead:,} dead-lettered, "
        f"{_still_pending(left)} still pending, {stats.rate_limited:,} 429s received"
    ]
    if dead:
        lines.append("dead-lettered, by reason:")
        top = stats.dead_reasons.most_common(TOP_REASONS)
        lines += [f"  {count:>8,}  {reason}" for reason, count in top]
        others = dead - sum(count for _, count in top)
        if others > 0:
            lines.append(f"  {others:>8,}  (other reasons: uploader dead-letter list)")
    lines += [
        f"account {account} paused ({reason}): its records stay queued"
        for account, reason in sorted(paused.items())
        if reason is not None
    ]
    return "\n".join(lines)


def _still_pending(left: Mapping[str, AccountCounts] | None) -> str:
    if left is None:
        return "? (the queue could not be read)"
    counts = left.values()
    return f"{sum(c.pending + c.delayed + c.leased for c in counts):,}"
