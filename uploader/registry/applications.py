"""Applications' calls to the registry for one account, through the shared client:
registration (documents, brands, devices), the application lists, and issuance requests.

Requests go through `RegistryClient.call`, so they pass the same limiter and token
provider as the push path. A 429 is retried (the client has already made the account wait
its Retry-After); nothing else is: a registration or issuance POST that timed out may have
been processed, and sending it twice could file two applications.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any, TypeVar

import aiohttp
import msgspec

from uploader.config import Paths
from uploader.errors import RegistryError, Rejected
from uploader.registry.answers import (
    Accepted,
    Refused,
    RegistryResponse,
    Throttled,
    classify,
)
from uploader.registry.client import RegistryClient
from uploader.registry.issues import said
from uploader.registry.wire import (
    Brand,
    DeviceApplication,
    DeviceWithInverters,
    Envelope,
    IssuanceRequest,
    RecApplication,
)
from uploader.registry.wire.codec import (
    brands_envelope,
    device_applications_envelope,
    devices_envelope,
    id_envelope,
    rec_applications_envelope,
    string_encoder,
)

T = TypeVar("T")
ATTEMPTS_ON_429 = 3
PAGE_SIZE = 100  # the brand list's maximum ItemsPerPage
MAX_PAGES = 1000  # a guard against a registry whose Meta never ends


def refusal(response: RegistryResponse, what: str) -> RegistryError:
    """The error for an answer that is not a success: Rejected, with the registry's errors,
    for a refusal (400/413/422); a plain RegistryError otherwise."""
    message, errors = said(response.body)
    text = f"{what}: the registry answered {response.status}" + (f": {message}" if message else "")
    if isinstance(classify(response), Refused):
        return Rejected([e.line for e in errors], text, status=response.status)
    return RegistryError(text, status=response.status)


class RegistrationApi:
    """The registry endpoints of registration, brands and devices, for one account."""

    def __init__(
        self, client: RegistryClient, paths: Paths, account: str, page_size: int = PAGE_SIZE
    ) -> None:
        self._client = client
        self._page_size = page_size
        self._paths = paths
        self._account = account
        self._brand_codes: frozenset[str] | None = None

    async def _call(self, method: str, path: str, **kw: Any) -> RegistryResponse:
        for _ in range(ATTEMPTS_ON_429 - 1):
            response = await self._client.call(self._account, method, path, **kw)
            if not isinstance(classify(response), Throttled):
                return response
        return await self._client.call(self._account, method, path, **kw)

    async def _pages(
        self,
        endpoint: str,
        path: str,
        decoder: msgspec.json.Decoder[Envelope[list[T]]],
        params: Mapping[str, str],
    ) -> list[T]:
        """Every item of a paged list, following `Meta` from page 1.

        An answer of another shape is a RegistryError naming where it differs, not a crash.
        """
        items: list[T] = []
        for page in range(1, MAX_PAGES + 1):
            query = {**params, "CurrentPage": str(page)} if params or page > 1 else {}
            response = await self._call("GET", path, params=query, endpoint=endpoint)
            if not response.ok:
                raise refusal(response, f"GET {path}")
            try:
                envelope = decoder.decode(response.body)
            except msgspec.DecodeError as exc:
                raise RegistryError(
                    f"GET {path}: unexpected answer: {_where(exc)} (expected an envelope whose "
                    f"Data is a list of {endpoint.replace('application_', '')})",
                    status=response.status,
                ) from None
            items.extend(envelope.Data or [])
            if envelope.Meta is None or page >= envelope.Meta.TotalPage:
                break
        return items

    async def brands(self, code: str | None = None) -> list[Brand]:
        """The registry's inverter brands (only `code` when given), all pages."""
        params = {"ItemsPerPage": str(self._page_size)} | ({"Code": code} if code else {})
        return await self._pages("brands", self._paths.brands, brands_envelope, params)

    async def brand_codes(self) -> frozenset[str]:
        """The codes of every brand, fetched once per run."""
        if self._brand_codes is None:
            self._brand_codes = frozenset(brand.Code for brand in await self.brands())
        return self._brand_codes

    async def devices(self, application_id: str) -> list[DeviceWithInverters]:
        """A registered application's devices with their inverters."""
        quoted = urllib.parse.quote(application_id, safe="")
        path = self._paths.application_devices.format(id=quoted)
        return await self._pages("application_devices", path, devices_envelope, {})

    async def upload(self, name: str, data: bytes) -> str:
        """Upload one document (multipart part `File`); its file id."""

        def form() -> aiohttp.FormData:  # built again if the client retries after a 401
            built = aiohttp.FormData()
            built.add_field("File", data, filename=name, content_type="application/pdf")
            return built

        path = self._paths.documents
        return self._created(
            await self._call("POST", path, form=form, endpoint="documents"), f"upload {name}"
        )

    async def register(self, body: bytes) -> str:
        """Submit a grouped-device application; its id."""
        path = self._paths.register_grouped
        response = await self._call("POST", path, body=body, endpoint="register_grouped")
        return self._created(response, "registration")

    async def device_applications(self) -> list[DeviceApplication]:
        """The account's grouped-device applications, every page."""
        params = {"ItemsPerPage": str(self._page_size)}
        path = self._paths.applications
        return await self._pages("applications", path, device_applications_envelope, params)

    async def rec_applications(
        self, status: str | None = None, device_id: str | None = None
    ) -> list[RecApplication]:
        """The account's REC (issuance) applications, of one status or device if asked."""
        params = {"ItemsPerPage": str(self._page_size)}
        params |= ({"Status": status} if status else {}) | (
            {"DeviceIds": device_id} if device_id else {}
        )
        path = self._paths.rec_applications
        return await self._pages("rec_applications", path, rec_applications_envelope, params)

    async def request_issuance(self, request: IssuanceRequest) -> tuple[str, str | None]:
        """File a REC application for a grouped device's vintage: its id, and the registry's
        `Message` (a warning when part of the vintage is past the residual-mix deadline).
        Rejected (with the answer's status) when the registry refuses it."""
        body = string_encoder.encode(request)
        response = await self._call("POST", self._paths.issuance, body=body, endpoint="issuance")
        return self._created(response, "issuance request"), said(response.body)[0]

    def _created(self, response: RegistryResponse, what: str) -> str:
        answer = classify(response)
        if not isinstance(answer, Accepted):
            raise refusal(response, what)
        try:
            data = id_envelope.decode(answer.body).Data
        except msgspec.DecodeError as exc:
            raise RegistryError(f"{what}: unexpected answer: {exc}") from None
        if data is None:
            raise RegistryError(f"{what}: the registry answered {response.status} without an Id")
        return data.Id


def _where(exc: msgspec.DecodeError) -> str:
    """msgspec's "Expected `array`, got `object` - at `$.Data`" as "Data: expected ..."."""
    text, _, where = str(exc).partition(" - at `$")
    return f"{where.rstrip('`').lstrip('.') or 'the body'}: {text[:1].lower()}{text[1:]}"
