"""Request bodies of the tests: the registry's own examples, and small builders."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

T0 = 1718409600.0  # 2024-06-15T00:00:00Z: "today" for the simulator under a ManualClock
TODAY = dt.date(2024, 6, 15)
Record = dict[str, Any]
ACME, ACME_TOKEN = "acme", "tok-acme"
OTHER, OTHER_TOKEN = "other", "tok-other"
SEED_RID = "STR10000000338444"  # the inverter of the seed's and Part 2's examples

# Seed page 000 ("Send Generation Data"), its request example verbatim.
SEED_LEGACY: dict[str, Any] = {
    "Data": [
        {
            "Timestamp": "2023-05-01",
            "PeriodProductionInKWh": "0.1234",
            "AccumulatedPowerInKWh": "5.1234",
        },
        {
            "Timestamp": "2023-05-02",
            "PeriodProductionInKWh": "0.2345",
            "AccumulatedPowerInKWh": "5.3579",
        },
        {
            "Timestamp": "2023-05-03",
            "PeriodProductionInKWh": "0.4567",
            "AccumulatedPowerInKWh": "5.8146",
        },
    ],
    "FrequencyType": "Daily",
    "RemoteInvId": "STR10000000338444",
}

# redex-api.md Part 2 §4: the grouped single-inverter example.
SEED_SINGLE: dict[str, Any] = {
    "Data": [
        {
            "Timestamp": "2023-05-01",
            "PeriodProductionInKWh": "0.123",
            "AccumulatedEnergyInKWh": "5.123",
        }
    ],
    "RemoteInvId": "STR10000000338444",
}

# redex-api.md Part 2 §5: the batch example.
SEED_BATCH: dict[str, Any] = {
    "Devices": [
        {
            "RemoteInvId": "STR10000000338444",
            "Data": [
                {
                    "Timestamp": "2023-05-01",
                    "PeriodProductionInKWh": "0.123",
                    "AccumulatedEnergyInKWh": "5.123",
                },
                {
                    "Timestamp": "2023-05-02",
                    "PeriodProductionInKWh": "0.234",
                    "AccumulatedEnergyInKWh": "5.357",
                },
            ],
        }
    ]
}

# The seed registration page's example device and inverter, in a group of the page's formats.
SEED_REGISTRATION: dict[str, Any] = {
    "GroupedLocalName": "SEASolar-Singapore-20240516001",
    "GroupedEnglishName": "SEASolar-Singapore-20240516001",
    "CountryCode": "SG",
    "Province": "Singapore",
    "Timezone": "UTC+08:00",
    "Devices": [
        {
            "InstallationName": "ChinaSolarDeveloper-AnhuiSheng-000001",
            "Address": "Anhui Sheng Parade Jago Cl62 Jago Cl",
            "PostalCode": "431231",
            "Longitude": 103.90861,
            "Latitude": 1.305278,
            "GridConnectionDate": "2022-05-13",
            "OwnersDeclarationStartDate": "2022-05-13",
            "OwnersDeclarationEndDate": "2025-05-13",
            "Domestic": True,
            "FeedInTariff": False,
            "DeclarationFormFileId": "set by the test",
            "PercentageRenewable": 100,
            "Inverters": [
                {
                    "RemoteInvId": "RM1000020003386274014",
                    "ElectronicSerialNumber": "HW2343243244414",
                    "BrandCode": "HW21",
                    "OtherBrandName": "",
                    "InstalledCapacity": 10.9,
                }
            ],
        }
    ],
}


def registration(file_id: str) -> dict[str, Any]:
    """A fresh copy of the seed's registration payload naming an uploaded file."""
    payload = copy.deepcopy(SEED_REGISTRATION)
    payload["Devices"][0]["DeclarationFormFileId"] = file_id
    return payload


def day(when: str | dt.date, produced: Any = "1.000", accumulated: Any = "100.000") -> Record:
    """One daily record of the grouped endpoints."""
    stamp = when if isinstance(when, str) else when.isoformat()
    return {
        "Timestamp": stamp,
        "PeriodProductionInKWh": produced,
        "AccumulatedEnergyInKWh": accumulated,
    }


def days(start: dt.date, count: int) -> list[dict[str, Any]]:
    """`count` consecutive valid days from `start`."""
    return [day(start + dt.timedelta(days=n), "1.000", f"{100 + n}.000") for n in range(count)]


def batch(*devices: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A batch body of (RemoteInvId, records) pairs."""
    return {"Devices": [{"RemoteInvId": rid, "Data": data} for rid, data in devices]}


def single(rid: str, data: list[dict[str, Any]]) -> dict[str, Any]:
    """A grouped single-inverter body."""
    return {"RemoteInvId": rid, "Data": data}
