"""What each kind of enterprise is like: how common, where, what it is called, its capacity."""

from __future__ import annotations

from coalhub.models import EnterpriseKind

K = EnterpriseKind
# share of enterprises by kind; every kind gets at least one
KIND_MIX: tuple[tuple[EnterpriseKind, float], ...] = (
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
PRODUCERS = (K.MINE, K.GOAF_REMEDIATION, K.WASHING_PLANT)
# mines and washing plants follow washing capacity (Haibowan 30, Hainan 40, Wuda 10 Mt/yr)
PRODUCER_DISTRICT_WEIGHTS = (3, 4, 1)
OTHER_DISTRICT_WEIGHTS = (2, 2, 1)
NAME_TEMPLATES: dict[EnterpriseKind, tuple[str, ...]] = {
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
SHORT_SUFFIX: dict[EnterpriseKind, str] = {
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
CAPACITY_T: dict[EnterpriseKind, tuple[int, int]] = {
    K.MINE: (300_000, 3_000_000),
    K.GOAF_REMEDIATION: (200_000, 1_200_000),
    K.WASHING_PLANT: (600_000, 5_000_000),
    K.POWER_PLANT: (1_000_000, 4_000_000),
    K.COKING: (500_000, 2_000_000),
    K.CHEMICAL: (200_000, 1_500_000),
    K.BUILDING_MATERIALS: (100_000, 500_000),
    K.METALLURGY: (100_000, 600_000),
}
