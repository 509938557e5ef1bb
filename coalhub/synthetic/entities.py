"""The city as the generator holds it while it writes rows: companies, sites, trucks, deals."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from coalhub.identifiers import PlateColour
from coalhub.models import EnterpriseKind
from coalhub.synthetic.geography import Point
from coalhub.synthetic.products import Product

Deliveries = list[tuple[int, int]]  # (time, net kg) of each load delivered on a contract


@dataclass
class Site:
    id: int
    code: str
    name: str
    point: Point
    enterprise_id: int
    district_id: int
    indicator_id: int | None = None
    protocol: str = ""
    offline_since: int | None = None  # nothing it weighs after this reaches the hub

    def uploads_at(self, at: int) -> bool:
        return self.offline_since is None or at < self.offline_since


@dataclass
class Company:
    id: int
    kind: EnterpriseKind
    district_id: int
    name: str
    short: str
    uscc: str
    point: Point
    approved: bool
    weighbridges: list[Site] = field(default_factory=list)
    yard: Site | None = None

    @property
    def sale_site(self) -> Site:
        return self.weighbridges[-1]

    @property
    def purchase_site(self) -> Site:
        return self.weighbridges[0]


@dataclass
class Truck:
    id: int
    plate: str
    colour: PlateColour
    limit_kg: int
    tare_kg: int  # curb weight plus driver and fuel, as a weighbridge sees it empty
    payload_kg: int
    driver_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Contract:
    id: int
    seller: Company
    buyer: Company
    product: Product
    product_id: int
    unit_price: Decimal
    inbound: bool


@dataclass(frozen=True)
class Checkpoint:
    id: int
    name: str
    point: Point
    boundary: bool
    district_id: int


@dataclass(frozen=True)
class Haul:
    # What one truck carries for whom on one trip.

    truck: Truck
    driver_id: int
    product: Product
    contract: Contract | None  # None: a transfer within one enterprise
    shipper: Company
    consignee: Company
