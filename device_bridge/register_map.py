"""A Modbus indicator's register map, as data.

No standard map exists: every vendor puts weight, status bits and heartbeat
somewhere else, so a site describes its device (usually in TOML) and
:meth:`RegisterMap.from_dict` checks the description. Decoding is plain ``struct``
work kept apart from pymodbus, whose API changes between minor versions.
"""

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Literal, TypeVar

from device_bridge.protocols.base import Reading, WeightKind, scaled

MAX_BLOCK_REGISTERS = 125  # the most one read request may ask for
MAX_DECIMALS = 6

_V = TypeVar("_V")
_D = TypeVar("_D")
_E = TypeVar("_E", bound=StrEnum)

FunctionCode = Literal[3, 4]
WordOrder = Literal["big", "little"]


class RegisterMapError(ValueError):
    """A register map description that cannot work."""


class UnusableRegistersError(ValueError):
    """Registers were read but do not make a reading (NaN, device says data invalid)."""


class DataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"


class Addressing(StrEnum):
    ZERO_BASED = "zero_based"  # the address sent on the wire
    ONE_BASED = "one_based"  # register 1 is wire address 0
    MODICON = "modicon"  # 40001 (function 3) or 30001 (function 4) is wire address 0


class BitState(StrEnum):
    SET = "set"
    CLEAR = "clear"


_STRUCT_FORMATS = {
    DataType.INT16: "h",
    DataType.UINT16: "H",
    DataType.INT32: "i",
    DataType.UINT32: "I",
    DataType.FLOAT32: "f",
}
# (first, last) register of the 5-digit and 6-digit Modicon ranges
_MODICON_RANGES: dict[FunctionCode, tuple[tuple[int, int], ...]] = {
    3: ((40001, 49999), (400001, 465536)),
    4: ((30001, 39999), (300001, 365536)),
}


@dataclass(frozen=True)
class RegisterFlag:
    """A condition read from status bits: true when the ``mask`` bits are ``active_when``.

    "set" means any masked bit is 1; "clear" means all masked bits are 0 (e.g. a
    stable condition signalled by an "unstable" bit being clear)."""

    address: int
    mask: int
    active_when: BitState = BitState.SET

    def __post_init__(self) -> None:
        if not 0 < self.mask <= 0xFFFF:
            raise RegisterMapError(f"mask {self.mask:#x} selects no bit of a register")

    def holds(self, register: int) -> bool:
        return bool(register & self.mask) == (self.active_when is BitState.SET)


@dataclass(frozen=True)
class WeightField:
    """Integers are scaled by ``decimals``; floats are rounded to ``decimals``."""

    address: int
    data_type: DataType = DataType.INT32
    word_order: WordOrder = "big"
    decimals: int = 0
    kind: WeightKind | None = WeightKind.GROSS

    def __post_init__(self) -> None:
        if not 0 <= self.decimals <= MAX_DECIMALS:
            raise RegisterMapError(f"weight decimals {self.decimals} outside 0..{MAX_DECIMALS}")

    @property
    def register_count(self) -> int:
        return struct.calcsize(">" + _STRUCT_FORMATS[self.data_type]) // 2


