"""The generation-data endpoints the push path can use, one frozen spec each.

Everything that differs between endpoints is here: the configuration, the worker, the
service, the batcher and the queue's claim read the spec (`ENDPOINTS[name]`) and never
compare endpoint names. A new endpoint is one more entry (with its body builder and error
locator in `uploader.push.bodies`) and its path in `uploader.config.Paths`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from uploader.push import bodies
from uploader.push.bodies import BodyBuilder, Groups
from uploader.queue.base import QueuedRecord
from uploader.registry.answers import DATA_OBJECT, PROCESS_ID, Shape

Locator = Callable[[Sequence[QueuedRecord], Groups, str], Sequence[QueuedRecord] | None]


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """What the push path must know about one endpoint."""

    name: str  # the `registry.endpoint` value, and the name of its path in `registry.paths`
    one_inverter: bool  # a request carries one inverter's records only
    one_year: bool  # ... of one calendar year only
    confirmed: bool  # the answer carries a ProcessId whose processing is polled
    body: BodyBuilder
    locate: Locator  # the records an error's field path names, or None
    answer: Shape  # what a 2xx must be to count as a delivery
    daily: bool = True  # a record is one day (else a month): what a read-back compares
    # A body of sums over the days of an inverter-year: the builder over the days the queue
    # knows of it (`Queue.known_days`), as the push path reads them for each request.
    sums_months: Callable[[Mapping[str, str]], BodyBuilder] | None = None

    def over(self, days: Mapping[str, str]) -> EndpointSpec:
        """The spec of one request whose body sums `days` (this one, if it sums nothing)."""
        return self if self.sums_months is None else replace(self, body=self.sums_months(days))


ENDPOINTS: dict[str, EndpointSpec] = {
    spec.name: spec
    for spec in (
        # The grouped endpoint for many inverters: the throughput path.
        EndpointSpec(
            "batch", False, False, True, bodies.batch_body, bodies.locate_in_devices, PROCESS_ID
        ),
        # The grouped endpoint for one inverter.
        EndpointSpec(
            "single", True, False, True, bodies.single_body, bodies.locate_in_data, PROCESS_ID
        ),
        # The seed's single-device endpoint: it answers `Data: {}`, no ProcessId to poll.
        EndpointSpec(
            "legacy", True, False, False, bodies.legacy_body, bodies.locate_in_data, DATA_OBJECT
        ),
        # Monthly data: one inverter's months of one year per request, each month the sum of
        # the latest value of every day the queue knows of it.
        EndpointSpec(
            "monthly",
            True,
            True,
            True,
            bodies.monthly_body,
            bodies.locate_in_months,
            PROCESS_ID,
            daily=False,
            sums_months=bodies.monthly_of,
        ),
    )
}
