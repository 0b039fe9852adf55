"""A small HTTP helper that speaks to a simulator through a real aiohttp session."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from uploader.simulator import FakeRegistry

from .payloads import ACME_TOKEN, registration

PREFIX = "/public/v2"
REGISTER = "/device-applications/i-rec/grouped"
SimFactory = Callable[..., Awaitable[FakeRegistry]]


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, decoded JSON body (None if not JSON) and headers."""

    status: int
    body: Any
    headers: CIMultiDictProxy[str]

    @property
    def fields(self) -> list[str]:
        """The `Field` of every error item."""
        return [e["Field"] for e in self.body["Errors"] or []]

    @property
    def codes(self) -> list[str]:
        """The `Code` of every error item."""
        return [e["Code"] for e in self.body["Errors"] or []]


@dataclass(frozen=True)
class Api:
    """Requests to one simulator as one bearer token (paths are relative to /public/v2)."""

    session: aiohttp.ClientSession
    base: str
    token: str | None

    def as_token(self, token: str | None) -> Api:
        """The same helper with another Authorization header (None: none at all)."""
        return Api(self.session, self.base, token)

    async def call(self, method: str, path: str, **kw: Any) -> Answer:
        """Send one request; `path` starting with "/_sim" is not prefixed."""
        url = self.base + (path if path.startswith("/_sim") else PREFIX + path)
        headers = dict(kw.pop("headers", {}))
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        async with self.session.request(method, url, headers=headers, **kw) as response:
            raw = await response.read()
            body = await response.json() if response.content_type == "application/json" else raw
            return Answer(response.status, body, response.headers)

    async def post(self, path: str, **kw: Any) -> Answer:
        """POST (pass json=, data= or headers=)."""
        return await self.call("POST", path, **kw)

    async def get(self, path: str, **kw: Any) -> Answer:
        """GET (pass params=)."""
        return await self.call("GET", path, **kw)


def api_for(sim: FakeRegistry, session: aiohttp.ClientSession, token: str = ACME_TOKEN) -> Api:
    """Requests to another simulator (one made with `make_sim`)."""
    return Api(session, sim.url, token)


async def file_id(api: Api) -> str:
    """Upload an ODF and return its id."""
    form = aiohttp.FormData()
    pdf = io.BytesIO(b"%PDF-1.4\n")
    form.add_field("File", pdf, filename="odf.pdf", content_type="application/pdf")
    answer = await api.post("/documents/devices", data=form)
    assert answer.status == 201
    uploaded: str = answer.body["Data"]["Id"]
    return uploaded


async def registered(api: Api) -> str:
    """Register the seed's payload (its inverter RM1000020003386274014); the application id."""
    answer = await api.post(REGISTER, json=registration(await file_id(api)))
    assert answer.status == 201, answer.body
    app_id: str = answer.body["Data"]["Id"]
    return app_id