@dataclass(frozen=True)
class RegisterMap:
    """Where one indicator model keeps its weight and status; ``notes`` records
    which parts are assumptions. All addresses use the map's ``addressing``."""

    name: str
    weight: WeightField
    function_code: FunctionCode = 3
    addressing: Addressing = Addressing.ZERO_BASED
    device_id: int = 1
    unit: str = "kg"
    stable: RegisterFlag | None = None
    overload: RegisterFlag | None = None
    data_valid: RegisterFlag | None = None
    heartbeat_address: int | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        if self.function_code not in (3, 4):
            raise RegisterMapError(f"{self.name}: function code must be 3 or 4")
        if not 0 <= self.device_id <= 247:
            raise RegisterMapError(f"{self.name}: device id {self.device_id} outside 0..247")
        if self.block_count > MAX_BLOCK_REGISTERS:
            raise RegisterMapError(
                f"{self.name}: registers span {self.block_count}, more than one read "
                f"({MAX_BLOCK_REGISTERS}); put weight and status closer together"
            )

    def wire_address(self, address: int) -> int:
        """``address`` as sent in the request (zero-based)."""
        if self.addressing is Addressing.MODICON:
            wire = _from_modicon(address, self.function_code)
        else:
            wire = address - (1 if self.addressing is Addressing.ONE_BASED else 0)
        if not 0 <= wire <= 0xFFFF:
            raise RegisterMapError(f"{self.name}: address {address} is not a register")
        return wire

    @property
    def block_start(self) -> int:
        """Everything is read in one request, so weight and status come from one instant."""
        return min(self._wire_spans())[0]

    @property
    def block_count(self) -> int:
        spans = self._wire_spans()
        return max(start + count for start, count in spans) - min(spans)[0]

    def decode(self, registers: Sequence[int]) -> Reading:
        """The reading in a block read from :attr:`block_start`."""
        if len(registers) != self.block_count:
            raise UnusableRegistersError(
                f"got {len(registers)} registers, expected {self.block_count}"
            )
        if self.data_valid is not None and not self._flag(registers, self.data_valid):
            raise UnusableRegistersError("the device flags its data as not valid")
        return Reading(
            weight=self._weight(registers),
            unit=self.unit,
            kind=self.weight.kind,
            stable=None if self.stable is None else self._flag(registers, self.stable),
            overload=self.overload is not None and self._flag(registers, self.overload),
            raw=b"".join(register.to_bytes(2, "big") for register in registers),
        )

    def encode(
        self, weight: Decimal, *, stable: bool = True, overload: bool = False, heartbeat: int = 0
    ) -> dict[int, int]:
        """What a device with this map holds for ``weight``, by wire address: the
        inverse of :meth:`decode`, for simulators and tests."""
        field = self.weight
        start = self.wire_address(field.address)
        if field.data_type is DataType.FLOAT32:
            number: int | float = float(weight)
        else:
            number = int(weight.scaleb(field.decimals).to_integral_value())
        words = list(struct.unpack(">" + "H" * field.register_count, _pack(number, field)))
        if field.word_order == "little":
            words.reverse()
        registers = {start + offset: word for offset, word in enumerate(words)}
        for flag, holds in (
            (self.stable, stable),
            (self.overload, overload),
            (self.data_valid, True),
        ):
            if flag is not None:
                address = self.wire_address(flag.address)
                bits = registers.get(address, 0) & ~flag.mask
                raised = holds == (flag.active_when is BitState.SET)
                registers[address] = bits | (flag.mask if raised else 0)
        if self.heartbeat_address is not None:
            registers[self.wire_address(self.heartbeat_address)] = heartbeat & 0xFFFF
        return registers

    def heartbeat(self, registers: Sequence[int]) -> int | None:
        if self.heartbeat_address is None:
            return None
        return registers[self._offset(self.heartbeat_address)]

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> "RegisterMap":
        """Build a map from plain data (e.g. a TOML table); unknown keys are errors.

        Keys are the field names; ``weight`` and each flag are sub-tables, e.g.
        ``stable = { address = 40007, mask = 0x0004, active_when = "clear" }``."""
        table = _Table(data, "register map")
        register_map = cls(
            name=table.require("name", str),
            weight=_weight_field(table.require_table("weight")),
            function_code=_function_code(table),
            addressing=table.choice("addressing", Addressing, _DEFAULT_MAP.addressing),
            device_id=table.get("device_id", int, _DEFAULT_MAP.device_id),
            unit=table.get("unit", str, _DEFAULT_MAP.unit),
            stable=_flag(table, "stable"),
            overload=_flag(table, "overload"),
            data_valid=_flag(table, "data_valid"),
            heartbeat_address=table.get("heartbeat_address", int, None),
            notes=table.get("notes", str, ""),
        )
        table.reject_unknown_keys()
        return register_map

    def _wire_spans(self) -> list[tuple[int, int]]:
        spans = [(self.wire_address(self.weight.address), self.weight.register_count)]
        flags = (self.stable, self.overload, self.data_valid)
        spans += [(self.wire_address(flag.address), 1) for flag in flags if flag is not None]
        if self.heartbeat_address is not None:
            spans.append((self.wire_address(self.heartbeat_address), 1))
        return spans

    def _offset(self, address: int) -> int:
        return self.wire_address(address) - self.block_start

    def _flag(self, registers: Sequence[int], flag: RegisterFlag) -> bool:
        return flag.holds(registers[self._offset(flag.address)])

    def _weight(self, registers: Sequence[int]) -> Decimal:
        field = self.weight
        start = self._offset(field.address)
        value = decode_value(
            registers[start : start + field.register_count], field.data_type, field.word_order
        )
        if isinstance(value, int):
            return scaled(value, field.decimals)
        return _rounded(value, field.decimals)


def _pack(number: int | float, field: WeightField) -> bytes:
    try:
        return struct.pack(">" + _STRUCT_FORMATS[field.data_type], number)
    except struct.error:
        raise ValueError(f"{number} does not fit a {field.data_type.value}") from None


