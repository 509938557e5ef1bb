"""Tiered administration (R7): districts grant and revoke their own enterprises' and
devices' access, approve registrations; enterprises maintain their own base data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from coalhub import models as m
from coalhub.audit import AuditRecord
from coalhub.catalog import ENTITIES
from coalhub.errors import ForbiddenError, InvalidInputError, NotFoundError
from coalhub.identifiers import validate_phone
from coalhub.models.client import ApiClient
from coalhub.models.policy import PolicyRule
from policies.enforcer import bump_revision
from resolvers.context import RequestContext
from resolvers.registration import checked, coordinates, optional_text, text

GRANTABLE_ACTIONS = frozenset({"read", "identify", "ingest"})


@dataclass(frozen=True)
class Grant:
    client_id: str
    type_name: str
    action: str


def _administrator_district(ctx: RequestContext) -> str:
    caller = ctx.caller
    if caller.department == "developer":
        return "*"
    if not ctx.access.may("administer", "PolicyRule") or caller.district_code is None:
        raise ForbiddenError("只有区级管理员可以调整授权 / only district administrators may")
    return caller.district_code


async def _client_district(ctx: RequestContext, client_id: str) -> str | None:
    statement = (
        select(m.District.code)
        .select_from(ApiClient)
        .join(m.Enterprise, m.Enterprise.id == ApiClient.enterprise_id)
        .join(m.District, m.District.id == m.Enterprise.district_id)
        .where(ApiClient.client_id == client_id, ApiClient.revoked_at.is_(None))
    )
    code: str | None = (await ctx.execute(statement)).scalar_one_or_none()
    return code


async def _check_grant(ctx: RequestContext, grant: Grant) -> None:
    district = _administrator_district(ctx)
    if grant.action not in GRANTABLE_ACTIONS:
        raise InvalidInputError(
            "action", "unknown", f"action must be one of {sorted(GRANTABLE_ACTIONS)}"
        )
    if grant.type_name not in ENTITIES:
        raise InvalidInputError("type", "unknown", "no such object type")
    if district != "*" and not ctx.access.can_read_type(grant.type_name):
        raise ForbiddenError("不能授予本级没有的权限 / cannot grant what you do not hold")
    client_district = await _client_district(ctx, grant.client_id)
    if client_district is None:
        raise NotFoundError("no active enterprise or device client with this id", field="clientId")
    if district not in ("*", client_district):
        raise ForbiddenError("该客户端不属于本区 / the client belongs to another district")


def _rule_values(grant: Grant) -> dict[str, str]:
    # the grantee is already confined to its own enterprise by its domain scope
    return {
        "ptype": "p",
        "v0": f"client:{grant.client_id}",
        "v1": "*",
        "v2": grant.type_name,
        "v3": grant.action,
        "v4": "",
        "v5": "",
    }


def _audit_change(ctx: RequestContext, change: str, grant: Grant) -> None:
    if ctx.audit is None:
        return
    caller = ctx.caller
    ctx.audit.record(
        AuditRecord(
            occurred_at=datetime.now(UTC),
            client_id=caller.client_id,
            department=caller.department,
            user_id=caller.user_id,
            purpose=caller.purpose,
            operation_name=f"policy:{change}",
            document_sha256=None,
            variables_sha256=None,
            fields=[f"client:{grant.client_id}", grant.type_name, grant.action],
            row_counts={"PolicyRule": 1},
            denials=[],
            duration_ms=0.0,
            result="ok",
        )
    )


async def grant_access(ctx: RequestContext, grant: Grant) -> bool:
    """Returns False when the grant already existed (nothing changed)."""
    await _check_grant(ctx, grant)
    values = _rule_values(grant)
    existing = await ctx.execute(
        select(PolicyRule.id).where(*(getattr(PolicyRule, k) == v for k, v in values.items()))
    )
    if existing.first() is not None:
        return False
    ctx.session.add(PolicyRule(**values))
    await bump_revision(ctx.session)
    ctx.policy_changed = True
    _audit_change(ctx, "grant", grant)
    return True


async def revoke_access(ctx: RequestContext, grant: Grant) -> bool:
    await _check_grant(ctx, grant)
    values = _rule_values(grant)
    result = await ctx.session.execute(
        delete(PolicyRule).where(*(getattr(PolicyRule, k) == v for k, v in values.items()))
    )
    removed = bool(result.rowcount)  # type: ignore[attr-defined]
    if removed:
        await bump_revision(ctx.session)
        ctx.policy_changed = True
        _audit_change(ctx, "revoke", grant)
    return removed


async def _enterprise_district(ctx: RequestContext, enterprise_id: int) -> str:
    statement = (
        select(m.District.code)
        .join(m.Enterprise, m.Enterprise.district_id == m.District.id)
        .where(m.Enterprise.id == enterprise_id)
    )
    code: str | None = (await ctx.execute(statement)).scalar_one_or_none()
    if code is None:
        raise NotFoundError("no such enterprise", field="id")
    return code


async def set_registration_status(
    ctx: RequestContext, enterprise_id: int, status: m.RegistrationStatus
) -> None:
    district = _administrator_district(ctx)
    if district not in ("*", await _enterprise_district(ctx, enterprise_id)):
        raise ForbiddenError("该企业不属于本区 / the enterprise belongs to another district")
    await ctx.session.execute(
        update(m.Enterprise)
        .where(m.Enterprise.id == enterprise_id)
        .values(registration_status=status, updated_at=datetime.now(UTC))
    )


@dataclass(frozen=True)
class BaseDataChanges:
    name: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    legal_representative: str | None = None
    contact_phone: str | None = None


async def update_enterprise(
    ctx: RequestContext, enterprise_id: int, changes: BaseDataChanges
) -> None:
    """Enterprises edit their own base data; districts their district's; never the status."""
    caller = ctx.caller
    own = caller.department == "enterprise" and caller.enterprise_id == enterprise_id
    if not own:
        district = _administrator_district(ctx)
        if district not in ("*", await _enterprise_district(ctx, enterprise_id)):
            raise ForbiddenError("无权修改该企业 / not permitted to edit this enterprise")
    values: dict[str, object] = {}
    if changes.name is not None:
        values["name"] = text("name", changes.name, 128)
    if changes.address is not None:
        values["address"] = optional_text("address", changes.address, 256)
    if changes.latitude is not None or changes.longitude is not None:
        coordinates(changes.latitude, changes.longitude)
        values |= {"latitude": changes.latitude, "longitude": changes.longitude}
    if changes.legal_representative is not None:
        values["legal_representative"] = optional_text(
            "legalRepresentative", changes.legal_representative, 64
        )
    if changes.contact_phone is not None:
        phone = changes.contact_phone
        values["contact_phone"] = checked("contactPhone", lambda: validate_phone(phone))
    if values:
        await ctx.session.execute(
            update(m.Enterprise)
            .where(m.Enterprise.id == enterprise_id)
            .values(**values, updated_at=datetime.now(UTC))
        )
