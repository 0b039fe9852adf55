"""Every documented case, for the runners: registrations, daily records and issuance."""

from __future__ import annotations

from tests.documented_cases.daily import DAILY_CASES, DailyCase
from tests.documented_cases.issuance import ISSUANCE_CASES, IssuanceCase
from tests.documented_cases.registration import RegistrationCase
from tests.documented_cases.registration_fields import FIELD_CASES
from tests.documented_cases.registration_rules import RULE_CASES
from tests.documented_cases.registration_seed import SEED_CASES

REGISTRATION_CASES: list[RegistrationCase] = [*FIELD_CASES, *RULE_CASES, *SEED_CASES]

__all__ = [
    "DAILY_CASES",
    "ISSUANCE_CASES",
    "REGISTRATION_CASES",
    "DailyCase",
    "IssuanceCase",
    "RegistrationCase",
]
