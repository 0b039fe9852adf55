"""The seed page's example payload, and helpers to break it one field at a time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from uploader.registration import ValidationContext, Violation, validate
from uploader.registration.payload import decode

TODAY = dt.date(2025, 1, 15)
SEED_FILE_ID = "94584c27-518d-45b5-1d2b-08dc6a99c86e"

# The device and inverter are the seed page's example, verbatim; the group fields follow the
# page's formats ("SEASolar-Singapore-20240516001").
SEED_JSON = b"""{
  "GroupedLocalName": "SEASolar-Singapore-20240516001",
  "GroupedEnglishName": "SEASolar-Singapore-20240516001",
  "CountryCode": "SG",
  "Province": "Singapore",
  "Timezone": "UTC+08:00",
  "GenerationDataFrequency": "Daily",
  "Devices": [{
    "InstallationName": "ChinaSolarDeveloper-AnhuiSheng-000001",
    "Address": "Anhui Sheng Parade Jago Cl62 Jago Cl",
    "PostalCode": "431231",
    "Longitude": 103.90861,
    "Latitude": 1.305278,
    "GridConnectionDate": "2022-05-13",
    "OwnersDeclarationStartDate": "2022-05-13",
    "OwnersDeclarationEndDate": "2025-05-13",
    "Domestic": true,
    "FeedInTariff": false,
    "DeclarationFormFileId": "94584c27-518d-45b5-1d2b-08dc6a99c86e",
    "PercentageRenewable": 100,
    "Inverters": [
      {
        "RemoteInvId": "RM1000020003386274014",
        "ElectronicSerialNumber": "HW2343243244414",
        "BrandCode": "HW21",
        "OtherBrandName": "",
        "InstalledCapacity": 10.9
      }
    ]
  }]
}"""


def seed_payload() -> dict[str, Any]:
    """A fresh copy of the seed's valid payload, numbers decoded as Decimal."""
    payload: dict[str, Any] = decode(SEED_JSON, "seed")
    return payload


def context(**overrides: Any) -> ValidationContext:
    """The context of these tests: today is 2025-01-15, brands and file ids unchecked."""
    return ValidationContext(today=TODAY, **overrides)


def inverter(n: int, **fields: Any) -> dict[str, Any]:
    """A valid inverter with an id and serial of its own."""
    base = {
        "RemoteInvId": f"RM{n:06d}",
        "ElectronicSerialNumber": f"SN{n:06d}",
        "BrandCode": "HW21",
        "InstalledCapacity": 10,
    }
    return base | fields


def device(*inverters: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A copy of the seed's device with the given inverters and fields."""
    base: dict[str, Any] = seed_payload()["Devices"][0]
    return base | {"Inverters": list(inverters)} | fields


def violations(payload: object, ctx: ValidationContext | None = None) -> list[Violation]:
    """validate() with the tests' default context."""
    return validate(payload, ctx or context())


def fields(payload: object, ctx: ValidationContext | None = None) -> set[str]:
    """The field paths validate() reports."""
    return {v.field for v in violations(payload, ctx)}
