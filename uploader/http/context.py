"""What the HTTP handlers share: settings, queue, uploader, metrics and the ingest token."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aiohttp import web

from uploader.config import Settings
from uploader.observe.metrics import Metrics
from uploader.push.service import Uploader
from uploader.queue.base import AccountCounts, Queue, QueueCounts
from uploader.registry.limiter import Key
from uploader.secrets import read_secret


@dataclass(frozen=True)
class Service:
    """The running service as the handlers see it."""

    settings: Settings
    queue: Queue
    uploader: Uploader
    metrics: Metrics
    ingest_token: str | None = field(default=None, repr=False)  # None: ingest disabled

    @classmethod
    def create(cls, settings: Settings, uploader: Uploader, metrics: Metrics) -> Service:
        """The service of a running uploader, its ingest token read now.

        A missing token variable or file stops the start with a ConfigError naming it.
        """
        server = settings.server
        token = read_secret(
            what="server.ingest_token",
            env_name=server.ingest_token_env,
            file=server.ingest_token_file,
        )
        return cls(settings, uploader.queue, uploader, metrics, token or None)

    def __repr__(self) -> str:
        ingest = "on" if self.ingest_token is not None else "off"
        return f"<Service accounts={len(self.settings.accounts)} ingest={ingest} {self.uploader!r}>"

    def limiter_keys(self) -> list[Key]:
        """Every rate-policy key the configured accounts use, for the budget gauges."""
        client = self.uploader.client
        endpoint = self.settings.registry.endpoint
        keys: list[Key] = [("ip", "default")]
        for account in sorted(self.settings.account_ids):
            keys += [client.account_key(account, endpoint), ("poll", account)]
            keys += [("reconcile", account)] if self.settings.reconcile.every else []
        return keys

    def refresh_fleet(self, *, answered: bool) -> None:
        """The backend's state (`answered`: this scrape's queue reads succeeded) and which
        accounts this process serves, among how many live replicas."""
        uploader = self.uploader
        backend = uploader.leases.backend
        self.metrics.refresh_fleet(
            up=answered and backend.up,
            data_lost=backend.data_lost is not None,
            serving=uploader.accounts.serving(),
            replicas=uploader.leases.replicas(),
        )

    def refresh_metrics(self, counts: QueueCounts) -> None:
        """Copy the scrape-time state (queue, limiter, paused accounts) into the gauges."""
        self.metrics.refresh_queue(queue_gauges(counts, self.settings.account_ids))
        self.metrics.refresh_limiter(self.uploader.client.limiter, self.limiter_keys())
        self.metrics.refresh_paused({a: w.paused for a, w in self.uploader.workers.items()})


def queue_gauges(
    counts: QueueCounts, configured: Iterable[str]
) -> dict[str, dict[str, int | float | None]]:
    """The queue's counts as `Metrics.refresh_queue` takes them.

    A configured account with nothing queued shows zeros rather than its last values.
    """
    accounts = dict.fromkeys(configured, AccountCounts()) | counts.accounts
    return {
        account: {
            "pending": c.pending,
            "delayed": c.delayed,
            "leased": c.leased,
            "sent": c.sent,
            "dead": c.dead,
            "oldest_pending_at": c.oldest_pending_at,
        }
        for account, c in accounts.items()
    }


SERVICE = web.AppKey("service", Service)
