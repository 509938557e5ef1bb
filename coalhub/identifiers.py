"""Validation of the identifiers R1 registration depends on: USCC, resident ID, plates.

Each validator returns the canonical form or raises `InvalidIdentifier` with a stable reason
code that the API turns into `extensions.reason`.
"""

from __future__ import annotations

import enum
import re
from datetime import date

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength


class InvalidIdentifierError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class PlateColour(enum.StrEnum):
    """Canonical plate colours; each outside source maps onto these."""

    BLUE = "blue"
    YELLOW = "yellow"
    BLACK = "black"
    WHITE = "white"
    GREEN = "green"  # gradient green: small new-energy vehicle
    YELLOW_GREEN = "yellow_green"  # large new-energy vehicle (queue priority)
    OTHER = "other"


NEW_ENERGY_COLOURS = frozenset({PlateColour.GREEN, PlateColour.YELLOW_GREEN})

_STDNUM_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (InvalidChecksum, "bad_check_character"),
    (InvalidLength, "bad_length"),
    (InvalidFormat, "bad_format"),
    (InvalidComponent, "bad_component"),
)


def _stdnum_reason(error: Exception) -> str:
    for cls, reason in _STDNUM_REASONS:
        if isinstance(error, cls):
            return reason
    return "invalid"


def validate_uscc(value: str) -> str:
    """Unified social credit code (GB 32100-2015), 18 characters with a check character."""
    try:
        return str(uscc.validate(value.strip().upper()))
    except (InvalidChecksum, InvalidLength, InvalidFormat, InvalidComponent) as error:
        raise InvalidIdentifierError(
            _stdnum_reason(error), f"not a valid unified social credit code: {error}"
        ) from error


_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def validate_resident_id(value: str) -> str:
    """Resident identity card number: 18 characters, ISO 7064 MOD 11-2 check character.

    The region code is checked for shape only: codes are reissued over time (Wuhai's
    districts date from 1983, older residents keep their codes), so a table of "valid"
    codes at a birth date refuses real people."""
    number = value.strip().upper()
    if len(number) != 18:
        raise InvalidIdentifierError("bad_length", "a resident ID number has 18 characters")
    if not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        raise InvalidIdentifierError("bad_format", "17 digits then a digit or X")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as error:
        raise InvalidIdentifierError("bad_component", "the birth date is not a date") from error
    if not date(1900, 1, 1) <= born <= date.today():
        raise InvalidIdentifierError("bad_component", "the birth date is out of range")
    total = sum(int(d) * w for d, w in zip(number[:17], _RIC_WEIGHTS, strict=True))
    if "10X98765432"[total % 11] != number[17]:
        raise InvalidIdentifierError("bad_check_character", "the check character is wrong")
    return number


PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Z"  # I and O are never used on plates
_ORDINARY = re.compile(rf"^[{PROVINCES}][{_LETTER}][{_LETTER}0-9]{{4}}[{_LETTER}0-9挂学]$")
_NEV_SMALL = re.compile(rf"^[{PROVINCES}][{_LETTER}][DF][{_LETTER}0-9][0-9]{{4}}$")
_NEV_LARGE = re.compile(rf"^[{PROVINCES}][{_LETTER}][0-9]{{5}}[DF]$")


def normalise_plate(value: str) -> str:
    return re.sub(r"[\s·•\-]", "", value).upper()


def validate_plate(value: str, colour: PlateColour) -> str:
    """A plate number consistent with its colour: 7 characters, or 8 for new-energy plates."""
    plate = normalise_plate(value)
    if colour in NEW_ENERGY_COLOURS:
        if not (_NEV_SMALL.match(plate) or _NEV_LARGE.match(plate)):
            raise InvalidIdentifierError(
                "bad_format", "a new-energy plate has 8 characters with D or F in place"
            )
        return plate
    if _NEV_SMALL.match(plate) or _NEV_LARGE.match(plate):
        raise InvalidIdentifierError(
            "colour_mismatch", "an 8-character new-energy plate must be green or yellow-green"
        )
    if not _ORDINARY.match(plate):
        raise InvalidIdentifierError(
            "bad_format", "a plate is a province character, a letter and 5 letters or digits"
        )
    return plate


def validate_phone(value: str) -> str:
    digits = re.sub(r"[\s\-]", "", value)
    if not re.fullmatch(r"(\+?86)?1[3-9][0-9]{9}", digits):
        raise InvalidIdentifierError("bad_format", "not a mainland mobile phone number")
    return digits[-11:]


# Colour codes differ by source; one mapping per source onto the canonical enum.
JTT415_COLOURS: dict[int, PlateColour] = {
    1: PlateColour.BLUE,
    2: PlateColour.YELLOW,
    3: PlateColour.BLACK,
    4: PlateColour.WHITE,
    9: PlateColour.OTHER,
    93: PlateColour.YELLOW_GREEN,
    94: PlateColour.GREEN,
}
ETC_COLOURS: dict[int, PlateColour] = {
    0: PlateColour.BLUE,
    1: PlateColour.YELLOW,
    4: PlateColour.GREEN,
    5: PlateColour.YELLOW_GREEN,
}
