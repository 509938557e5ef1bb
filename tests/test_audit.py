"""The audit chain: appended in order across writers, and any alteration or deletion shows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub.audit import AuditLog, AuditRecord, verify
from coalhub.cli import main
from coalhub.models import AuditEvent
from coalhub.settings import Settings
from tests.conftest import Hub
from tests.factories import seed_world


def record(n: int) -> AuditRecord:
    return AuditRecord(
        occurred_at=datetime(2026, 11, 26, 8, 0, n, tzinfo=UTC),
        client_id="tax-app",
        department="tax",
        user_id="张三",
        purpose="发票稽核",
        operation_name=f"Q{n}",
        document_sha256="d" * 64,
        variables_sha256="v" * 64,
        fields=["invoices"],
        row_counts={"Invoice": n},
        denials=[],
        duration_ms=1.5 + n,
        result="ok",
    )


async def write(engine: AsyncEngine, n: int) -> None:
    log = AuditLog(engine, flush_interval=0.01)
    log.start()
    for i in range(n):
        log.record(record(i))
    await log.close()  # a clean shutdown loses nothing


async def test_two_writers_keep_one_gapless_chain(engine: AsyncEngine) -> None:
    await asyncio.gather(write(engine, 40), write(engine, 40))
    checked, broken = await verify(engine)
    assert broken is None
    assert checked == 80


async def test_an_altered_event_breaks_the_chain_there(engine: AsyncEngine) -> None:
    await write(engine, 10)
    async with engine.begin() as connection:
        await connection.execute(
            update(AuditEvent).where(AuditEvent.seq == 4).values(client_id="someone-else")
        )
    checked, broken = await verify(engine)
    assert broken is not None
    assert (broken.seq, broken.reason, checked) == (4, "altered", 3)


async def test_a_deleted_event_is_detected(engine: AsyncEngine) -> None:
    await write(engine, 10)
    async with engine.begin() as connection:
        await connection.execute(delete(AuditEvent).where(AuditEvent.seq == 7))
    _, broken = await verify(engine)
    assert broken is not None
    assert (broken.seq, broken.reason) == (7, "missing")


async def test_cli_reports_the_broken_event(engine: AsyncEngine, settings: Settings) -> None:
    await write(engine, 5)
    async with engine.begin() as connection:
        await connection.execute(
            update(AuditEvent).where(AuditEvent.seq == 2).values(duration_ms=0)
        )
    env = {"COALHUB_DATABASE_URL": settings.database_url}
    result = await asyncio.to_thread(CliRunner().invoke, main, ["audit", "verify"], env=env)
    assert result.exit_code == 1
    assert "event 2" in result.output


AUDIT_QUERY = """
{ auditEvents(first: 50) { totalCount edges { node {
    clientId department userId purpose operationName fields rowCounts denials result
} } } }"""


async def test_requests_are_audited_and_auditors_see_them_all(
    hub: Hub, engine: AsyncEngine
) -> None:
    await seed_world(engine)
    tax = await hub.as_client("tax", user_id="李四", purpose="发票核查")
    energy = await hub.as_client("energy")
    await tax.data("query Flows { weighRecords(first: 3) { edges { node { ticketNo } } } }")
    denied = await energy.graphql("query Pay { payments(first: 1) { totalCount } }")
    assert denied["data"]["payments"] is None
    await hub.flush_audit()

    auditor = await hub.as_client("auditor")
    events = [e["node"] for e in (await auditor.data(AUDIT_QUERY))["auditEvents"]["edges"]]
    flows = next(e for e in events if e["operationName"] == "Flows")
    assert flows["userId"] == "李四"
    assert flows["purpose"] == "发票核查"
    assert flows["fields"] == ["weighRecords"]
    assert flows["rowCounts"] == {"WeighRecord": 3}
    assert flows["result"] == "ok"
    pay = next(e for e in events if e["operationName"] == "Pay")
    assert pay["denials"] == ["Payment"]
    assert pay["result"] == "denied"
    checked, broken = await verify(engine)
    assert broken is None
    assert checked >= 2


async def test_a_client_sees_only_its_own_audit_events(hub: Hub) -> None:
    tax = await hub.as_client("tax")
    police = await hub.as_client("police")
    await tax.data("query Mine { me { clientId } }")
    await police.data("query Theirs { me { clientId } }")
    await hub.flush_audit()
    events = (await tax.data(AUDIT_QUERY))["auditEvents"]["edges"]
    assert {e["node"]["department"] for e in events} == {"tax"}
    assert "Theirs" not in {e["node"]["operationName"] for e in events}
