"""The declared map from GraphQL types and fields to tables, columns and joins.

Both read paths use it: the strawberry executor (resolvers/) selects these columns and follows
these joins through DataLoaders, and the policy layer reads each field's secrecy level and
each entity's route to its district and enterprise. Nothing about tables lives in resolvers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, Table

from coalhub import models as m
from coalhub.secrecy import Mask, Secrecy

PUBLIC, INTERNAL, CONFIDENTIAL = Secrecy.PUBLIC, Secrecy.INTERNAL, Secrecy.CONFIDENTIAL


@dataclass(frozen=True)
class Column:
    """One scalar field: the column it reads, its secrecy level, and its mask if personal."""

    column: str
    secrecy: Secrecy = PUBLIC
    mask: Mask | None = None


@dataclass(frozen=True)
class Relation:
    """A field that follows a foreign key. `one`: this row's `local` column holds the target's
    `remote` key. `many`: target rows whose `remote` column equals this row's `local`."""

    target: str
    kind: Literal["one", "many"]
    local: str
    remote: str = "id"


@dataclass(frozen=True)
class Ordering:
    """Keyset ordering: the column, then the primary key as tie-breaker, same direction."""

    column: str = "id"
    descending: bool = False


FilterOp = Literal["eq", "in", "gte", "lt", "contains"]


@dataclass(frozen=True)
class Filter:
    """A filter argument: rows match when any path's end column compares true.

    A path follows relation names and ends in a column name (of the last entity reached)."""

    paths: tuple[tuple[str, ...], ...]
    op: FilterOp = "eq"


def _f(*path: str, op: FilterOp = "eq") -> Filter:
    return Filter((path,), op)


def _time_range(column: str) -> dict[str, Filter]:
    return {"since": _f(column, op="gte"), "until": _f(column, op="lt")}


@dataclass(frozen=True)
class Entity:
    name: str  # GraphQL type name
    model: type[m.Base]
    secrecy: Secrecy
    columns: Mapping[str, Column]  # python attribute name -> column
    relations: Mapping[str, Relation] = field(default_factory=dict)
    filters: Mapping[str, Filter] = field(default_factory=dict)
    ordering: Ordering = Ordering()
    # reference data (districts, products, checkpoints) is the same for every domain
    reference: bool = False
    # how a row reaches its policy domains: relation paths ending in the district code and
    # in an enterprise id
    district_path: tuple[str, ...] = ()
    enterprise_paths: tuple[tuple[str, ...], ...] = ()

    @property
    def table(self) -> Table:
        return self.model.__table__  # type: ignore[return-value]

    def sql(self, attribute: str) -> ColumnElement[object]:
        return self.column_sql(self.columns[attribute].column)

    def column_sql(self, column: str) -> ColumnElement[object]:
        # mapper columns include computed ones such as WeighRecord.net_kg
        expression: ColumnElement[object] = self.model.__mapper__.columns[column]
        return expression


def _cols(secrecy: Secrecy, *names: str) -> dict[str, Column]:
    return {name: Column(name, secrecy) for name in names}


def _fk(*names: str) -> dict[str, Column]:
    """Foreign keys the executor needs to follow relations; never exposed as fields."""
    return {name: Column(name, PUBLIC) for name in names}


ENTITIES: dict[str, Entity] = {}


def _register(entity: Entity) -> Entity:
    ENTITIES[entity.name] = entity
    return entity


DISTRICT = _register(
    Entity(
        "District",
        m.District,
        PUBLIC,
        _cols(PUBLIC, "id", "code", "name", "name_en"),
        relations={"enterprises": Relation("Enterprise", "many", "id", "district_id")},
        district_path=("code",),
        reference=True,
    )
)

