"""A faithful stand-in for the REDEX registry: every endpoint, rule, limit and fault.

`FakeRegistry` runs it in-process on a real port (tests, benchmarks); `uploader simulate`
runs it as a command. `SimOptions` holds every knob.
"""

from uploader.simulator.app import FakeRegistry
from uploader.simulator.clock import ManualClock
from uploader.simulator.options import Credentials, SimOptions

__all__ = ["Credentials", "FakeRegistry", "ManualClock", "SimOptions"]
