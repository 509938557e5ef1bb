"""The domain model: one module per aggregate. Importing this package registers every table."""

# modules whose tables are registered by import (their names are re-exported by each module)
from coalhub.models import client, connector, policy  # noqa: F401
from coalhub.models.alert import Alert, AlertKind, AlertStatus
from coalhub.models.audit import AuditEvent
from coalhub.models.base import Base
from coalhub.models.booking import Booking, BookingStatus
from coalhub.models.checkpoint import Checkpoint, CheckpointPass, PassDirection
from coalhub.models.contract import Contract, ContractStatus
from coalhub.models.district import District
from coalhub.models.enterprise import (
    Device,
    DeviceKind,
    DeviceStatus,
    Enterprise,
    EnterpriseKind,
    RegistrationStatus,
    Site,
    SiteKind,
)
from coalhub.models.invoice import Invoice, InvoiceKind, InvoiceLine, Payment
from coalhub.models.product import CoalProduct, ProductCategory
from coalhub.models.quality import QualitySample
from coalhub.models.trajectory import LoadState, PositionSource, TrajectoryPoint
from coalhub.models.vehicle import Driver, EnergyType, Suspension, Vehicle, VehicleStatus
from coalhub.models.weighing import RecordSource, Shipment, WeighDirection, WeighRecord

__all__ = [
    "Alert",
    "AlertKind",
    "AlertStatus",
    "AuditEvent",
    "Base",
    "Booking",
    "BookingStatus",
    "Checkpoint",
    "CheckpointPass",
    "CoalProduct",
    "Contract",
    "ContractStatus",
    "Device",
    "DeviceKind",
    "DeviceStatus",
    "District",
    "Driver",
    "EnergyType",
    "Enterprise",
    "EnterpriseKind",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "LoadState",
    "PassDirection",
    "Payment",
    "PositionSource",
    "ProductCategory",
    "QualitySample",
    "RecordSource",
    "RegistrationStatus",
    "Shipment",
    "Site",
    "SiteKind",
    "Suspension",
    "TrajectoryPoint",
    "Vehicle",
    "VehicleStatus",
    "WeighDirection",
    "WeighRecord",
]
