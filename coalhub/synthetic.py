"""A deterministic, realistic synthetic dataset of Wuhai's coal traffic.

`generate(engine, Scale.demo())` fills a freshly migrated, empty database: the districts,
the product dictionary, enterprises with sites and devices, trucks and drivers, contracts,
then day by day bookings, weigh tickets, hauls, checkpoint passes and positions, and
finally invoices, payments, quality samples and a few alerts. Figures follow
shared/docs/domain.md. The same seed and scale always give the same rows.

Deliberate anomalies for the alert features: overloaded weighings, shipments never
invoiced (有货无票), invoices with no goods (有票无货), payments to a party other than the
seller, prices far from the contract, kilogram invoice lines, misread plates, offline
devices and unregistered vehicles at checkpoints.
"""

from __future__ import annotations

import heapq
import math
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any, NamedTuple

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from coalhub.identifiers import PlateColour
from coalhub.models import (
    AlertKind,
    AlertStatus,
    Base,
    BookingStatus,
    ContractStatus,
    DeviceKind,
    DeviceStatus,
    EnergyType,
    EnterpriseKind,
    InvoiceKind,
    LoadState,
    PassDirection,
    PositionSource,
    ProductCategory,
    RecordSource,
    RegistrationStatus,
    SiteKind,
    Suspension,
    VehicleStatus,
    WeighDirection,
)

Row = dict[str, Any]
Progress = Callable[[str, int, int], None]

BEIJING = timezone(timedelta(hours=8))
DEFAULT_END = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # 2026-11-26 00:00 Beijing time
DAY_S = 86_400
CHUNK_ROWS = 5_000
DIVISION_KG = 20  # a 100-150 t weighbridge reads in 20 kg steps
VAT_RATE = Decimal(13)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Scale:
    """How much of the city to simulate, ending at `end` (exclusive)."""

    day_count: int
    enterprises: int
    vehicles: int
    trips_per_day: int  # loaded hauls that start per day (sales, inbound purchases, transfers)
    position_interval_s: int = 60
    end: datetime = DEFAULT_END

    @classmethod
    def demo(cls) -> Scale:
        """Three weeks of a slice of the city: ~600 weigh tickets a day."""
        return cls(day_count=21, enterprises=40, vehicles=300, trips_per_day=340)

    @classmethod
    def day(cls) -> Scale:
        """One day of the whole city: ~7,000 loaded hauls, ~12,000 tickets, 4,000 trucks."""
        return cls(day_count=1, enterprises=160, vehicles=4_000, trips_per_day=7_500)

    @classmethod
    def days(cls, n: int) -> Scale:
        """`n` days of the whole city."""
        return replace(cls.day(), day_count=n)

    @classmethod
    def tiny(cls) -> Scale:
        """Two days of a handful of enterprises, for tests."""
        return cls(day_count=2, enterprises=12, vehicles=24, trips_per_day=30)

    def scaled(self, factor: float) -> Scale:
        """The same period with `factor` times the enterprises, trucks and trips."""
        return replace(
            self,
            enterprises=max(len(_KIND_MIX), round(self.enterprises * factor)),
            vehicles=max(10, round(self.vehicles * factor)),
            trips_per_day=max(5, round(self.trips_per_day * factor)),
        )

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.day_count)

    @property
    def end_ts(self) -> int:
        return int(self.end.timestamp())

    @property
    def start_ts(self) -> int:
        return self.end_ts - self.day_count * DAY_S