ENTERPRISE = _register(
    Entity(
        "Enterprise",
        m.Enterprise,
        PUBLIC,
        {
            **_cols(PUBLIC, "id", "uscc", "name", "kind", "address", "latitude", "longitude"),
            **_cols(PUBLIC, "registration_status", "created_at"),
            "annual_capacity_t": Column("annual_capacity_t", INTERNAL),
            "legal_representative": Column("legal_representative", CONFIDENTIAL, Mask.NAME),
            "contact_phone": Column("contact_phone", CONFIDENTIAL, Mask.PHONE),
            **_fk("district_id"),
        },
        relations={
            "district": Relation("District", "one", "district_id"),
            "sites": Relation("Site", "many", "id", "enterprise_id"),
            "vehicles": Relation("Vehicle", "many", "id", "owner_enterprise_id"),
            "outbound_weigh_records": Relation("WeighRecord", "many", "id", "shipper_id"),
            "inbound_weigh_records": Relation("WeighRecord", "many", "id", "consignee_id"),
            "quality_samples": Relation("QualitySample", "many", "id", "enterprise_id"),
        },
        filters={
            "district_code": _f("district", "code"),
            "kind": _f("kind", op="in"),
            "uscc": _f("uscc"),
            "name_contains": _f("name", op="contains"),
            "registration_status": _f("registration_status", op="in"),
        },
        district_path=("district", "code"),
        enterprise_paths=(("id",),),
    )
)

SITE = _register(
    Entity(
        "Site",
        m.Site,
        PUBLIC,
        {
            **_cols(PUBLIC, "id", "code", "name", "kind", "latitude", "longitude"),
            **_cols(INTERNAL, "geofence", "capacity_kg", "last_seen_at"),
            **_fk("enterprise_id"),
        },
        relations={
            "enterprise": Relation("Enterprise", "one", "enterprise_id"),
            "devices": Relation("Device", "many", "id", "site_id"),
            "weigh_records": Relation("WeighRecord", "many", "id", "site_id"),
        },
        filters={
            "enterprise_id": _f("enterprise_id"),
            "district_code": _f("enterprise", "district", "code"),
            "kind": _f("kind", op="in"),
        },
        district_path=("enterprise", "district", "code"),
        enterprise_paths=(("enterprise_id",),),
    )
)

DEVICE = _register(
    Entity(
        "Device",
        m.Device,
        INTERNAL,
        {
            **_cols(INTERNAL, "id", "code", "kind", "protocol", "model", "status"),
            **_cols(INTERNAL, "last_heartbeat_at", "last_state"),
            **_fk("site_id"),
        },
        relations={"site": Relation("Site", "one", "site_id")},
        filters={"site_id": _f("site_id"), "kind": _f("kind", op="in")},
        district_path=("site", "enterprise", "district", "code"),
        enterprise_paths=(("site", "enterprise_id"),),
    )
)

VEHICLE = _register(
    Entity(
        "Vehicle",
        m.Vehicle,
        PUBLIC,
        {
            **_cols(PUBLIC, "id", "plate", "plate_colour", "status", "axles", "suspension"),
            **_cols(PUBLIC, "energy_type", "rated_payload_kg", "curb_weight_kg", "is_combination"),
            **_cols(PUBLIC, "tractor_single_drive_axle"),
            "transport_certificate": Column("transport_certificate", INTERNAL),
            **_fk("owner_enterprise_id"),
        },
        relations={
            "owner": Relation("Enterprise", "one", "owner_enterprise_id"),
            "weigh_records": Relation("WeighRecord", "many", "id", "vehicle_id"),
            "trajectory": Relation("TrajectoryPoint", "many", "id", "vehicle_id"),
            "checkpoint_passes": Relation("CheckpointPass", "many", "id", "vehicle_id"),
        },
        filters={
            "plate": _f("plate"),
            "plate_colour": _f("plate_colour", op="in"),
            "energy_type": _f("energy_type", op="in"),
            "status": _f("status", op="in"),
            "owner_enterprise_id": _f("owner_enterprise_id"),
            "district_code": _f("owner", "district", "code"),
        },
        # vehicles are registered city-wide; a district sees those its enterprises own
        district_path=("owner", "district", "code"),
        enterprise_paths=(("owner_enterprise_id",),),
    )
)

