"""Every documented case, for the runners: registrations and daily records."""

from __future__ import annotations

from tests.documented_cases.daily import DAILY_CASES, DailyCase
from tests.documented_cases.registration import RegistrationCase
from tests.documented_cases.registration_fields import FIELD_CASES
from tests.documented_cases.registration_rules import RULE_CASES

REGISTRATION_CASES: list[RegistrationCase] = [*FIELD_CASES, *RULE_CASES]

__all__ = ["DAILY_CASES", "REGISTRATION_CASES", "DailyCase", "RegistrationCase"]
