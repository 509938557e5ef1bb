"""The synthetic Wuhai dataset (coalhub.synthetic), generated at tiny scale: checked in
SQLite, then loaded into each backend."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from coalhub.db import create_engine
from coalhub.identifiers import (
    PlateColour,
    validate_phone,
    validate_plate,
    validate_resident_id,
    validate_uscc,
)
from coalhub.models import EnterpriseKind
from coalhub.settings import Settings, sqlite_url
from coalhub.synthetic import (
    DISTRICTS,
    LAT_RANGE,
    LON_RANGE,
    TABLE_ORDER,
    Scale,
    generate,
    gross_limit_kg,
    yaohua_a9_frame,
)

SCALE = Scale.tiny()
SEED = 7


@dataclass(frozen=True)
class Generated:
    db: sqlite3.Connection
    counts: dict[str, int]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.db.execute(sql).fetchall()


def _generate(database_url: str, seed: int = SEED) -> dict[str, int]:
    async def run() -> dict[str, int]:
        engine = create_engine(Settings(database_url=database_url))
        try:
            return await generate(engine, SCALE, seed=seed)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _sqlite(template: Path, path: Path, seed: int = SEED) -> Generated:
    shutil.copyfile(template, path)  # a migrated, empty database
    counts = _generate(sqlite_url(path), seed)
    return Generated(sqlite3.connect(path), counts)


def _dump(db: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: db.execute(f"SELECT * FROM {name} ORDER BY id").fetchall() for name in TABLE_ORDER
    }


@pytest.fixture(scope="module")
def city(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    generated = _sqlite(sqlite_template, tmp_path_factory.mktemp("synthetic") / "city.sqlite3")
    yield generated
    generated.db.close()


def test_every_table_is_filled_and_counted(city: Generated) -> None:
    for name in TABLE_ORDER:
        (stored,) = city.db.execute(f"SELECT count(*) FROM {name}").fetchone()
        assert stored == city.counts[name] > 0, name


def test_same_seed_gives_identical_rows_and_another_seed_does_not(
    city: Generated, sqlite_template: Path, tmp_path: Path
) -> None:
    again = _sqlite(sqlite_template, tmp_path / "again.sqlite3")
    other = _sqlite(sqlite_template, tmp_path / "other.sqlite3", SEED + 1)
    try:
        assert _dump(again.db) == _dump(city.db)
        tickets = "SELECT ticket_no, gross_kg, tare_kg FROM weigh_record ORDER BY id"
        assert other.rows(tickets) != city.rows(tickets)
    finally:
        again.db.close()
        other.db.close()


def test_generating_into_a_filled_database_is_refused(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "twice.sqlite3"
    _sqlite(sqlite_template, path).db.close()
    with pytest.raises(ValueError, match="empty tables"):
        _generate(sqlite_url(path))


def test_enterprises_of_every_kind_with_uscc_of_their_district(city: Generated) -> None:
    rows = city.rows(
        "SELECT e.uscc, e.kind, d.code, e.contact_phone FROM enterprise e"
        " JOIN district d ON d.id = e.district_id"
    )
    assert {kind for _, kind, _, _ in rows} == {kind.value for kind in EnterpriseKind}
    assert {code for _, _, code, _ in rows} <= {d.code for d in DISTRICTS}
    for uscc, _, district_code, phone in rows:
        assert validate_uscc(str(uscc)) == uscc
        assert str(uscc)[2:8] == district_code
        assert validate_phone(str(phone)) == phone


def test_drivers_have_valid_wuhai_resident_ids(city: Generated) -> None:
    for id_number, phone in city.rows("SELECT id_number, phone FROM driver"):
        assert validate_resident_id(str(id_number)) == id_number
        assert str(id_number).startswith("1503")
        assert validate_phone(str(phone)) == phone


def test_plates_are_valid_for_their_colour(city: Generated) -> None:
    rows = city.rows("SELECT plate, plate_colour FROM vehicle")
    for plate, colour in rows:
        assert validate_plate(str(plate), PlateColour(colour)) == plate
    assert any(str(plate).startswith("蒙C") for plate, _ in rows)


def test_shipments_pair_a_sale_with_a_later_purchase_of_the_same_truck(city: Generated) -> None:
    rows = city.rows(
        "SELECT o.direction, d.direction, o.vehicle_id = d.vehicle_id,"
        " d.gross_at > o.weighed_at, s.matched_at >= d.weighed_at"
        " FROM shipment s JOIN weigh_record o ON o.id = s.origin_weigh_record_id"
        " JOIN weigh_record d ON d.id = s.destination_weigh_record_id"
    )
    assert rows
    assert set(rows) == {("sale", "purchase", 1, 1, 1)}
    origins = city.rows(
        "SELECT DISTINCT o.direction FROM shipment s"
        " JOIN weigh_record o ON o.id = s.origin_weigh_record_id"
    )
    assert origins == [("sale",)]


def test_hauls_leaving_the_city_pass_a_boundary_checkpoint_after_the_sale(
    city: Generated,
) -> None:
    rows = city.rows(
        "SELECT c.on_city_boundary, p.direction, p.vehicle_id = o.vehicle_id,"
        " p.passed_at > o.weighed_at, s.destination_weigh_record_id IS NULL"
        " FROM shipment s JOIN weigh_record o ON o.id = s.origin_weigh_record_id"
        " JOIN checkpoint_pass p ON p.id = s.exit_checkpoint_pass_id"
        " JOIN checkpoint c ON c.id = p.checkpoint_id"
    )
    assert rows
    assert set(rows) == {(1, "outbound", 1, 1, 1)}


def test_weighings_are_physically_plausible(city: Generated) -> None:
    rows = city.rows("SELECT gross_kg, tare_kg, gross_at, tare_at, direction FROM weigh_record")
    for gross, tare, gross_at, tare_at, direction in rows:
        assert isinstance(gross, int)
        assert isinstance(tare, int)
        assert gross > tare > 5_000
        assert gross % 20 == tare % 20 == 0  # 20 kg divisions
        # empty first where coal is loaded, loaded first where it is unloaded
        assert (str(tare_at) < str(gross_at)) == (direction != "purchase")
    spreads = city.rows("SELECT max(tare_kg) - min(tare_kg) FROM weigh_record GROUP BY vehicle_id")
    assert max(spread for (spread,) in spreads) <= 400


def test_invoice_totals_are_the_sums_of_their_lines_at_13_percent(city: Generated) -> None:
    invoices = city.rows("SELECT id, total_amount, total_tax FROM invoice")
    lines = city.rows("SELECT invoice_id, amount, tax_amount, tax_rate FROM invoice_line")
    sums: dict[object, tuple[Decimal, Decimal]] = {}
    for invoice_id, amount, tax, rate in lines:
        assert rate == 13
        amount_d, tax_d = Decimal(str(amount)), Decimal(str(tax))
        assert abs(amount_d * Decimal("0.13") - tax_d) <= Decimal("0.005")
        total = sums.get(invoice_id, (Decimal(0), Decimal(0)))
        sums[invoice_id] = (total[0] + amount_d, total[1] + tax_d)
    assert invoices
    for invoice_id, total_amount, total_tax in invoices:
        assert sums[invoice_id] == (Decimal(str(total_amount)), Decimal(str(total_tax)))


def test_positions_are_unique_per_truck_and_instant_and_near_wuhai(city: Generated) -> None:
    duplicates = city.rows(
        "SELECT vehicle_id, recorded_at FROM trajectory_point"
        " GROUP BY vehicle_id, recorded_at HAVING count(*) > 1"
    )
    assert duplicates == []
    ((lat_min, lat_max, lon_min, lon_max),) = city.rows(
        "SELECT min(latitude), max(latitude), min(longitude), max(longitude) FROM trajectory_point"
    )
    assert LAT_RANGE[0] - 0.01 < lat_min < lat_max < LAT_RANGE[1] + 0.01
    assert LON_RANGE[0] - 0.01 < lon_min < lon_max < LON_RANGE[1] + 0.01


def test_gross_limits_follow_gb_1589() -> None:
    assert gross_limit_kg(2, combination=False, air=False, single_drive=False) == 18_000
    assert gross_limit_kg(3, combination=False, air=True, single_drive=False) == 26_000
    assert gross_limit_kg(4, combination=True, air=False, single_drive=False) == 36_000
    assert gross_limit_kg(5, combination=True, air=False, single_drive=False) == 43_000
    assert gross_limit_kg(6, combination=True, air=False, single_drive=True) == 46_000
    assert gross_limit_kg(6, combination=True, air=False, single_drive=False) == 49_000


def test_yaohua_frame_matches_the_documented_example() -> None:
    # domain.md: `+00326001C` is 3260 kg with XOR 1C
    assert bytes.fromhex(yaohua_a9_frame(3260)) == b"\x02+00326001C\x03"


# --- each backend ----------------------------------------------------------------------------

INSERT_DISTRICT = (
    "INSERT INTO district (code, name, name_en) VALUES ('150399', 'x', 'x') RETURNING id"
)


async def _insert_district(database_url: str) -> int:
    engine = create_engine(Settings(database_url=database_url))
    try:
        async with engine.begin() as conn:
            return int(await conn.scalar(text(INSERT_DISTRICT)))
    finally:
        await engine.dispose()


def test_each_backend_gets_the_same_rows_and_ids_continue_after_them(
    database_url: str, city: Generated
) -> None:
    assert _generate(database_url) == city.counts
    # ids were given explicitly: the next row the application inserts must not collide
    assert asyncio.run(_insert_district(database_url)) == len(DISTRICTS) + 1