DRIVER = _register(
    Entity(
        "Driver",
        m.Driver,
        INTERNAL,
        {
            **_cols(INTERNAL, "id", "licence_class"),
            # in practice the certificate number is the holder's ID number
            "qualification_certificate": Column(
                "qualification_certificate", CONFIDENTIAL, Mask.ID_NUMBER
            ),
            "name": Column("name", CONFIDENTIAL, Mask.NAME),
            "id_number": Column("id_number", CONFIDENTIAL, Mask.ID_NUMBER),
            "phone": Column("phone", CONFIDENTIAL, Mask.PHONE),
            **_fk("employer_id"),
        },
        relations={"employer": Relation("Enterprise", "one", "employer_id")},
        filters={"employer_id": _f("employer_id")},
        district_path=("employer", "district", "code"),
        enterprise_paths=(("employer_id",),),
    )
)

PRODUCT = _register(
    Entity(
        "CoalProduct",
        m.CoalProduct,
        PUBLIC,
        _cols(PUBLIC, "id", "code", "name", "name_en", "category", "rank"),
        reference=True,
    )
)

CONTRACT = _register(
    Entity(
        "Contract",
        m.Contract,
        INTERNAL,
        {
            **_cols(INTERNAL, "id", "number", "quantity_t", "period_start", "period_end"),
            **_cols(INTERNAL, "guaranteed_supply", "status"),
            "unit_price": Column("unit_price", CONFIDENTIAL),
            **_fk("seller_id", "buyer_id", "product_id"),
        },
        relations={
            "seller": Relation("Enterprise", "one", "seller_id"),
            "buyer": Relation("Enterprise", "one", "buyer_id"),
            "product": Relation("CoalProduct", "one", "product_id"),
            "weigh_records": Relation("WeighRecord", "many", "id", "contract_id"),
        },
        filters={
            "enterprise_id": Filter((("seller_id",), ("buyer_id",))),
            "seller_id": _f("seller_id"),
            "buyer_id": _f("buyer_id"),
            "product_code": _f("product", "code"),
            "guaranteed_supply": _f("guaranteed_supply"),
            "status": _f("status", op="in"),
            "district_code": _f("seller", "district", "code"),
        },
        ordering=Ordering("period_start", descending=True),
        district_path=("seller", "district", "code"),
        enterprise_paths=(("seller_id",), ("buyer_id",)),
    )
)

WEIGH_RECORD = _register(
    Entity(
        "WeighRecord",
        m.WeighRecord,
        INTERNAL,
        {
            **_cols(INTERNAL, "id", "ticket_no", "direction", "plate_read", "gross_kg", "tare_kg"),
            **_cols(
                INTERNAL, "net_kg", "gross_at", "tare_at", "weighed_at", "source", "received_at"
            ),
            "unit_price": Column("unit_price", CONFIDENTIAL),
            "evidence": Column("evidence", CONFIDENTIAL),
            **_fk("site_id", "device_id", "contract_id", "vehicle_id", "driver_id"),
            **_fk("product_id", "shipper_id", "consignee_id"),
        },
        relations={
            "site": Relation("Site", "one", "site_id"),
            "device": Relation("Device", "one", "device_id"),
            "contract": Relation("Contract", "one", "contract_id"),
            "vehicle": Relation("Vehicle", "one", "vehicle_id"),
            "driver": Relation("Driver", "one", "driver_id"),
            "product": Relation("CoalProduct", "one", "product_id"),
            "shipper": Relation("Enterprise", "one", "shipper_id"),
            "consignee": Relation("Enterprise", "one", "consignee_id"),
        },
        filters={
            "district_code": _f("site", "enterprise", "district", "code"),
            "enterprise_id": Filter((("shipper_id",), ("consignee_id",))),
            "shipper_id": _f("shipper_id"),
            "consignee_id": _f("consignee_id"),
            "site_id": _f("site_id"),
            "vehicle_id": _f("vehicle_id"),
            "plate": _f("vehicle", "plate"),
            "product_code": _f("product", "code"),
            "direction": _f("direction", op="in"),
            "contract_id": _f("contract_id"),
            **_time_range("weighed_at"),
        },
        ordering=Ordering("weighed_at", descending=True),
        district_path=("site", "enterprise", "district", "code"),
        enterprise_paths=(("shipper_id",), ("consignee_id",)),
    )
)

