"""Authentication: static tokens, the api-key grant, refresh, expiry, 401 and 403."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from uploader.simulator import Credentials, ManualClock

from .helpers import Answer, Api, SimFactory, api_for
from .payloads import ACME, SEED_BATCH

BRANDS = "/metadata/inverter-brands"
CREDS = Credentials(api_key="key-acme", client_id="client-1", client_secret="secret-1")
GRANT = {
    "ApiKey": "key-acme",
    "GrantType": "api_key",
    "ClientId": "client-1",
    "ClientSecret": "secret-1",
}


async def _granted(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> tuple[Api, dict[str, Any]]:
    sim = await make_sim(credentials={ACME: CREDS}, token_ttl_s=60.0)
    anonymous = api_for(sim, session).as_token(None)
    answer = await anonymous.post("/connect/token", json=GRANT)
    assert answer.status == 200, answer.body
    token: dict[str, Any] = answer.body["Data"]
    return anonymous, token


async def test_api_key_grant_gives_a_token_that_works(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """The api-key grant answers a Bearer AccessToken, RefreshToken and ExpiresIn that work."""
    anonymous, token = await _granted(make_sim, session)
    assert token["TokenType"] == "Bearer"
    assert token["ExpiresIn"] == 60
    assert token["RefreshToken"]
    answer = await anonymous.as_token(token["AccessToken"]).get(BRANDS)
    assert answer.status == 200


async def test_expired_access_token_is_401_and_refresh_gives_a_new_one(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """After token_ttl_s the access token is a 401; the refresh grant gives one that works."""
    anonymous, token = await _granted(make_sim, session)
    clock.advance(61)
    expired = await anonymous.as_token(token["AccessToken"]).get(BRANDS)
    assert expired.status == 401
    assert expired.body["Message"] == "The token is invalid"
    refresh = {"RefreshToken": token["RefreshToken"], "GrantType": "refresh_token",
               "ClientId": "client-1", "ClientSecret": "secret-1"}  # fmt: skip
    renewed = await anonymous.post("/connect/token/refresh", json=refresh)
    assert renewed.status == 200
    fresh = renewed.body["Data"]["AccessToken"]
    assert fresh != token["AccessToken"]
    assert (await anonymous.as_token(fresh).get(BRANDS)).status == 200


async def test_refresh_token_expires_after_30_days(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A refresh token older than 30 days is refused with 401."""
    anonymous, token = await _granted(make_sim, session)
    clock.advance(30 * 86400 + 1)
    refresh = {"RefreshToken": token["RefreshToken"], "GrantType": "refresh_token",
               "ClientId": "client-1", "ClientSecret": "secret-1"}  # fmt: skip
    answer = await anonymous.post("/connect/token/refresh", json=refresh)
    assert answer.status == 401
    assert answer.fields == ["RefreshToken"]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"ClientSecret": "nope"}, "ClientSecret"), ({"ClientId": "nope"}, "ClientId"),
     ({"ApiKey": "nope"}, "ApiKey")],
)  # fmt: skip
async def test_a_refused_grant_names_the_wrong_part_only(
    make_sim: SimFactory, session: aiohttp.ClientSession, change: dict[str, str], field: str
) -> None:
    """A wrong client secret or id is a 401 naming it, not the ApiKey; issues nothing."""
    answer = await _grant(make_sim, session, **change)
    assert answer.status == 401
    assert answer.body["Data"] is None
    assert answer.fields == [field]
    assert (field == "ApiKey") == ("API key" in answer.body["Errors"][0]["Message"])


async def test_a_refresh_with_a_wrong_client_secret_names_the_secret(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """The refresh grant with a valid refresh token but a wrong secret blames ClientSecret."""
    anonymous, token = await _granted(make_sim, session)
    refresh = {"RefreshToken": token["RefreshToken"], "GrantType": "refresh_token",
               "ClientId": "client-1", "ClientSecret": "nope"}  # fmt: skip
    answer = await anonymous.post("/connect/token/refresh", json=refresh)
    assert (answer.status, answer.fields) == (401, ["ClientSecret"])


async def test_grant_with_wrong_grant_type_is_400(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """A token request whose GrantType is not api_key is a 400 naming GrantType."""
    answer = await _grant(make_sim, session, GrantType="password")
    assert answer.status == 400
    assert answer.fields == ["GrantType"]


async def _grant(make_sim: SimFactory, session: aiohttp.ClientSession, **change: str) -> Answer:
    """The api-key grant with `change` applied, against a simulator knowing the credentials."""
    sim = await make_sim(credentials={ACME: CREDS})
    return await api_for(sim, session).as_token(None).post("/connect/token", json=GRANT | change)


async def test_missing_and_unknown_tokens_are_401(api: Api) -> None:
    """No Authorization header, or an unknown token, answers 401 "The token is invalid"."""
    for answer in (await api.as_token(None).get(BRANDS), await api.as_token("nope").get(BRANDS)):
        assert answer.status == 401
        assert answer.body["Message"] == "The token is invalid"
        assert answer.body["StatusCode"] == 401


async def test_a_bare_token_is_401_by_default(api: Api) -> None:
    """`Authorization: tok-acme` without `Bearer` is refused unless bare tokens are configured."""
    answer = await api.as_token(None).get(BRANDS, headers={"Authorization": "tok-acme"})
    assert answer.status == 401
    assert answer.body["Message"] == "The token is invalid"


async def test_the_seeds_bare_token_header_is_accepted_when_configured(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """With bare_token, the seed's `Authorization: {{token}}` works like `Bearer {{token}}`."""
    sim = await make_sim(bare_token=True)
    anonymous = api_for(sim, session).as_token(None)
    for header in ("tok-acme", "Bearer tok-acme", "bearer tok-acme"):
        answer = await anonymous.get(BRANDS, headers={"Authorization": header})
        assert answer.status == 200, header
    other_scheme = await anonymous.get(BRANDS, headers={"Authorization": "Basic tok-acme"})
    assert other_scheme.status == 401


async def test_open_auth_takes_any_token_as_the_account(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """With no tokens and no credentials configured, the bearer token is the account id."""
    sim = await make_sim(tokens={}, open_inverters=True)
    answer = await api_for(sim, session, token="solar-co").post(
        "/generation-datas/batches", json=SEED_BATCH
    )
    assert answer.status == 200
    assert "solar-co" in sim.state()["accounts"]


async def test_forbidden_account_is_403_and_stores_nothing(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """An account listed in `forbid` gets 403 and nothing it sends is stored."""
    sim = await make_sim(forbid=frozenset({ACME}), open_inverters=True)
    answer = await api_for(sim, session).post("/generation-datas/batches", json=SEED_BATCH)
    assert answer.status == 403
    assert sim.state()["records_accepted"] == 0
