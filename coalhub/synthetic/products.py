"""The coal product dictionary: prices, how full a truck is loaded, and laboratory quality."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from coalhub.models import ProductCategory

CENT = Decimal("0.01")  # prices and amounts are in yuan, to the fen


@dataclass(frozen=True)
class Quality:
    moisture: tuple[float, float]  # Mt %
    ash: tuple[float, float]  # Ad %
    volatile: tuple[float, float]  # Vdaf %
    sulphur: tuple[float, float]  # St,d %
    calorific: tuple[float, float]  # Qnet,ar MJ/kg
    caking: tuple[int, int] | None  # G


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    name_en: str
    category: ProductCategory
    rank: str | None
    price: tuple[int, int]  # yuan per tonne, tax included
    load: tuple[float, float]  # share of the rated payload a truck carries (coke is bulky)
    quality: Quality


_RAW_Q = Quality((5, 8), (22, 32), (20, 30), (0.8, 1.8), (20, 25), (60, 85))
_CLEAN_Q = Quality((9, 11), (9, 11), (20, 28), (0.6, 1.1), (27, 29.5), (75, 92))
_SIZED_Q = Quality((6, 10), (8, 22), (30, 38), (0.5, 1.2), (20, 26), (10, 40))
PRODUCTS = (
    Product("RAW-JM", "原煤（焦煤）", "raw coking coal", ProductCategory.RAW, "JM",
            (950, 1250), (0.88, 0.99), _RAW_Q),
    Product("RAW-13JM", "原煤（1/3焦煤）", "raw 1/3 coking coal", ProductCategory.RAW, "1/3JM",
            (850, 1100), (0.88, 0.99), _RAW_Q),
    Product("RAW-FM", "原煤（肥煤）", "raw fat coal", ProductCategory.RAW, "FM",
            (900, 1200), (0.88, 0.99), _RAW_Q),
    Product("RAW-QM", "原煤（气煤）", "raw gas coal", ProductCategory.RAW, "QM",
            (600, 800), (0.88, 0.99), _RAW_Q),
    Product("CLEAN-JM", "洗精煤（焦精煤）", "washed coking coal", ProductCategory.WASHED, "JM",
            (1500, 1850), (0.88, 0.99), _CLEAN_Q),
    Product("CLEAN-13JM", "1/3焦精煤", "washed 1/3 coking coal", ProductCategory.WASHED,
            "1/3JM", (1300, 1550), (0.88, 0.99), _CLEAN_Q),
    Product("CLEAN-FM", "肥精煤", "washed fat coal", ProductCategory.WASHED, "FM",
            (1450, 1750), (0.88, 0.99), _CLEAN_Q),
    Product("MID", "中煤", "middlings", ProductCategory.MIDDLINGS, None, (300, 450),
            (0.9, 0.99), Quality((8, 12), (30, 45), (25, 32), (1.0, 2.0), (14, 19), None)),
    Product("SLIME", "煤泥", "coal slime", ProductCategory.SLIME, None, (120, 260),
            (0.9, 0.99), Quality((20, 28), (25, 40), (25, 32), (0.8, 1.5), (11, 16), None)),
    Product("GANGUE", "矸石", "gangue", ProductCategory.GANGUE, None, (20, 60),
            (0.9, 0.99), Quality((3, 6), (65, 82), (10, 20), (0.5, 2.5), (2, 6), None)),
    Product("LUMP-QM", "块煤", "lump coal", ProductCategory.SIZED, "QM", (850, 1050),
            (0.8, 0.95), _SIZED_Q),
    Product("FINE-QM", "末煤", "fine coal", ProductCategory.SIZED, "QM", (500, 700),
            (0.88, 0.99), _SIZED_Q),
    Product("MIXED-QM", "混煤", "mixed coal", ProductCategory.SIZED, "QM", (600, 780),
            (0.88, 0.99), _SIZED_Q),
    Product("COKE", "焦炭（冶金焦）", "metallurgical coke", ProductCategory.COKE, None,
            (1650, 2050), (0.62, 0.78),
            Quality((4, 8), (12, 13.5), (1.0, 1.6), (0.6, 0.85), (28, 29.5), None)),
)  # fmt: skip
PRODUCTS_BY_CODE = {product.code: product for product in PRODUCTS}