SHIPMENT = _register(
    Entity(
        "Shipment",
        m.Shipment,
        INTERNAL,
        {
            **_cols(INTERNAL, "id", "matched_at"),
            **_fk("origin_weigh_record_id", "destination_weigh_record_id"),
            **_fk("exit_checkpoint_pass_id"),
        },
        relations={
            "origin": Relation("WeighRecord", "one", "origin_weigh_record_id"),
            "destination": Relation("WeighRecord", "one", "destination_weigh_record_id"),
            "exit_pass": Relation("CheckpointPass", "one", "exit_checkpoint_pass_id"),
        },
        filters={
            "district_code": _f("origin", "site", "enterprise", "district", "code"),
            "shipper_id": _f("origin", "shipper_id"),
            "consignee_id": _f("origin", "consignee_id"),
            "vehicle_id": _f("origin", "vehicle_id"),
            "plate": _f("origin", "vehicle", "plate"),
            "product_code": _f("origin", "product", "code"),
            "since": _f("origin", "weighed_at", op="gte"),
            "until": _f("origin", "weighed_at", op="lt"),
        },
        ordering=Ordering("id", descending=True),
        district_path=("origin", "site", "enterprise", "district", "code"),
        enterprise_paths=(("origin", "shipper_id"), ("origin", "consignee_id")),
    )
)

TRAJECTORY_POINT = _register(
    Entity(
        "TrajectoryPoint",
        m.TrajectoryPoint,
        INTERNAL,
        {
            **_cols(INTERNAL, "id", "recorded_at", "latitude", "longitude", "altitude_m"),
            **_cols(INTERNAL, "speed_kmh", "heading", "load_state", "source"),
            **_fk("vehicle_id"),
        },
        relations={"vehicle": Relation("Vehicle", "one", "vehicle_id")},
        filters={
            "vehicle_id": _f("vehicle_id"),
            "plate": _f("vehicle", "plate"),
            **_time_range("recorded_at"),
        },
        ordering=Ordering("recorded_at", descending=True),
        district_path=("vehicle", "owner", "district", "code"),
        enterprise_paths=(("vehicle", "owner_enterprise_id"),),
    )
)

CHECKPOINT = _register(
    Entity(
        "Checkpoint",
        m.Checkpoint,
        PUBLIC,
        {
            **_cols(PUBLIC, "id", "code", "name", "latitude", "longitude", "on_city_boundary"),
            **_fk("district_id"),
        },
        relations={
            "district": Relation("District", "one", "district_id"),
            "passes": Relation("CheckpointPass", "many", "id", "checkpoint_id"),
        },
        filters={
            "district_code": _f("district", "code"),
            "on_city_boundary": _f("on_city_boundary"),
        },
        district_path=("district", "code"),
        reference=True,
    )
)

