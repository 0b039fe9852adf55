"""The registration page's field table, as data: each field's JSON type, size and format.

Read from the Request table of the registry's "Register Grouped Device Application" page,
which wins where older pages differ (PostalCode at most 100, Address at most 255).
What the registry cannot parse is malformed and answered 400: a required field missing or
null, a value of the wrong JSON type, a date not written YYYY-MM-DD, an enum value it does
not know, a file id that is no UUID. What parses but breaks a stated limit (length, range,
decimal places, an empty list) is a business rule, answered 422.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from uploader.simulator.checks import decimal_places

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMERIC_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")  # ASP.NET reads these
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a registration body, at its field path (`Devices[0].Address`)."""

    field: str
    message: str
    malformed: bool  # True: the registry cannot read it (400); False: a broken rule (422)


@dataclass(slots=True)
class Part:
    """One JSON object of the body (the group, a device, an inverter) and what it holds."""

    path: str  # "" for the group, "Devices[1]", "Devices[1].Inverters[0]"
    values: dict[str, Any] = field(default_factory=dict)  # None: absent or unreadable

    def at(self, name: str) -> str:
        """The path of one of its fields."""
        return f"{self.path}.{name}" if self.path else name


def json_kind(value: object) -> str:
    """How JSON calls a decoded value, for messages."""
    if value is None:
        return "null"
    kinds = ((bool, "a boolean"), (int | Decimal, "a number"), (str, "text"), (list, "an array"))
    return next((name for kind, name in kinds if isinstance(value, kind)), "an object")


@dataclass(frozen=True, slots=True)
class Spec:
    """A field of the table; subclasses parse their kind of value."""

    name: str
    required: bool = True
    default: Any = None  # what an absent optional field stands for
    blank_is_absent = False  # an optional field sent as "" counts as left out

    def read(self, node: Mapping[str, Any], part: Part, out: list[Problem]) -> Any:
        """The parsed value of the field in `node`, or None; problems go to `out`."""
        value = node.get(self.name)
        if value is None or (value == "" and self.blank_is_absent and not self.required):
            if self.required:
                out.append(Problem(part.at(self.name), "is required", True))
            return self.default
        return self.parse(value, part.at(self.name), out)

    def parse(self, value: Any, path: str, out: list[Problem]) -> Any:
        """The value read as this kind (None when it cannot be)."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Text(Spec):
    """Text of at most `max_len` characters; a required one may not be blank."""

    max_len: int | None = None
    blank_is_absent = True

    def parse(self, value: Any, path: str, out: list[Problem]) -> str | None:
        if not isinstance(value, str):
            out.append(Problem(path, f"must be text, not {json_kind(value)}", True))
            return None
        if self.required and not value.strip():
            out.append(Problem(path, "must not be blank", True))
            return None
        if self.max_len is not None and len(value) > self.max_len:
            out.append(Problem(path, f"is {len(value)} characters; at most {self.max_len}", False))
        return value


@dataclass(frozen=True, slots=True)
class Choice(Spec):
    """One of an enum's values."""

    options: tuple[str, ...] = ()

    def parse(self, value: Any, path: str, out: list[Problem]) -> str | None:
        if not isinstance(value, str) or value not in self.options:
            message = f"must be one of {', '.join(self.options)}, not {value!r}"
            out.append(Problem(path, message, True))
            return None
        return value


@dataclass(frozen=True, slots=True)
class Flag(Spec):
    """true or false."""

    def parse(self, value: Any, path: str, out: list[Problem]) -> bool | None:
        if not isinstance(value, bool):
            out.append(Problem(path, f"must be true or false, not {json_kind(value)}", True))
            return None
        return value


@dataclass(frozen=True, slots=True)
class Day(Spec):
    """A calendar day written YYYY-MM-DD."""

    blank_is_absent = True

    def parse(self, value: Any, path: str, out: list[Problem]) -> dt.date | None:
        day = None
        if isinstance(value, str) and _DAY.fullmatch(value):
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                day = None
        if day is None:
            out.append(Problem(path, f"must be a date written YYYY-MM-DD, not {value!r}", True))
        return day


