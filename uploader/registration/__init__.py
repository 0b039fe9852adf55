"""Grouped-device registration: every documented rule, checked before anything is sent.

`validate(payload, ctx)` takes the decoded JSON of a `POST device-applications/i-rec/grouped`
body and returns every `Violation` at once, each at its field path
(`Devices[1].Inverters[0].ElectronicSerialNumber: duplicate serial … for brand HW21`).
The client runs it before submitting. The simulator has its own, independent reading of the
same rules; `tests/documented_cases/` holds both to the documented verdicts.
"""

from uploader.registration.model import ValidationContext, Violation
from uploader.registration.validate import advice, validate

__all__ = ["ValidationContext", "Violation", "advice", "validate"]
