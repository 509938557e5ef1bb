"""Client management: register, list and revoke the hub's OAuth2 clients.

Each client is one caller (a department app, a district government, an enterprise, a
site's device bridge). Its secret is generated here, shown once and stored only as a
scrypt hash. Functions take an `AsyncSession` and never commit: the caller's unit of
work (the CLI command, later a GraphQL mutation) does."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from coalhub.errors import ConflictError, InvalidInputError, NotFoundError
from coalhub.models.base import utcnow
from coalhub.models.client import ApiClient
from coalhub.models.district import District
from coalhub.models.enterprise import Enterprise, Site, SiteKind
from coalhub.oauth.scopes import SCOPES as SCOPES  # re-exported: part of the contract
from coalhub.oauth.secret_hash import hash_secret
from coalhub.secrecy import Secrecy

CITY_DEPARTMENTS = (
    "tax",
    "energy",
    "finance",
    "development_reform",
    "industry_it",
    "transport",
    "police",
    "market_regulation",
    "big_data_centre",
    "municipal_brain",
)
DEPARTMENTS = (*CITY_DEPARTMENTS, "district", "enterprise", "device", "auditor", "developer")

# Least privilege by duty: personal and commercial data (confidential) only where the duty
# needs it; "secret" only for the police, who identify people and vehicles in full.
DEFAULT_CLEARANCE: dict[str, Secrecy] = {
    "tax": Secrecy.CONFIDENTIAL,
    "energy": Secrecy.INTERNAL,
    "finance": Secrecy.CONFIDENTIAL,
    "development_reform": Secrecy.INTERNAL,
    "industry_it": Secrecy.INTERNAL,
    "transport": Secrecy.CONFIDENTIAL,
    "police": Secrecy.SECRET,
    "market_regulation": Secrecy.CONFIDENTIAL,
    "big_data_centre": Secrecy.INTERNAL,
    "municipal_brain": Secrecy.INTERNAL,
    "district": Secrecy.CONFIDENTIAL,
    "enterprise": Secrecy.CONFIDENTIAL,
    "device": Secrecy.INTERNAL,
    "auditor": Secrecy.CONFIDENTIAL,
    "developer": Secrecy.PUBLIC,
}
DEFAULT_SCOPES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(CITY_DEPARTMENTS, ("read",)),
    "district": ("read", "write", "admin"),
    "enterprise": ("read", "write"),
    "device": ("ingest",),
    "auditor": ("read", "audit"),
    "developer": ("read",),
}

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Credentials:
    """What a client needs to ask for tokens. The secret exists nowhere else: show it once."""

    client_id: str
    client_secret: str
    name: str
    department: str


@dataclass(frozen=True)
class ClientInfo:
    """A registered client as operators see it (never its secret or hash)."""

    name: str
    client_id: str
    department: str
    district_code: str | None
    enterprise_id: int | None
    site_id: int | None
    clearance: Secrecy
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


# --- validation --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scoping:
    district_code: str | None
    enterprise_id: int | None
    site_id: int | None


def _invalid(field: str, reason: str, message: str) -> InvalidInputError:
    return InvalidInputError(field, reason, message)


def _check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise _invalid(
            "name",
            "invalid_name",
            "a client name is 1-64 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit",
        )


def _check_department(department: str) -> None:
    if department not in DEPARTMENTS:
        raise _invalid(
            "department",
            "unknown_department",
            f"unknown department {department!r}; one of: {', '.join(DEPARTMENTS)}",
        )


def _check_clearance(clearance: str) -> Secrecy:
    try:
        return Secrecy(clearance)
    except ValueError:
        levels = ", ".join(level.value for level in Secrecy)
        raise _invalid(
            "clearance", "unknown_clearance", f"unknown clearance {clearance!r}; one of: {levels}"
        ) from None


def _check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(sorted(set(scopes)))
    unknown = [scope for scope in chosen if scope not in SCOPES]
    if unknown:
        raise _invalid(
            "scopes",
            "unknown_scope",
            f"unknown scope {unknown[0]!r}; one of: {', '.join(SCOPES)}",
        )
    return chosen


def _refuse_extra(department: str, **given: object) -> None:
    for field, value in given.items():
        if value is not None:
            raise _invalid(field, "not_applicable", f"a {department} client takes no {field}")


async def _district_scoping(session: AsyncSession, code: str | None) -> _Scoping:
    if code is None:
        raise _invalid("district_code", "required", "a district client needs its district code")
    if await session.scalar(select(District.id).where(District.code == code)) is None:
        raise _invalid("district_code", "unknown_district", f"no district with code {code!r}")
    return _Scoping(code, None, None)


async def _enterprise_district(session: AsyncSession, enterprise_id: int) -> str | None:
    statement = (
        select(District.code)
        .join(Enterprise, Enterprise.district_id == District.id)
        .where(Enterprise.id == enterprise_id)
    )
    code: str | None = await session.scalar(statement)
    return code


async def _enterprise_scoping(session: AsyncSession, enterprise_id: int | None) -> _Scoping:
    if enterprise_id is None:
        raise _invalid("enterprise_id", "required", "an enterprise client needs its enterprise")
    district_code = await _enterprise_district(session, enterprise_id)
    if district_code is None:
        raise _invalid(
            "enterprise_id", "unknown_enterprise", f"no enterprise with id {enterprise_id}"
        )
    return _Scoping(district_code, enterprise_id, None)


async def _device_scoping(
    session: AsyncSession, site_id: int | None, enterprise_id: int | None
) -> _Scoping:
    if site_id is None:
        raise _invalid("site_id", "required", "a device client needs its site")
    site_enterprise = await session.scalar(select(Site.enterprise_id).where(Site.id == site_id))
    if site_enterprise is None:
        raise _invalid("site_id", "unknown_site", f"no site with id {site_id}")
    if enterprise_id is not None and enterprise_id != site_enterprise:
        raise _invalid(
            "enterprise_id",
            "inconsistent",
            f"site {site_id} belongs to enterprise {site_enterprise}, not {enterprise_id}",
        )
    district_code = await _enterprise_district(session, site_enterprise)
    return _Scoping(district_code, site_enterprise, site_id)


async def _scoping(
    session: AsyncSession,
    department: str,
    district_code: str | None,
    enterprise_id: int | None,
    site_id: int | None,
) -> _Scoping:
    """Which part of the city a client is confined to; enterprise and device clients carry
    their enterprise's district too, so district rules apply to them as well."""
    if department == "district":
        _refuse_extra(department, enterprise_id=enterprise_id, site_id=site_id)
        return await _district_scoping(session, district_code)
    if department == "enterprise":
        _refuse_extra(department, district_code=district_code, site_id=site_id)
        return await _enterprise_scoping(session, enterprise_id)
    if department == "device":
        _refuse_extra(department, district_code=district_code)
        return await _device_scoping(session, site_id, enterprise_id)
    _refuse_extra(
        department, district_code=district_code, enterprise_id=enterprise_id, site_id=site_id
    )
    return _Scoping(None, None, None)


