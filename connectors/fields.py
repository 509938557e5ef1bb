"""Readers for the loosely typed fields of outside records (JSON items, CSV cells, XML).

Each raises `FieldError` with a stable reason that becomes the dead letter's reason."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from coalhub.anpr import BEIJING, normalise_colour_text, normalise_plate
from coalhub.identifiers import ETC_COLOURS, JTT415_COLOURS, PlateColour

ColourCodes = Literal["jtt415", "etc"]
_CODES = {"jtt415": JTT415_COLOURS, "etc": ETC_COLOURS}


class FieldError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def required(item: dict[str, Any], key: str) -> Any:
    value = item.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldError("missing_field", key)
    return value


def text(item: dict[str, Any], key: str, *, max_length: int | None = None) -> str:
    value = str(required(item, key)).strip()
    if max_length is not None and len(value) > max_length:
        raise FieldError("bad_field", f"{key} longer than {max_length} characters")
    return value


def optional_text(item: dict[str, Any], key: str, *, max_length: int) -> str | None:
    value = item.get(key)
    if value is None or not str(value).strip():
        return None
    return text(item, key, max_length=max_length)


# a province character, a letter, then 5 (or 6 for new-energy) letters, digits or a
# character such as 挂 or 学; deliberately looser than identifiers.validate_plate, which
# needs the colour: a misread plate from a camera is still a lead worth keeping
_PLATE = re.compile(r"^[\u4e00-\u9fff][A-Z][A-Z0-9\u4e00-\u9fff]{5,6}$")


def plausible_plate(value: str) -> str | None:
    """The normalised plate, or None if it cannot be a Chinese plate."""
    result, read = normalise_plate(value)
    return result if read and _PLATE.match(result) else None


def plate(value: object) -> str:
    result = plausible_plate(str(value or ""))
    if result is None:
        raise FieldError("bad_plate", f"plate {value!r}")
    return result


def colour(value: object, codes: ColourCodes = "jtt415") -> PlateColour:
    """A plate colour given as a code of the source's table or as a word (蓝, yellow...)."""
    found: object = None
    if isinstance(value, int) and not isinstance(value, bool):
        found = _CODES[codes].get(value)
    elif isinstance(value, str) and value.strip().isdecimal():
        found = _CODES[codes].get(int(value))
    elif isinstance(value, str):
        found = normalise_colour_text(value)
    if found is None:
        raise FieldError("bad_colour", f"plate colour {value!r}")
    return PlateColour(str(found))


def moment(value: object, *, assume_zone: tzinfo = BEIJING, fmt: str | None = None) -> datetime:
    """`fmt`, else ISO 8601; a time without an offset is read in `assume_zone`."""
    if isinstance(value, datetime):
        parsed = value
    else:
        raw = str(value or "").strip()
        if not raw:
            raise FieldError("missing_field", "time")
        try:
            parsed = datetime.strptime(raw, fmt) if fmt else datetime.fromisoformat(raw)
        except ValueError as error:
            try:  # spreadsheet date cells arrive as ISO text whatever the text format is
                parsed = datetime.fromisoformat(raw)
            except ValueError:
                raise FieldError("bad_time", f"{raw!r}: {error}") from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=assume_zone)
    return parsed.astimezone(UTC)


def number(value: object, key: str) -> float:
    try:
        result = float(str(value).strip().replace(",", ""))
    except (TypeError, ValueError) as error:
        raise FieldError("bad_number", f"{key} = {value!r}") from error
    if result != result or result in (float("inf"), float("-inf")):
        raise FieldError("bad_number", f"{key} = {value!r}")
    return result


def optional_number(item: dict[str, Any], key: str) -> float | None:
    value = item.get(key)
    return None if value is None or value == "" else number(value, key)


def optional_int(item: dict[str, Any], key: str) -> int | None:
    value = optional_number(item, key)
    return None if value is None else round(value)


_DECIMAL_NOISE = re.compile(r"[,\s¥￥]")


def decimal(value: object, key: str) -> Decimal:
    try:
        result = Decimal(_DECIMAL_NOISE.sub("", str(value)))
    except InvalidOperation as error:
        raise FieldError("bad_number", f"{key} = {value!r}") from error
    if not result.is_finite():
        raise FieldError("bad_number", f"{key} = {value!r}")
    return result
