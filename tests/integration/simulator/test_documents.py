"""`POST documents/devices`: the ODF upload, its 5 MB limit and its MIME types."""

from __future__ import annotations

import io

import aiohttp
import pytest

from uploader.simulator import FakeRegistry

from .helpers import Answer, Api
from .payloads import ACME

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
FIVE_MB = 5 * 1024 * 1024


async def upload(
    api: Api, content: bytes, mime: str, path: str = "/documents/devices", name: str = "File"
) -> Answer:
    """Upload one multipart part."""
    form = aiohttp.FormData()
    form.add_field(name, io.BytesIO(content), filename="odf.pdf", content_type=mime)
    return await api.post(path, data=form)


@pytest.mark.parametrize("path", ["/documents/devices", "/documents/grouped-devices"])
async def test_pdf_upload_answers_201_with_a_file_id(
    api: Api, sim: FakeRegistry, path: str
) -> None:
    """A PDF answers 201 with `Data.Id` (a UUID), `Errors: []`, on both documented paths."""
    answer = await upload(api, PDF, "application/pdf", path)
    assert answer.status == 201
    assert answer.body["Errors"] == []
    file_id = answer.body["Data"]["Id"]
    assert len(file_id) == 36
    assert file_id.count("-") == 4


async def test_exactly_5_mb_is_accepted_and_one_byte_more_is_not(api: Api) -> None:
    """5 MB is the limit: a file of 5 MB passes, 5 MB + 1 byte is a 400 at `File`."""
    assert (await upload(api, b"x" * FIVE_MB, "text/plain")).status == 201
    answer = await upload(api, b"x" * (FIVE_MB + 1), "text/plain")
    assert (answer.status, answer.codes, answer.fields) == (400, ["FileTooLarge"], ["File"])


@pytest.mark.parametrize(
    ("mime", "status"),
    [
        ("image/png", 201),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 201),
        ("text/plain; charset=utf-8", 201),
        ("application/zip", 400),
        ("application/x-msdownload", 400),
    ],
)
async def test_only_documented_mime_types_are_accepted(api: Api, mime: str, status: int) -> None:
    """Images, PDF, Word, Excel and text pass; anything else is a 400."""
    assert (await upload(api, PDF, mime)).status == status


async def test_upload_without_a_file_part_is_400(api: Api) -> None:
    """A multipart body without a part named File is a 400 at `File`."""
    answer = await upload(api, PDF, "application/pdf", name="Document")
    assert (answer.status, answer.fields) == (400, ["File"])


async def test_upload_that_is_not_multipart_is_400(api: Api) -> None:
    """A JSON body is not an upload (400)."""
    answer = await api.post("/documents/devices", json={"File": "odf.pdf"})
    assert answer.status == 400


async def test_uploaded_id_belongs_to_the_account(api: Api, sim: FakeRegistry) -> None:
    """The simulator counts the upload for the account that made it."""
    await upload(api, PDF, "application/pdf")
    assert sim.state()["requests"]["by_account"][ACME] == {"201": 1}
