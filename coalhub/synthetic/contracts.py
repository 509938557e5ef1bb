"""Who sells what to whom: the trade flows of the city and the contracts along them."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from coalhub.models import ContractStatus, EnterpriseKind
from coalhub.synthetic.clock import local_date
from coalhub.synthetic.context import Context, Row
from coalhub.synthetic.entities import Company, Contract
from coalhub.synthetic.products import PRODUCTS_BY_CODE

K = EnterpriseKind


@dataclass(frozen=True)
class _Flow:
    # Who sells what to whom, and how much of the traffic it carries.

    seller: EnterpriseKind
    buyer: EnterpriseKind
    products: tuple[str, ...]
    weight: float
    inbound: bool = False  # coal from outside the city, sold on by a local trader


_FLOWS = (
    _Flow(K.MINE, K.WASHING_PLANT, ("RAW-JM", "RAW-13JM", "RAW-FM"), 28),
    _Flow(K.GOAF_REMEDIATION, K.WASHING_PLANT, ("RAW-JM", "RAW-QM"), 8),
    _Flow(K.MINE, K.POWER_PLANT, ("MIXED-QM", "FINE-QM"), 6),
    _Flow(K.MINE, K.TRADER, ("RAW-JM", "LUMP-QM"), 6),
    _Flow(K.MINE, K.CHEMICAL, ("FINE-QM", "LUMP-QM"), 3),
    _Flow(K.MINE, K.BUILDING_MATERIALS, ("GANGUE",), 2),
    _Flow(K.WASHING_PLANT, K.COKING, ("CLEAN-JM", "CLEAN-13JM", "CLEAN-FM"), 20),
    _Flow(K.WASHING_PLANT, K.TRADER, ("CLEAN-JM", "CLEAN-13JM"), 6),
    _Flow(K.WASHING_PLANT, K.POWER_PLANT, ("MID", "SLIME"), 6),
    _Flow(K.WASHING_PLANT, K.BUILDING_MATERIALS, ("GANGUE", "SLIME"), 2),
    _Flow(K.COKING, K.METALLURGY, ("COKE",), 5),
    _Flow(K.COKING, K.CHEMICAL, ("COKE",), 4),
    _Flow(K.COKING, K.TRADER, ("COKE",), 5),
    _Flow(K.TRADER, K.COKING, ("RAW-JM", "CLEAN-JM"), 4, inbound=True),
    _Flow(K.TRADER, K.POWER_PLANT, ("MIXED-QM",), 1, inbound=True),
)
_CONTRACTS_PER_ENTERPRISE = 2.5
_GUARANTEED_SHARE = 0.6  # of contracts with power plants: 保供, called off first
_GUARANTEED_WEIGHT = 1.5


def add_contracts(
    ctx: Context, companies: list[Company], product_ids: dict[str, int]
) -> tuple[list[Contract], list[float]]:
    # Active contracts along each flow, plus a few closed or draft ones no truck uses; returns
    # the active ones with cumulative weights for picking the contract of a haul.
    rng = ctx.rng
    approved = [c for c in companies if c.approved]
    total_weight = sum(f.weight for f in _FLOWS)
    target = max(len(_FLOWS), round(ctx.scale.enterprises * _CONTRACTS_PER_ENTERPRISE))
    contracts: list[Contract] = []
    weights: list[float] = []
    for flow in _FLOWS:
        sellers = [c for c in approved if c.kind == flow.seller]
        buyers = [c for c in approved if c.kind == flow.buyer]
        count = max(1, round(flow.weight / total_weight * target))
        for _ in range(count):
            contract = _contract(ctx, flow, sellers, buyers, product_ids)
            guaranteed = flow.buyer == K.POWER_PLANT and rng.random() < _GUARANTEED_SHARE
            ctx.rows.add("contract", _contract_row(ctx, contract, guaranteed, active=True))
            contracts.append(contract)
            boost = _GUARANTEED_WEIGHT if guaranteed else 1
            weights.append(flow.weight / count * rng.uniform(0.5, 1.5) * boost)
    for old in rng.sample(contracts, max(1, len(contracts) // 12)):
        closed = replace(old, id=ctx.keys.next("contract"))
        ctx.rows.add("contract", _contract_row(ctx, closed, False, active=False))
    return contracts, list(itertools.accumulate(weights))


def _contract(
    ctx: Context,
    flow: _Flow,
    sellers: list[Company],
    buyers: list[Company],
    product_ids: dict[str, int],
) -> Contract:
    rng = ctx.rng
    product = PRODUCTS_BY_CODE[rng.choice(flow.products)]
    return Contract(
        id=ctx.keys.next("contract"),
        seller=rng.choice(sellers),
        buyer=rng.choice(buyers),
        product=product,
        product_id=product_ids[product.code],
        unit_price=Decimal(rng.randint(*product.price)),
        inbound=flow.inbound,
    )


def _contract_row(ctx: Context, contract: Contract, guaranteed: bool, *, active: bool) -> Row:
    rng = ctx.rng
    start, end, status = _period(rng, local_date(ctx.scale.start_ts), active)
    signed = datetime(start.year, start.month, start.day, 2, tzinfo=UTC) - timedelta(
        days=rng.randint(3, 30)
    )
    return {
        "id": contract.id,
        "number": f"HT{start:%Y%m}{contract.id:05d}",
        "seller_id": contract.seller.id,
        "buyer_id": contract.buyer.id,
        "product_id": contract.product_id,
        "quantity_t": Decimal(rng.randrange(20_000, 400_000, 1_000)),
        "unit_price": contract.unit_price,
        "period_start": start,
        "period_end": end,
        "guaranteed_supply": guaranteed,
        "status": status,
        "created_at": signed,
        "updated_at": signed,
    }


def _period(
    rng: random.Random, data_start: date, active: bool
) -> tuple[date, date, ContractStatus]:
    # an active contract runs a year from this year's start; the others ended or have not begun
    if active:
        start = date(data_start.year, 1, 1) + timedelta(days=rng.randrange(0, 300))
        start = min(start, data_start - timedelta(days=7))
        end = date(start.year + 1, start.month, 1) - timedelta(days=1)
        return start, end, ContractStatus.ACTIVE
    status = rng.choice((ContractStatus.COMPLETED, ContractStatus.TERMINATED, ContractStatus.DRAFT))
    start = date(data_start.year - 1, rng.randint(1, 12), 1)
    end = start + timedelta(days=rng.choice((90, 180, 364)))
    if status == ContractStatus.DRAFT:
        start, end = data_start + timedelta(days=30), data_start + timedelta(days=395)
    return start, end, status
