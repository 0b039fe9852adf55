"""The wire types: exact decimals, the registry's field names, tolerant envelopes."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from uploader.registry.wire import (
    BatchGenerationRequest,
    DailyData,
    Envelope,
    ErrorItem,
    InverterDailyData,
    LegacyGenerationRequest,
    MonthlyGenerationRequest,
    Token,
    TokenRequest,
    codec,
)

SEED_BATCH = (
    b'{"Devices":[{"RemoteInvId":"STR10000000338444","Data":[{"Timestamp":"2023-05-01",'
    b'"PeriodProductionInKWh":"0.123","AccumulatedEnergyInKWh":"5.123"},{"Timestamp":"2023-05-02",'
    b'"PeriodProductionInKWh":"0.234","AccumulatedEnergyInKWh":"5.357"}]}]}'
)
SEED_LEGACY = b"""{
  "Data": [
    {"Timestamp": "2023-05-01", "PeriodProductionInKWh": "0.1234",
     "AccumulatedPowerInKWh": "5.1234"},
    {"Timestamp": "2023-05-02", "PeriodProductionInKWh": "0.2345",
     "AccumulatedPowerInKWh": "5.3579"}
  ],
  "FrequencyType": "Daily",
  "RemoteInvId": "STR10000000338444"
}"""


def test_seed_batch_round_trips_byte_for_byte() -> None:
    """The batch page's example decodes and encodes back to the same bytes."""
    body = msgspec.json.decode(SEED_BATCH, type=BatchGenerationRequest)
    assert body.Devices[0].Data[1].AccumulatedEnergyInKWh == Decimal("5.357")
    assert codec.string_encoder.encode(body) == SEED_BATCH


def test_seed_legacy_body_decodes() -> None:
    """The legacy seed body, with its 4-decimal strings, decodes exactly."""
    body = msgspec.json.decode(SEED_LEGACY, type=LegacyGenerationRequest)
    assert body.remote_id == "STR10000000338444"
    assert body.Data[0].AccumulatedPowerInKWh == Decimal("5.1234")


def test_numbers_decode_exactly_without_float() -> None:
    """A JSON number such as 0.1 becomes Decimal('0.1'), not the float's expansion."""
    raw = (
        b'{"Timestamp":"2024-01-01","PeriodProductionInKWh":0.1,'
        b'"AccumulatedEnergyInKWh":12345678901.123}'
    )
    day = msgspec.json.decode(raw, type=DailyData)
    assert day.PeriodProductionInKWh == Decimal("0.1")
    assert day.AccumulatedEnergyInKWh == Decimal("12345678901.123")


def test_number_encoder_writes_numbers() -> None:
    """The "number" encoder writes decimals as JSON numbers with their exact digits."""
    day = DailyData(
        Timestamp=dt.date(2024, 1, 1),
        PeriodProductionInKWh=Decimal("1.100"),
        AccumulatedEnergyInKWh=Decimal("0.001"),
    )
    assert codec.number_encoder.encode(day) == (
        b'{"Timestamp":"2024-01-01","PeriodProductionInKWh":1.100,"AccumulatedEnergyInKWh":0.001}'
    )


def test_random_batches_round_trip(rand: random.Random) -> None:
    """Any batch of 3-decimal values survives encode and decode unchanged."""
    devices = [
        InverterDailyData(
            RemoteInvId=f"INV{i}",
            Data=[
                DailyData(
                    Timestamp=dt.date(2024, 1, 1) + dt.timedelta(days=d),
                    PeriodProductionInKWh=Decimal(rand.randrange(10**7)) / 1000,
                    AccumulatedEnergyInKWh=Decimal(rand.randrange(10**12)) / 1000,
                )
                for d in range(rand.randrange(1, 20))
            ],
        )
        for i in range(rand.randrange(1, 30))
    ]
    body = BatchGenerationRequest(Devices=devices)
    for encoder in (codec.string_encoder, codec.number_encoder):
        encoded = encoder.encode(body)
        assert msgspec.json.decode(encoded, type=BatchGenerationRequest) == body


@pytest.mark.parametrize(
    "errors",
    [
        b"null",
        b"[]",
        b'[{"Code":"X","Message":"m","Field":"Devices[0]"}]',
        b'["text"]',
        b'[{"code":1,"other":"shape"}]',
    ],
)
def test_envelope_tolerates_any_error_shape(errors: bytes) -> None:
    """Errors may be null, a list of objects of any shape, or strings."""
    raw = b'{"Data":null,"Meta":null,"Errors":' + errors + b',"StatusCode":400,"Message":"Bad"}'
    envelope = codec.any_envelope.decode(raw)
    assert envelope.StatusCode == 400
    assert envelope.Errors is None or isinstance(envelope.Errors, list)


def test_envelope_error_item_keeps_field_path() -> None:
    """An error item's Field path survives decoding."""
    raw = (
        b'{"Errors":[{"Code":"Range","Message":"negative","Field":"Devices[0].Data[3].Timestamp"}]}'
    )
    envelope: Envelope[Any] = codec.any_envelope.decode(raw)
    assert envelope.Errors == [
        ErrorItem(Code="Range", Message="negative", Field="Devices[0].Data[3].Timestamp")
    ]


def test_token_expires_in_as_string() -> None:
    """A token answer whose ExpiresIn is the string "3600" (the docs' example) is read as 3600 s."""
    raw = b'{"Data":{"AccessToken":"a","RefreshToken":"r","ExpiresIn":"3600","TokenType":"Bearer"}}'
    token = codec.token_envelope.decode(raw).Data
    assert isinstance(token, Token)
    assert token.expires_in_s == 3600


def test_secrets_stay_out_of_reprs() -> None:
    """Token and grant reprs never show the secret values."""
    grant = TokenRequest(ApiKey="k-secret", ClientId="cid", ClientSecret="c-secret")
    token = Token(AccessToken="a-secret", RefreshToken="r-secret")
    assert "secret" not in repr(grant).replace("ClientSecret", "")
    assert "secret" not in repr(token)


def test_monthly_body_with_null_months() -> None:
    """A monthly body keeps null months as None and exact values elsewhere."""
    raw = (
        b'{"RemoteInvId":"RM-INV02","Data":{"Year":2024,'
        b'"PeriodProductionPerMonthInKWh":{"Jan":321.111,"Dec":null}}}'
    )
    body = msgspec.json.decode(raw, type=MonthlyGenerationRequest)
    months = body.Data.PeriodProductionPerMonthInKWh
    assert months.Jan == Decimal("321.111")
    assert months.Dec is None
