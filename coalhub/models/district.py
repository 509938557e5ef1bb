"""Administrative divisions: the city and its three districts (a district is a policy domain)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from coalhub.models.base import Base, IdMixin


class District(IdMixin, Base):
    __tablename__ = "district"

    code: Mapped[str] = mapped_column(String(6), unique=True)  # GB/T 2260 division code
    name: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(64))
