"""Registration's registry calls over real HTTP to the simulator: paging, retries, refusals."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from uploader.config import from_dict
from uploader.errors import RegistryError, Rejected
from uploader.registration.template import TEMPLATE
from uploader.registry.applications import RegistrationApi
from uploader.registry.client import RegistryClient
from uploader.registry.wire.codec import number_encoder
from uploader.simulator import FakeRegistry, SimOptions

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
async def sim() -> AsyncIterator[FakeRegistry]:
    """A simulator on 127.0.0.1:0 that knows account acme by its static token."""
    async with FakeRegistry(SimOptions(tokens={"acme": "tok-acme"})) as registry:
        yield registry


@pytest.fixture
async def client(sim: FakeRegistry) -> AsyncIterator[RegistryClient]:
    """The shared registry client (limiter, tokens), configured for the simulator."""
    settings = from_dict(
        {"registry": {"base_url": sim.url}, "accounts": [{"id": "acme", "token": "tok-acme"}]}
    )
    async with RegistryClient.from_settings(settings) as registry_client:
        yield registry_client


def _api(client: RegistryClient, page_size: int = 100) -> RegistrationApi:
    return RegistrationApi(client, from_dict({}).registry.paths, "acme", page_size=page_size)


def _requests(sim: FakeRegistry) -> int:
    total: int = sim.state(summary=True)["requests"]["total"]
    return total


async def test_brands_are_read_page_by_page(sim: FakeRegistry, client: RegistryClient) -> None:
    """With 10 brands a page, every page is read and the list equals the one-page list."""
    whole = await _api(client).brands()
    assert _requests(sim) == 1
    paged = await _api(client, page_size=10).brands()
    assert paged == whole
    assert _requests(sim) == 1 + -(-len(whole) // 10)
    assert len(whole) > 10


async def test_brand_codes_are_fetched_once_per_run(
    sim: FakeRegistry, client: RegistryClient
) -> None:
    """Asking the same API for the brand codes twice reads the list once."""
    api = _api(client)
    first = await api.brand_codes()
    assert await api.brand_codes() is first
    assert "HW21" in first
    assert _requests(sim) == 1


async def test_a_429_is_retried(sim: FakeRegistry, client: RegistryClient) -> None:
    """A scripted 429 on the brand list is followed by a retry that succeeds."""
    sim.script("acme", [429], retry_after_s=0)
    assert await _api(client).brands("HW21") != []
    assert sim.state(summary=True)["requests"]["by_status"] == {"429": 1, "200": 1}


async def test_a_failed_registration_post_is_not_sent_twice(
    sim: FakeRegistry, client: RegistryClient
) -> None:
    """A 503 on the registration POST is reported, not retried: it may have been processed."""
    sim.script("acme", [503])
    with pytest.raises(RegistryError) as caught:
        await _api(client).register(b"{}")
    assert caught.value.status == 503
    assert _requests(sim) == 1


async def test_registry_errors_become_field_lines(
    sim: FakeRegistry, client: RegistryClient
) -> None:
    """A 400/422 answer becomes Rejected, each registry error as `Field.Path: message`."""
    payload: dict[str, Any] = json.loads(TEMPLATE)
    payload["Devices"][0]["DeclarationFormFileId"] = "not-a-uuid"
    with pytest.raises(Rejected) as caught:
        await _api(client).register(number_encoder.encode(payload))
    assert caught.value.status == 400
    assert (
        "Devices[0].DeclarationFormFileId: must be a UUID, not 'not-a-uuid'" in caught.value.errors
    )


async def test_upload_then_register_then_list_devices(client: RegistryClient) -> None:
    """An uploaded ODF's id registers the template, whose devices then list back."""
    api = _api(client)
    file_id = await api.upload("device-1.pdf", PDF)
    payload: dict[str, Any] = json.loads(TEMPLATE)
    payload["Devices"][0]["DeclarationFormFileId"] = file_id
    del payload["Devices"][0]["DeclarationFormFile"]
    application = await api.register(number_encoder.encode(payload))
    devices = await api.devices(application)
    assert [d.DeclarationFormFileId for d in devices] == [file_id]
    assert [i.RemoteInvId for i in devices[0].Inverters] == [
        "RM1000020003386274014",
        "RM1000020003386274015",
        "RM1000020003386274016",
    ]
