"""The queue contract, against every backend of the `queue` fixture."""

from __future__ import annotations

from tests.integration.queue.contract import QueueContract


class TestQueueContract(QueueContract):
    """Runs every contract test once per backend."""
