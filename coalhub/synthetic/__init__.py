"""A deterministic, realistic synthetic dataset of Wuhai's coal traffic.

`generate(engine, Scale.demo())` fills a freshly migrated, empty database: the districts,
the product dictionary, enterprises with sites and devices, trucks and drivers, contracts,
then day by day bookings, weigh tickets, hauls, checkpoint passes and positions, and
finally invoices, payments, quality samples and a few alerts. Figures follow
shared/docs/domain.md. The same seed and scale always give the same rows.

Deliberate anomalies for the alert features: overloaded weighings, shipments never
invoiced (有货无票), invoices with no goods (有票无货), payments to a party other than the
seller, prices far from the contract, kilogram invoice lines, misread plates, offline
devices and unregistered vehicles at checkpoints.
"""

from __future__ import annotations

import random

from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub.synthetic.alerts import Alerts
from coalhub.synthetic.city import build_city
from coalhub.synthetic.context import Context
from coalhub.synthetic.finance import Finance
from coalhub.synthetic.fleet import gross_limit_kg
from coalhub.synthetic.geography import CHECKPOINTS, DISTRICTS, LAT_RANGE, LON_RANGE
from coalhub.synthetic.identities import (
    misread,
    mobile_phone,
    person_name,
    plate,
    resident_id,
    uscc,
)
from coalhub.synthetic.products import PRODUCTS
from coalhub.synthetic.scale import Scale
from coalhub.synthetic.traffic import Traffic
from coalhub.synthetic.weighings import yaohua_a9_frame
from coalhub.synthetic.writer import TABLE_ORDER, Progress, Writer

__all__ = [
    "CHECKPOINTS",
    "DISTRICTS",
    "LAT_RANGE",
    "LON_RANGE",
    "PRODUCTS",
    "TABLE_ORDER",
    "Progress",
    "Scale",
    "generate",
    "gross_limit_kg",
    "misread",
    "mobile_phone",
    "person_name",
    "plate",
    "resident_id",
    "uscc",
    "yaohua_a9_frame",
]


async def generate(
    engine: AsyncEngine,
    scale: Scale,
    *,
    seed: int = 20231,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Fill an empty, migrated database; returns the rows inserted per table.

    Raises ValueError when any table it writes already holds rows."""
    writer = Writer(engine, progress or _no_progress)
    await writer.require_empty()
    ctx = Context(random.Random(seed), scale)  # noqa: S311 - reproducible data, not secrets
    city = build_city(ctx)
    await writer.write("reference", ctx.rows.take())
    traffic = Traffic(ctx, city)
    for day in range(scale.day_count):
        traffic.run_day(day)
        await writer.write(f"traffic day {day + 1}/{scale.day_count}", ctx.rows.take())
    finance = Finance(ctx, city, traffic.deliveries)
    finance.settle()
    await writer.write("finance", ctx.rows.take())
    Alerts(ctx, city, traffic, finance).raise_all()
    await writer.write("alerts", ctx.rows.take())
    await writer.advance_sequences()
    return writer.counts


def _no_progress(step: str, done: int, total: int) -> None:
    return None
