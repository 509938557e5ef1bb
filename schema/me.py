"""`me`: who the hub believes is calling, and what it may see."""

from __future__ import annotations

import strawberry

from schema.base import Info


@strawberry.type(description="The calling client as the hub sees it.")
class Caller:
    client_id: str
    department: str
    clearance: str = strawberry.field(description="public < internal < confidential < secret")
    district_code: str | None
    user_id: str | None
    purpose: str | None
    readable_types: list[str] | None = strawberry.field(description="null: every type")


def me(info: Info) -> Caller:
    caller, access = info.context.caller, info.context.access
    return Caller(
        client_id=caller.client_id,
        department=caller.department,
        clearance=caller.clearance.value,
        district_code=caller.district_code,
        user_id=caller.user_id,
        purpose=caller.purpose,
        readable_types=None if access.readable_types is None else sorted(access.readable_types),
    )
