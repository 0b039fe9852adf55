"""Fixed-window rate limits: 429 with Retry-After, both counting modes, both scopes, IP policy."""

from __future__ import annotations

import aiohttp

from uploader.simulator import ManualClock
from uploader.simulator.rates import RateSpec

from .helpers import Answer, Api, SimFactory, api_for
from .payloads import OTHER_TOKEN

BRANDS = "/metadata/inverter-brands"
QUERY = (
    "/generation-datas",
    {"FrequencyType": "Daily", "FromDate": "2024-01-01", "ToDate": "2024-01-02"},
)
DOCUMENTED_429 = {
    "Data": None,
    "Errors": None,
    "StatusCode": 429,
    "Message": "Rate limit exceeded",
    "Meta": None,
}


async def _limited(make_sim: SimFactory, session: aiohttp.ClientSession, **changes: object) -> Api:
    options = {"account_limit": RateSpec.parse("3/1s")} | changes
    return api_for(await make_sim(**options), session)


async def _brands(api: Api, times: int) -> list[int]:
    return [(await api.get(BRANDS)).status for _ in range(times)]


async def _bad(api: Api) -> Answer:
    """A request the registry refuses with 400 (ItemsPerPage out of range)."""
    return await api.get(BRANDS, params={"ItemsPerPage": 5})


async def test_fourth_success_in_a_window_is_429_with_retry_after(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """Past 3 successes in a 1 s window: 429, `Retry-After: 1` and the documented body."""
    api = await _limited(make_sim, session)
    assert await _brands(api, 3) == [200, 200, 200]
    answer = await api.get(BRANDS)
    assert answer.status == 429
    assert answer.headers["Retry-After"] == "1"
    assert answer.body == DOCUMENTED_429


async def test_window_resets_on_the_clock(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """The next window (1 s later) allows 3 more; 429s in between consumed no slot."""
    api = await _limited(make_sim, session)
    assert await _brands(api, 5) == [200, 200, 200, 429, 429]
    clock.advance(1.0)
    assert await _brands(api, 4) == [200, 200, 200, 429]


async def test_retry_after_counts_whole_seconds_to_the_reset(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """2.5 s into a 10 s window, Retry-After is 8 (7.5 s rounded up)."""
    api = await _limited(make_sim, session, account_limit=RateSpec.parse("1/10s"))
    clock.advance(2.5)
    await api.get(BRANDS)
    assert (await api.get(BRANDS)).headers["Retry-After"] == "8"


async def test_window_phase_shifts_the_reset(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """With a 4 s phase, windows of 10 s reset at :04, :14...: Retry-After is 4 at :00."""
    limit = RateSpec.parse("1/10s")
    api = await _limited(make_sim, session, account_limit=limit, window_phase_s=4.0)
    await api.get(BRANDS)
    assert (await api.get(BRANDS)).headers["Retry-After"] == "4"
    clock.advance(4.0)
    assert (await api.get(BRANDS)).status == 200


async def test_success_mode_does_not_count_refusals(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """Counting successes, five 400s leave all 3 slots of the window free."""
    api = await _limited(make_sim, session)
    assert [(await _bad(api)).status for _ in range(5)] == [400] * 5
    assert await _brands(api, 4) == [200, 200, 200, 429]


async def test_any_mode_counts_every_request(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """Counting any request, three 400s use the window up."""
    api = await _limited(make_sim, session, account_counts="any")
    assert [(await _bad(api)).status for _ in range(3)] == [400] * 3
    answer = await api.get(BRANDS)
    assert answer.status == 429
    assert answer.headers["Retry-After"] == "1"


async def test_shared_scope_counts_all_endpoints_together(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """By default one window covers all of an account's endpoints."""
    api = await _limited(make_sim, session)
    assert await _brands(api, 2) == [200, 200]
    path, params = QUERY
    assert (await api.get(path, params=params)).status == 200
    assert (await api.get(path, params=params)).status == 429


async def test_endpoint_scope_gives_each_endpoint_a_window(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """With account_scope=endpoint, a full brands window leaves the query endpoint free."""
    api = await _limited(make_sim, session, account_scope="endpoint")
    assert await _brands(api, 4) == [200, 200, 200, 429]
    path, params = QUERY
    assert [(await api.get(path, params=params)).status for _ in range(4)] == [200, 200, 200, 429]


async def test_accounts_have_their_own_windows(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """One account's full window does not limit another account."""
    api = await _limited(make_sim, session)
    assert await _brands(api, 4) == [200, 200, 200, 429]
    assert await _brands(api.as_token(OTHER_TOKEN), 3) == [200, 200, 200]


async def test_ip_policy_counts_every_request_of_every_account(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """The IP window counts 401s and token calls too, and then limits every account."""
    api = await _limited(make_sim, session, ip_limit=RateSpec.parse("4/1s"))
    assert (await api.as_token("nope").get(BRANDS)).status == 401
    assert (await api.as_token(None).post("/connect/token", json={})).status == 400
    assert await _brands(api, 2) == [200, 200]
    answer = await api.as_token(OTHER_TOKEN).get(BRANDS)
    assert (answer.status, answer.headers["Retry-After"]) == (429, "1")


async def test_hidden_phase_still_gives_a_valid_retry_after(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """With a random phase, Retry-After is a whole number of seconds within the window."""
    limit = RateSpec.parse("1/30s")
    api = await _limited(make_sim, session, account_limit=limit, window_phase_s=None)
    await api.get(BRANDS)
    answer = await api.get(BRANDS)
    assert answer.status == 429
    assert 1 <= int(answer.headers["Retry-After"]) <= 30


async def test_state_counts_429s(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    """`rate_limited` and the per-account counts show the 429s sent."""
    api = await _limited(make_sim, session)
    await _brands(api, 5)
    state = (await api.get("/_sim/state")).body
    assert state["rate_limited"] == 2
    assert state["requests"]["by_account"]["acme"] == {"200": 3, "429": 2}


async def test_variant_paths_share_their_endpoints_window(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """Per endpoint, `/statuses` and `/status` are one endpoint with one window."""
    api = await _limited(make_sim, session, account_scope="endpoint", account_counts="any")
    statuses = [
        (await api.get(path, params={"ProcessId": 1})).status
        for path in ("/generation-datas/statuses", "/generation-datas/status") * 2
    ]
    assert statuses == [404, 404, 404, 429]