def decode_value(
    registers: Sequence[int], data_type: DataType, word_order: WordOrder
) -> int | float:
    """Registers to a number; each register is big-endian, ``word_order`` orders them."""
    words = list(registers) if word_order == "big" else list(reversed(registers))
    packed = b"".join(word.to_bytes(2, "big") for word in words)
    value: int | float = struct.unpack(">" + _STRUCT_FORMATS[data_type], packed)[0]
    return value


def _rounded(value: float, decimals: int) -> Decimal:
    if not math.isfinite(value):
        raise UnusableRegistersError(f"weight register holds {value}")
    try:
        return Decimal(value).quantize(Decimal(1).scaleb(-decimals))
    except InvalidOperation:
        raise UnusableRegistersError(f"weight {value} is beyond any scale") from None


def _from_modicon(address: int, function_code: FunctionCode) -> int:
    for first, last in _MODICON_RANGES[function_code]:
        if first <= address <= last:
            return address - first
    raise RegisterMapError(
        f"{address} is not a Modicon-style address for function {function_code} "
        f"({_MODICON_RANGES[function_code][0][0]}...)"
    )


class _Table:
    """Typed reads from one table of plain data, remembering which keys were read."""

    def __init__(self, data: Mapping[str, object], where: str) -> None:
        self._data = data
        self._where = where
        self._read: set[str] = set()

    def get(self, key: str, kind: type[_V], default: _D) -> _V | _D:
        self._read.add(key)
        if key not in self._data:
            return default
        value = self._data[key]
        # bool is an int subclass: "device_id = true" must not pass as 1
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise RegisterMapError(f"{self._where}.{key} must be {kind.__name__}, not {value!r}")
        return value

    def require(self, key: str, kind: type[_V]) -> _V:
        value = self.get(key, kind, None)
        if value is None:
            raise RegisterMapError(f"{self._where}.{key} is required")
        return value

    def table(self, key: str) -> "_Table | None":
        self._read.add(key)
        if key not in self._data:
            return None
        value = self._data[key]
        if not isinstance(value, Mapping):
            raise RegisterMapError(f"{self._where}.{key} must be a table, not {value!r}")
        return _Table(value, f"{self._where}.{key}")

    def require_table(self, key: str) -> "_Table":
        table = self.table(key)
        if table is None:
            raise RegisterMapError(f"{self._where}.{key} is required")
        return table

    def choice(self, key: str, kind: type[_E], default: _E) -> _E:
        value = self.get(key, str, None)
        if value is None:
            return default
        try:
            return kind(value)
        except ValueError:
            choices = ", ".join(member.value for member in kind)
            raise RegisterMapError(f"{self._where}.{key} must be one of {choices}") from None

    def reject_unknown_keys(self) -> None:
        if unknown := sorted(set(self._data) - self._read):
            raise RegisterMapError(f"{self._where}: unknown keys {unknown}")


_DEFAULT_WEIGHT = WeightField(address=0)
_DEFAULT_MAP = RegisterMap(name="defaults", weight=_DEFAULT_WEIGHT)


def _weight_field(table: _Table) -> WeightField:
    # "displayed": the register holds whatever the display shows, gross or net
    kind = table.get("kind", str, "gross")
    field = WeightField(
        address=table.require("address", int),
        data_type=table.choice("data_type", DataType, _DEFAULT_WEIGHT.data_type),
        word_order=_word_order(table),
        decimals=table.get("decimals", int, _DEFAULT_WEIGHT.decimals),
        kind=None if kind == "displayed" else _weight_kind(kind),
    )
    table.reject_unknown_keys()
    return field


def _weight_kind(value: str) -> WeightKind:
    try:
        return WeightKind(value)
    except ValueError:
        raise RegisterMapError(
            f"weight.kind {value!r} is not gross, net, tare, displayed"
        ) from None


def _word_order(table: _Table) -> WordOrder:
    value = table.get("word_order", str, _DEFAULT_WEIGHT.word_order)
    if value == "big":
        return "big"
    if value == "little":
        return "little"
    raise RegisterMapError(f"weight.word_order must be big or little, not {value!r}")


def _function_code(table: _Table) -> FunctionCode:
    value = table.get("function_code", int, _DEFAULT_MAP.function_code)
    if value == 3:
        return 3
    if value == 4:
        return 4
    raise RegisterMapError(f"function_code must be 3 or 4, not {value}")


def _flag(parent: _Table, key: str) -> RegisterFlag | None:
    table = parent.table(key)
    if table is None:
        return None
    flag = RegisterFlag(
        address=table.require("address", int),
        mask=table.require("mask", int),
        active_when=table.choice("active_when", BitState, BitState.SET),
    )
    table.reject_unknown_keys()
    return flag