async def generate(
    engine: AsyncEngine,
    scale: Scale,
    *,
    seed: int = 20231,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Fill an empty, migrated database; returns the rows inserted per table.

    Raises ValueError when any table it writes already holds rows."""
    report = progress or _no_progress
    writer = _Writer(engine, report)
    await writer.require_empty()
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    keys = _Keys()
    city = _build_city(rng, keys, scale)
    await writer.write("reference", city.rows)
    traffic = _Traffic(rng, keys, city, scale)
    for day in range(scale.day_count):
        await writer.write(f"traffic day {day + 1}/{scale.day_count}", traffic.day(day))
    finance = _Finance(rng, keys, city, traffic, scale)
    await writer.write("finance", finance.rows())
    alerts = _Alerts(rng, keys, city, traffic, finance, scale).build()
    await writer.write("alerts", {"alert": alerts})
    await writer.advance_sequences()
    return writer.counts


def _no_progress(step: str, done: int, total: int) -> None:
    return None


# --- writing ------------------------------------------------------------------------------

TABLE_ORDER = (
    "district",
    "coal_product",
    "checkpoint",
    "enterprise",
    "site",
    "device",
    "vehicle",
    "driver",
    "contract",
    "booking",
    "weigh_record",
    "checkpoint_pass",
    "shipment",
    "trajectory_point",
    "quality_sample",
    "invoice",
    "invoice_line",
    "payment",
    "alert",
)


class _Writer:
    def __init__(self, engine: AsyncEngine, progress: Progress) -> None:
        self.engine = engine
        self.progress = progress
        self.counts: dict[str, int] = dict.fromkeys(TABLE_ORDER, 0)

    @staticmethod
    def table(name: str) -> Table:
        return Base.metadata.tables[name]

    async def require_empty(self) -> None:
        async with self.engine.connect() as conn:
            filled = [
                name
                for name in TABLE_ORDER
                if await conn.scalar(select(func.count()).select_from(self.table(name)))
            ]
        if filled:
            raise ValueError(f"generate() needs empty tables; these hold rows: {filled}")

    async def write(self, step: str, tables: dict[str, list[Row]]) -> None:
        # One transaction per step; tables in foreign-key order, executemany in chunks.
        total = sum(len(rows) for rows in tables.values())
        done = 0
        async with self.engine.begin() as conn:
            for name in TABLE_ORDER:
                for start in range(0, len(tables.get(name, ())), CHUNK_ROWS):
                    chunk = tables[name][start : start + CHUNK_ROWS]
                    await conn.execute(insert(self.table(name)), chunk)
                    done += len(chunk)
                    self.progress(step, done, total)
                self.counts[name] += len(tables.get(name, ()))

    async def advance_sequences(self) -> None:
        # Rows carry explicit ids; PostgreSQL's id sequences must continue after them.
        if self.engine.dialect.name != "postgresql":
            return
        async with self.engine.begin() as conn:
            for name in TABLE_ORDER:
                await _advance_sequence(conn, self.table(name))


async def _advance_sequence(conn: AsyncConnection, table: Table) -> None:
    highest = select(func.max(table.c.id)).scalar_subquery()
    await conn.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"), highest)))


class _Keys:
    # Primary keys handed out in generation order, so foreign keys need no round trips.

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def next(self, table: str) -> int:
        self._last[table] = self._last.get(table, 0) + 1
        return self._last[table]


# --- places and geometry ------------------------------------------------------------------


class _Point(NamedTuple):
    lat: float
    lon: float


LAT_RANGE = (39.41, 39.89)
LON_RANGE = (106.705, 106.995)
CITY_CENTRE = _Point(39.67, 106.82)
ROAD_FACTOR = 1.3  # road distance over straight-line distance


@dataclass(frozen=True)
class _DistrictSpec:
    code: str
    name: str
    name_en: str
    centre: _Point
    spread: _Point  # degrees either side where its enterprises lie
    parks: tuple[str, ...]


DISTRICTS = (
    _DistrictSpec(
        "150302", "海勃湾区", "Haibowan", _Point(39.70, 106.84), _Point(0.10, 0.06),
        ("千里山工业园区", "海勃湾工业园区"),
    ),
    _DistrictSpec(
        "150303", "海南区", "Hainan", _Point(39.47, 106.90), _Point(0.05, 0.06),
        ("海南工业园区", "西来峰工业园区"),
    ),
    _DistrictSpec(
        "150304", "乌达区", "Wuda", _Point(39.52, 106.73), _Point(0.05, 0.02),
        ("乌达工业园区", "苏海图工业园区"),
    ),
)  # fmt: skip

# (code, name, district, lat, lon, on the city boundary)
CHECKPOINTS = (
    ("WHKK01", "千里山北出市卡口（G6京藏高速）", "150302", 39.885, 106.870, True),
    ("WHKK02", "公乌素南出市卡口（G110）", "150303", 39.412, 106.880, True),
    ("WHKK03", "乌达西出市卡口（蒙宁界）", "150304", 39.460, 106.706, True),
    ("WHKK04", "拉僧庙东出市卡口（S215）", "150303", 39.600, 106.990, True),
    ("WHKK11", "乌海黄河大桥卡口", "150304", 39.550, 106.775, False),
    ("WHKK12", "滨河大道卡口", "150302", 39.665, 106.805, False),
    ("WHKK13", "赛汗乌素卡口", "150303", 39.480, 106.860, False),
    ("WHKK14", "千里山工业园区卡口", "150302", 39.780, 106.875, False),
)


def _clamp(point: _Point) -> _Point:
    return _Point(
        round(min(max(point.lat, LAT_RANGE[0]), LAT_RANGE[1]), 6),
        round(min(max(point.lon, LON_RANGE[0]), LON_RANGE[1]), 6),
    )


def _km(a: _Point, b: _Point) -> float:
    dx = (b.lon - a.lon) * 111.32 * math.cos(math.radians(a.lat))
    dy = (b.lat - a.lat) * 110.57
    return math.hypot(dx, dy)


def _bearing(a: _Point, b: _Point) -> int:
    dx = (b.lon - a.lon) * math.cos(math.radians(a.lat))
    return round(math.degrees(math.atan2(dx, b.lat - a.lat))) % 360


def _offset(point: _Point, km: float, bearing_deg: float) -> _Point:
    rad = math.radians(bearing_deg)
    dlat = km * math.cos(rad) / 110.57
    dlon = km * math.sin(rad) / (111.32 * math.cos(math.radians(point.lat)))
    return _clamp(_Point(point.lat + dlat, point.lon + dlon))


def _along(a: _Point, b: _Point, frac: float, bend: float) -> _Point:
    # A point on a gently curved road from a to b: `bend` shifts the middle sideways.
    side = bend * math.sin(math.pi * frac)
    return _Point(
        a.lat + (b.lat - a.lat) * frac - (b.lon - a.lon) * side,
        a.lon + (b.lon - a.lon) * frac + (b.lat - a.lat) * side,
    )


def _dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _local_date(ts: int) -> date:
    return datetime.fromtimestamp(ts, BEIJING).date()


# --- identities: names, codes, phones, plates --------------------------------------------

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许沈曾彭吕苏卢蒋蔡贾丁"
    "魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤"
)
GIVEN_CHARS = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁凯龙海峰建国志文东亮林成俊生永红英敏丽霞荣德旺福春宝山虎"
)
MONGOLIAN_NAMES = (
    "巴特尔",
    "额尔敦",
    "苏和",
    "巴图",
    "宝音",
    "朝鲁",
    "那顺",
    "乌力吉",
    "孟和",
    "斯琴",
)
MOBILE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159", "166"),
    *("170", "173", "175", "176", "177", "178"),
    *(f"18{d}" for d in range(10)),
    *("191", "193", "195", "198", "199"),
)
BRANDS = (
    "骆驼山",
    "千里山",
    "公乌素",
    "老石旦",
    "黄白茨",
    "五虎山",
    "苏海图",
    "卡布其",
    "平沟",
    "沙巴台",
    "利民",
    "东源",
    "西来峰",
    "华资",
    "泰和",
    "广纳",
    "宏阳",
    "恒信",
    "金达",
    "天宇",
    "鑫泰",
    "兴旺",
    "新星",
    "荣达",
    "博大",
    "华辰",
    "蒙西",
    "神通",
    "宝德",
    "蒙泰",
    "万通",
    "中盛",
    "瑞丰",
    "德晟",
    "永顺",
    "汇能",
    "国昌",
    "昌盛",
    "安泰",
    "聚源",
    "鸿基",
    "亿通",
    "隆鑫",
    "金马",
    "凯源",
    "远航",
    "富源",
    "华星",
    "三联",
    "伊东",
    "长城",
    "宁鑫",
    "恒达",
    "赛汗",
    "巴音",
    "胜利",
    "同创",
    "兴泰",
    "双欣",
    "正元",
    "海丰",
    "天誉",
    "宏达",
    "鼎盛",
    "龙泰",
    "金鼎",
    "明泰",
    "佳禾",
)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 check of the 9-char organisation code
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # I and O never appear on plates
# plate prefix -> (share of trucks, division code used for their transport certificates)
PLATE_PREFIXES = {
    "蒙C": (0.82, "150300"),  # Wuhai
    "蒙B": (0.04, "150200"),  # Baotou
    "蒙K": (0.03, "150600"),  # Ordos
    "蒙M": (0.02, "152900"),  # Alxa
    "宁A": (0.02, "640100"),  # Yinchuan
    "宁B": (0.04, "640200"),  # Shizuishan, just across the Ningxia border
    "陕K": (0.03, "610800"),  # Yulin
}
PLATE_MISREADS = {"8": "B", "0": "D", "2": "Z", "5": "S"}


def person_name(rng: random.Random) -> str:
    if rng.random() < 0.03:
        return rng.choice(MONGOLIAN_NAMES)
    given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def mobile_phone(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def uscc(rng: random.Random, division: str) -> str:
    """A USCC of a company (91) registered in `division`."""
    # since 2015 new firms get organisation codes starting MA; older ones kept 8 digits
    if rng.random() < 0.6:
        body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    head = "91" + division + body + _org_code_check(body)
    return head + _uscc_check(head)


def _org_code_check(body: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else str(value % 11)


def _uscc_check(head: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(head, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def resident_id(rng: random.Random, birth: date, male: bool) -> str:
    """A resident ID number of someone registered in Wuhai."""
    # python-stdnum, behind coalhub.identifiers, accepts Wuhai's district codes only with
    # birth years from 1983, when the districts were created: older people get the city code.
    region = rng.choice(DISTRICTS).code if birth.year >= 1983 else "150300"
    order = rng.randrange(0, 500) * 2 + (1 if male else 0)
    head = f"{region}{birth:%Y%m%d}{order:03d}"
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(head))
    check = (12 - total % 11) % 11
    return head + ("X" if check == 10 else str(check))


def plate(rng: random.Random, prefix: str, new_energy: bool) -> str:
    if new_energy:  # large new-energy vehicle: five digits, then D (electric) or F
        return prefix + f"{rng.randrange(100_000):05d}" + rng.choice("DDDF")
    shape = rng.random()
    if shape < 0.4:
        tail = f"{rng.randrange(100_000):05d}"
    elif shape < 0.85:
        tail = rng.choice(PLATE_LETTERS) + f"{rng.randrange(10_000):04d}"
    else:
        tail = rng.choice(PLATE_LETTERS) + rng.choice(PLATE_LETTERS) + f"{rng.randrange(1000):03d}"
    return prefix + tail


def misread(rng: random.Random, plate_no: str) -> str:
    """What a gate camera reads: now and then one confusable character is wrong."""
    candidates = [i for i, c in enumerate(plate_no) if i >= 2 and c in PLATE_MISREADS]
    if not candidates or rng.random() >= 0.005:
        return plate_no
    i = rng.choice(candidates)
    return plate_no[:i] + PLATE_MISREADS[plate_no[i]] + plate_no[i + 1 :]


def yaohua_a9_frame(kg: int) -> str:
    """The continuous-mode frame an XK3190-A9 sends for `kg`, as hex."""
    body = f"+{kg:06d}0".encode("ascii")
    xor = 0
    for byte in body:
        xor ^= byte
    return (b"\x02" + body + f"{xor:02X}".encode("ascii") + b"\x03").hex()


def gross_limit_kg(axles: int, combination: bool, air: bool, single_drive: bool) -> int:
    """GB 1589-2016 gross limits as domain.md states them."""
    if axles <= 2:
        return 18_000
    if axles == 3:
        return 27_000 if combination else 25_000 + (1_000 if air else 0)
    if axles == 4:
        return 36_000 if combination else 31_000 + (1_000 if air else 0)
    if axles == 5:
        return 43_000
    return 46_000 if single_drive else 49_000


def _to_division(kg: float) -> int:
    return round(kg / DIVISION_KG) * DIVISION_KG


# --- reference data: enterprises, products, flows -----------------------------------------

K = EnterpriseKind
# share of enterprises by kind; every kind gets at least one
_KIND_MIX: tuple[tuple[EnterpriseKind, float], ...] = (
    (K.MINE, 0.19),
    (K.GOAF_REMEDIATION, 0.07),
    (K.WASHING_PLANT, 0.22),
    (K.POWER_PLANT, 0.04),
    (K.COKING, 0.08),
    (K.CHEMICAL, 0.07),
    (K.BUILDING_MATERIALS, 0.05),
    (K.METALLURGY, 0.05),
    (K.TRADER, 0.15),
    (K.LOGISTICS, 0.08),
)
# mines and washing plants follow washing capacity (Haibowan 30, Hainan 40, Wuda 10 Mt/yr)
_PRODUCER_DISTRICT_WEIGHTS = (3, 4, 1)
_OTHER_DISTRICT_WEIGHTS = (2, 2, 1)
_NAME_TEMPLATES: dict[EnterpriseKind, tuple[str, ...]] = {
    K.MINE: ("乌海市{}煤业有限责任公司", "内蒙古{}矿业有限公司", "乌海{}煤矿"),
    K.GOAF_REMEDIATION: ("乌海市{}采空区综合治理有限公司", "乌海市{}地质灾害治理工程项目部"),
    K.WASHING_PLANT: ("乌海市{}洗煤厂", "乌海市{}选煤有限公司", "内蒙古{}洗选煤有限公司"),
    K.POWER_PLANT: ("内蒙古{}发电有限责任公司", "乌海{}热电厂"),
    K.COKING: ("乌海市{}焦化有限公司", "内蒙古{}煤焦化有限公司"),
    K.CHEMICAL: ("内蒙古{}化工有限公司", "乌海{}煤化工有限责任公司"),
    K.BUILDING_MATERIALS: ("乌海市{}新型建材有限公司", "乌海市{}煤矸石制砖厂"),
    K.METALLURGY: ("乌海市{}硅铁冶炼有限公司", "内蒙古{}冶金有限公司"),
    K.TRADER: ("乌海市{}煤炭经销有限公司", "内蒙古{}能源贸易有限公司"),
    K.LOGISTICS: ("乌海市{}物流运输有限公司", "乌海市{}汽车运输有限责任公司"),
}
_SHORT_SUFFIX: dict[EnterpriseKind, str] = {
    K.MINE: "煤矿",
    K.GOAF_REMEDIATION: "治理项目",
    K.WASHING_PLANT: "洗煤厂",
    K.POWER_PLANT: "电厂",
    K.COKING: "焦化",
    K.CHEMICAL: "化工",
    K.BUILDING_MATERIALS: "建材",
    K.METALLURGY: "冶金",
    K.TRADER: "煤贸",
    K.LOGISTICS: "物流",
}
# annual capacity (t): produced, processed or burnt
_CAPACITY_T: dict[EnterpriseKind, tuple[int, int]] = {
    K.MINE: (300_000, 3_000_000),
    K.GOAF_REMEDIATION: (200_000, 1_200_000),
    K.WASHING_PLANT: (600_000, 5_000_000),
    K.POWER_PLANT: (1_000_000, 4_000_000),
    K.COKING: (500_000, 2_000_000),
    K.CHEMICAL: (200_000, 1_500_000),
    K.BUILDING_MATERIALS: (100_000, 500_000),
    K.METALLURGY: (100_000, 600_000),
}


@dataclass(frozen=True)
class _Quality:
    moisture: tuple[float, float]  # Mt %
    ash: tuple[float, float]  # Ad %
    volatile: tuple[float, float]  # Vdaf %
    sulphur: tuple[float, float]  # St,d %
    calorific: tuple[float, float]  # Qnet,ar MJ/kg
    caking: tuple[int, int] | None  # G


@dataclass(frozen=True)
class _Product:
    code: str
    name: str
    name_en: str
    category: ProductCategory
    rank: str | None
    price: tuple[int, int]  # yuan per tonne, tax included
    load: tuple[float, float]  # share of the rated payload a truck carries (coke is bulky)
    quality: _Quality


_RAW_Q = _Quality((5, 8), (22, 32), (20, 30), (0.8, 1.8), (20, 25), (60, 85))
_CLEAN_Q = _Quality((9, 11), (9, 11), (20, 28), (0.6, 1.1), (27, 29.5), (75, 92))
_SIZED_Q = _Quality((6, 10), (8, 22), (30, 38), (0.5, 1.2), (20, 26), (10, 40))
PRODUCTS = (
    _Product("RAW-JM", "原煤（焦煤）", "raw coking coal", ProductCategory.RAW, "JM",
             (950, 1250), (0.88, 0.99), _RAW_Q),
    _Product("RAW-13JM", "原煤（1/3焦煤）", "raw 1/3 coking coal", ProductCategory.RAW, "1/3JM",
             (850, 1100), (0.88, 0.99), _RAW_Q),
    _Product("RAW-FM", "原煤（肥煤）", "raw fat coal", ProductCategory.RAW, "FM",
             (900, 1200), (0.88, 0.99), _RAW_Q),
    _Product("RAW-QM", "原煤（气煤）", "raw gas coal", ProductCategory.RAW, "QM",
             (600, 800), (0.88, 0.99), _RAW_Q),
    _Product("CLEAN-JM", "洗精煤（焦精煤）", "washed coking coal", ProductCategory.WASHED, "JM",
             (1500, 1850), (0.88, 0.99), _CLEAN_Q),
    _Product("CLEAN-13JM", "1/3焦精煤", "washed 1/3 coking coal", ProductCategory.WASHED,
             "1/3JM", (1300, 1550), (0.88, 0.99), _CLEAN_Q),
    _Product("CLEAN-FM", "肥精煤", "washed fat coal", ProductCategory.WASHED, "FM",
             (1450, 1750), (0.88, 0.99), _CLEAN_Q),
    _Product("MID", "中煤", "middlings", ProductCategory.MIDDLINGS, None, (300, 450),
             (0.9, 0.99), _Quality((8, 12), (30, 45), (25, 32), (1.0, 2.0), (14, 19), None)),
    _Product("SLIME", "煤泥", "coal slime", ProductCategory.SLIME, None, (120, 260),
             (0.9, 0.99), _Quality((20, 28), (25, 40), (25, 32), (0.8, 1.5), (11, 16), None)),
    _Product("GANGUE", "矸石", "gangue", ProductCategory.GANGUE, None, (20, 60),
             (0.9, 0.99), _Quality((3, 6), (65, 82), (10, 20), (0.5, 2.5), (2, 6), None)),
    _Product("LUMP-QM", "块煤", "lump coal", ProductCategory.SIZED, "QM", (850, 1050),
             (0.8, 0.95), _SIZED_Q),
    _Product("FINE-QM", "末煤", "fine coal", ProductCategory.SIZED, "QM", (500, 700),
             (0.88, 0.99), _SIZED_Q),
    _Product("MIXED-QM", "混煤", "mixed coal", ProductCategory.SIZED, "QM", (600, 780),
             (0.88, 0.99), _SIZED_Q),
    _Product("COKE", "焦炭（冶金焦）", "metallurgical coke", ProductCategory.COKE, None,
             (1650, 2050), (0.62, 0.78),
             _Quality((4, 8), (12, 13.5), (1.0, 1.6), (0.6, 0.85), (28, 29.5), None)),
)  # fmt: skip


@dataclass(frozen=True)
class _Flow:
    # Who sells what to whom, and how much of the traffic it carries.

    seller: EnterpriseKind
    buyer: EnterpriseKind
    products: tuple[str, ...]
    weight: float
    inbound: bool = False  # coal from outside the city, sold on by a local trader


FLOWS = (
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
_TRANSFER_SHARE = 0.04  # pit to the mine's own stockyard
_LEAVES_CITY_SHARE = 0.7  # of hauls consigned to traders: straight out of the city
_UNMATCHED_SHARE = 0.04  # destination never recorded a purchase (not connected yet)
_OVERLOAD_SHARE = 0.03
_PRICE_OUTLIER_SHARE = 0.005
_BOOKED_SHARE = 0.65
_SAMPLED_SHARE = 0.03
# weight of each Beijing hour in a day's hauls: night shifts run, the peak hour carries ~10%
_HOURLY = (1, 1, 1, 1, 1, 1.5, 3, 5, 7, 9, 11, 11, 8, 7, 9, 11, 13, 11, 8, 6, 4, 3, 2, 1.5)


# --- the city: master data ----------------------------------------------------------------


@dataclass
class _Site:
    id: int
    code: str
    name: str
    point: _Point
    enterprise_id: int
    district_id: int
    indicator_id: int | None = None
    protocol: str = ""
    offline_since: int | None = None  # nothing it weighs after this reaches the hub

    def uploads_at(self, at: int) -> bool:
        return self.offline_since is None or at < self.offline_since


@dataclass
class _Company:
    id: int
    kind: EnterpriseKind
    district_id: int
    name: str
    short: str
    uscc: str
    point: _Point
    approved: bool
    weighbridges: list[_Site] = field(default_factory=list)
    yard: _Site | None = None

    @property
    def sale_site(self) -> _Site:
        return self.weighbridges[-1]

    @property
    def purchase_site(self) -> _Site:
        return self.weighbridges[0]


@dataclass
class _Truck:
    id: int
    plate: str
    colour: PlateColour
    limit_kg: int
    tare_kg: int  # curb weight plus driver and fuel, as a weighbridge sees it empty
    payload_kg: int
    driver_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Contract:
    id: int
    seller: _Company
    buyer: _Company
    product: _Product
    product_id: int
    unit_price: Decimal
    inbound: bool


@dataclass(frozen=True)
class _Checkpoint:
    id: int
    name: str
    point: _Point
    boundary: bool
    district_id: int


@dataclass
class _City:
    rows: dict[str, list[Row]]
    district_ids: dict[str, int]
    product_ids: dict[str, int]
    companies: list[_Company]
    trucks: list[_Truck]  # registered, in service
    unregistered: list[_Truck]
    checkpoints: list[_Checkpoint]
    contracts: list[_Contract]
    contract_weights: list[float]  # cumulative, for rng.choices
    offline_sites: list[tuple[_Site, int]]  # site, last heartbeat

    def of_kind(self, kind: EnterpriseKind) -> list[_Company]:
        return [c for c in self.companies if c.kind == kind and c.approved]


def _build_city(rng: random.Random, keys: _Keys, scale: Scale) -> _City:
    rows: dict[str, list[Row]] = {name: [] for name in TABLE_ORDER[:9]}
    district_ids = _districts(keys, rows)
    product_ids = _products(keys, rows)
    checkpoints = _checkpoints(keys, rows, district_ids, scale)
    companies = _Companies(rng, keys, rows, district_ids, scale).build()
    offline = _sites_and_devices(rng, keys, rows, companies, scale)
    trucks, unregistered = _Fleet(rng, keys, rows, companies, scale).build()
    contracts, weights = _contracts(rng, keys, rows, companies, product_ids, scale)
    return _City(
        rows,
        district_ids,
        product_ids,
        companies,
        trucks,
        unregistered,
        checkpoints,
        contracts,
        weights,
        offline,
    )


def _districts(keys: _Keys, rows: dict[str, list[Row]]) -> dict[str, int]:
    ids = {}
    for spec in DISTRICTS:
        ids[spec.code] = keys.next("district")
        rows["district"].append(
            {"id": ids[spec.code], "code": spec.code, "name": spec.name, "name_en": spec.name_en}
        )
    return ids


def _products(keys: _Keys, rows: dict[str, list[Row]]) -> dict[str, int]:
    ids = {}
    for product in PRODUCTS:
        ids[product.code] = keys.next("coal_product")
        rows["coal_product"].append(
            {
                "id": ids[product.code],
                "code": product.code,
                "name": product.name,
                "name_en": product.name_en,
                "category": product.category,
                "rank": product.rank,
            }
        )
    return ids


def _checkpoints(
    keys: _Keys, rows: dict[str, list[Row]], district_ids: dict[str, int], scale: Scale
) -> list[_Checkpoint]:
    result = []
    for code, name, district, lat, lon, boundary in CHECKPOINTS:
        checkpoint = _Checkpoint(
            keys.next("checkpoint"), name, _Point(lat, lon), boundary, district_ids[district]
        )
        result.append(checkpoint)
        rows["checkpoint"].append(
            {
                "id": checkpoint.id,
                "code": code,
                "name": name,
                "district_id": checkpoint.district_id,
                "latitude": lat,
                "longitude": lon,
                "on_city_boundary": boundary,
            }
        )
    return result


def _registered_at(rng: random.Random, scale: Scale) -> datetime:
    # the platform went live in 2023; registrations run up to a month before the data
    first = int(datetime(2023, 4, 1, tzinfo=UTC).timestamp())
    return _dt(rng.randrange(first, scale.start_ts - 30 * DAY_S))


class _Companies:
    def __init__(
        self,
        rng: random.Random,
        keys: _Keys,
        rows: dict[str, list[Row]],
        district_ids: dict[str, int],
        scale: Scale,
    ) -> None:
        self.rng, self.keys, self.rows, self.scale = rng, keys, rows, scale
        self.district_ids = district_ids
        self.usccs: set[str] = set()

    def build(self) -> list[_Company]:
        companies = []
        for kind, share in _KIND_MIX:
            count = max(1, round(share * self.scale.enterprises))
            brands = self.rng.sample(BRANDS, min(count, len(BRANDS)))
            for n in range(count):
                brand = brands[n] if n < len(brands) else f"{brands[n % len(brands)]}{n}"
                companies.append(self._company(kind, brand, approved=n == 0 or self._approved()))
        return companies

    def _approved(self) -> bool:
        return self.rng.random() < 0.94

    def _company(self, kind: EnterpriseKind, brand: str, approved: bool) -> _Company:
        rng = self.rng
        producer = kind in (K.MINE, K.GOAF_REMEDIATION, K.WASHING_PLANT)
        weights = _PRODUCER_DISTRICT_WEIGHTS if producer else _OTHER_DISTRICT_WEIGHTS
        spec = rng.choices(DISTRICTS, weights=weights)[0]
        point = _clamp(
            _Point(
                spec.centre.lat + rng.uniform(-spec.spread.lat, spec.spread.lat),
                spec.centre.lon + rng.uniform(-spec.spread.lon, spec.spread.lon),
            )
        )
        code = uscc(rng, spec.code)
        while code in self.usccs:
            code = uscc(rng, spec.code)
        self.usccs.add(code)
        company = _Company(
            id=self.keys.next("enterprise"),
            kind=kind,
            district_id=self.district_ids[spec.code],
            name=rng.choice(_NAME_TEMPLATES[kind]).format(brand),
            short=brand + _SHORT_SUFFIX[kind],
            uscc=code,
            point=point,
            approved=approved,
        )
        self.rows["enterprise"].append(self._row(company, spec))
        return company

    def _row(self, company: _Company, spec: _DistrictSpec) -> Row:
        rng = self.rng
        registered = _registered_at(rng, self.scale)
        capacity = _CAPACITY_T.get(company.kind)
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
            f"{rng.choice(('纬一路', '经二路', '滨河路', '工业大道', '园区南路'))}"
            f"{rng.randint(1, 199)}号",
            "latitude": company.point.lat,
            "longitude": company.point.lon,
            "legal_representative": person_name(rng),
            "contact_phone": mobile_phone(rng),
            "annual_capacity_t": rng.randrange(*capacity, 10_000) if capacity else None,
            "registration_status": status,
            "created_at": registered,
            "updated_at": min(registered + timedelta(days=rng.randint(0, 90)), self.scale.start),
        }


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


def _sites_and_devices(
    rng: random.Random,
    keys: _Keys,
    rows: dict[str, list[Row]],
    companies: list[_Company],
    scale: Scale,
) -> list[tuple[_Site, int]]:
    # Creates every site and device; returns weighbridges gone quiet, with their last beat.
    offline: list[tuple[_Site, int]] = []
    for company in companies:
        for n, (kind, label) in enumerate(_SITE_PLAN[company.kind], start=1):
            site = _Site(
                id=keys.next("site"),
                code=f"{company.uscc[2:8]}{company.id:04d}{_SITE_LETTER[kind]}{n:02d}",
                name=company.short + label,
                point=_offset(company.point, rng.uniform(0.1, 0.5), rng.uniform(0, 360)),
                enterprise_id=company.id,
                district_id=company.district_id,
            )
            last_beat = _devices(rng, keys, rows, site, kind, scale)
            rows["site"].append(_site_row(rng, site, kind, last_beat, scale))
            if kind == SiteKind.WEIGHBRIDGE:
                company.weighbridges.append(site)
                if last_beat < scale.end_ts - 2 * 3600:
                    site.offline_since = last_beat
                    offline.append((site, last_beat))
            elif kind == SiteKind.YARD:
                company.yard = site
    return offline


def _site_row(rng: random.Random, site: _Site, kind: SiteKind, last_beat: int, scale: Scale) -> Row:
    d = 0.0015  # about 150 m: the fence around a weighbridge yard
    lat, lon = site.point
    corners = ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1))
    registered = _registered_at(rng, scale)
    return {
        "id": site.id,
        "enterprise_id": site.enterprise_id,
        "code": site.code,
        "name": site.name,
        "kind": kind,
        "latitude": lat,
        "longitude": lon,
        "geofence": [[round(lon + x * d, 6), round(lat + y * d, 6)] for x, y in corners],
        "capacity_kg": rng.choice((100_000, 120_000, 150_000))
        if kind == SiteKind.WEIGHBRIDGE
        else None,
        "last_seen_at": _dt(last_beat),
        "created_at": registered,
        "updated_at": registered,
    }


def _devices(
    rng: random.Random,
    keys: _Keys,
    rows: dict[str, list[Row]],
    site: _Site,
    kind: SiteKind,
    scale: Scale,
) -> int:
    # Devices of one site; returns the site's last heartbeat.
    status = rng.choices(
        (DeviceStatus.ONLINE, DeviceStatus.OFFLINE, DeviceStatus.FAULT), weights=(95, 3, 2)
    )[0]
    quiet = status != DeviceStatus.ONLINE
    beat = scale.end_ts - (rng.randrange(2 * 3600, 30 * 3600) if quiet else rng.randrange(60))
    plan: list[tuple[DeviceKind, str, str]] = [
        (DeviceKind.BRIDGE, "coalhub_bridge", "coalhub-bridge 0.1")
    ]
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
    counters: dict[DeviceKind, int] = {}
    for device_kind, protocol, model in plan:
        counters[device_kind] = counters.get(device_kind, 0) + 1
        device_id = keys.next("device")
        if device_kind == DeviceKind.INDICATOR:
            site.indicator_id = device_id
        rows["device"].append(
            {
                "id": device_id,
                "site_id": site.id,
                "code": f"{_DEVICE_CODES[device_kind]}{counters[device_kind]:02d}",
                "kind": device_kind,
                "protocol": protocol,
                "model": model,
                "status": status,
                "last_heartbeat_at": _dt(beat),
                "last_state": {
                    "frames": rng.randrange(10_000, 5_000_000),
                    "uptime_s": rng.randrange(3600, 90 * DAY_S),
                },
                "created_at": _dt(scale.start_ts - 60 * DAY_S),
                "updated_at": _dt(beat),
            }
        )
    return beat


# (axles, combination, share of the fleet, curb weight range kg)
_TRUCK_TYPES = (
    (6, True, 0.70, (14_500, 16_500)),
    (5, True, 0.10, (13_500, 15_000)),
    (4, False, 0.10, (12_000, 13_500)),
    (3, False, 0.06, (10_000, 11_500)),
    (2, False, 0.04, (6_500, 7_500)),
)


_REGISTERED_ONLY = (
    "axles",
    "suspension",
    "rated_payload_kg",
    "curb_weight_kg",
    "energy_type",
    "transport_certificate",
)


class _Fleet:
    def __init__(
        self,
        rng: random.Random,
        keys: _Keys,
        rows: dict[str, list[Row]],
        companies: list[_Company],
        scale: Scale,
    ) -> None:
        self.rng, self.keys, self.rows, self.scale = rng, keys, rows, scale
        self.haulers = [c for c in companies if c.kind == K.LOGISTICS]
        self.shippers = [c for c in companies if c.kind in (K.MINE, K.TRADER, K.WASHING_PLANT)]
        self.plates: set[str] = set()
        self.id_numbers: set[str] = set()

    def build(self) -> tuple[list[_Truck], list[_Truck]]:
        in_service: list[_Truck] = []
        unregistered: list[_Truck] = []
        for _ in range(self.scale.vehicles):
            roll = self.rng.random()
            status = VehicleStatus.REGISTERED
            if roll < 0.01:
                status = VehicleStatus.SUSPENDED
            elif roll < 0.03:
                status = VehicleStatus.UNREGISTERED
            truck, owner = self._truck(status)
            if status == VehicleStatus.REGISTERED:
                in_service.append(truck)
                self._drivers(truck, owner)
            elif status == VehicleStatus.UNREGISTERED:
                unregistered.append(truck)
        return in_service, unregistered

    def _unique_plate(self, prefix: str, new_energy: bool) -> str:
        while True:
            candidate = plate(self.rng, prefix, new_energy)
            if candidate not in self.plates:
                self.plates.add(candidate)
                return candidate

    def _owner(self, status: VehicleStatus) -> _Company | None:
        roll = self.rng.random()
        if status == VehicleStatus.UNREGISTERED or roll < 0.25:
            return None  # owner-drivers (个体)
        return self.rng.choice(self.haulers if roll < 0.85 else self.shippers)

    def _truck(self, status: VehicleStatus) -> tuple[_Truck, _Company | None]:
        rng = self.rng
        prefixes = list(PLATE_PREFIXES)
        prefix = rng.choices(prefixes, weights=[PLATE_PREFIXES[p][0] for p in prefixes])[0]
        new_energy = rng.random() < 0.10
        axles, combination, _, curb_range = rng.choices(
            _TRUCK_TYPES, weights=[t[2] for t in _TRUCK_TYPES]
        )[0]
        if new_energy:
            axles, combination, curb_range = 6, True, (18_000, 20_000)  # battery-swap tractors
        air = rng.random() < 0.2
        single_drive = combination and axles >= 6 and rng.random() < 0.2
        limit = gross_limit_kg(axles, combination, air, single_drive)
        curb = rng.randrange(*curb_range, 50)
        truck = _Truck(
            id=self.keys.next("vehicle"),
            plate=self._unique_plate(prefix, new_energy),
            colour=PlateColour.YELLOW_GREEN if new_energy else PlateColour.YELLOW,
            limit_kg=limit,
            tare_kg=curb + rng.randrange(100, 350),
            payload_kg=(limit - curb - 300) // 100 * 100,
        )
        owner = self._owner(status)
        registered = _registered_at(rng, self.scale)
        row = {
            "id": truck.id,
            "plate": truck.plate,
            "plate_colour": truck.colour,
            "status": status,
            "axles": axles,
            "suspension": Suspension.AIR if air else Suspension.STEEL,
            "tractor_single_drive_axle": single_drive,
            "is_combination": combination,
            "rated_payload_kg": truck.payload_kg,
            "curb_weight_kg": curb,
            "energy_type": self._energy(truck.plate, new_energy),
            "transport_certificate": f"{PLATE_PREFIXES[prefix][1]}{truck.id:06d}",
            "owner_enterprise_id": owner.id if owner else None,
            "created_at": registered,
            "updated_at": registered,
        }
        if status == VehicleStatus.UNREGISTERED:  # only what a camera saw is known
            row.update(dict.fromkeys(_REGISTERED_ONLY))
        self.rows["vehicle"].append(row)
        return truck, owner

    def _energy(self, plate_no: str, new_energy: bool) -> EnergyType:
        if new_energy:  # D: battery electric; F: not purely electric (here: fuel cell)
            return EnergyType.ELECTRIC if plate_no.endswith("D") else EnergyType.HYDROGEN
        return self.rng.choices((EnergyType.DIESEL, EnergyType.LNG), weights=(85, 15))[0]

    def _drivers(self, truck: _Truck, owner: _Company | None) -> None:
        # most trucks run with one driver; a fifth share two who take shifts
        for _ in range(2 if self.rng.random() < 0.2 else 1):
            truck.driver_ids.append(self._driver(owner, truck))

    def _driver(self, employer: _Company | None, truck: _Truck) -> int:
        rng = self.rng
        male = rng.random() < 0.97
        while True:
            birth = date(rng.randint(1968, 2003), 1, 1) + timedelta(days=rng.randrange(365))
            number = resident_id(rng, birth, male)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                break
        driver_id = self.keys.next("driver")
        registered = _registered_at(rng, self.scale)
        self.rows["driver"].append(
            {
                "id": driver_id,
                "name": person_name(rng),
                "id_number": number,
                "phone": mobile_phone(rng),
                "licence_class": "A2" if truck.limit_kg > 31_000 else "B2",
                # 从业资格证 numbers are the holder's ID number in practice: personal data
                "qualification_certificate": number,
                "employer_id": employer.id if employer else None,
                "created_at": registered,
                "updated_at": registered,
            }
        )
        return driver_id


def _contracts(
    rng: random.Random,
    keys: _Keys,
    rows: dict[str, list[Row]],
    companies: list[_Company],
    product_ids: dict[str, int],
    scale: Scale,
) -> tuple[list[_Contract], list[float]]:
    # Active contracts along each flow, plus a few closed or draft ones no truck uses; returns
    # the active ones with cumulative weights for picking the contract of a haul.
    approved = [c for c in companies if c.approved]
    total_weight = sum(f.weight for f in FLOWS)
    target = max(len(FLOWS), round(scale.enterprises * 2.5))
    contracts: list[_Contract] = []
    weights: list[float] = []
    for flow in FLOWS:
        sellers = [c for c in approved if c.kind == flow.seller]
        buyers = [c for c in approved if c.kind == flow.buyer]
        count = max(1, round(flow.weight / total_weight * target))
        for _ in range(count):
            product = _product(rng.choice(flow.products))
            contract = _Contract(
                id=keys.next("contract"),
                seller=rng.choice(sellers),
                buyer=rng.choice(buyers),
                product=product,
                product_id=product_ids[product.code],
                unit_price=Decimal(rng.randint(*product.price)),
                inbound=flow.inbound,
            )
            guaranteed = flow.buyer == K.POWER_PLANT and rng.random() < 0.6
            rows["contract"].append(_contract_row(rng, contract, guaranteed, scale, active=True))
            contracts.append(contract)
            # 保供 contracts are called off first
            weights.append(flow.weight / count * rng.uniform(0.5, 1.5) * (1.5 if guaranteed else 1))
    for old in rng.sample(contracts, max(1, len(contracts) // 12)):
        closed = replace(old, id=keys.next("contract"))
        rows["contract"].append(_contract_row(rng, closed, False, scale, active=False))
    return contracts, list(_cumulative(weights))


def _contract_row(
    rng: random.Random, contract: _Contract, guaranteed: bool, scale: Scale, *, active: bool
) -> Row:
    data_start = _local_date(scale.start_ts)
    if active:
        start = date(data_start.year, 1, 1) + timedelta(days=rng.randrange(0, 300))
        start = min(start, data_start - timedelta(days=7))
        end = date(start.year + 1, start.month, 1) - timedelta(days=1)
        status = ContractStatus.ACTIVE
    else:
        status = rng.choice(
            (ContractStatus.COMPLETED, ContractStatus.TERMINATED, ContractStatus.DRAFT)
        )
        start = date(data_start.year - 1, rng.randint(1, 12), 1)
        end = start + timedelta(days=rng.choice((90, 180, 364)))
        if status == ContractStatus.DRAFT:
            start, end = data_start + timedelta(days=30), data_start + timedelta(days=395)
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


# --- traffic: bookings, weighings, hauls, checkpoint passes, positions --------------------


class _TripKind(Enum):
    IN_CITY = "in_city"  # sale here, purchase at a Wuhai consignee
    LEAVES = "leaves"  # sale here, out through a boundary checkpoint
    INBOUND = "inbound"  # in through a boundary checkpoint, purchase here
    TRANSFER = "transfer"  # pit weighbridge to the mine's own stockyard


@dataclass(frozen=True)
class _Plan:
    anchor: int  # sale completed, or boundary passed for inbound hauls
    kind: _TripKind
    company: _Company  # where the truck loads (the seller, or the mine of a transfer)
    contract: _Contract | None
    approach_km: float = 0
    approach_s: int = 0
    gate_s: int = 0
    loading_s: int = 0

    @property
    def need_at(self) -> int:
        return self.anchor - self.loading_s - self.gate_s - self.approach_s - 60


@dataclass(frozen=True)
class _Haul:
    # What one truck carries for whom on one trip.

    truck: _Truck
    driver_id: int
    product: _Product
    contract: _Contract | None  # None: a transfer within one enterprise
    shipper: _Company
    consignee: _Company


class _Delivery(NamedTuple):
    busy_until: int
    weigh_record_id: int | None
    weighed_at: int
    net_kg: int


@dataclass(frozen=True)
class _Weighing:
    # A weighing remembered for the alerts.

    id: int
    site: _Site
    truck: _Truck
    gross_kg: int
    at: int
    haul: _Haul
    unit_price: Decimal | None


STATIONARY_INTERVAL_S = 300  # terminals report every 5 minutes while parked
TRAFFIC_TABLES = (
    "booking",
    "weigh_record",
    "checkpoint_pass",
    "shipment",
    "trajectory_point",
    "quality_sample",
)


class _Recorder:
    # Appends the rows of the traffic tables, dropping whatever falls after the end.

    def __init__(self, rng: random.Random, keys: _Keys, city: _City, scale: Scale) -> None:
        self.rng, self.keys, self.city = rng, keys, city
        self.start, self.end = scale.start_ts, scale.end_ts
        self.interval = scale.position_interval_s
        self.rows: dict[str, list[Row]] = {name: [] for name in TRAFFIC_TABLES}
        self.serials: dict[int, int] = {}  # site id -> last ticket serial
        self.queue_numbers: dict[tuple[int, int], int] = {}  # (site id, day) -> last number
        self.overloads: list[_Weighing] = []
        self.price_outliers: list[_Weighing] = []
        self.ordinary: list[_Weighing] = []

    def take(self) -> dict[str, list[Row]]:
        rows, self.rows = self.rows, {name: [] for name in TRAFFIC_TABLES}
        return rows

    def weigh(
        self,
        haul: _Haul,
        site: _Site,
        direction: WeighDirection,
        gross: int,
        tare: int,
        *,
        gross_at: int,
        tare_at: int,
        booking_id: int | None = None,
    ) -> int:
        rng = self.rng
        record_id = self.keys.next("weigh_record")
        weighed_at = max(gross_at, tare_at)
        self.serials[site.id] = serial = self.serials.get(site.id, 0) + 1
        price = self._price(_Weighing(record_id, site, haul.truck, gross, weighed_at, haul, None))
        self.rows["weigh_record"].append(
            {
                "id": record_id,
                "ticket_no": f"{site.code}{_local_date(weighed_at):%y%m%d}{serial:06d}",
                "idempotency_key": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "site_id": site.id,
                "device_id": site.indicator_id,
                "direction": direction,
                "contract_id": haul.contract.id if haul.contract else None,
                "booking_id": booking_id,
                "vehicle_id": haul.truck.id,
                "plate_read": misread(rng, haul.truck.plate),
                "driver_id": haul.driver_id,
                "product_id": self.city.product_ids[haul.product.code],
                "gross_kg": gross,
                "tare_kg": tare,
                "gross_at": _dt(gross_at),
                "tare_at": _dt(tare_at),
                "weighed_at": _dt(weighed_at),
                "shipper_id": haul.shipper.id,
                "consignee_id": haul.consignee.id,
                "unit_price": price,
                "evidence": self._evidence(site, gross, tare),
                "source": RecordSource.DEMO,
                "received_at": _dt(weighed_at + rng.randrange(2, 40)),
            }
        )
        if rng.random() < _SAMPLED_SHARE:
            sampler = haul.consignee if direction == WeighDirection.PURCHASE else haul.shipper
            self._sample(record_id, sampler, haul.product, weighed_at)
        return record_id

    def _price(self, weighing: _Weighing) -> Decimal | None:
        # The ticket's unit price; remembers overloads and price outliers for the alerts.
        contract = weighing.haul.contract
        if contract is None:
            return None
        if self.rng.random() < _PRICE_OUTLIER_SHARE:
            price = (contract.unit_price * Decimal(self.rng.choice(("0.55", "1.6")))).quantize(CENT)
            self.price_outliers.append(replace(weighing, unit_price=price))
            return price
        if weighing.gross_kg > weighing.truck.limit_kg:
            self.overloads.append(weighing)
        elif len(self.ordinary) < 100:
            self.ordinary.append(weighing)
        return contract.unit_price

    def _evidence(self, site: _Site, gross: int, tare: int) -> dict[str, Any]:
        rng = self.rng
        evidence: dict[str, Any] = {
            "protocol": site.protocol,
            "stable_ms": rng.randrange(1500, 4000),
            "images_sha256": [rng.randbytes(32).hex(), rng.randbytes(32).hex()],
        }
        if site.protocol == "yaohua_a9":
            evidence["frames"] = {"gross": yaohua_a9_frame(gross), "tare": yaohua_a9_frame(tare)}
        return evidence

    def _sample(self, record_id: int, sampler: _Company, product: _Product, at: int) -> None:
        rng, q = self.rng, product.quality
        sampled_at = min(at + rng.randrange(300, 1800), self.end - 1)

        def pct(bounds: tuple[float, float]) -> Decimal:
            return Decimal(str(round(rng.uniform(*bounds), 2)))

        sample_id = self.keys.next("quality_sample")
        self.rows["quality_sample"].append(
            {
                "id": sample_id,
                "sample_no": f"ZJ{_local_date(sampled_at):%Y%m%d}{sample_id:06d}",
                "enterprise_id": sampler.id,
                "product_id": self.city.product_ids[product.code],
                "weigh_record_id": record_id,
                "sampled_at": _dt(sampled_at),
                "laboratory": rng.choice(("乌海市产品质量检验检测中心", f"{sampler.short}化验室")),
                "total_moisture_pct": pct(q.moisture),
                "ash_pct": pct(q.ash),
                "volatile_pct": pct(q.volatile),
                "sulphur_pct": pct(q.sulphur),
                "calorific_mj_kg": pct(q.calorific),
                "caking_index": rng.randint(*q.caking) if q.caking else None,
            }
        )

    def booking(self, site: _Site, haul: _Haul, arrive: int, completed: int) -> int:
        # A completed booking of a loading slot, checked in remotely before arriving.
        rng = self.rng
        slot = arrive - arrive % 1800
        key = (site.id, (arrive - self.start) // DAY_S)
        self.queue_numbers[key] = number = self.queue_numbers.get(key, 0) + 1
        booking_id = self.keys.next("booking")
        self.rows["booking"].append(
            {
                "id": booking_id,
                "site_id": site.id,
                "vehicle_id": haul.truck.id,
                "driver_id": haul.driver_id,
                "contract_id": haul.contract.id if haul.contract else None,
                "slot_start": _dt(slot),
                "status": BookingStatus.COMPLETED,
                "checked_in_at": _dt(arrive - rng.randrange(300, 3600)),
                "queue_number": number,
                "priority": _priority(haul.truck),
                "created_at": _dt(slot - rng.randrange(2 * 3600, 48 * 3600)),
                "updated_at": _dt(completed),
            }
        )
        if rng.random() < 0.03:  # an earlier slot the driver booked and then cancelled
            self.open_booking(site, haul.truck, slot - DAY_S, BookingStatus.CANCELLED)
        return booking_id

    def open_booking(self, site: _Site, truck: _Truck, slot: int, status: BookingStatus) -> None:
        # A booking no weighing completed: cancelled, or still ahead at the end.
        rng = self.rng
        created = min(slot, self.end) - rng.randrange(2 * 3600, 24 * 3600)
        checked_in = slot - rng.randrange(600, 3600)
        if status != BookingStatus.CHECKED_IN or checked_in >= self.end:
            checked_in = 0
        self.rows["booking"].append(
            {
                "id": self.keys.next("booking"),
                "site_id": site.id,
                "vehicle_id": truck.id,
                "driver_id": truck.driver_ids[0],
                "contract_id": None,
                "slot_start": _dt(slot),
                "status": status,
                "checked_in_at": _dt(checked_in) if checked_in else None,
                "queue_number": rng.randint(1, 40) if checked_in else None,
                "priority": _priority(truck),
                "created_at": _dt(created),
                "updated_at": _dt(checked_in or created),
            }
        )

    def shipment(
        self, origin_id: int, destination_id: int | None, exit_pass_id: int | None, matched: int
    ) -> None:
        linked = destination_id is not None or exit_pass_id is not None
        self.rows["shipment"].append(
            {
                "id": self.keys.next("shipment"),
                "origin_weigh_record_id": origin_id,
                "destination_weigh_record_id": destination_id,
                "exit_checkpoint_pass_id": exit_pass_id,
                "matched_at": _dt(min(matched, self.end - 1)) if linked else None,
            }
        )

    def checkpoint_pass(
        self, checkpoint: _Checkpoint, truck: _Truck, direction: PassDirection, at: int
    ) -> int | None:
        if at >= self.end:
            return None
        pass_id = self.keys.next("checkpoint_pass")
        self.rows["checkpoint_pass"].append(
            {
                "id": pass_id,
                "checkpoint_id": checkpoint.id,
                "vehicle_id": truck.id,
                "plate": truck.plate,
                "plate_colour": truck.colour,
                "direction": direction,
                "lane": self.rng.randint(1, 4),
                "passed_at": _dt(at),
                "image_sha256": self.rng.randbytes(32).hex(),
                "received_at": _dt(at + self.rng.randrange(1, 15)),
            }
        )
        return pass_id

    def road(self, truck: _Truck, a: _Point, b: _Point, t0: int, t1: int, load: LoadState) -> None:
        # Positions every interval on a straight-ish road from a to b, in [t0, t1).
        rng = self.rng
        steps = max(1, (t1 - t0) // self.interval)
        kmh = _km(a, b) * ROAD_FACTOR * 3600 / max(t1 - t0, 1)
        bend = rng.uniform(-0.12, 0.12)
        points = [_along(a, b, i / steps, bend) for i in range(steps + 1)]
        for i in range(steps):
            at = t0 + i * self.interval + rng.randrange(min(5, self.interval))
            noise = _Point(rng.gauss(0, 0.00012), rng.gauss(0, 0.00012))  # GNSS scatter
            speed = round(kmh * rng.uniform(0.8, 1.2) * (0.4 if i == 0 else 1), 1)
            heading = _bearing(points[i], points[i + 1])
            self._position(truck, at, points[i], noise, speed, heading, load)

    def dwell(self, truck: _Truck, point: _Point, t0: int, t1: int, load: LoadState) -> None:
        # Positions of a parked truck (queueing, loading, unloading) in [t0, t1).
        for at in range(t0, t1, STATIONARY_INTERVAL_S):
            noise = _Point(self.rng.gauss(0, 0.00003), self.rng.gauss(0, 0.00003))
            self._position(truck, at, point, noise, 0.0, None, load)

    def _position(
        self,
        truck: _Truck,
        at: int,
        point: _Point,
        noise: _Point,
        speed: float,
        heading: int | None,
        load: LoadState,
    ) -> None:
        if at >= self.end:
            return
        lat, lon = point.lat + noise.lat, point.lon + noise.lon
        self.rows["trajectory_point"].append(
            {
                "id": self.keys.next("trajectory_point"),
                "vehicle_id": truck.id,
                "recorded_at": _dt(at),
                "latitude": round(lat, 6),
                "longitude": round(lon, 6),
                # the valley floor rises gently to the south-east, about 1,070-1,150 m
                "altitude_m": round(1070 + (39.9 - lat) * 90 + (lon - 106.7) * 100),
                "speed_kmh": speed,
                "heading": heading,
                "load_state": load,
                "source": PositionSource.DEMO,
                "received_at": _dt(at + 1 + at % 7),
            }
        )


def _priority(truck: _Truck) -> int:
    # new-energy trucks are called first (smart dispatching)
    return 1 if truck.colour == PlateColour.YELLOW_GREEN else 0


class _Traffic:
    # plans each day's hauls and lets the fleet run them, one truck at a time

    def __init__(self, rng: random.Random, keys: _Keys, city: _City, scale: Scale) -> None:
        self.rng, self.city, self.scale = rng, city, scale
        self.start, self.end = scale.start_ts, scale.end_ts
        self.record = _Recorder(rng, keys, city, scale)
        # trucks by the time they are next free; the earliest free takes the next haul
        self.fleet = [(self.start - rng.randrange(12 * 3600), i) for i in range(len(city.trucks))]
        heapq.heapify(self.fleet)
        self.hour_weights = list(_cumulative(_HOURLY))
        self.transfer_mines = [
            c for c in city.of_kind(K.MINE) + city.of_kind(K.GOAF_REMEDIATION) if c.yard
        ]
        self.inner = [cp for cp in city.checkpoints if not cp.boundary]
        self.boundary = [cp for cp in city.checkpoints if cp.boundary]
        # kept for finance and alerts
        self.deliveries: dict[int, list[tuple[int, int]]] = {}  # contract id -> (time, net kg)
        self.sightings: list[tuple[_Truck, _Checkpoint, int]] = []

    def day(self, index: int) -> dict[str, list[Row]]:
        day_start = self.start + index * DAY_S
        count = round(self.scale.trips_per_day * self.rng.uniform(0.92, 1.08))
        plans = sorted((self._plan(day_start) for _ in range(count)), key=lambda p: p.need_at)
        for plan in plans:
            self._dispatch(plan)
        self._unregistered_sightings(day_start)
        if index == self.scale.day_count - 1:
            self._future_bookings(count // 20)
        return self.record.take()

    def _plan(self, day_start: int) -> _Plan:
        rng = self.rng
        hour = rng.choices(range(24), cum_weights=self.hour_weights)[0]
        anchor = day_start + hour * 3600 + rng.randrange(3600)
        if self.transfer_mines and rng.random() < _TRANSFER_SHARE:
            mine = rng.choice(self.transfer_mines)
            return self._loading_plan(anchor, _TripKind.TRANSFER, mine, None)
        contract = rng.choices(self.city.contracts, cum_weights=self.city.contract_weights)[0]
        if contract.inbound:
            return _Plan(anchor, _TripKind.INBOUND, contract.seller, contract)
        kind = _TripKind.IN_CITY
        if contract.buyer.kind == K.TRADER and rng.random() < _LEAVES_CITY_SHARE:
            kind = _TripKind.LEAVES
        return self._loading_plan(anchor, kind, contract.seller, contract)

    def _loading_plan(
        self, anchor: int, kind: _TripKind, company: _Company, contract: _Contract | None
    ) -> _Plan:
        rng = self.rng
        approach_km = rng.uniform(3, 8)
        return _Plan(
            anchor,
            kind,
            company,
            contract,
            approach_km=approach_km,
            approach_s=round(approach_km * ROAD_FACTOR / rng.uniform(25, 40) * 3600),
            gate_s=rng.randrange(60, 240),
            loading_s=rng.randrange(900, 2400),
        )

    def _dispatch(self, plan: _Plan) -> None:
        free_at, index = heapq.heappop(self.fleet)
        delay = 0 if free_at <= plan.need_at else free_at - plan.need_at + self.rng.randrange(900)
        busy_until = self._run(plan, self.city.trucks[index], plan.anchor + delay)
        heapq.heappush(self.fleet, (free_at if busy_until is None else busy_until, index))

    def _run(self, plan: _Plan, truck: _Truck, anchor: int) -> int | None:
        # one haul; returns when the truck is free again, None if it never starts
        if anchor >= self.end:
            return None
        driver_id = truck.driver_ids[-1] if self.rng.random() < 0.3 else truck.driver_ids[0]
        contract = plan.contract
        if contract is None:
            haul = _Haul(truck, driver_id, _product("RAW-JM"), None, plan.company, plan.company)
            return self._transfer(plan, haul, anchor)
        haul = _Haul(truck, driver_id, contract.product, contract, contract.seller, contract.buyer)
        if plan.kind == _TripKind.INBOUND:
            return self._inbound(haul, contract, anchor)
        return self._sale(plan, haul, contract, anchor)

    def _load_at(self, plan: _Plan, site: _Site, haul: _Haul, anchor: int) -> tuple[int, int, int]:
        # in empty, weighed empty, loaded, weighed loaded at `anchor`: ticket id, gross, tare
        rng, truck = self.rng, haul.truck
        tare_at = anchor - plan.loading_s
        arrive = tare_at - plan.gate_s
        approach_from = _offset(site.point, plan.approach_km, rng.uniform(0, 360))
        self.record.road(
            truck, approach_from, site.point, arrive - plan.approach_s, arrive, LoadState.EMPTY
        )
        self.record.dwell(truck, site.point, arrive, anchor, LoadState.HALF)
        booking_id = None
        if rng.random() < _BOOKED_SHARE:
            booking_id = self.record.booking(site, haul, arrive, anchor)
        gross, tare = self._load(truck, haul.product)
        direction = WeighDirection.SALE if haul.contract else WeighDirection.TRANSFER
        ticket = self.record.weigh(
            haul,
            site,
            direction,
            gross,
            tare,
            gross_at=anchor,
            tare_at=tare_at,
            booking_id=booking_id,
        )
        return ticket, gross, tare

    def _transfer(self, plan: _Plan, haul: _Haul, anchor: int) -> int | None:
        site = plan.company.purchase_site
        if not site.uploads_at(anchor):
            return None
        self._load_at(plan, site, haul, anchor)
        yard = (plan.company.yard or site).point
        depart, arrival = anchor + 120, anchor + 120 + self.rng.randrange(300, 900)
        self.record.road(haul.truck, site.point, yard, depart, arrival, LoadState.FULL)
        return arrival + self.rng.randrange(600, 1500)

    def _sale(self, plan: _Plan, haul: _Haul, contract: _Contract, anchor: int) -> int | None:
        rng = self.rng
        site = contract.seller.sale_site
        # the platform issues no e-ticket at a site it cannot reach, so the site ships nothing
        if not site.uploads_at(anchor):
            return None
        sale, gross, tare = self._load_at(plan, site, haul, anchor)
        self.deliveries.setdefault(contract.id, []).append((anchor, gross - tare))
        depart = anchor + rng.randrange(60, 240)
        if plan.kind == _TripKind.LEAVES:
            return self._leave_city(haul.truck, site, sale, depart)
        arrival = self._drive(haul.truck, site.point, contract.buyer.purchase_site.point, depart)
        delivery = self._deliver(haul, gross, arrival, record=rng.random() >= _UNMATCHED_SHARE)
        matched = delivery.weighed_at + rng.randrange(30, 600)
        self.record.shipment(sale, delivery.weigh_record_id, None, matched)
        return delivery.busy_until

    def _leave_city(self, truck: _Truck, site: _Site, sale_id: int, depart: int) -> int:
        rng = self.rng
        exit_at = min(self.boundary, key=lambda cp: _km(cp.point, site.point) * rng.uniform(1, 3))
        passed = self._drive(truck, site.point, exit_at.point, depart)
        pass_id = self.record.checkpoint_pass(exit_at, truck, PassDirection.OUTBOUND, passed)
        self.record.shipment(sale_id, None, pass_id, passed + rng.randrange(30, 300))
        back = passed + rng.randrange(4 * 3600, 10 * 3600)  # delivered outside, returns empty
        self.record.checkpoint_pass(exit_at, truck, PassDirection.INBOUND, back)
        return back + 60

    def _inbound(self, haul: _Haul, contract: _Contract, anchor: int) -> int:
        rng = self.rng
        entry = rng.choice(self.boundary)
        self.record.checkpoint_pass(entry, haul.truck, PassDirection.INBOUND, anchor)
        gross, _ = self._load(haul.truck, haul.product)
        destination = contract.buyer.purchase_site.point
        arrival = self._drive(haul.truck, entry.point, destination, anchor + rng.randrange(30, 120))
        delivery = self._deliver(haul, gross, arrival, record=True)
        if delivery.weigh_record_id is not None:
            entry_row = (delivery.weighed_at, delivery.net_kg)
            self.deliveries.setdefault(contract.id, []).append(entry_row)
        return delivery.busy_until

    def _deliver(self, haul: _Haul, loaded_gross: int, arrival: int, *, record: bool) -> _Delivery:
        # queue, weigh in loaded, unload, weigh out empty at the consignee
        rng, truck = self.rng, haul.truck
        site = haul.consignee.purchase_site
        gross_at = arrival + rng.randrange(300, 2700)
        tare_at = gross_at + rng.randrange(600, 1500)
        self.record.dwell(truck, site.point, arrival, gross_at, LoadState.FULL)
        self.record.dwell(truck, site.point, gross_at, tare_at, LoadState.HALF)
        busy_until = tare_at + 120
        if not record or tare_at >= self.end or not site.uploads_at(tare_at):
            return _Delivery(busy_until, None, tare_at, 0)
        tare = self._tare(truck)
        # a little moisture and dust is lost on the road
        lost = (loaded_gross - truck.tare_kg) * rng.uniform(0.0005, 0.003)
        gross = max(_to_division(loaded_gross - lost), tare + DIVISION_KG)
        ticket = self.record.weigh(
            haul, site, WeighDirection.PURCHASE, gross, tare, gross_at=gross_at, tare_at=tare_at
        )
        return _Delivery(busy_until, ticket, tare_at, gross - tare)

    def _load(self, truck: _Truck, product: _Product) -> tuple[int, int]:
        rng = self.rng
        tare = self._tare(truck)
        if rng.random() < _OVERLOAD_SHARE:
            return _to_division(truck.limit_kg * rng.uniform(1.03, 1.3)), tare
        return _to_division(tare + truck.payload_kg * rng.uniform(*product.load)), tare

    def _tare(self, truck: _Truck) -> int:
        return _to_division(truck.tare_kg + self.rng.gauss(0, 40))

    def _drive(self, truck: _Truck, a: _Point, b: _Point, depart: int) -> int:
        # loaded drive from a to b, past an inner checkpoint if one is near the way
        rng = self.rng
        arrival = depart + max(300, round(_km(a, b) * ROAD_FACTOR / rng.uniform(32, 48) * 3600))
        self.record.road(truck, a, b, depart, arrival, LoadState.FULL)
        middle = _Point((a.lat + b.lat) / 2, (a.lon + b.lon) / 2)
        nearest = min(self.inner, key=lambda cp: _km(cp.point, middle))
        if _km(nearest.point, middle) < 6 and rng.random() < 0.7:
            towards_centre = _km(b, CITY_CENTRE) < _km(a, CITY_CENTRE)
            direction = PassDirection.INBOUND if towards_centre else PassDirection.OUTBOUND
            self.record.checkpoint_pass(nearest, truck, direction, (depart + arrival) // 2)
        return arrival

    def _unregistered_sightings(self, day_start: int) -> None:
        rng = self.rng
        for truck in self.city.unregistered:
            for second in sorted(rng.sample(range(DAY_S), rng.randint(0, 3))):
                checkpoint = rng.choice(self.city.checkpoints)
                direction = rng.choice((PassDirection.INBOUND, PassDirection.OUTBOUND))
                at = day_start + second
                if self.record.checkpoint_pass(checkpoint, truck, direction, at):
                    self.sightings.append((truck, checkpoint, at))

    def _future_bookings(self, count: int) -> None:
        sites = [c.sale_site for c in self.city.companies if c.approved and c.weighbridges]
        statuses = (BookingStatus.BOOKED, BookingStatus.BOOKED, BookingStatus.CHECKED_IN)
        for _ in range(count):
            truck = self.rng.choice(self.city.trucks)
            slot = self.end + self.rng.randrange(1, 20) * 1800
            self.record.open_booking(self.rng.choice(sites), truck, slot, self.rng.choice(statuses))


def _cumulative(weights: Iterable[float]) -> Iterable[float]:
    running = 0.0
    for weight in weights:
        running += weight
        yield running


def _product(code: str) -> _Product:
    return next(p for p in PRODUCTS if p.code == code)


# --- finance: invoices, lines, payments ---------------------------------------------------

_PER_LOAD_INVOICING = 0.4  # 一车一票: invoiced as each truck leaves; the rest every 3 days
_INVOICE_PERIOD_DAYS = 3
_UNINVOICED_SHARE = 0.05  # 有货无票
_RED_SHARE = 0.015
_KG_LINE_SHARE = 0.005  # a line in kilograms where tonnes are meant
_PREPAID_SHARE = 0.35  # 款到发货
_WRONG_PAYEE_SHARE = 0.015
_BANKS = ("ICBC", "ABC", "BOC", "CCB", "BOCOM", "CMB", "BAOTOUBANK", "WUHAIBANK")


class _Finance:
    def __init__(
        self, rng: random.Random, keys: _Keys, city: _City, traffic: _Traffic, scale: Scale
    ) -> None:
        self.rng, self.keys, self.city, self.traffic = rng, keys, city, traffic
        self.start, self.end = scale.start_ts, scale.end_ts
        self.invoices: list[Row] = []
        self.lines: list[Row] = []
        self.payments: list[Row] = []
        self.without_goods: list[Row] = []  # 有票无货, for the alerts

    def rows(self) -> dict[str, list[Row]]:
        for contract in self.city.contracts:
            deliveries = self.traffic.deliveries.get(contract.id)
            if deliveries:
                self._settle(contract, sorted(deliveries))
        self._invoices_without_goods()
        return {"invoice": self.invoices, "invoice_line": self.lines, "payment": self.payments}

    def _settle(self, contract: _Contract, deliveries: list[tuple[int, int]]) -> None:
        rng = self.rng
        if rng.random() < _PREPAID_SHARE:
            self._prepay(contract, deliveries)
            prepaid = True
        else:
            prepaid = False
        for issued, lines in self._invoice_batches(deliveries):
            if rng.random() < _UNINVOICED_SHARE or issued >= self.end:
                continue  # shipped, not (yet) invoiced
            invoice, first_line = self._invoice(
                contract.seller,
                contract.buyer,
                contract.product,
                lines,
                issued,
                contract.unit_price,
            )
            if not prepaid:
                self._pay(invoice, contract)
            if rng.random() < _RED_SHARE:
                self._red_invoice(invoice, first_line, contract)

    def _invoice_batches(self, deliveries: list[tuple[int, int]]) -> list[tuple[int, list[int]]]:
        # (issue time, net kg per line): one per load, or one line per day every 3 days.
        rng = self.rng
        if rng.random() < _PER_LOAD_INVOICING:
            return [(at + rng.randrange(600, 7200), [net]) for at, net in deliveries]
        by_period: dict[int, dict[int, int]] = {}
        for at, net in deliveries:
            day = (at - self.start) // DAY_S
            days = by_period.setdefault(day // _INVOICE_PERIOD_DAYS, {})
            days[day] = days.get(day, 0) + net
        batches = []
        for period, days in by_period.items():
            # issued in Beijing office hours on the 1st-2nd day after the period
            issued = self.start + ((period + 1) * _INVOICE_PERIOD_DAYS + rng.randrange(2)) * DAY_S
            batches.append((issued + rng.randrange(3600, 9 * 3600), list(days.values())))
        return batches

    def _invoice(
        self,
        seller: _Company,
        buyer: _Company,
        product: _Product,
        quantities_kg: list[int],
        issued: int,
        unit_price: Decimal,
        *,
        kind: InvoiceKind = InvoiceKind.NORMAL,
        original_id: int | None = None,
    ) -> tuple[Row, Row]:
        # the invoice and its first line
        invoice_id = self.keys.next("invoice")
        lines = [
            self._line(invoice_id, n, product, kg, unit_price)
            for n, kg in enumerate(quantities_kg, start=1)
        ]
        invoice = {
            "id": invoice_id,
            # 数电票: year, province (15 = Inner Mongolia), channel, 15-digit sequence
            "number": f"{_local_date(issued):%y}152{invoice_id + 5_000_000:015d}",
            "kind": kind,
            "original_invoice_id": original_id,
            "issued_at": _dt(issued),
            "seller_tax_id": seller.uscc,
            "seller_name": seller.name,
            "seller_id": seller.id,
            "buyer_tax_id": buyer.uscc,
            "buyer_name": buyer.name,
            "buyer_id": buyer.id,
            "total_amount": sum((line["amount"] for line in lines), Decimal(0)),
            "total_tax": sum((line["tax_amount"] for line in lines), Decimal(0)),
            "received_at": _dt(min(issued + self.rng.randrange(5, 300), self.end - 1)),
        }
        self.invoices.append(invoice)
        self.lines.extend(lines)
        return invoice, lines[0]

    def _line(
        self, invoice_id: int, line_no: int, product: _Product, kg: int, unit_price: Decimal
    ) -> Row:
        before_tax = (unit_price * 100 / (100 + VAT_RATE)).quantize(Decimal("0.000001"))
        unit, quantity = "吨", (Decimal(kg) / 1000).quantize(Decimal("0.001"))
        if self.rng.random() < _KG_LINE_SHARE:
            unit, quantity, before_tax = (
                "千克",
                Decimal(kg),
                (before_tax / 1000).quantize(Decimal("0.000001")),
            )
        amount = (quantity * before_tax).quantize(CENT, ROUND_HALF_UP)
        category = "炼焦产品" if product.category == ProductCategory.COKE else "煤炭"
        return {
            "id": self.keys.next("invoice_line"),
            "invoice_id": invoice_id,
            "line_no": line_no,
            "item_name": f"*{category}*{product.name}",
            "product_id": self.city.product_ids[product.code],
            "specification": product.rank,
            "unit": unit,
            "quantity": quantity,
            "unit_price": before_tax,
            "amount": amount,
            "tax_rate": VAT_RATE,
            "tax_amount": (amount * VAT_RATE / 100).quantize(CENT, ROUND_HALF_UP),
        }

    def _red_invoice(self, original: Row, first: Row, contract: _Contract) -> None:
        # reverses part of the first line, e.g. after a quality claim
        issued = int(original["issued_at"].timestamp()) + self.rng.randrange(DAY_S, 5 * DAY_S)
        share = self.rng.choice((Decimal(1), Decimal("0.2"), Decimal("0.1")))
        kg = int(first["quantity"] * share * (1000 if first["unit"] == "吨" else 1))
        if issued < self.end and kg > 0:
            self._invoice(
                contract.seller,
                contract.buyer,
                contract.product,
                [-kg],
                issued,
                contract.unit_price,
                kind=InvoiceKind.RED,
                original_id=original["id"],
            )

    def _prepay(self, contract: _Contract, deliveries: list[tuple[int, int]]) -> None:
        rng = self.rng
        tonnes = sum(net for _, net in deliveries) / 1000
        amount = Decimal(round(tonnes * float(contract.unit_price) * rng.uniform(0.9, 1.2), -3))
        paid = deliveries[0][0] - rng.randrange(DAY_S, 5 * DAY_S)
        amount = max(amount, Decimal(10_000))
        self._payment(contract.buyer.id, contract.seller.id, amount, paid, None, contract.id)

    def _pay(self, invoice: Row, contract: _Contract | None) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.12:
            return  # not paid yet
        total: Decimal = invoice["total_amount"] + invoice["total_tax"]
        parts = (
            [total]
            if roll >= 0.2
            else [(total / 2).quantize(CENT), total - (total / 2).quantize(CENT)]
        )
        payee_id = invoice["seller_id"]
        if rng.random() < _WRONG_PAYEE_SHARE:  # funds to a party other than the seller
            payee_id = rng.choice(self.city.of_kind(K.TRADER)).id
        paid = int(invoice["issued_at"].timestamp())
        for part in parts:
            paid += rng.randrange(3600, 15 * DAY_S)
            if paid < self.end:
                self._payment(
                    invoice["buyer_id"],
                    payee_id,
                    part,
                    paid,
                    invoice["id"],
                    contract.id if contract else None,
                )

    def _payment(
        self,
        payer_id: int,
        payee_id: int,
        amount: Decimal,
        paid: int,
        invoice_id: int | None,
        contract_id: int | None,
    ) -> None:
        payment_id = self.keys.next("payment")
        bank = self.rng.choice(_BANKS)
        self.payments.append(
            {
                "id": payment_id,
                "reference": f"{bank}{_local_date(paid):%Y%m%d}{payment_id:010d}",
                "payer_id": payer_id,
                "payee_id": payee_id,
                "amount": amount,
                "paid_at": _dt(paid),
                "invoice_id": invoice_id,
                "contract_id": contract_id,
            }
        )

    def _invoices_without_goods(self) -> None:
        # 有票无货: invoices between parties that never moved coal to each other.
        rng = self.rng
        traded = {(c.seller.id, c.buyer.id) for c in self.city.contracts}
        sellers = [
            c
            for c in self.city.companies
            if c.approved and c.kind in (K.MINE, K.WASHING_PLANT, K.COKING, K.TRADER)
        ]
        buyers = [
            c
            for c in self.city.companies
            if c.approved and c.kind in (K.COKING, K.POWER_PLANT, K.CHEMICAL, K.TRADER)
        ]
        for _ in range(max(2, len(self.invoices) // 50)):
            seller, buyer = rng.choice(sellers), rng.choice(buyers)
            if seller.id == buyer.id or (seller.id, buyer.id) in traded:
                continue
            product = rng.choice(PRODUCTS[:7])
            loads = [_to_division(rng.uniform(29_000, 34_000)) for _ in range(rng.randint(1, 3))]
            issued = rng.randrange(self.start + 3600, self.end - 3600)
            price = Decimal(rng.randint(*product.price))
            invoice, _ = self._invoice(seller, buyer, product, loads, issued, price)
            self.without_goods.append(invoice)
            if rng.random() < 0.5:  # the money goes round to make it look real
                self._pay(invoice, None)


# --- alerts -------------------------------------------------------------------------------


class _Alerts:
    # A few alerts of every kind, as the alert features will raise them.

    def __init__(
        self,
        rng: random.Random,
        keys: _Keys,
        city: _City,
        traffic: _Traffic,
        finance: _Finance,
        scale: Scale,
    ) -> None:
        self.rng, self.keys, self.city, self.traffic, self.finance = (
            rng,
            keys,
            city,
            traffic,
            finance,
        )
        self.end = scale.end_ts
        self.rows: list[Row] = []

    def build(self) -> list[Row]:
        self._overloads()
        self._offline_sites()
        self._flow_mismatches()
        self._price_outliers()
        self._unregistered()
        self._tamper_and_volume()
        return self.rows

    def _add(
        self,
        kind: AlertKind,
        severity: int,
        title: str,
        detail: str,
        routed_to: str,
        at: int,
        **links: Any,
    ) -> None:
        rng = self.rng
        raised = min(at + rng.randrange(30, 600), self.end - 1)
        status = rng.choices(list(AlertStatus), weights=(50, 20, 15, 15))[0]
        closed = raised + rng.randrange(3600, 3 * DAY_S)
        if status == AlertStatus.CLOSED and closed >= self.end:
            status = AlertStatus.HANDLING
        self.rows.append(
            {
                "id": self.keys.next("alert"),
                "kind": kind,
                "severity": severity,
                "status": status,
                "title": title,
                "detail": detail,
                "routed_to": routed_to,
                "district_id": links.get("district_id"),
                "enterprise_id": links.get("enterprise_id"),
                "site_id": links.get("site_id"),
                "vehicle_id": links.get("vehicle_id"),
                "weigh_record_id": links.get("weigh_record_id"),
                "evidence": links.get("evidence"),
                "raised_at": _dt(raised),
                "closed_at": _dt(closed) if status == AlertStatus.CLOSED else None,
            }
        )

    def _weighing_links(self, w: _Weighing) -> dict[str, Any]:
        return {
            "district_id": w.site.district_id,
            "enterprise_id": w.site.enterprise_id,
            "site_id": w.site.id,
            "vehicle_id": w.truck.id,
            "weigh_record_id": w.id,
        }

    def _overloads(self) -> None:
        overloads = self.traffic.record.overloads
        for w in self.rng.sample(overloads, min(len(overloads), max(3, len(overloads) // 10))):
            excess = (w.gross_kg - w.truck.limit_kg) / w.truck.limit_kg * 100
            self._add(
                AlertKind.OVERLOAD,
                3 if excess > 20 else 2,
                f"超限运输：{w.truck.plate} 总重 {w.gross_kg / 1000:.2f} 吨，"
                f"超过限值 {w.truck.limit_kg / 1000:.0f} 吨",
                f"{w.site.name}过磅超限 {excess:.1f}%，出场票据已拦截，待卸载复磅。",
                "transport",
                w.at,
                evidence={"gross_kg": w.gross_kg, "limit_kg": w.truck.limit_kg},
                **self._weighing_links(w),
            )

    def _offline_sites(self) -> None:
        for site, last_beat in self.city.offline_sites:
            hours = (self.end - last_beat) // 3600
            self._add(
                AlertKind.SITE_OFFLINE,
                2,
                f"站点离线：{site.name} 已 {hours} 小时无心跳",
                "地磅数据采集终端离线，期间过磅数据可能未上传，请核实。",
                "energy",
                last_beat + 2 * 3600,
                district_id=site.district_id,
                enterprise_id=site.enterprise_id,
                site_id=site.id,
                evidence={"last_heartbeat_at": _dt(last_beat).isoformat()},
            )

    def _flow_mismatches(self) -> None:
        for invoice in self.finance.without_goods[:3]:
            self._add(
                AlertKind.FLOW_MISMATCH,
                3,
                f"有票无货：{invoice['seller_name']} 开具发票 {invoice['number']} 无对应过磅记录",
                f"购买方 {invoice['buyer_name']}，金额 {invoice['total_amount']} 元，"
                "平台未见双方之间的运输与过磅记录。",
                "tax",
                int(invoice["issued_at"].timestamp()) + DAY_S,
                enterprise_id=invoice["seller_id"],
                evidence={"invoice_number": invoice["number"]},
            )

    def _price_outliers(self) -> None:
        for w in self.traffic.record.price_outliers[:3]:
            assert w.haul.contract is not None
            self._add(
                AlertKind.ABNORMAL_PRICE,
                2,
                f"价格异常：{w.haul.shipper.short} {w.haul.contract.product.name}"
                f" 单价 {w.unit_price} 元/吨",
                f"合同价 {w.haul.contract.unit_price} 元/吨，偏离超过 30%。",
                "market",
                w.at,
                evidence={
                    "unit_price": str(w.unit_price),
                    "contract_price": str(w.haul.contract.unit_price),
                },
                **self._weighing_links(w),
            )

    def _unregistered(self) -> None:
        for truck, checkpoint, at in self.traffic.sightings[:3]:
            self._add(
                AlertKind.UNREGISTERED_VEHICLE,
                1,
                f"未备案车辆：{truck.plate} 经过{checkpoint.name}",
                "该车辆未在平台备案，疑似未经登记参与煤炭运输。",
                "transport",
                at,
                district_id=checkpoint.district_id,
                vehicle_id=truck.id,
            )

    def _tamper_and_volume(self) -> None:
        if self.traffic.record.ordinary:
            w = self.rng.choice(self.traffic.record.ordinary)
            self._add(
                AlertKind.TAMPER_SUSPECTED,
                4,
                f"疑似计量作弊：{w.site.name} 稳定窗口内读数阶跃",
                f"车辆 {w.truck.plate} 称重稳定后读数跳变 {self.rng.randint(3, 9) * 100} 千克，"
                "疑似遥控器干扰。",
                "market",
                w.at,
                **self._weighing_links(w),
            )
        seller = self.rng.choice(self.city.of_kind(K.MINE))
        self._add(
            AlertKind.ABNORMAL_VOLUME,
            1,
            f"运量异常：{seller.short} 日销量较近 7 日均值上升 {self.rng.randint(40, 90)}%",
            "请核实是否存在代开、过票或产能超限。",
            "energy",
            self.end - 6 * 3600,
            district_id=seller.district_id,
            enterprise_id=seller.id,
        )
