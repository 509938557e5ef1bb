"""Decisions from the Casbin policy in the database: per department, district, clearance."""

from __future__ import annotations

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub.auth import Principal
from coalhub.db import create_sessionmaker
from coalhub.models.policy import PolicyRule
from coalhub.secrecy import Mask, Secrecy
from policies.access import FieldAccess
from policies.enforcer import PolicyStore, bump_revision, seed_if_empty


async def store_for(engine: AsyncEngine) -> PolicyStore:
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker.begin() as session:
        assert await seed_if_empty(session)
        assert not await seed_if_empty(session)  # seeding happens once
    return PolicyStore(sessionmaker, max_page_size=100, refresh_seconds=0)


def principal(
    department: str, clearance: Secrecy = Secrecy.CONFIDENTIAL, **kw: object
) -> Principal:
    return Principal(
        client_id=f"{department}-app",
        department=department,
        clearance=clearance,
        user_id="u1",
        purpose="专项稽查",
        **kw,  # type: ignore[arg-type]
    )


async def test_tax_reads_invoices_and_prices_but_not_trajectories(engine: AsyncEngine) -> None:
    decision = await (await store_for(engine)).decision_for(principal("tax"))
    assert decision.can_read_type("Invoice")
    assert decision.can_read_type("Payment")
    assert not decision.can_read_type("TrajectoryPoint")
    assert not decision.can_read_type("Driver")
    assert decision.field_access("WeighRecord", "unit_price") == (FieldAccess.ALLOW, None)
    assert decision.scope.unrestricted


async def test_clearance_nulls_or_masks_by_duty(engine: AsyncEngine) -> None:
    store = await store_for(engine)
    transport = await store.decision_for(principal("transport", Secrecy.INTERNAL))
    # transport may identify drivers: personal data masked, not nulled
    assert transport.field_access("Driver", "id_number") == (FieldAccess.MASK, Mask.ID_NUMBER)
    energy = await store.decision_for(principal("energy", Secrecy.INTERNAL))
    assert not energy.can_read_type("Driver")
    assert energy.field_access("WeighRecord", "unit_price") == (FieldAccess.DENY, None)


async def test_without_user_and_purpose_clearance_stops_at_internal(engine: AsyncEngine) -> None:
    store = await store_for(engine)
    anonymous = Principal(client_id="tax-app", department="tax", clearance=Secrecy.CONFIDENTIAL)
    decision = await store.decision_for(anonymous)
    assert decision.clearance == Secrecy.INTERNAL
    assert decision.field_access("Invoice", "total_amount") == (FieldAccess.DENY, None)


async def test_districts_and_enterprises_are_confined_to_their_domain(engine: AsyncEngine) -> None:
    store = await store_for(engine)
    district = await store.decision_for(principal("district", district_code="150304"))
    assert district.scope.district_codes == frozenset({"150304"})
    enterprise = await store.decision_for(principal("enterprise", enterprise_id=7))
    assert enterprise.scope.enterprise_ids == frozenset({7})
    device = await store.decision_for(principal("device", site_id=3, enterprise_id=7))
    assert not device.can_read_type("WeighRecord")
    assert device.may("ingest", "WeighRecord")


async def test_a_policy_change_reaches_decisions_without_restart(engine: AsyncEngine) -> None:
    store = await store_for(engine)
    market = principal("market_regulation")
    assert not (await store.decision_for(market)).can_read_type("Payment")
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker.begin() as session:
        await session.execute(
            insert(PolicyRule).values(
                ptype="p", v0="market_regulation", v1="*", v2="Payment", v3="read"
            )
        )
        await bump_revision(session)
    assert (await store.decision_for(market)).can_read_type("Payment")
    async with sessionmaker.begin() as session:
        await session.execute(
            delete(PolicyRule).where(
                PolicyRule.v2 == "Payment", PolicyRule.v0 == "market_regulation"
            )
        )
        await bump_revision(session)
    assert not (await store.decision_for(market)).can_read_type("Payment")


async def test_decisions_are_shared_across_end_users_and_purposes(engine: AsyncEngine) -> None:
    store = await store_for(engine)
    first = await store.decision_for(principal("tax"))
    other = Principal(
        client_id="tax-app",
        department="tax",
        clearance=Secrecy.CONFIDENTIAL,
        user_id="someone-else",
        purpose="另一项稽查",
    )
    assert await store.decision_for(other) is first  # one decision per client, not per user
