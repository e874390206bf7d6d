"""warroom's converter writes exactly the SDK pydantic converter's bytes, and reads them back, so histories
written before it replay; and its type adapters are built once per process, not once per workflow."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.contrib.pydantic import pydantic_data_converter

from workers.data_converter import WarroomPayloadConverter, data_converter
from workflows.messages.alerts import Alert, IncidentInput

ALERT = Alert(source="bench", dedup_key="k", service="checkout", summary="<b>5xx</b>", severity_hint="critical",
              event_id="e-1", starts_at=datetime(2026, 12, 1, tzinfo=UTC))  # fmt: skip


def test_the_same_bytes_as_the_sdk_pydantic_converter_both_ways() -> None:
    values = [ALERT, IncidentInput(incident_key="k", alerts=[ALERT]), {"by": "bob"}, None, b"raw", 3]
    ours = data_converter.payload_converter.to_payloads(values)
    sdk = pydantic_data_converter.payload_converter.to_payloads(values)
    assert [(p.metadata, p.data) for p in ours] == [(p.metadata, p.data) for p in sdk]
    types = [Alert, IncidentInput, dict, type(None), bytes, int]
    assert data_converter.payload_converter.from_payloads(sdk, types) == values


def test_type_adapters_are_shared_between_converter_instances() -> None:
    payload = data_converter.payload_converter.to_payloads([ALERT])
    first, second = WarroomPayloadConverter(), WarroomPayloadConverter()
    assert first.from_payloads(payload, [Alert]) == [ALERT]
    built = second.converters[b"json/plain"]._type_adapter.cache_info().currsize  # type: ignore[attr-defined]
    assert second.from_payloads(payload, [Alert]) == [ALERT]
    after = second.converters[b"json/plain"]._type_adapter.cache_info()  # type: ignore[attr-defined]
    assert after.currsize == built and after.hits >= 1