CHECKPOINT_PASS = _register(
    Entity(
        "CheckpointPass",
        m.CheckpointPass,
        INTERNAL,
        {
            **_cols(INTERNAL, "id", "plate", "plate_colour", "direction", "lane", "passed_at"),
            **_cols(INTERNAL, "image_sha256"),
            **_fk("checkpoint_id", "vehicle_id"),
        },
        relations={
            "checkpoint": Relation("Checkpoint", "one", "checkpoint_id"),
            "vehicle": Relation("Vehicle", "one", "vehicle_id"),
        },
        ordering=Ordering("passed_at", descending=True),
        filters={
            "checkpoint_id": _f("checkpoint_id"),
            "vehicle_id": _f("vehicle_id"),
            "plate": _f("plate"),
            "direction": _f("direction", op="in"),
            "on_city_boundary": _f("checkpoint", "on_city_boundary"),
            **_time_range("passed_at"),
        },
        district_path=("checkpoint", "district", "code"),
        enterprise_paths=(("vehicle", "owner_enterprise_id"),),
    )
)

INVOICE = _register(
    Entity(
        "Invoice",
        m.Invoice,
        INTERNAL,
        {
            **_cols(INTERNAL, "id", "number", "kind", "issued_at", "seller_tax_id", "seller_name"),
            **_cols(INTERNAL, "buyer_tax_id", "buyer_name", "original_number"),
            **_cols(CONFIDENTIAL, "total_amount", "total_tax"),
            **_fk("seller_id", "buyer_id", "original_invoice_id"),
        },
        relations={
            "seller": Relation("Enterprise", "one", "seller_id"),
            "buyer": Relation("Enterprise", "one", "buyer_id"),
            "original": Relation("Invoice", "one", "original_invoice_id"),
            "lines": Relation("InvoiceLine", "many", "id", "invoice_id"),
        },
        filters={
            "enterprise_id": Filter((("seller_id",), ("buyer_id",))),
            "seller_tax_id": _f("seller_tax_id"),
            "buyer_tax_id": _f("buyer_tax_id"),
            "kind": _f("kind", op="in"),
            "number": _f("number"),
            **_time_range("issued_at"),
        },
        ordering=Ordering("issued_at", descending=True),
        district_path=("seller", "district", "code"),
        enterprise_paths=(("seller_id",), ("buyer_id",)),
    )
)

INVOICE_LINE = _register(
    Entity(
        "InvoiceLine",
        m.InvoiceLine,
        INTERNAL,
        {
            **_cols(INTERNAL, "id", "line_no", "item_name", "specification", "unit", "quantity"),
            **_cols(CONFIDENTIAL, "unit_price", "amount", "tax_rate", "tax_amount"),
            **_fk("invoice_id", "product_id"),
        },
        relations={
            "invoice": Relation("Invoice", "one", "invoice_id"),
            "product": Relation("CoalProduct", "one", "product_id"),
        },
        ordering=Ordering("line_no"),
        district_path=("invoice", "seller", "district", "code"),
        enterprise_paths=(("invoice", "seller_id"), ("invoice", "buyer_id")),
    )
)

PAYMENT = _register(
    Entity(
        "Payment",
        m.Payment,
        CONFIDENTIAL,
        {
            **_cols(CONFIDENTIAL, "id", "reference", "amount", "paid_at"),
            **_fk("payer_id", "payee_id", "invoice_id", "contract_id"),
        },
        relations={
            "payer": Relation("Enterprise", "one", "payer_id"),
            "payee": Relation("Enterprise", "one", "payee_id"),
            "invoice": Relation("Invoice", "one", "invoice_id"),
            "contract": Relation("Contract", "one", "contract_id"),
        },
        ordering=Ordering("paid_at", descending=True),
        filters={
            "enterprise_id": Filter((("payer_id",), ("payee_id",))),
            "invoice_id": _f("invoice_id"),
            **_time_range("paid_at"),
        },
        district_path=("payee", "district", "code"),
        enterprise_paths=(("payer_id",), ("payee_id",)),
    )
)

