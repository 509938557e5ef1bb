"""Enterprises: where they are, what they are called, and their registration rows."""

from __future__ import annotations

from datetime import timedelta

from coalhub.models import EnterpriseKind, RegistrationStatus
from coalhub.synthetic.context import Context, Row
from coalhub.synthetic.enterprise_kinds import (
    CAPACITY_T,
    KIND_MIX,
    NAME_TEMPLATES,
    OTHER_DISTRICT_WEIGHTS,
    PRODUCER_DISTRICT_WEIGHTS,
    PRODUCERS,
    SHORT_SUFFIX,
)
from coalhub.synthetic.entities import Company
from coalhub.synthetic.geography import DISTRICTS, DistrictSpec, Point, clamp
from coalhub.synthetic.identities import BRANDS, mobile_phone, person_name, uscc

_APPROVED_SHARE = 0.94  # the first of each kind is always approved
_STREETS = ("纬一路", "经二路", "滨河路", "工业大道", "园区南路")


def add_enterprises(ctx: Context, district_ids: dict[str, int]) -> list[Company]:
    return _Registrar(ctx, district_ids).register_all()


class _Registrar:
    # Registers enterprises of every kind, each with a USCC no other one has.

    def __init__(self, ctx: Context, district_ids: dict[str, int]) -> None:
        self.ctx, self.rng, self.district_ids = ctx, ctx.rng, district_ids
        self.usccs: set[str] = set()

    def register_all(self) -> list[Company]:
        companies = []
        for kind, share in KIND_MIX:
            count = max(1, round(share * self.ctx.scale.enterprises))
            brands = self.rng.sample(BRANDS, min(count, len(BRANDS)))
            for n in range(count):
                brand = brands[n] if n < len(brands) else f"{brands[n % len(brands)]}{n}"
                approved = n == 0 or self.rng.random() < _APPROVED_SHARE
                companies.append(self._register(kind, brand, approved))
        return companies

    def _register(self, kind: EnterpriseKind, brand: str, approved: bool) -> Company:
        rng = self.rng
        weights = PRODUCER_DISTRICT_WEIGHTS if kind in PRODUCERS else OTHER_DISTRICT_WEIGHTS
        spec = rng.choices(DISTRICTS, weights=weights)[0]
        point = clamp(
            Point(
                spec.centre.lat + rng.uniform(-spec.spread.lat, spec.spread.lat),
                spec.centre.lon + rng.uniform(-spec.spread.lon, spec.spread.lon),
            )
        )
        company = Company(
            id=self.ctx.keys.next("enterprise"),
            kind=kind,
            district_id=self.district_ids[spec.code],
            uscc=self._unique_uscc(spec.code),
            name=rng.choice(NAME_TEMPLATES[kind]).format(brand),
            short=brand + SHORT_SUFFIX[kind],
            point=point,
            approved=approved,
        )
        self.ctx.rows.add("enterprise", _enterprise_row(self.ctx, company, spec))
        return company

    def _unique_uscc(self, division: str) -> str:
        code = uscc(self.rng, division)
        while code in self.usccs:
            code = uscc(self.rng, division)
        self.usccs.add(code)
        return code


def _enterprise_row(ctx: Context, company: Company, spec: DistrictSpec) -> Row:
    rng = ctx.rng
    registered = ctx.registered_at()
    capacity = CAPACITY_T.get(company.kind)
    status = RegistrationStatus.APPROVED
    if not company.approved:
        status = rng.choice((RegistrationStatus.PENDING, RegistrationStatus.SUSPENDED))
    return {
        "id": company.id,
        "uscc": company.uscc,
        "name": company.name,
        "kind": company.kind,
        "district_id": company.district_id,
        "address": f"内蒙古自治区乌海市{spec.name}{rng.choice(spec.parks)}"
        f"{rng.choice(_STREETS)}{rng.randint(1, 199)}号",
        "latitude": company.point.lat,
        "longitude": company.point.lon,
        "legal_representative": person_name(rng),
        "contact_phone": mobile_phone(rng),
        "annual_capacity_t": rng.randrange(*capacity, 10_000) if capacity else None,
        "registration_status": status,
        "created_at": registered,
        "updated_at": min(registered + timedelta(days=rng.randint(0, 90)), ctx.scale.start),
    }
