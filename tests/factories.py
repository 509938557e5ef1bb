"""Small, precise test data written straight to the database (no API involved)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from coalhub.identifiers import PlateColour

BASE_TIME = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
DISTRICTS = [
    ("150302", "海勃湾区", "Haibowan"),
    ("150303", "海南区", "Hainan"),
    ("150304", "乌达区", "Wuda"),
]


def uscc(division: str, serial: int) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    body = f"91{division}MA{serial:07d}"
    total = sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True))
    return body + alphabet[(31 - total % 31) % 31]


@dataclass
class World:
    district_ids: dict[str, int] = field(default_factory=dict)
    enterprise_ids: list[int] = field(default_factory=list)
    site_ids: list[int] = field(default_factory=list)
    vehicle_ids: list[int] = field(default_factory=list)
    product_id: int = 0
    weigh_record_ids: list[int] = field(default_factory=list)


async def _insert(
    engine: AsyncEngine, model: type[m.Base], rows: list[dict[str, Any]]
) -> list[int]:
    table = model.__table__
    async with engine.begin() as connection:
        ids = []
        for row in rows:  # one by one to learn the generated ids on both backends
            statement = insert(model).values(**row).returning(table.c.id)
            result = await connection.execute(statement)
            ids.append(int(result.scalar_one()))
    return ids


async def seed_districts(engine: AsyncEngine) -> dict[str, int]:
    rows = [{"code": c, "name": n, "name_en": e} for c, n, e in DISTRICTS]
    ids = await _insert(engine, m.District, rows)
    return {code: i for (code, _, _), i in zip(DISTRICTS, ids, strict=True)}


async def seed_world(
    engine: AsyncEngine, *, enterprises_per_district: int = 2, weighings_per_site: int = 3
) -> World:
    """Per district: mines with one weighbridge each; trucks; sales weighed at each site."""
    world = World(district_ids=await seed_districts(engine))
    [world.product_id] = await _insert(
        engine,
        m.CoalProduct,
        [
            {
                "code": "JM-XJ",
                "name": "洗精煤",
                "name_en": "washed coking coal",
                "category": m.ProductCategory.WASHED,
                "rank": "JM",
            }
        ],
    )
    buyer_rows = [
        {
            "uscc": uscc("150303", 999),
            "name": "乌海市测试焦化有限公司",
            "kind": m.EnterpriseKind.COKING,
            "district_id": world.district_ids["150303"],
        }
    ]
    [buyer_id] = await _insert(engine, m.Enterprise, buyer_rows)
    serial = 0
    for code, district_id in world.district_ids.items():
        for _ in range(enterprises_per_district):
            serial += 1
            [eid] = await _insert(
                engine,
                m.Enterprise,
                [
                    {
                        "uscc": uscc(code, serial),
                        "name": f"乌海市测试{serial}号煤矿",
                        "kind": m.EnterpriseKind.MINE,
                        "district_id": district_id,
                        "contact_phone": "13800008000",
                        "legal_representative": "张三",
                    }
                ],
            )
            world.enterprise_ids.append(eid)
            [sid] = await _insert(
                engine,
                m.Site,
                [
                    {
                        "enterprise_id": eid,
                        "code": "WB1",
                        "name": f"{serial}号地磅",
                        "kind": m.SiteKind.WEIGHBRIDGE,
                    }
                ],
            )
            world.site_ids.append(sid)
    world.vehicle_ids = await _insert(
        engine,
        m.Vehicle,
        [
            {
                "plate": f"蒙C{10000 + i}",
                "plate_colour": PlateColour.YELLOW,
                "axles": 6,
                "rated_payload_kg": 32000,
                "energy_type": m.EnergyType.DIESEL,
                "owner_enterprise_id": world.enterprise_ids[i % len(world.enterprise_ids)],
            }
            for i in range(4)
        ],
    )
    rows = []
    n = 0
    for site_index, site_id in enumerate(world.site_ids):
        shipper = world.enterprise_ids[site_index]
        for k in range(weighings_per_site):
            n += 1
            at = BASE_TIME + timedelta(hours=n)
            rows.append(
                {
                    "ticket_no": f"T{n:06d}",
                    "idempotency_key": f"key-{n}",
                    "site_id": site_id,
                    "direction": m.WeighDirection.SALE,
                    "vehicle_id": world.vehicle_ids[k % 4],
                    "plate_read": f"蒙C{10000 + k % 4}",
                    "product_id": world.product_id,
                    "gross_kg": 49000 - k * 10,
                    "tare_kg": 17000,
                    "gross_at": at,
                    "tare_at": at - timedelta(minutes=20),
                    "weighed_at": at,
                    "shipper_id": shipper,
                    "consignee_id": buyer_id,
                    "unit_price": "1650.00",
                    "source": m.RecordSource.MANUAL,
                }
            )
    world.weigh_record_ids = await _insert(engine, m.WeighRecord, rows)
    points = [
        {
            "vehicle_id": world.vehicle_ids[0],
            "recorded_at": BASE_TIME + timedelta(minutes=i),
            "latitude": 39.6 + i / 1000,
            "longitude": 106.8,
            "source": m.PositionSource.JT808,
        }
        for i in range(30)
    ]
    await _insert(engine, m.TrajectoryPoint, points)
    return world
