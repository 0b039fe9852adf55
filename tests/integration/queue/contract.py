"""The queue contract: what every backend must do, written once.

`QueueContract` is a class of tests over a `queue` fixture (an open, empty queue of one
backend) and a `clock` fixture (the `FakeClock` that queue reads). A backend joins by being
one more entry of `BACKENDS` in this directory's conftest.
"""

from __future__ import annotations

from tests.integration.queue.contract_books import BooksContract
from tests.integration.queue.contract_delivery import DeliveryContract
from tests.integration.queue.contract_flow import FlowContract
from tests.integration.queue.contract_slots import SlotsContract
from tests.integration.queue.contract_years import YearsContract


class QueueContract(FlowContract, BooksContract, DeliveryContract, YearsContract, SlotsContract):
    """Every backend passes these."""
