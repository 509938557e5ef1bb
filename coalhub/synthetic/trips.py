"""Planning a day's hauls: when each starts, what kind it is, and along which contract."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import Enum

from coalhub.models import EnterpriseKind
from coalhub.synthetic.city import City
from coalhub.synthetic.context import Context
from coalhub.synthetic.entities import Company, Contract
from coalhub.synthetic.geography import ROAD_FACTOR

K = EnterpriseKind
_TRANSFER_SHARE = 0.04  # pit to the mine's own stockyard
_LEAVES_CITY_SHARE = 0.7  # of hauls consigned to traders: straight out of the city
# weight of each Beijing hour in a day's hauls: night shifts run, the peak hour carries ~10%
_HOURLY = (1, 1, 1, 1, 1, 1.5, 3, 5, 7, 9, 11, 11, 8, 7, 9, 11, 13, 11, 8, 6, 4, 3, 2, 1.5)


class TripKind(Enum):
    IN_CITY = "in_city"  # sale here, purchase at a Wuhai consignee
    LEAVES = "leaves"  # sale here, out through a boundary checkpoint
    INBOUND = "inbound"  # in through a boundary checkpoint, purchase here
    TRANSFER = "transfer"  # pit weighbridge to the mine's own stockyard


@dataclass(frozen=True)
class Plan:
    anchor: int  # sale completed, or boundary passed for inbound hauls
    kind: TripKind
    company: Company  # where the truck loads (the seller, or the mine of a transfer)
    contract: Contract | None
    approach_km: float = 0
    approach_s: int = 0
    gate_s: int = 0
    loading_s: int = 0

    @property
    def need_at(self) -> int:
        return self.anchor - self.loading_s - self.gate_s - self.approach_s - 60


class Planner:
    def __init__(self, ctx: Context, city: City) -> None:
        self.rng, self.city = ctx.rng, city
        self.hour_weights = list(itertools.accumulate(_HOURLY))
        producers = city.of_kind(K.MINE) + city.of_kind(K.GOAF_REMEDIATION)
        self.transfer_mines = [c for c in producers if c.yard]

    def plan(self, day_start: int) -> Plan:
        rng = self.rng
        hour = rng.choices(range(24), cum_weights=self.hour_weights)[0]
        anchor = day_start + hour * 3600 + rng.randrange(3600)
        if self.transfer_mines and rng.random() < _TRANSFER_SHARE:
            mine = rng.choice(self.transfer_mines)
            return self._loading_plan(anchor, TripKind.TRANSFER, mine, None)
        contract = rng.choices(self.city.contracts, cum_weights=self.city.contract_weights)[0]
        if contract.inbound:
            return Plan(anchor, TripKind.INBOUND, contract.seller, contract)
        kind = TripKind.IN_CITY
        if contract.buyer.kind == K.TRADER and rng.random() < _LEAVES_CITY_SHARE:
            kind = TripKind.LEAVES
        return self._loading_plan(anchor, kind, contract.seller, contract)

    def _loading_plan(
        self, anchor: int, kind: TripKind, company: Company, contract: Contract | None
    ) -> Plan:
        rng = self.rng
        approach_km = rng.uniform(3, 8)
        return Plan(
            anchor,
            kind,
            company,
            contract,
            approach_km=approach_km,
            approach_s=round(approach_km * ROAD_FACTOR / rng.uniform(25, 40) * 3600),
            gate_s=rng.randrange(60, 240),
            loading_s=rng.randrange(900, 2400),
        )
