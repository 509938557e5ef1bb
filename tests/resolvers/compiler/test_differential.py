"""The compiled read path answers exactly as the executor: random valid queries drawn from
the schema, asked by random clients (every department, district, enterprise, clearance, with
and without an end user and purpose), on both apps over the same data. Data, errors
(FORBIDDEN entries: message, path, extensions; order aside) and what the audit trail
records (row counts per type, denials, outcome) must be identical. Where the compiled app
falls back, it may only be for a documented reason."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from tests.policies.test_never_leaks import ClientSpec, clients
from tests.resolvers.compiler.conftest import Twin, same, same_audit
from tests.resolvers.compiler.queries import QueryBuilder, Samples

# why the compiled path may leave a query to the executor in these queries
EXPECTED = {
    "compiled",
    "not executed",  # refused before execution (validation, limits): no path to choose
    "a refused subject at several positions",  # the executor's first occurrence: its schedule
    "bad cursor",  # BAD_CURSOR errors are the executor's
    "page size out of range",
}


async def samples(engine: AsyncEngine) -> Samples:
    columns = {
        "plate": m.Vehicle.plate,
        "uscc": m.Enterprise.uscc,
        "productCode": m.CoalProduct.code,
        "number": m.Invoice.number,
        "sellerTaxId": m.Invoice.seller_tax_id,
        "buyerTaxId": m.Invoice.buyer_tax_id,
    }
    found: dict[str, list[str]] = {}
    async with engine.connect() as connection:
        for name, column in columns.items():
            values = (await connection.scalars(select(column).order_by(column).limit(8))).all()
            found[name] = [str(v) for v in values] + ["no-such-value"]
    return Samples(found)


async def caller(twin: Twin, spec: ClientSpec) -> Any:
    client: dict[str, Any] = {"clearance": spec.clearance.value}
    if spec.department == "district":
        client["district_code"] = spec.district_code
    if spec.department == "enterprise":
        client["enterprise_id"] = spec.enterprise_rank + 1
    return await twin.as_client(spec.department, attributed=spec.with_purpose, **client)


# a longer hunt: COALHUB_DIFFERENTIAL_EXAMPLES=2000 .venv/bin/pytest tests/resolvers/compiler
EXAMPLES = int(os.environ.get("COALHUB_DIFFERENTIAL_EXAMPLES", "150"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(spec=clients, data=st.data())
async def test_compiled_answers_as_the_executor(
    twin: Twin, engine: AsyncEngine, spec: ClientSpec, data: st.DataObject
) -> None:
    builder = QueryBuilder(data.draw, await samples(engine))
    query, variables = builder.document()
    note(f"{spec}\n{query}\n{variables}")
    client = await caller(twin, spec)
    executor, compiled, outcome = await client.run(query, variables)
    note(f"compiled path: {outcome}")
    event(outcome)
    if outcome == "not executed":
        event(str([e["message"][:60] for e in executor.body.get("errors", [])]))
    same(executor.body, compiled.body)
    same_audit(executor.audit, compiled.audit)
    assert outcome in EXPECTED, outcome
