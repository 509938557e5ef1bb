"""The coal product dictionary (products by processing, ranks per GB/T 5751)."""

from __future__ import annotations

import enum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.models.base import Base, IdMixin, StrEnumColumn


class ProductCategory(enum.StrEnum):
    RAW = "raw"  # 原煤
    WASHED = "washed"  # 洗精煤/精煤
    MIDDLINGS = "middlings"  # 中煤
    SLIME = "slime"  # 煤泥
    GANGUE = "gangue"  # 矸石
    SIZED = "sized"  # 块/粒/末/混煤
    COKE = "coke"  # 焦炭


class CoalProduct(IdMixin, Base):
    __tablename__ = "coal_product"

    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(32))  # zh-CN, as officials know it
    name_en: Mapped[str] = mapped_column(String(64))
    category: Mapped[ProductCategory] = mapped_column(StrEnumColumn(ProductCategory))
    rank: Mapped[str | None] = mapped_column(String(8))  # GB/T 5751 code, e.g. JM, QM
