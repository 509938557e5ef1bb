"""The city's master data: districts, checkpoints, products, enterprises, fleet, contracts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from coalhub.models import EnterpriseKind
from coalhub.synthetic.context import Context, Row
from coalhub.synthetic.contracts import add_contracts
from coalhub.synthetic.enterprises import add_enterprises
from coalhub.synthetic.entities import Checkpoint, Company, Contract, Site, Truck
from coalhub.synthetic.fleet import add_fleet
from coalhub.synthetic.geography import CHECKPOINTS, DISTRICTS, Point
from coalhub.synthetic.products import PRODUCTS
from coalhub.synthetic.sites import add_sites


@dataclass
class City:
    product_ids: dict[str, int]
    companies: list[Company]
    trucks: list[Truck]  # registered, in service
    unregistered: list[Truck]
    checkpoints: list[Checkpoint]
    contracts: list[Contract]
    contract_weights: list[float]  # cumulative, for rng.choices
    offline_sites: list[tuple[Site, int]]  # site, last heartbeat

    def of_kind(self, kind: EnterpriseKind) -> list[Company]:
        return [c for c in self.companies if c.kind == kind and c.approved]


def build_city(ctx: Context) -> City:
    # Adds the rows of every reference table; returns the city the traffic runs in.
    district_ids = _add_districts(ctx)
    product_ids = _add_products(ctx)
    checkpoints = _add_checkpoints(ctx, district_ids)
    companies = add_enterprises(ctx, district_ids)
    offline = add_sites(ctx, companies)
    trucks, unregistered = add_fleet(ctx, companies)
    contracts, weights = add_contracts(ctx, companies, product_ids)
    return City(
        product_ids=product_ids,
        companies=companies,
        trucks=trucks,
        unregistered=unregistered,
        checkpoints=checkpoints,
        contracts=contracts,
        contract_weights=weights,
        offline_sites=offline,
    )


def _add_districts(ctx: Context) -> dict[str, int]:
    return _add_by_code(
        ctx,
        "district",
        ({"code": d.code, "name": d.name, "name_en": d.name_en} for d in DISTRICTS),
    )


def _add_products(ctx: Context) -> dict[str, int]:
    return _add_by_code(
        ctx,
        "coal_product",
        (
            {
                "code": p.code,
                "name": p.name,
                "name_en": p.name_en,
                "category": p.category,
                "rank": p.rank,
            }
            for p in PRODUCTS
        ),
    )


def _add_by_code(ctx: Context, table: str, rows: Iterable[Row]) -> dict[str, int]:
    # rows of a dictionary table; returns their ids by code
    ids = {}
    for row in rows:
        ids[row["code"]] = ctx.keys.next(table)
        ctx.rows.add(table, {"id": ids[row["code"]], **row})
    return ids


def _add_checkpoints(ctx: Context, district_ids: dict[str, int]) -> list[Checkpoint]:
    result = []
    for code, name, district, lat, lon, boundary in CHECKPOINTS:
        checkpoint = Checkpoint(
            ctx.keys.next("checkpoint"), name, Point(lat, lon), boundary, district_ids[district]
        )
        result.append(checkpoint)
        ctx.rows.add(
            "checkpoint",
            {
                "id": checkpoint.id,
                "code": code,
                "name": name,
                "district_id": checkpoint.district_id,
                "latitude": lat,
                "longitude": lon,
                "on_city_boundary": boundary,
            },
        )
    return result
