"""The sites each enterprise runs (gates, weighbridges, yards) and the devices at them."""

from __future__ import annotations

from coalhub.models import DeviceKind, DeviceStatus, EnterpriseKind, SiteKind
from coalhub.synthetic.clock import DAY_S, to_datetime
from coalhub.synthetic.context import Context, Row
from coalhub.synthetic.entities import Company, Site
from coalhub.synthetic.geography import offset

K = EnterpriseKind
# the sites each kind of enterprise runs: (kind, name after the enterprise's short name)
_SITE_PLAN: dict[EnterpriseKind, tuple[tuple[SiteKind, str], ...]] = {
    K.MINE: ((SiteKind.GATE, "1号门岗"), (SiteKind.WEIGHBRIDGE, "1号地磅"),
             (SiteKind.YARD, "储煤场"), (SiteKind.BELT_SCALE, "主井皮带秤")),
    K.GOAF_REMEDIATION: ((SiteKind.WEIGHBRIDGE, "1号地磅"), (SiteKind.YARD, "储煤场")),
    K.WASHING_PLANT: ((SiteKind.GATE, "1号门岗"), (SiteKind.WEIGHBRIDGE, "原煤进厂地磅"),
                      (SiteKind.WEIGHBRIDGE, "产品出厂地磅")),
    K.COKING: ((SiteKind.WEIGHBRIDGE, "原料煤进厂地磅"), (SiteKind.WEIGHBRIDGE, "焦炭出厂地磅")),
    K.POWER_PLANT: ((SiteKind.WEIGHBRIDGE, "燃料进厂地磅"),
                    (SiteKind.METERING_POINT, "入炉煤计量点")),
    K.CHEMICAL: ((SiteKind.WEIGHBRIDGE, "1号地磅"),),
    K.BUILDING_MATERIALS: ((SiteKind.WEIGHBRIDGE, "1号地磅"),),
    K.METALLURGY: ((SiteKind.WEIGHBRIDGE, "1号地磅"),),
    K.TRADER: ((SiteKind.WEIGHBRIDGE, "堆场地磅"), (SiteKind.YARD, "煤炭堆场")),
    K.LOGISTICS: ((SiteKind.YARD, "车辆停车场"),),
}  # fmt: skip
_SITE_LETTER = {
    SiteKind.GATE: "G",
    SiteKind.WEIGHBRIDGE: "W",
    SiteKind.BELT_SCALE: "B",
    SiteKind.METERING_POINT: "M",
    SiteKind.YARD: "Y",
}
_FENCE_HALF_DEG = 0.0015  # about 150 m: the fence around a weighbridge yard
_FENCE_CORNERS = ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1))
_OFFLINE_AFTER_S = 2 * 3600  # a weighbridge this long without a heartbeat is offline
# (protocol, model, weight among weighbridges)
_INDICATORS = (
    ("yaohua_a9", "耀华 XK3190-A9", 5),
    ("yaohua_a12e", "耀华 XK3190-A12E", 2),
    ("toledo", "梅特勒-托利多 IND245", 2),
    ("modbus_tcp", "Flintec FT-112", 1),
)
_DEVICE_CODES = {
    DeviceKind.BRIDGE: "BRG",
    DeviceKind.INDICATOR: "IND",
    DeviceKind.CAMERA: "CAM",
    DeviceKind.RFID_READER: "RFID",
    DeviceKind.BELT_SCALE: "BS",
}
_CAMERAS = (
    ("hikvision_anpr", "海康威视 iDS-TCM403"),
    ("dahua_its", "大华 ITC237"),
    ("vzenith", "臻识 R3"),
)
DevicePlan = list[tuple[DeviceKind, str, str]]  # (kind, protocol, model) of each device


