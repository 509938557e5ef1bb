"""Who and what the rows name: people, phones, brands, USCCs, resident IDs and plates."""

from __future__ import annotations

import random
from datetime import date

from coalhub.synthetic.geography import DISTRICTS

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许沈曾彭吕苏卢蒋蔡贾丁"
    "魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤"
)
GIVEN_CHARS = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁凯龙海峰建国志文东亮林成俊生永红英敏丽霞荣德旺福春宝山虎"
)
MONGOLIAN_NAMES = (
    "巴特尔", "额尔敦", "苏和", "巴图", "宝音", "朝鲁", "那顺", "乌力吉", "孟和", "斯琴",
)  # fmt: skip
MOBILE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159", "166"),
    *("170", "173", "175", "176", "177", "178"),
    *(f"18{d}" for d in range(10)),
    *("191", "193", "195", "198", "199"),
)
# the distinctive part of enterprise names
BRANDS = (
    "骆驼山", "千里山", "公乌素", "老石旦", "黄白茨", "五虎山", "苏海图", "卡布其", "平沟",
    "沙巴台", "利民", "东源", "西来峰", "华资", "泰和", "广纳", "宏阳", "恒信", "金达", "天宇",
    "鑫泰", "兴旺", "新星", "荣达", "博大", "华辰", "蒙西", "神通", "宝德", "蒙泰", "万通",
    "中盛", "瑞丰", "德晟", "永顺", "汇能", "国昌", "昌盛", "安泰", "聚源", "鸿基", "亿通",
    "隆鑫", "金马", "凯源", "远航", "富源", "华星", "三联", "伊东", "长城", "宁鑫", "恒达",
    "赛汗", "巴音", "胜利", "同创", "兴泰", "双欣", "正元", "海丰", "天誉", "宏达", "鼎盛",
    "龙泰", "金鼎", "明泰", "佳禾",
)  # fmt: skip
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
    """A plate number under `prefix`: a large new-energy or an ordinary truck's."""
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
