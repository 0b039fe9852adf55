"""Owner Declaration Forms named by path in a payload: checked locally, then uploaded.

The registry's guideline wants each device's ODF as a (searchable) PDF, and its upload
endpoint takes at most 5 MB. A payload may name the file (`"DeclarationFormFile":
"odf/device-1.pdf"`, relative to the payload file) instead of giving the id an earlier
upload returned; `prepare` checks those files and stands a placeholder id in for each, so
the payload can be validated in full before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uploader.registration.model import Violation
from uploader.registration.schema import ODF_ID_KEY, ODF_PATH_KEY

MAX_ODF_BYTES = 5 * 1024 * 1024  # the upload endpoint's limit
PDF_MAGIC = b"%PDF-"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"  # replaced by the uploaded file's id


@dataclass(frozen=True, slots=True)
class Prepared:
    """A payload whose ODF paths stand as placeholder ids, and the files to upload."""

    payload: Any
    odfs: dict[Path, list[int]] = field(default_factory=dict)  # file -> devices naming it

    def with_file_ids(self, ids: dict[Path, str]) -> Any:
        """The payload with each placeholder replaced by its file's uploaded id."""
        devices = [dict(device) for device in self.payload["Devices"]]
        for path, indexes in self.odfs.items():
            for index in indexes:
                devices[index][ODF_ID_KEY] = ids[path]
        return {**self.payload, "Devices": devices}


def odf_problem(path: Path, data: bytes | None = None) -> str | None:
    """Why `path` (or its content `data`) cannot be uploaded as an ODF; None when it can."""
    if path.suffix.lower() != ".pdf":
        return "the ODF must be a PDF file (.pdf)"
    try:
        size = len(data) if data is not None else path.stat().st_size
        head = data[: len(PDF_MAGIC)] if data is not None else _head(path)
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if size > MAX_ODF_BYTES:
        return f"larger than 5 MB ({size} bytes)"
    if head != PDF_MAGIC:
        return "not a PDF (it does not start with %PDF-)"
    return None


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(len(PDF_MAGIC))


def prepare(payload: Any, base: Path) -> tuple[Prepared, list[Violation]]:
    """Check every ODF the payload names by path (relative to `base`); placeholders in."""
    devices = payload.get("Devices") if isinstance(payload, dict) else None
    if not isinstance(devices, list):
        return Prepared(payload), []
    prepared = Prepared({**payload, "Devices": list(devices)})
    problems: list[Violation] = []
    for index, device in enumerate(devices):
        if isinstance(device, dict) and ODF_PATH_KEY in device:
            problem = _name_odf(prepared, index, base)
            if problem is not None:
                problems.append(Violation(f"Devices[{index}].{ODF_PATH_KEY}", *problem))
    return prepared, problems


def _name_odf(prepared: Prepared, index: int, base: Path) -> tuple[str, bool] | None:
    """Swap device `index`'s ODF path for a placeholder id; (message, malformed) if wrong."""
    device = dict(prepared.payload["Devices"][index])
    name = device.pop(ODF_PATH_KEY)
    prepared.payload["Devices"][index] = device
    if device.get(ODF_ID_KEY) is not None:
        return f"give {ODF_ID_KEY} or {ODF_PATH_KEY}, not both", True
    device[ODF_ID_KEY] = PLACEHOLDER_ID
    if not isinstance(name, str) or not name.strip():
        return "must be the path of a PDF file", True
    path = (base / name).resolve()
    problem = odf_problem(path)
    if problem is not None:
        return f"{name}: {problem}", False
    prepared.odfs.setdefault(path, []).append(index)
    return None