def add_sites(ctx: Context, companies: list[Company]) -> list[tuple[Site, int]]:
    # Every site and device; returns the weighbridges gone quiet, with their last heartbeat.
    offline: list[tuple[Site, int]] = []
    for company in companies:
        for n, (kind, label) in enumerate(_SITE_PLAN[company.kind], start=1):
            site = Site(
                id=ctx.keys.next("site"),
                code=f"{company.uscc[2:8]}{company.id:04d}{_SITE_LETTER[kind]}{n:02d}",
                name=company.short + label,
                point=offset(company.point, ctx.rng.uniform(0.1, 0.5), ctx.rng.uniform(0, 360)),
                enterprise_id=company.id,
                district_id=company.district_id,
            )
            last_beat = _add_devices(ctx, site, kind)
            ctx.rows.add("site", _site_row(ctx, site, kind, last_beat))
            if kind == SiteKind.WEIGHBRIDGE:
                company.weighbridges.append(site)
                if last_beat < ctx.scale.end_ts - _OFFLINE_AFTER_S:
                    site.offline_since = last_beat
                    offline.append((site, last_beat))
            elif kind == SiteKind.YARD:
                company.yard = site
    return offline


def _site_row(ctx: Context, site: Site, kind: SiteKind, last_beat: int) -> Row:
    lat, lon = site.point
    d = _FENCE_HALF_DEG
    registered = ctx.registered_at()
    return {
        "id": site.id,
        "enterprise_id": site.enterprise_id,
        "code": site.code,
        "name": site.name,
        "kind": kind,
        "latitude": lat,
        "longitude": lon,
        "geofence": [[round(lon + x * d, 6), round(lat + y * d, 6)] for x, y in _FENCE_CORNERS],
        "capacity_kg": ctx.rng.choice((100_000, 120_000, 150_000))
        if kind == SiteKind.WEIGHBRIDGE
        else None,
        "last_seen_at": to_datetime(last_beat),
        "created_at": registered,
        "updated_at": registered,
    }


def _add_devices(ctx: Context, site: Site, kind: SiteKind) -> int:
    # The devices of one site, which share its status; returns the site's last heartbeat.
    rng = ctx.rng
    status = rng.choices(
        (DeviceStatus.ONLINE, DeviceStatus.OFFLINE, DeviceStatus.FAULT), weights=(95, 3, 2)
    )[0]
    quiet = status != DeviceStatus.ONLINE
    beat = ctx.scale.end_ts - (rng.randrange(2 * 3600, 30 * 3600) if quiet else rng.randrange(60))
    counters: dict[DeviceKind, int] = {}
    for device_kind, protocol, model in _device_plan(ctx, site, kind):
        counters[device_kind] = counters.get(device_kind, 0) + 1
        device_id = ctx.keys.next("device")
        if device_kind == DeviceKind.INDICATOR:
            site.indicator_id = device_id
        ctx.rows.add(
            "device",
            {
                "id": device_id,
                "site_id": site.id,
                "code": f"{_DEVICE_CODES[device_kind]}{counters[device_kind]:02d}",
                "kind": device_kind,
                "protocol": protocol,
                "model": model,
                "status": status,
                "last_heartbeat_at": to_datetime(beat),
                "last_state": {
                    "frames": rng.randrange(10_000, 5_000_000),
                    "uptime_s": rng.randrange(3600, 90 * DAY_S),
                },
                "created_at": to_datetime(ctx.scale.start_ts - 60 * DAY_S),
                "updated_at": to_datetime(beat),
            },
        )
    return beat


def _device_plan(ctx: Context, site: Site, kind: SiteKind) -> DevicePlan:
    rng = ctx.rng
    plan: DevicePlan = [(DeviceKind.BRIDGE, "coalhub_bridge", "coalhub-bridge 0.1")]
    if kind == SiteKind.WEIGHBRIDGE:
        protocol, model, _ = rng.choices(_INDICATORS, weights=[w for *_, w in _INDICATORS])[0]
        site.protocol = protocol
        plan.append((DeviceKind.INDICATOR, protocol, model))
        plan.extend([(DeviceKind.CAMERA, *rng.choice(_CAMERAS))] * 2)
        if rng.random() < 0.5:
            plan.append((DeviceKind.RFID_READER, "rfid_gen2", "远望谷 XC-RF807"))
    elif kind in (SiteKind.GATE, SiteKind.YARD):
        plan.append((DeviceKind.CAMERA, *rng.choice(_CAMERAS)))
    elif kind == SiteKind.BELT_SCALE:
        plan.append((DeviceKind.BELT_SCALE, "modbus_tcp", "赛摩 ICS-17A"))
    return plan
