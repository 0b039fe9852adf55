"""Registration cases are the registration page's example, changed one documented rule at a time.

Each case changes the example body (`changes`: field path -> value) and states the verdict.
`SEED_FILE_ID` stands for a document the account uploaded (a runner makes it so), and the
brand codes in `LISTED_BRANDS` are in the registry's brand list (its pages show them).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from tests.documented_cases import DELETE, Verdict, encode, refused, set_path

SEED_FILE_ID = "94584c27-518d-45b5-1d2b-08dc6a99c86e"
OTHER_FILE_ID = "be8728c0-e7f6-4ed2-845f-63bf31a39c76"  # the page's other example: not uploaded
LISTED_BRANDS = frozenset({"AB01", "HW21", "OT27"})  # ABB, Huawei, Other
CREATED = Verdict(201)
D0, I0, I1 = "Devices[0]", "Devices[0].Inverters[0]", "Devices[0].Inverters[1]"
PAGE = "registration page"

# The page's example device and inverter, verbatim; group fields in the page's formats.
_EXAMPLE = b"""{
  "GroupedLocalName": "SEASolar-Singapore-20240516001",
  "GroupedEnglishName": "SEASolar-Singapore-20240516001",
  "CountryCode": "SG", "Province": "Singapore", "Timezone": "UTC+08:00",
  "GenerationDataFrequency": "Daily",
  "Devices": [{
    "InstallationName": "ChinaSolarDeveloper-AnhuiSheng-000001",
    "Address": "Anhui Sheng Parade Jago Cl62 Jago Cl", "PostalCode": "431231",
    "Longitude": 103.90861, "Latitude": 1.305278,
    "GridConnectionDate": "2022-05-13", "OwnersDeclarationStartDate": "2022-05-13",
    "OwnersDeclarationEndDate": "2025-05-13", "Domestic": true, "FeedInTariff": false,
    "DeclarationFormFileId": "94584c27-518d-45b5-1d2b-08dc6a99c86e", "PercentageRenewable": 100,
    "Inverters": [{"RemoteInvId": "RM1000020003386274014", "ElectronicSerialNumber":
      "HW2343243244414", "BrandCode": "HW21", "OtherBrandName": "", "InstalledCapacity": 10.9}]
  }]
}"""
_decoder = msgspec.json.Decoder(float_hook=Decimal)


def example() -> dict[str, Any]:
    """A fresh copy of the page's example body, numbers as exact Decimals."""
    body: dict[str, Any] = _decoder.decode(_EXAMPLE)
    return body


EXAMPLE_INVERTER: dict[str, Any] = example()["Devices"][0]["Inverters"][0]


def inverter(n: int, **fields: Any) -> dict[str, Any]:
    """A valid inverter with an id and a serial of its own."""
    base = {"RemoteInvId": f"RM{n:06d}", "ElectronicSerialNumber": f"SN{n:06d}"}
    return base | {"BrandCode": "HW21", "InstalledCapacity": Decimal(10)} | fields


def device(*inverters: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The example's device with these inverters and fields (DELETE removes one)."""
    base: dict[str, Any] = copy.deepcopy(example()["Devices"][0])
    merged = base | {"Inverters": list(inverters)} | fields
    return {k: v for k, v in merged.items() if v is not DELETE}


def fleet(count: int, kw: int) -> list[dict[str, Any]]:
    """`count` inverters of `kw` kW, in devices of 100."""
    inverters = [inverter(n, InstalledCapacity=Decimal(kw)) for n in range(count)]
    return [device(*inverters[at : at + 100]) for at in range(0, count, 100)]


@dataclass(frozen=True)
class RegistrationCase:
    """A change to the example body, its verdict, and the documentation it comes from.

    `simulator` names the rule the simulator does not check yet, which it must follow for
    this case: its runner expects the case to fail there (strictly) until it does.
    """

    name: str
    changes: dict[str, Any]
    verdict: Verdict
    source: str
    simulator: str | None = None

    def payload(self) -> Any:
        """The changed body, decoded."""
        body: Any = example()
        for path, value in self.changes.items():
            body = set_path(body, path, value if value is DELETE else copy.deepcopy(value))
        return body

    def body(self) -> bytes:
        """The changed body as JSON."""
        return encode(self.payload())


def case(name: str, path: str, value: Any, verdict: Verdict, source: str) -> RegistrationCase:
    """One field changed."""
    return RegistrationCase(name, {path: value}, verdict, source)


def bad(name: str, path: str, value: Any, source: str) -> RegistrationCase:
    """One field changed so the registry cannot read it: 400 at that field."""
    return case(name, path, value, refused(400, path), source)


def rule(
    name: str, path: str, value: Any, source: str, simulator: str | None = None
) -> RegistrationCase:
    """One field changed to break a business rule: 422 at that field."""
    return RegistrationCase(name, {path: value}, refused(422, path), source, simulator)


def fine(name: str, path: str, value: Any, source: str) -> RegistrationCase:
    """One field changed in a way the page allows: created."""
    return case(name, path, value, CREATED, source)
