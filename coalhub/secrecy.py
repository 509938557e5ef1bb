"""Secrecy levels, ordered: a caller cleared at a level may read that level and below."""

from __future__ import annotations

import enum


class Secrecy(enum.StrEnum):
    PUBLIC = "public"  # 公开
    INTERNAL = "internal"  # 内部
    CONFIDENTIAL = "confidential"  # 秘密 (commercial and personal data)
    SECRET = "secret"  # 机密  # noqa: S105 - a secrecy level, not a password

    @property
    def rank(self) -> int:
        return _RANK[self]

    # str's lexical order would be wrong: compare by rank
    def __lt__(self, other: str) -> bool:
        return self.rank < Secrecy(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Secrecy(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Secrecy(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= Secrecy(other).rank


_RANK = {Secrecy.PUBLIC: 0, Secrecy.INTERNAL: 1, Secrecy.CONFIDENTIAL: 2, Secrecy.SECRET: 3}


class Mask(enum.StrEnum):
    """How personal data is shown to a caller whose duty allows identification only."""

    PHONE = "phone"  # 138****8000
    ID_NUMBER = "id_number"  # 110105********0123
    NAME = "name"  # 张*