@dataclass(frozen=True, slots=True)
class Number(Spec):
    """A decimal in a range, with at most `whole` digits before the point and `places` after.

    `open_low`: the low end itself is excluded (an installed capacity of 0 kW is no inverter).
    """

    low: Decimal = Decimal(0)
    high: Decimal = Decimal(0)
    whole: int = 0
    places: int = 0
    open_low: bool = False

    def parse(self, value: Any, path: str, out: list[Problem]) -> Decimal | None:
        number = as_number(value)
        if number is None:
            out.append(Problem(path, f"must be a number, not {json_kind(value)} {value!r}", True))
            return None
        if decimal_places(number) > self.places:
            out.append(Problem(path, f"{number} has more than {self.places} decimal places", False))
        if number and number.adjusted() >= self.whole:
            message = f"{number} has more than {self.whole} digits before the point"
            out.append(Problem(path, message, False))
        below = number <= self.low if self.open_low else number < self.low
        if below or number > self.high:
            low = "more than" if self.open_low else "at least"
            message = f"{number} is out of range: {low} {self.low}, at most {self.high}"
            out.append(Problem(path, message, False))
        return number


def as_number(value: object) -> Decimal | None:
    """A JSON number, or numeric text, as a finite Decimal (decoded exactly, never a float)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return None
    if isinstance(value, str) and not _NUMERIC_TEXT.fullmatch(value):
        return None
    number = Decimal(value)
    return number if number.is_finite() else None


@dataclass(frozen=True, slots=True)
class FileId(Spec):
    """The UUID of an uploaded document (whose owner `registration_rules` checks)."""

    def parse(self, value: Any, path: str, out: list[Problem]) -> str | None:
        if not isinstance(value, str) or not _UUID.fullmatch(value):
            out.append(Problem(path, f"must be a UUID, not {value!r}", True))
            return None
        return value


@dataclass(frozen=True, slots=True)
class Items(Spec):
    """A non-empty array of objects (read by the caller, one `Part` each)."""

    def parse(self, value: Any, path: str, out: list[Problem]) -> list[Any] | None:
        if not isinstance(value, list):
            out.append(Problem(path, f"must be an array, not {json_kind(value)}", True))
            return None
        if not value:
            out.append(Problem(path, "must not be empty", False))
        return value


GROUP = (
    Text("GroupedLocalName", max_len=255),
    Text("GroupedEnglishName", max_len=255),
    Text("CountryCode", max_len=2),
    Text("Province", max_len=20),
    Text("Timezone", required=False),
    Choice("GenerationDataFrequency", required=False, options=("Daily", "Monthly")),
    Items("Devices"),
)
DEVICE = (
    Text("InstallationName", max_len=255),
    Text("Address", max_len=255),
    Text("PostalCode", max_len=100),
    Number("Latitude", low=Decimal(-90), high=Decimal(90), whole=2, places=6),
    Number("Longitude", low=Decimal(-180), high=Decimal(180), whole=3, places=6),
    Day("GridConnectionDate"),
    Day("OwnersDeclarationStartDate"),
    Day("OwnersDeclarationEndDate", required=False),
    Flag("Domestic"),
    Flag("FeedInTariff", required=False, default=False),
    FileId("DeclarationFormFileId"),
    Number("PercentageRenewable", required=False, high=Decimal(100), whole=3, places=6),
    Items("Inverters"),
)
INVERTER = (
    Text("RemoteInvId", max_len=100),
    Text("ElectronicSerialNumber", max_len=255),
    Text("BrandCode", max_len=20),
    Text("OtherBrandName", required=False, max_len=255),
    # decimal(12,3) kW, at most 0.25 MW (the seed's "1000 kW" beside "0.25MW" is a typo)
    Number("InstalledCapacity", high=Decimal(250), whole=9, places=3, open_low=True),
    Day("EffectiveStartDate", required=False),
    Day("EffectiveEndDate", required=False),
    Text("ReplacedRemoteInvId", required=False, max_len=100),
    Text("ReplacedByRemoteInvId", required=False, max_len=100),
)


def read_part(node: object, path: str, specs: tuple[Spec, ...], out: list[Problem]) -> Part | None:
    """Every field of one object of the body; None (and a 400) when it is no object."""
    if not isinstance(node, Mapping):
        out.append(Problem(path or "$", f"must be an object, not {json_kind(node)}", True))
        return None
    part = Part(path)
    for spec in specs:
        part.values[spec.name] = spec.read(node, part, out)
    return part
