"""R1 registration: valid data is stored; invalid data is refused precisely, leaving nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from tests.conftest import Hub
from tests.factories import seed_districts, uscc

REGISTER_ENTERPRISE = """
mutation($input: RegisterEnterpriseInput!) {
  registerEnterprise(input: $input) {
    enterprise { id uscc name kind registrationStatus district { code } }
  }
}"""
REGISTER_VEHICLE = """
mutation($input: RegisterVehicleInput!) {
  registerVehicle(input: $input) { vehicle { id plate plateColour status axles } }
}"""
REGISTER_DRIVER = """
mutation($input: RegisterDriverInput!) {
  registerDriver(input: $input) { driver { id name idNumber phone } }
}"""


def enterprise_input(**changes: Any) -> dict[str, Any]:
    return {
        "uscc": uscc("150302", 42),
        "name": "乌海市新煤业有限公司",
        "kind": "MINE",
        "districtCode": "150302",
        "contactPhone": "13800138000",
        **changes,
    }


def vehicle_input(**changes: Any) -> dict[str, Any]:
    return {
        "plate": "蒙C 88888",
        "plateColour": "YELLOW",
        "axles": 6,
        "energyType": "DIESEL",
        "ratedPayloadKg": 32000,
        "transportCertificate": "150302000123",
        **changes,
    }


async def count(engine: AsyncEngine, model: type[m.Base]) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(model))).scalar_one())


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None
    [error] = body["errors"]
    extensions: dict[str, Any] = error["extensions"]
    return extensions


async def test_registers_an_enterprise(hub: Hub, engine: AsyncEngine) -> None:
    await seed_districts(engine)
    data = await hub.data(REGISTER_ENTERPRISE, {"input": enterprise_input()})
    enterprise = data["registerEnterprise"]["enterprise"]
    assert enterprise["uscc"] == uscc("150302", 42)
    assert enterprise["registrationStatus"] == "PENDING"  # a district approves it later
    assert enterprise["district"]["code"] == "150302"
    fetched = await hub.data(
        "query($id: ID!) { node(id: $id) { ... on Enterprise { name } } }",
        {"id": enterprise["id"]},
    )
    assert fetched["node"]["name"] == "乌海市新煤业有限公司"


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"uscc": uscc("150302", 42)[:-1] + "0"}, "uscc", "bad_check_character"),
        ({"uscc": "9115030"}, "uscc", "bad_length"),
        ({"name": "   "}, "name", "empty"),
        ({"districtCode": "110101"}, "districtCode", "unknown"),
        ({"contactPhone": "12345"}, "contactPhone", "bad_format"),
        ({"latitude": 95.0, "longitude": 106.8}, "latitude", "out_of_range"),
    ],
)
async def test_invalid_enterprise_is_refused_and_leaves_no_row(
    hub: Hub, engine: AsyncEngine, changes: dict[str, Any], field: str, reason: str
) -> None:
    await seed_districts(engine)
    body = await hub.graphql(REGISTER_ENTERPRISE, {"input": enterprise_input(**changes)})
    assert error_of(body) == {"code": "INVALID_INPUT", "field": field, "reason": reason}
    assert await count(engine, m.Enterprise) == 0


async def test_duplicate_uscc_is_a_conflict(hub: Hub, engine: AsyncEngine) -> None:
    await seed_districts(engine)
    await hub.data(REGISTER_ENTERPRISE, {"input": enterprise_input()})
    body = await hub.graphql(REGISTER_ENTERPRISE, {"input": enterprise_input(name="另一家")})
    assert error_of(body)["code"] == "CONFLICT"
    assert error_of(body)["field"] == "uscc"
    assert await count(engine, m.Enterprise) == 1


async def test_registers_a_vehicle_with_a_normalised_plate(hub: Hub) -> None:
    data = await hub.data(REGISTER_VEHICLE, {"input": vehicle_input()})
    vehicle = data["registerVehicle"]["vehicle"]
    assert vehicle["plate"] == "蒙C88888"
    assert vehicle["status"] == "REGISTERED"


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"plate": "蒙CI2345"}, "plate", "bad_format"),  # I is never used on plates
        ({"plate": "蒙CD12345"}, "plate", "colour_mismatch"),  # new-energy plate, yellow colour
        ({"plate": "蒙C12345", "plateColour": "YELLOW_GREEN"}, "plate", "bad_format"),
        ({"axles": 1}, "axles", "out_of_range"),
        ({"ratedPayloadKg": 0}, "ratedPayloadKg", "out_of_range"),
        ({"transportCertificate": "no/such"}, "transportCertificate", "bad_format"),
        ({"ownerEnterpriseId": "RW50ZXJwcmlzZTo5OTk="}, "ownerEnterpriseId", "unknown"),
        ({"ownerEnterpriseId": "VmVoaWNsZTox"}, "ownerEnterpriseId", "wrong_type"),
    ],
)
async def test_invalid_vehicle_is_refused_and_leaves_no_row(
    hub: Hub, engine: AsyncEngine, changes: dict[str, Any], field: str, reason: str
) -> None:
    body = await hub.graphql(REGISTER_VEHICLE, {"input": vehicle_input(**changes)})
    assert error_of(body) == {"code": "INVALID_INPUT", "field": field, "reason": reason}
    assert await count(engine, m.Vehicle) == 0


async def test_a_vehicle_seen_before_registration_becomes_registered(
    hub: Hub, engine: AsyncEngine
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(m.Vehicle).values(plate="蒙C88888", plate_colour="yellow", status="unregistered")
        )
    data = await hub.data(REGISTER_VEHICLE, {"input": vehicle_input()})
    assert data["registerVehicle"]["vehicle"]["status"] == "REGISTERED"
    assert await count(engine, m.Vehicle) == 1
    again = await hub.graphql(REGISTER_VEHICLE, {"input": vehicle_input()})
    assert error_of(again)["code"] == "CONFLICT"


async def test_registers_a_driver_and_refuses_a_bad_id_number(
    hub: Hub, engine: AsyncEngine
) -> None:
    driver = {"name": "王五", "idNumber": "11010519491231002X", "phone": "13912345678"}
    data = await hub.data(REGISTER_DRIVER, {"input": driver})
    assert data["registerDriver"]["driver"]["idNumber"] == "11010519491231002X"
    bad = await hub.graphql(REGISTER_DRIVER, {"input": driver | {"idNumber": "110105194912310021"}})
    assert error_of(bad) == {
        "code": "INVALID_INPUT",
        "field": "idNumber",
        "reason": "bad_check_character",
    }
    assert await count(engine, m.Driver) == 1


async def test_a_failing_mutation_rolls_back_its_siblings(hub: Hub, engine: AsyncEngine) -> None:
    await seed_districts(engine)
    document = """
    mutation($good: RegisterEnterpriseInput!, $bad: RegisterVehicleInput!) {
      a: registerEnterprise(input: $good) { enterprise { id } }
      b: registerVehicle(input: $bad) { vehicle { id } }
    }"""
    body = await hub.graphql(document, {"good": enterprise_input(), "bad": vehicle_input(axles=0)})
    assert body["errors"][0]["extensions"]["field"] == "axles"
    assert await count(engine, m.Enterprise) == 0


async def test_registration_is_for_districts_enterprises_and_transport(
    hub: Hub, engine: AsyncEngine
) -> None:
    await seed_districts(engine)
    tax = await hub.as_client("tax")
    for document, payload in (
        (REGISTER_ENTERPRISE, enterprise_input()),
        (REGISTER_VEHICLE, vehicle_input()),
    ):
        assert error_of(await tax.graphql(document, {"input": payload}))["code"] == "FORBIDDEN"
    wuda = await hub.as_client("district", district_code="150304")
    other = await wuda.graphql(REGISTER_ENTERPRISE, {"input": enterprise_input()})  # 150302
    assert error_of(other)["code"] == "FORBIDDEN"
    own = enterprise_input(uscc=uscc("150304", 43), districtCode="150304")
    assert (await wuda.data(REGISTER_ENTERPRISE, {"input": own}))["registerEnterprise"]
    transport = await hub.as_client("transport")
    assert (await transport.data(REGISTER_VEHICLE, {"input": vehicle_input()}))["registerVehicle"]
    assert await count(engine, m.Enterprise) == 1
