"""`POST documents/devices` (also `documents/grouped-devices`): upload an ODF.

A multipart part named `File`, at most 5 MB, of an allowed MIME type; the answer is 201
with the file's id, which registration accepts as `DeclarationFormFileId`.
"""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from uploader.simulator.core import ACCOUNT, CORE
from uploader.simulator.responses import envelope, error
from uploader.simulator.wire import MALFORMED, UNSUPPORTED_MEDIA_TYPE, IdData

MAX_FILE_BYTES = 5 * 1024 * 1024  # 5 MB, as documented since V1.0.2
ALLOWED_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/plain",
    }
)
_CHUNK = 256 * 1024


def allowed(mime: str) -> bool:
    """Whether the registry takes files of this MIME type (any `image/*` too)."""
    return mime.startswith("image/") or mime in ALLOWED_TYPES


async def _file_part(request: web.Request) -> BodyPartReader | None:
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.name == "File":
            return part
        await part.release()
    return None


async def _size(part: BodyPartReader, limit: int) -> int:
    """Bytes in the part, reading no further than one byte past `limit`."""
    size = 0
    while size <= limit and (chunk := await part.read_chunk(_CHUNK)):
        size += len(chunk)
    return size


async def post_document(request: web.Request) -> web.Response:
    """Take the `File` part; refuse it when it is too large or of a type not allowed."""
    if not request.content_type.startswith("multipart/"):
        return error(400, MALFORMED, "expected multipart/form-data with a File part", "File")
    part = await _file_part(request)
    if part is None:
        return error(400, MALFORMED, "the multipart part File is required", "File")
    mime = part.headers.get("Content-Type", "application/octet-stream")
    mime = mime.split(";")[0].strip().lower()
    if not allowed(mime):
        return error(400, UNSUPPORTED_MEDIA_TYPE, f"files of type {mime} are not accepted", "File")
    if await _size(part, MAX_FILE_BYTES) > MAX_FILE_BYTES:
        return error(400, "FileTooLarge", "the file is larger than 5 MB", "File")
    core = request.app[CORE]
    file_id = core.new_id()
    core.state.files[file_id] = request[ACCOUNT]
    return envelope(201, IdData(Id=file_id), errors=[])
