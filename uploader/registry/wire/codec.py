"""Encoders and decoders, built once at import time (msgspec's perf advice)."""

from __future__ import annotations

from typing import Any

import msgspec

from uploader.registry.wire.applications import DeviceApplication, RecApplication
from uploader.registry.wire.auth import Token
from uploader.registry.wire.envelope import Envelope, IdData
from uploader.registry.wire.generation import Brand, GenerationDay, ProcessIdData, ProcessStatus
from uploader.registry.wire.registration import DeviceWithInverters

# The registry's examples quote every number; "number" is the documented type. Both exist.
string_encoder = msgspec.json.Encoder(decimal_format="string")
number_encoder = msgspec.json.Encoder(decimal_format="number")

any_envelope = msgspec.json.Decoder(Envelope[Any])
object_envelope = msgspec.json.Decoder(Envelope[dict[str, Any]])
process_id_envelope = msgspec.json.Decoder(Envelope[ProcessIdData])
process_status_envelope = msgspec.json.Decoder(Envelope[ProcessStatus])
token_envelope = msgspec.json.Decoder(Envelope[Token])
id_envelope = msgspec.json.Decoder(Envelope[IdData])
brands_envelope = msgspec.json.Decoder(Envelope[list[Brand]])
generation_days_envelope = msgspec.json.Decoder(Envelope[list[GenerationDay]])
devices_envelope = msgspec.json.Decoder(Envelope[list[DeviceWithInverters]])
device_applications_envelope = msgspec.json.Decoder(Envelope[list[DeviceApplication]])
rec_applications_envelope = msgspec.json.Decoder(Envelope[list[RecApplication]])
