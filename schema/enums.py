"""The domain's enums, exposed to GraphQL under the names officials' apps code against."""

from __future__ import annotations

import strawberry

from coalhub import models as m
from coalhub.identifiers import PlateColour

for _enum in (
    m.AlertKind,
    m.AlertStatus,
    m.BookingStatus,
    m.ContractStatus,
    m.DeviceKind,
    m.DeviceStatus,
    m.EnergyType,
    m.EnterpriseKind,
    m.InvoiceKind,
    m.LoadState,
    m.PassDirection,
    m.PositionSource,
    m.ProductCategory,
    m.RecordSource,
    m.RegistrationStatus,
    m.SiteKind,
    m.Suspension,
    m.VehicleStatus,
    m.WeighDirection,
    PlateColour,
):
    strawberry.enum(_enum)
