"""Ingestion by site device bridges: batches of weigh records and device heartbeats (R2)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.schema.name_converter import NameConverter
from strawberry.types.arguments import InputContext
from strawberry.types.base import get_object_definition

from coalhub.identifiers import PlateColour
from coalhub.models import DeviceKind, DeviceStatus, WeighDirection
from resolvers import device_status
from resolvers import ingest as r
from resolvers.ingest_checks import IngestOutcome, IngestStatus
from schema.base import Info

strawberry.enum(
    IngestStatus,
    description="ACCEPTED: stored now; DUPLICATE: stored before under the same key (a "
    "harmless redelivery); REJECTED: not stored, see reason and field",
)


@strawberry.input(description="One completed weighing (tare and gross) from a site's bridge")
class WeighRecordInput:
    idempotency_key: str = strawberry.field(
        description="The bridge's record UUID: a redelivery under the same key stores nothing"
    )
    ticket_no: str
    site_id: relay.GlobalID
    direction: WeighDirection
    plate: str = strawberry.field(description="The plate as the gate camera read it")
    plate_colour: PlateColour
    product_code: str
    gross_kg: int
    gross_at: datetime
    tare_kg: int
    tare_at: datetime
    shipper_uscc: str
    consignee_uscc: str
    device_code: str | None = strawberry.field(default=None, description="The indicator")
    contract_number: str | None = None
    booking_id: relay.GlobalID | None = None
    unit_price: Decimal | None = strawberry.field(default=None, description="Yuan per tonne")
    evidence: JSON | None = strawberry.field(
        default=None,
        description="Raw indicator frames of the stable windows (hex), image hashes, timings",
    )


def _record_from_input(
    cls: type[WeighRecordInput], value: Mapping[str, Any], context: InputContext
) -> WeighRecordInput:
    """Build the input from GraphQL's coerced value directly.

    A full batch is 500 records of 18 fields, and strawberry's generic conversion
    resolves every field's type for every record: about a third of the request's time.
    The coerced values need nothing more (scalars are parsed, enums are members) but the
    ids, parsed here so that a malformed one rejects its record, not the whole batch."""
    fields = {_PYTHON_NAMES[name]: item for name, item in value.items()}
    fields["site_id"] = _global_id(fields["site_id"])
    fields["booking_id"] = _global_id(fields.get("booking_id"))
    return cls(**fields)


def _global_id(text: object) -> relay.GlobalID | None:
    if text is None or isinstance(text, relay.GlobalID):
        return text
    try:
        return relay.GlobalID.from_id(str(text))
    except relay.GlobalIDValueError:
        return relay.GlobalID("", "")  # names no type: refused as "wrong_type"


_RECORD_DEFINITION = get_object_definition(WeighRecordInput, strict=True)
_PYTHON_NAMES = {
    NameConverter().get_graphql_name(field): field.python_name
    for field in _RECORD_DEFINITION.fields
}
_RECORD_DEFINITION.from_input = _record_from_input


# Results carry ids, not the stored objects: a field the caller may not read would be an
# error, and any error rolls the whole mutation back, acknowledgements included.
@strawberry.type(description="What became of one item of an ingestion batch")
class IngestResult:
    index: int = strawberry.field(description="Position of the item in the batch")
    key: str = strawberry.field(description="The item's idempotency key or device code")
    status: IngestStatus
    field: str | None = strawberry.field(description="The rejected input field")
    reason: str | None = strawberry.field(description="Stable code of the rejection")
    message: str | None


@strawberry.type(description="What became of one weigh record of the batch")
class WeighRecordResult(IngestResult):
    # a plain value, not a resolver: a full batch has 500 of them
    weigh_record_id: relay.GlobalID | None = strawberry.field(
        description="The stored record's id (ACCEPTED or DUPLICATE)"
    )


@strawberry.type(description="One result per weigh record, in the order sent")
class IngestWeighRecordsPayload:
    results: list[WeighRecordResult]


@strawberry.input(description="The state of one device at the site, as its bridge sees it")
class DeviceStatusInput:
    site_id: relay.GlobalID
    device_code: str
    status: DeviceStatus
    protocol: str = strawberry.field(description="e.g. yaohua_a9, toledo, modbus_tcp, bridge")
    kind: DeviceKind = DeviceKind.INDICATOR
    model: str | None = None
    reported_at: datetime | None = strawberry.field(default=None, description="Bridge clock")
    state: JSON | None = strawberry.field(
        default=None, description="Counters, last reading, outbox backlog: kept as lastState"
    )


@strawberry.type(description="What became of one device report")
class DeviceStatusResult(IngestResult):
    device_id: relay.GlobalID | None = strawberry.field(description="The device's id")


@strawberry.type(description="One result per device report, in the order sent")
class ReportDeviceStatusPayload:
    results: list[DeviceStatusResult]


def local_id(value: relay.GlobalID | None, type_name: str) -> int | None:
    """The row id inside a global id of the expected type; None for anything else."""
    if value is None or value.type_name != type_name or not value.node_id.isdigit():
        return None
    return int(value.node_id)


async def ingest_weigh_records(
    info: Info, records: list[WeighRecordInput]
) -> IngestWeighRecordsPayload:
    fields = [
        r.WeighRecordFields(
            **vars(record)
            | {
                "site_id": local_id(record.site_id, "Site"),
                "booking_id": _booking_id(record.booking_id),
            }
        )
        for record in records
    ]
    outcomes = await r.ingest_weigh_records(info.context, fields)
    results = [
        WeighRecordResult(**_result_fields(o), weigh_record_id=_result_id("WeighRecord", o))
        for o in outcomes
    ]
    return IngestWeighRecordsPayload(results=results)


def _booking_id(value: relay.GlobalID | None) -> int | None:
    if value is None:
        return None
    return local_id(value, "Booking") or -1  # -1: rejected as "not a Booking id"


async def report_device_status(
    info: Info, reports: list[DeviceStatusInput]
) -> ReportDeviceStatusPayload:
    fields = [
        device_status.DeviceStatusFields(
            **vars(report) | {"site_id": local_id(report.site_id, "Site")}
        )
        for report in reports
    ]
    outcomes = await device_status.report_device_status(info.context, fields)
    results = [
        DeviceStatusResult(**_result_fields(o), device_id=_result_id("Device", o)) for o in outcomes
    ]
    return ReportDeviceStatusPayload(results=results)


def _result_fields(outcome: IngestOutcome) -> dict[str, Any]:
    return {
        "index": outcome.index,
        "key": outcome.key,
        "status": outcome.status,
        "field": outcome.field,
        "reason": outcome.reason,
        "message": outcome.message,
    }


def _result_id(type_name: str, outcome: IngestOutcome) -> relay.GlobalID | None:
    return None if outcome.row_id is None else relay.GlobalID(type_name, str(outcome.row_id))