QUALITY_SAMPLE = _register(
    Entity(
        "QualitySample",
        m.QualitySample,
        INTERNAL,
        {
            **_cols(INTERNAL, "id", "sample_no", "sampled_at", "laboratory", "total_moisture_pct"),
            **_cols(INTERNAL, "ash_pct", "volatile_pct", "sulphur_pct", "calorific_mj_kg"),
            **_cols(INTERNAL, "caking_index"),
            **_fk("enterprise_id", "product_id", "weigh_record_id"),
        },
        relations={
            "enterprise": Relation("Enterprise", "one", "enterprise_id"),
            "product": Relation("CoalProduct", "one", "product_id"),
            "weigh_record": Relation("WeighRecord", "one", "weigh_record_id"),
        },
        ordering=Ordering("sampled_at", descending=True),
        filters={
            "enterprise_id": _f("enterprise_id"),
            "product_code": _f("product", "code"),
            **_time_range("sampled_at"),
        },
        district_path=("enterprise", "district", "code"),
        enterprise_paths=(("enterprise_id",),),
    )
)

ALERT = _register(
    Entity(
        "Alert",
        m.Alert,
        INTERNAL,
        {
            **_cols(INTERNAL, "id", "kind", "severity", "status", "title", "routed_to"),
            **_cols(INTERNAL, "raised_at", "closed_at"),
            "detail": Column("detail", CONFIDENTIAL),
            **_fk("district_id", "enterprise_id", "site_id", "vehicle_id", "weigh_record_id"),
        },
        relations={
            "district": Relation("District", "one", "district_id"),
            "enterprise": Relation("Enterprise", "one", "enterprise_id"),
            "site": Relation("Site", "one", "site_id"),
            "vehicle": Relation("Vehicle", "one", "vehicle_id"),
            "weigh_record": Relation("WeighRecord", "one", "weigh_record_id"),
        },
        ordering=Ordering("raised_at", descending=True),
        filters={
            "kind": _f("kind", op="in"),
            "status": _f("status", op="in"),
            "district_code": _f("district", "code"),
            "enterprise_id": _f("enterprise_id"),
            "min_severity": _f("severity", op="gte"),
            **_time_range("raised_at"),
        },
        district_path=("district", "code"),
        enterprise_paths=(("enterprise_id",),),
    )
)

BOOKING = _register(
    Entity(
        "Booking",
        m.Booking,
        INTERNAL,
        {
            **_cols(INTERNAL, "id", "slot_start", "status", "checked_in_at", "queue_number"),
            **_cols(INTERNAL, "priority"),
            **_fk("site_id", "vehicle_id", "driver_id", "contract_id"),
        },
        relations={
            "site": Relation("Site", "one", "site_id"),
            "vehicle": Relation("Vehicle", "one", "vehicle_id"),
            "driver": Relation("Driver", "one", "driver_id"),
            "contract": Relation("Contract", "one", "contract_id"),
        },
        ordering=Ordering("slot_start", descending=True),
        filters={
            "site_id": _f("site_id"),
            "vehicle_id": _f("vehicle_id"),
            "status": _f("status", op="in"),
            **_time_range("slot_start"),
        },
        district_path=("site", "enterprise", "district", "code"),
        enterprise_paths=(("site", "enterprise_id"),),
    )
)


AUDIT_EVENT = _register(
    Entity(
        "AuditEvent",
        m.AuditEvent,
        CONFIDENTIAL,
        {
            **_cols(CONFIDENTIAL, "id", "seq", "occurred_at", "client_id", "department"),
            **_cols(CONFIDENTIAL, "user_id", "purpose", "operation_name", "document_sha256"),
            **_cols(CONFIDENTIAL, "variables_sha256", "fields", "row_counts", "denials"),
            **_cols(CONFIDENTIAL, "duration_ms", "result", "prev_hash", "hash"),
        },
        filters={
            "client_id": _f("client_id"),
            "department": _f("department"),
            "result": _f("result", op="in"),
            **_time_range("occurred_at"),
        },
        ordering=Ordering("seq", descending=True),
    )
)


def entity(name: str) -> Entity:
    return ENTITIES[name]
