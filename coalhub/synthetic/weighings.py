"""Weigh tickets, the quality samples taken of them, and the shipments that pair them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from coalhub.models import RecordSource, WeighDirection
from coalhub.synthetic.clock import local_date, to_datetime
from coalhub.synthetic.context import Context
from coalhub.synthetic.entities import Company, Haul, Site, Truck
from coalhub.synthetic.identities import misread
from coalhub.synthetic.products import CENT, Product

DIVISION_KG = 20  # a 100-150 t weighbridge reads in 20 kg steps
_PRICE_OUTLIER_SHARE = 0.005
_SAMPLED_SHARE = 0.03
_ORDINARY_KEPT = 100
_LABORATORY = "乌海市产品质量检验检测中心"


def to_division(kg: float) -> int:
    return round(kg / DIVISION_KG) * DIVISION_KG


def yaohua_a9_frame(kg: int) -> str:
    """The continuous-mode frame an XK3190-A9 sends for `kg`, as hex."""
    body = f"+{kg:06d}0".encode("ascii")
    xor = 0
    for byte in body:
        xor ^= byte
    return (b"\x02" + body + f"{xor:02X}".encode("ascii") + b"\x03").hex()


@dataclass(frozen=True)
class Weighing:
    # A weighing remembered for the alerts.

    id: int
    site: Site
    truck: Truck
    gross_kg: int
    at: int
    haul: Haul
    unit_price: Decimal | None


class Weighings:
    # Adds weigh_record, quality_sample and shipment rows; remembers weighings for the alerts.

    def __init__(self, ctx: Context, product_ids: dict[str, int]) -> None:
        self.rng, self.keys, self.rows = ctx.rng, ctx.keys, ctx.rows
        self.product_ids = product_ids
        self.end = ctx.scale.end_ts
        self.serials: dict[int, int] = {}  # site id -> last ticket serial
        self.overloads: list[Weighing] = []
        self.price_outliers: list[Weighing] = []
        self.ordinary: list[Weighing] = []

    def weigh(
        self,
        haul: Haul,
        site: Site,
        direction: WeighDirection,
        gross: int,
        tare: int,
        *,
        gross_at: int,
        tare_at: int,
        booking_id: int | None = None,
    ) -> int:
        rng = self.rng
        record_id = self.keys.next("weigh_record")
        weighed_at = max(gross_at, tare_at)
        self.serials[site.id] = serial = self.serials.get(site.id, 0) + 1
        price = self._price(Weighing(record_id, site, haul.truck, gross, weighed_at, haul, None))
        self.rows.add(
            "weigh_record",
            {
                "id": record_id,
                "ticket_no": f"{site.code}{local_date(weighed_at):%y%m%d}{serial:06d}",
                "idempotency_key": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "site_id": site.id,
                "device_id": site.indicator_id,
                "direction": direction,
                "contract_id": haul.contract.id if haul.contract else None,
                "booking_id": booking_id,
                "vehicle_id": haul.truck.id,
                "plate_read": misread(rng, haul.truck.plate),
                "driver_id": haul.driver_id,
                "product_id": self.product_ids[haul.product.code],
                "gross_kg": gross,
                "tare_kg": tare,
                "gross_at": to_datetime(gross_at),
                "tare_at": to_datetime(tare_at),
                "weighed_at": to_datetime(weighed_at),
                "shipper_id": haul.shipper.id,
                "consignee_id": haul.consignee.id,
                "unit_price": price,
                "evidence": self._evidence(site, gross, tare),
                "source": RecordSource.DEMO,
                "received_at": to_datetime(weighed_at + rng.randrange(2, 40)),
            },
        )
        if rng.random() < _SAMPLED_SHARE:
            sampler = haul.consignee if direction == WeighDirection.PURCHASE else haul.shipper
            self._sample(record_id, sampler, haul.product, weighed_at)
        return record_id

    def shipment(
        self, origin_id: int, destination_id: int | None, exit_pass_id: int | None, matched: int
    ) -> None:
        linked = destination_id is not None or exit_pass_id is not None
        self.rows.add(
            "shipment",
            {
                "id": self.keys.next("shipment"),
                "origin_weigh_record_id": origin_id,
                "destination_weigh_record_id": destination_id,
                "exit_checkpoint_pass_id": exit_pass_id,
                "matched_at": to_datetime(min(matched, self.end - 1)) if linked else None,
            },
        )

    def _price(self, weighing: Weighing) -> Decimal | None:
        # The ticket's unit price; remembers overloads and price outliers for the alerts.
        contract = weighing.haul.contract
        if contract is None:
            return None
        if self.rng.random() < _PRICE_OUTLIER_SHARE:
            price = (contract.unit_price * Decimal(self.rng.choice(("0.55", "1.6")))).quantize(CENT)
            self.price_outliers.append(replace(weighing, unit_price=price))
            return price
        if weighing.gross_kg > weighing.truck.limit_kg:
            self.overloads.append(weighing)
        elif len(self.ordinary) < _ORDINARY_KEPT:
            self.ordinary.append(weighing)
        return contract.unit_price

    def _evidence(self, site: Site, gross: int, tare: int) -> dict[str, Any]:
        rng = self.rng
        evidence: dict[str, Any] = {
            "protocol": site.protocol,
            "stable_ms": rng.randrange(1500, 4000),
            "images_sha256": [rng.randbytes(32).hex(), rng.randbytes(32).hex()],
        }
        if site.protocol == "yaohua_a9":
            evidence["frames"] = {"gross": yaohua_a9_frame(gross), "tare": yaohua_a9_frame(tare)}
        return evidence

    def _sample(self, record_id: int, sampler: Company, product: Product, at: int) -> None:
        rng, q = self.rng, product.quality
        sampled_at = min(at + rng.randrange(300, 1800), self.end - 1)

        def pct(bounds: tuple[float, float]) -> Decimal:
            return Decimal(str(round(rng.uniform(*bounds), 2)))

        sample_id = self.keys.next("quality_sample")
        self.rows.add(
            "quality_sample",
            {
                "id": sample_id,
                "sample_no": f"ZJ{local_date(sampled_at):%Y%m%d}{sample_id:06d}",
                "enterprise_id": sampler.id,
                "product_id": self.product_ids[product.code],
                "weigh_record_id": record_id,
                "sampled_at": to_datetime(sampled_at),
                "laboratory": rng.choice((_LABORATORY, f"{sampler.short}化验室")),
                "total_moisture_pct": pct(q.moisture),
                "ash_pct": pct(q.ash),
                "volatile_pct": pct(q.volatile),
                "sulphur_pct": pct(q.sulphur),
                "calorific_mj_kg": pct(q.calorific),
                "caking_index": rng.randint(*q.caking) if q.caking else None,
            },
        )