# --- operations --------------------------------------------------------------------------


async def _hashed(secret: str) -> str:
    # scrypt takes tens of milliseconds: off the event loop
    return await asyncio.to_thread(hash_secret, secret)


def _info(row: ApiClient) -> ClientInfo:
    return ClientInfo(
        name=row.name,
        client_id=row.client_id,
        department=row.department,
        district_code=row.district_code,
        enterprise_id=row.enterprise_id,
        site_id=row.site_id,
        clearance=Secrecy(row.clearance),
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


async def _row_by_name(session: AsyncSession, name: str) -> ApiClient:
    row = await session.scalar(select(ApiClient).where(ApiClient.name == name))
    if row is None:
        raise NotFoundError(f"no client named {name!r}", field="name", reason="unknown_client")
    return row


async def create_client(
    session: AsyncSession,
    name: str,
    department: str,
    district_code: str | None = None,
    enterprise_id: int | None = None,
    site_id: int | None = None,
    clearance: str | None = None,
    scopes: Iterable[str] | None = None,
) -> Credentials:
    """Register a client; clearance and scopes default to the department's (see
    DEFAULT_CLEARANCE, DEFAULT_SCOPES). Raises InvalidInputError (field, reason) for bad
    input and ConflictError when the name is taken."""
    _check_name(name)
    _check_department(department)
    level = _check_clearance(clearance or DEFAULT_CLEARANCE[department])
    chosen_scopes = _check_scopes(DEFAULT_SCOPES[department] if scopes is None else scopes)
    scoping = await _scoping(session, department, district_code, enterprise_id, site_id)
    if await session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise ConflictError("name", f"a client named {name!r} already exists")
    secret = secrets.token_urlsafe(32)
    row = ApiClient(
        client_id=secrets.token_urlsafe(18),
        name=name,
        department=department,
        district_code=scoping.district_code,
        enterprise_id=scoping.enterprise_id,
        site_id=scoping.site_id,
        clearance=level,
        scopes=list(chosen_scopes),
        secret_hash=await _hashed(secret),
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # the same name inserted concurrently; the caller rolls back
        raise ConflictError("name", f"a client named {name!r} already exists") from None
    return Credentials(row.client_id, secret, name, department)


async def list_clients(session: AsyncSession) -> list[ClientInfo]:
    rows = await session.scalars(select(ApiClient).order_by(ApiClient.name))
    return [_info(row) for row in rows]


async def revoke_client(session: AsyncSession, name: str) -> ClientInfo:
    """Refuse the client new tokens at once; its live tokens stop verifying within
    `Settings.auth_cache_seconds` (each process re-reads the active clients that often).
    Revoking twice keeps the first revocation time."""
    row = await _row_by_name(session, name)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
    return _info(row)


async def rotate_secret(session: AsyncSession, name: str) -> Credentials:
    """Give a client a new secret (the old one stops working at once)."""
    row = await _row_by_name(session, name)
    secret = secrets.token_urlsafe(32)
    row.secret_hash = await _hashed(secret)
    await session.flush()
    return Credentials(row.client_id, secret, row.name, row.department)


# --- demo --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DemoClient:
    name: str
    department: str
    district_code: str | None = None
    enterprise_id: int | None = None
    site_id: int | None = None


async def _demo_plan(session: AsyncSession) -> list[_DemoClient]:
    plan = [_DemoClient(f"demo-{code}", code) for code in CITY_DEPARTMENTS]
    for code in await session.scalars(select(District.code).order_by(District.code)):
        plan.append(_DemoClient(f"demo-district-{code}", "district", district_code=code))
    enterprise_id = await session.scalar(select(Enterprise.id).order_by(Enterprise.id).limit(1))
    if enterprise_id is not None:
        plan.append(_DemoClient("demo-enterprise", "enterprise", enterprise_id=enterprise_id))
    site_id = await session.scalar(
        select(Site.id).where(Site.kind == SiteKind.WEIGHBRIDGE).order_by(Site.id).limit(1)
    )
    if site_id is not None:
        plan.append(_DemoClient("demo-device", "device", site_id=site_id))
    plan += [_DemoClient("demo-auditor", "auditor"), _DemoClient("demo-developer", "developer")]
    return plan


async def ensure_demo_clients(session: AsyncSession) -> list[Credentials]:
    """One client per department, per district in the database, for the first enterprise
    and the first weighbridge site, with the department defaults. Idempotent by name: an
    existing client keeps its id and gets a fresh secret (old secrets cannot be shown);
    a revoked demo client stays revoked and is left out."""
    issued = []
    for demo in await _demo_plan(session):
        existing = await session.scalar(select(ApiClient).where(ApiClient.name == demo.name))
        if existing is None:
            issued.append(
                await create_client(
                    session,
                    demo.name,
                    demo.department,
                    district_code=demo.district_code,
                    enterprise_id=demo.enterprise_id,
                    site_id=demo.site_id,
                )
            )
        elif existing.revoked_at is None:
            issued.append(await rotate_secret(session, demo.name))
    return issued
