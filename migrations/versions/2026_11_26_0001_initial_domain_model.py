"""initial domain model

Revision ID: 081cb5badf74
Revises:
Create Date: 2026-11-26 11:45:56.302581
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from coalhub.models.base import UTCDateTime

revision: str = "081cb5badf74"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("department", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=256), nullable=True),
        sa.Column("operation_name", sa.String(length=128), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("variables_sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "row_counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "denials",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_event_seq")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_client_id"), ["client_id"], unique=False)

    op.create_table(
        "coal_product",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "raw",
                "washed",
                "middlings",
                "slime",
                "gangue",
                "sized",
                "coke",
                name="productcategory",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("rank", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coal_product")),
        sa.UniqueConstraint("code", name=op.f("uq_coal_product_code")),
    )
    op.create_table(
        "district",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district")),
        sa.UniqueConstraint("code", name=op.f("uq_district_code")),
    )
    op.create_table(
        "checkpoint",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "district_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("on_city_boundary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["district.id"], name=op.f("fk_checkpoint_district_id_district")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint")),
        sa.UniqueConstraint("code", name=op.f("uq_checkpoint_code")),
    )
    op.create_table(
        "enterprise",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "mine",
                "goaf_remediation",
                "washing_plant",
                "power_plant",
                "coking",
                "chemical",
                "building_materials",
                "metallurgy",
                "trader",
                "logistics",
                name="enterprisekind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "district_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("address", sa.String(length=256), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("legal_representative", sa.String(length=64), nullable=True),
        sa.Column("contact_phone", sa.String(length=20), nullable=True),
        sa.Column("annual_capacity_t", sa.Integer(), nullable=True),
        sa.Column(
            "registration_status",
            sa.Enum(
                "pending",
                "approved",
                "suspended",
                "revoked",
                name="registrationstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["district.id"], name=op.f("fk_enterprise_district_id_district")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise")),
        sa.UniqueConstraint("uscc", name=op.f("uq_enterprise_uscc")),
    )
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enterprise_district_id"), ["district_id"], unique=False
        )

    op.create_table(
        "contract",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column(
            "seller_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("buyer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("quantity_t", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("guaranteed_supply", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "active",
                "completed",
                "terminated",
                name="contractstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_contract_period_order")),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["enterprise.id"], name=op.f("fk_contract_buyer_id_enterprise")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["coal_product.id"], name=op.f("fk_contract_product_id_coal_product")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["enterprise.id"], name=op.f("fk_contract_seller_id_enterprise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract")),
        sa.UniqueConstraint("number", name=op.f("uq_contract_number")),
    )
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contract_seller_id"), ["seller_id"], unique=False)

    op.create_table(
        "driver",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("licence_class", sa.String(length=8), nullable=True),
        sa.Column("qualification_certificate", sa.String(length=32), nullable=True),
        sa.Column(
            "employer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_id"], ["enterprise.id"], name=op.f("fk_driver_employer_id_enterprise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_driver")),
        sa.UniqueConstraint("id_number", name=op.f("uq_driver_id_number")),
    )
    with op.batch_alter_table("driver", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_driver_employer_id"), ["employer_id"], unique=False)

    op.create_table(
        "invoice",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "normal",
                "red",
                name="invoicekind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "original_invoice_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("seller_tax_id", sa.String(length=20), nullable=False),
        sa.Column("seller_name", sa.String(length=128), nullable=False),
        sa.Column("seller_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("buyer_tax_id", sa.String(length=20), nullable=False),
        sa.Column("buyer_name", sa.String(length=128), nullable=False),
        sa.Column("buyer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("total_amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("total_tax", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["enterprise.id"], name=op.f("fk_invoice_buyer_id_enterprise")
        ),
        sa.ForeignKeyConstraint(
            ["original_invoice_id"],
            ["invoice.id"],
            name=op.f("fk_invoice_original_invoice_id_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["enterprise.id"], name=op.f("fk_invoice_seller_id_enterprise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_invoice_number")),
    )
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_buyer_issued", ["buyer_id", "issued_at"], unique=False)
        batch_op.create_index("ix_invoice_seller_issued", ["seller_id", "issued_at"], unique=False)

    op.create_table(
        "site",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "enterprise_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "gate",
                "weighbridge",
                "belt_scale",
                "metering_point",
                "yard",
                name="sitekind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column(
            "geofence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("capacity_kg", sa.Integer(), nullable=True),
        sa.Column("last_seen_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_site_enterprise_id_enterprise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("enterprise_id", "code", name=op.f("uq_site_enterprise_id_code")),
    )
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_enterprise_id"), ["enterprise_id"], unique=False)

    op.create_table(
        "vehicle",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plate", sa.String(length=10), nullable=False),
        sa.Column(
            "plate_colour",
            sa.Enum(
                "blue",
                "yellow",
                "black",
                "white",
                "green",
                "yellow_green",
                "other",
                name="platecolour",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "registered",
                "unregistered",
                "suspended",
                name="vehiclestatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("axles", sa.SmallInteger(), nullable=True),
        sa.Column(
            "suspension",
            sa.Enum(
                "steel",
                "air",
                name="suspension",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("tractor_single_drive_axle", sa.Boolean(), nullable=False),
        sa.Column("is_combination", sa.Boolean(), nullable=False),
        sa.Column("rated_payload_kg", sa.Integer(), nullable=True),
        sa.Column("curb_weight_kg", sa.Integer(), nullable=True),
        sa.Column(
            "energy_type",
            sa.Enum(
                "diesel",
                "gasoline",
                "lng",
                "cng",
                "electric",
                "hydrogen",
                "hybrid",
                "other",
                name="energytype",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("transport_certificate", sa.String(length=32), nullable=True),
        sa.Column(
            "owner_enterprise_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_vehicle_owner_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicle")),
        sa.UniqueConstraint("plate", "plate_colour", name=op.f("uq_vehicle_plate_plate_colour")),
    )
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vehicle_owner_enterprise_id"), ["owner_enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_vehicle_plate"), ["plate"], unique=False)

    op.create_table(
        "booking",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "vehicle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("driver_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "contract_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("slot_start", UTCDateTime(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "booked",
                "checked_in",
                "called",
                "completed",
                "cancelled",
                name="bookingstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("checked_in_at", UTCDateTime(), nullable=True),
        sa.Column("queue_number", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contract.id"], name=op.f("fk_booking_contract_id_contract")
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"], ["driver.id"], name=op.f("fk_booking_driver_id_driver")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_booking_site_id_site")),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.id"], name=op.f("fk_booking_vehicle_id_vehicle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index("ix_booking_site_slot", ["site_id", "slot_start"], unique=False)
        batch_op.create_index(batch_op.f("ix_booking_vehicle_id"), ["vehicle_id"], unique=False)

    op.create_table(
        "checkpoint_pass",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "checkpoint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "vehicle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("plate", sa.String(length=10), nullable=False),
        sa.Column(
            "plate_colour",
            sa.Enum(
                "blue",
                "yellow",
                "black",
                "white",
                "green",
                "yellow_green",
                "other",
                name="platecolour",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "direction",
            sa.Enum(
                "inbound",
                "outbound",
                "unknown",
                name="passdirection",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("lane", sa.SmallInteger(), nullable=True),
        sa.Column("passed_at", UTCDateTime(), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["checkpoint.id"],
            name=op.f("fk_checkpoint_pass_checkpoint_id_checkpoint"),
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.id"], name=op.f("fk_checkpoint_pass_vehicle_id_vehicle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_pass")),
        sa.UniqueConstraint(
            "checkpoint_id",
            "plate",
            "passed_at",
            name=op.f("uq_checkpoint_pass_checkpoint_id_plate_passed_at"),
        ),
    )
    with op.batch_alter_table("checkpoint_pass", schema=None) as batch_op:
        batch_op.create_index("ix_checkpoint_pass_passed", ["passed_at"], unique=False)
        batch_op.create_index(
            "ix_checkpoint_pass_vehicle_passed", ["vehicle_id", "passed_at"], unique=False
        )

    op.create_table(
        "device",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "indicator",
                "belt_scale",
                "camera",
                "rfid_reader",
                "bridge",
                name="devicekind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("protocol", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "unknown",
                "online",
                "offline",
                "fault",
                name="devicestatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("last_heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column(
            "last_state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_device_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
        sa.UniqueConstraint("site_id", "code", name=op.f("uq_device_site_id_code")),
    )
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_site_id"), ["site_id"], unique=False)

    op.create_table(
        "invoice_line",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line_no", sa.SmallInteger(), nullable=False),
        sa.Column("item_name", sa.String(length=128), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("specification", sa.String(length=64), nullable=True),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=7, scale=3), nullable=False),
        sa.Column("tax_amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.id"],
            name=op.f("fk_invoice_line_invoice_id_invoice"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["coal_product.id"],
            name=op.f("fk_invoice_line_product_id_coal_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_line")),
        sa.UniqueConstraint(
            "invoice_id", "line_no", name=op.f("uq_invoice_line_invoice_id_line_no")
        ),
    )
    op.create_table(
        "payment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("payer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("paid_at", UTCDateTime(), nullable=False),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "contract_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contract.id"], name=op.f("fk_payment_contract_id_contract")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_payment_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["payee_id"], ["enterprise.id"], name=op.f("fk_payment_payee_id_enterprise")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["enterprise.id"], name=op.f("fk_payment_payer_id_enterprise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("reference", name=op.f("uq_payment_reference")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_payee_id"), ["payee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_payer_id"), ["payer_id"], unique=False)

    op.create_table(
        "trajectory_point",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "vehicle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("altitude_m", sa.SmallInteger(), nullable=True),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("heading", sa.SmallInteger(), nullable=True),
        sa.Column(
            "load_state",
            sa.Enum(
                "empty",
                "half",
                "full",
                name="loadstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "jt808",
                "jt809",
                "http",
                "demo",
                name="positionsource",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.id"], name=op.f("fk_trajectory_point_vehicle_id_vehicle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trajectory_point")),
        sa.UniqueConstraint(
            "vehicle_id", "recorded_at", name=op.f("uq_trajectory_point_vehicle_id_recorded_at")
        ),
    )
    op.create_table(
        "weigh_record",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ticket_no", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "direction",
            sa.Enum(
                "sale",
                "purchase",
                "transfer",
                "other",
                name="weighdirection",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "contract_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "booking_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "vehicle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("plate_read", sa.String(length=10), nullable=False),
        sa.Column("driver_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("gross_kg", sa.Integer(), nullable=False),
        sa.Column("tare_kg", sa.Integer(), nullable=False),
        sa.Column("gross_at", UTCDateTime(), nullable=False),
        sa.Column("tare_at", UTCDateTime(), nullable=False),
        sa.Column("weighed_at", UTCDateTime(), nullable=False),
        sa.Column(
            "shipper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "consignee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("unit_price", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "bridge",
                "manual",
                "legacy_import",
                "demo",
                name="recordsource",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "gross_kg >= tare_kg", name=op.f("ck_weigh_record_gross_not_below_tare")
        ),
        sa.CheckConstraint("tare_kg >= 0", name=op.f("ck_weigh_record_tare_not_negative")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_weigh_record_booking_id_booking")
        ),
        sa.ForeignKeyConstraint(
            ["consignee_id"],
            ["enterprise.id"],
            name=op.f("fk_weigh_record_consignee_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contract.id"], name=op.f("fk_weigh_record_contract_id_contract")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_weigh_record_device_id_device")
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"], ["driver.id"], name=op.f("fk_weigh_record_driver_id_driver")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["coal_product.id"],
            name=op.f("fk_weigh_record_product_id_coal_product"),
        ),
        sa.ForeignKeyConstraint(
            ["shipper_id"], ["enterprise.id"], name=op.f("fk_weigh_record_shipper_id_enterprise")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_weigh_record_site_id_site")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.id"], name=op.f("fk_weigh_record_vehicle_id_vehicle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weigh_record")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_weigh_record_idempotency_key")),
        sa.UniqueConstraint("ticket_no", name=op.f("uq_weigh_record_ticket_no")),
    )
    with op.batch_alter_table("weigh_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_weigh_record_consignee_weighed", ["consignee_id", "weighed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_weigh_record_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_weigh_record_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            "ix_weigh_record_shipper_weighed", ["shipper_id", "weighed_at"], unique=False
        )
        batch_op.create_index(
            "ix_weigh_record_site_weighed", ["site_id", "weighed_at"], unique=False
        )
        batch_op.create_index(
            "ix_weigh_record_vehicle_weighed", ["vehicle_id", "weighed_at"], unique=False
        )

    op.create_table(
        "alert",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "abnormal_volume",
                "abnormal_price",
                "flow_mismatch",
                "overload",
                "site_offline",
                "unregistered_vehicle",
                "tamper_suspected",
                name="alertkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "acknowledged",
                "handling",
                "closed",
                name="alertstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("routed_to", sa.String(length=32), nullable=False),
        sa.Column(
            "district_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "enterprise_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "vehicle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "weigh_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["district_id"], ["district.id"], name=op.f("fk_alert_district_id_district")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_alert_enterprise_id_enterprise")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_alert_site_id_site")),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.id"], name=op.f("fk_alert_vehicle_id_vehicle")
        ),
        sa.ForeignKeyConstraint(
            ["weigh_record_id"],
            ["weigh_record.id"],
            name=op.f("fk_alert_weigh_record_id_weigh_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_district_id"), ["district_id"], unique=False)
        batch_op.create_index("ix_alert_status_raised", ["status", "raised_at"], unique=False)

    op.create_table(
        "quality_sample",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sample_no", sa.String(length=40), nullable=False),
        sa.Column(
            "enterprise_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "weigh_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("sampled_at", UTCDateTime(), nullable=False),
        sa.Column("laboratory", sa.String(length=128), nullable=True),
        sa.Column("total_moisture_pct", sa.Numeric(precision=7, scale=3), nullable=True),
        sa.Column("ash_pct", sa.Numeric(precision=7, scale=3), nullable=True),
        sa.Column("volatile_pct", sa.Numeric(precision=7, scale=3), nullable=True),
        sa.Column("sulphur_pct", sa.Numeric(precision=7, scale=3), nullable=True),
        sa.Column("calorific_mj_kg", sa.Numeric(precision=7, scale=3), nullable=True),
        sa.Column("caking_index", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_quality_sample_enterprise_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["coal_product.id"],
            name=op.f("fk_quality_sample_product_id_coal_product"),
        ),
        sa.ForeignKeyConstraint(
            ["weigh_record_id"],
            ["weigh_record.id"],
            name=op.f("fk_quality_sample_weigh_record_id_weigh_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_sample")),
        sa.UniqueConstraint("sample_no", name=op.f("uq_quality_sample_sample_no")),
    )
    with op.batch_alter_table("quality_sample", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_sample_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "shipment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "origin_weigh_record_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "destination_weigh_record_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "exit_checkpoint_pass_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("matched_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["destination_weigh_record_id"],
            ["weigh_record.id"],
            name=op.f("fk_shipment_destination_weigh_record_id_weigh_record"),
        ),
        sa.ForeignKeyConstraint(
            ["exit_checkpoint_pass_id"],
            ["checkpoint_pass.id"],
            name=op.f("fk_shipment_exit_checkpoint_pass_id_checkpoint_pass"),
        ),
        sa.ForeignKeyConstraint(
            ["origin_weigh_record_id"],
            ["weigh_record.id"],
            name=op.f("fk_shipment_origin_weigh_record_id_weigh_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment")),
        sa.UniqueConstraint(
            "destination_weigh_record_id", name=op.f("uq_shipment_destination_weigh_record_id")
        ),
        sa.UniqueConstraint(
            "origin_weigh_record_id", name=op.f("uq_shipment_origin_weigh_record_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("shipment")
    with op.batch_alter_table("quality_sample", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_sample_enterprise_id"))

    op.drop_table("quality_sample")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_status_raised")
        batch_op.drop_index(batch_op.f("ix_alert_district_id"))

    op.drop_table("alert")
    with op.batch_alter_table("weigh_record", schema=None) as batch_op:
        batch_op.drop_index("ix_weigh_record_vehicle_weighed")
        batch_op.drop_index("ix_weigh_record_site_weighed")
        batch_op.drop_index("ix_weigh_record_shipper_weighed")
        batch_op.drop_index(batch_op.f("ix_weigh_record_product_id"))
        batch_op.drop_index(batch_op.f("ix_weigh_record_contract_id"))
        batch_op.drop_index("ix_weigh_record_consignee_weighed")

    op.drop_table("weigh_record")
    op.drop_table("trajectory_point")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_payer_id"))
        batch_op.drop_index(batch_op.f("ix_payment_payee_id"))

    op.drop_table("payment")
    op.drop_table("invoice_line")
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_site_id"))

    op.drop_table("device")
    with op.batch_alter_table("checkpoint_pass", schema=None) as batch_op:
        batch_op.drop_index("ix_checkpoint_pass_vehicle_passed")
        batch_op.drop_index("ix_checkpoint_pass_passed")

    op.drop_table("checkpoint_pass")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_vehicle_id"))
        batch_op.drop_index("ix_booking_site_slot")

    op.drop_table("booking")
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vehicle_plate"))
        batch_op.drop_index(batch_op.f("ix_vehicle_owner_enterprise_id"))

    op.drop_table("vehicle")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_enterprise_id"))

    op.drop_table("site")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_seller_issued")
        batch_op.drop_index("ix_invoice_buyer_issued")

    op.drop_table("invoice")
    with op.batch_alter_table("driver", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_driver_employer_id"))

    op.drop_table("driver")
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_seller_id"))
        batch_op.drop_index(batch_op.f("ix_contract_buyer_id"))

    op.drop_table("contract")
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprise_district_id"))

    op.drop_table("enterprise")
    op.drop_table("checkpoint")
    op.drop_table("district")
    op.drop_table("coal_product")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_client_id"))

    op.drop_table("audit_event")
