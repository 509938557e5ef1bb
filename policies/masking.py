"""Personal data masked as Chinese agencies practise it (PIPL: identify, never expose)."""

from __future__ import annotations

from coalhub.secrecy import Mask


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 7 else "*" * len(value)


def mask_id_number(value: str) -> str:
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_name(value: str) -> str:
    # the surname stays (single-character surnames are by far the most common)
    return value[:1] + "*" * max(len(value) - 1, 1) if value else value


MASKS = {Mask.PHONE: mask_phone, Mask.ID_NUMBER: mask_id_number, Mask.NAME: mask_name}


def apply_mask(mask: Mask, value: object) -> object:
    return MASKS[mask](value) if isinstance(value, str) else value
