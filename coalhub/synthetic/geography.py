"""Wuhai on the map: districts, checkpoints, and distances and roads between points."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple


class Point(NamedTuple):
    lat: float
    lon: float


LAT_RANGE = (39.41, 39.89)
LON_RANGE = (106.705, 106.995)
CITY_CENTRE = Point(39.67, 106.82)
ROAD_FACTOR = 1.3  # road distance over straight-line distance


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    name: str
    name_en: str
    centre: Point
    spread: Point  # degrees either side where its enterprises lie
    parks: tuple[str, ...]


DISTRICTS = (
    DistrictSpec(
        "150302", "海勃湾区", "Haibowan", Point(39.70, 106.84), Point(0.10, 0.06),
        ("千里山工业园区", "海勃湾工业园区"),
    ),
    DistrictSpec(
        "150303", "海南区", "Hainan", Point(39.47, 106.90), Point(0.05, 0.06),
        ("海南工业园区", "西来峰工业园区"),
    ),
    DistrictSpec(
        "150304", "乌达区", "Wuda", Point(39.52, 106.73), Point(0.05, 0.02),
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


def clamp(point: Point) -> Point:
    return Point(
        round(min(max(point.lat, LAT_RANGE[0]), LAT_RANGE[1]), 6),
        round(min(max(point.lon, LON_RANGE[0]), LON_RANGE[1]), 6),
    )


def km(a: Point, b: Point) -> float:
    dx = (b.lon - a.lon) * 111.32 * math.cos(math.radians(a.lat))
    dy = (b.lat - a.lat) * 110.57
    return math.hypot(dx, dy)


def bearing(a: Point, b: Point) -> int:
    dx = (b.lon - a.lon) * math.cos(math.radians(a.lat))
    return round(math.degrees(math.atan2(dx, b.lat - a.lat))) % 360


def offset(point: Point, distance_km: float, bearing_deg: float) -> Point:
    rad = math.radians(bearing_deg)
    dlat = distance_km * math.cos(rad) / 110.57
    dlon = distance_km * math.sin(rad) / (111.32 * math.cos(math.radians(point.lat)))
    return clamp(Point(point.lat + dlat, point.lon + dlon))


def along(a: Point, b: Point, frac: float, bend: float) -> Point:
    # A point on a gently curved road from a to b: `bend` shifts the middle sideways.
    side = bend * math.sin(math.pi * frac)
    return Point(
        a.lat + (b.lat - a.lat) * frac - (b.lon - a.lon) * side,
        a.lon + (b.lon - a.lon) * frac + (b.lat - a.lat) * side,
    )


def midpoint(a: Point, b: Point) -> Point:
    return Point((a.lat + b.lat) / 2, (a.lon + b.lon) / 2)
