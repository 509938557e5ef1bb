import struct
import tomllib
from decimal import Decimal
from typing import Literal

import pytest
from pymodbus.client import ModbusBaseClient

from device_bridge.modbus_profiles import FLINTEC_FT112, PROFILES
from device_bridge.protocols.base import WeightKind
from device_bridge.register_map import (
    Addressing,
    BitState,
    DataType,
    RegisterFlag,
    RegisterMap,
    RegisterMapError,
    UnusableRegistersError,
    WeightField,
    decode_value,
)

PYMODBUS_TYPES = {
    DataType.INT16: ModbusBaseClient.DATATYPE.INT16,
    DataType.UINT16: ModbusBaseClient.DATATYPE.UINT16,
    DataType.INT32: ModbusBaseClient.DATATYPE.INT32,
    DataType.UINT32: ModbusBaseClient.DATATYPE.UINT32,
    DataType.FLOAT32: ModbusBaseClient.DATATYPE.FLOAT32,
}


@pytest.mark.parametrize("word_order", ["big", "little"])
@pytest.mark.parametrize(
    "registers", [[0x0001, 0x2345], [0xFF7F, 0xFF38], [0x4640, 0xE400], [0x8000, 0x0001]]
)
@pytest.mark.parametrize("data_type", [DataType.INT32, DataType.UINT32, DataType.FLOAT32])
def test_decoding_agrees_with_pymodbus(
    data_type: DataType, registers: list[int], word_order: Literal["big", "little"]
) -> None:
    expected = ModbusBaseClient.convert_from_registers(
        registers, PYMODBUS_TYPES[data_type], word_order=word_order
    )
    assert decode_value(registers, data_type, word_order) == expected


@pytest.mark.parametrize("data_type", [DataType.INT16, DataType.UINT16])
def test_single_register_types_agree_with_pymodbus(data_type: DataType) -> None:
    expected = ModbusBaseClient.convert_from_registers([0xFF38], PYMODBUS_TYPES[data_type])
    assert decode_value([0xFF38], data_type, "big") == expected


def weight_map(**changes: object) -> RegisterMap:
    data: dict[str, object] = {"name": "test", "weight": {"address": 0}}
    data.update(changes)
    return RegisterMap.from_dict(data)


@pytest.mark.parametrize(
    ("addressing", "function_code", "address", "wire"),
    [
        ("zero_based", 3, 0, 0),
        ("one_based", 3, 1, 0),
        ("modicon", 3, 40001, 0),
        ("modicon", 3, 40011, 10),
        ("modicon", 3, 400001, 0),
        ("modicon", 4, 30005, 4),
    ],
)
def test_addressing_styles(addressing: str, function_code: int, address: int, wire: int) -> None:
    register_map = weight_map(
        addressing=addressing, function_code=function_code, weight={"address": address}
    )
    assert register_map.block_start == wire


@pytest.mark.parametrize(
    ("addressing", "function_code", "address"),
    [("modicon", 3, 30001), ("modicon", 4, 40001), ("one_based", 3, 0), ("zero_based", 3, 70000)],
)
def test_addresses_outside_the_style_are_refused(
    addressing: str, function_code: int, address: int
) -> None:
    with pytest.raises(RegisterMapError):
        weight_map(addressing=addressing, function_code=function_code, weight={"address": address})


def test_one_read_covers_weight_status_and_heartbeat() -> None:
    # FT-112: gross 40005-40006, status 40007, heartbeat 40011
    assert (FLINTEC_FT112.block_start, FLINTEC_FT112.block_count) == (4, 7)


def test_registers_too_far_apart_for_one_read_are_refused() -> None:
    with pytest.raises(RegisterMapError, match="span"):
        weight_map(heartbeat_address=200)


def test_scaled_integer_weight() -> None:
    register_map = weight_map(weight={"address": 0, "data_type": "int32", "decimals": 2})
    assert register_map.decode([0xFFFF, 0xFF38]).weight == Decimal("-2.00")


def test_float_weight_is_rounded_to_the_scale_decimals() -> None:
    register_map = weight_map(weight={"address": 0, "data_type": "float32", "decimals": 3})
    high, low = struct.unpack(">HH", struct.pack(">f", 4.139))
    assert register_map.decode([high, low]).weight == Decimal("4.139")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 3e38])
def test_floats_that_are_no_weight_are_unusable(value: float) -> None:
    register_map = weight_map(weight={"address": 0, "data_type": "float32"})
    with pytest.raises(UnusableRegistersError):
        register_map.decode(list(struct.unpack(">HH", struct.pack(">f", value))))


def test_stable_bit_polarity() -> None:
    unstable_bit = RegisterFlag(address=2, mask=0x0004, active_when=BitState.CLEAR)
    stable_bit = RegisterFlag(address=2, mask=0x0004, active_when=BitState.SET)
    weight = WeightField(address=0)
    for flag, status, stable in [
        (unstable_bit, 0x0004, False),
        (unstable_bit, 0xFFFB, True),
        (stable_bit, 0x0004, True),
        (stable_bit, 0x0000, False),
    ]:
        register_map = RegisterMap(name="test", weight=weight, stable=flag)
        assert register_map.decode([0, 100, status]).stable is stable


def test_without_a_stable_bit_stability_is_unknown() -> None:
    assert weight_map().decode([0, 100]).stable is None


def test_data_valid_and_overload_flags() -> None:
    register_map = weight_map(
        data_valid={"address": 2, "mask": 0x8000},
        overload={"address": 2, "mask": 0x0001},
    )
    assert register_map.decode([0, 100, 0x8000]).overload is False
    assert register_map.decode([0, 100, 0x8001]).overload is True
    with pytest.raises(UnusableRegistersError, match="not valid"):
        register_map.decode([0, 100, 0x0000])


def test_a_short_block_is_unusable() -> None:
    with pytest.raises(UnusableRegistersError):
        FLINTEC_FT112.decode([0, 0])


FT112_TOML = """
name = "Flintec FT-112"
addressing = "modicon"
function_code = 3
heartbeat_address = 40011
notes = "site copy"

[weight]
address = 40005
data_type = "int32"
word_order = "big"
kind = "gross"

[stable]
address = 40007
mask = 0x0004
active_when = "clear"
"""


def test_a_toml_description_builds_the_same_map_as_the_profile() -> None:
    loaded = RegisterMap.from_dict(tomllib.loads(FT112_TOML))
    assert loaded == RegisterMap(**{**FLINTEC_FT112.__dict__, "notes": "site copy"})


def test_from_dict_defaults() -> None:
    register_map = weight_map()
    assert register_map.function_code == 3
    assert register_map.addressing is Addressing.ZERO_BASED
    assert register_map.weight == WeightField(address=0, kind=WeightKind.GROSS)
    assert register_map.stable is None
    assert weight_map(weight={"address": 0, "kind": "displayed"}).weight.kind is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"wieght": {"address": 1}}, "unknown keys"),
        ({"weight": {"address": 0, "signed": True}}, "unknown keys"),
        ({"weight": {"address": "40001"}}, "must be int"),
        ({"device_id": True}, "must be int"),
        ({"weight": {"address": 0, "data_type": "int64"}}, "one of"),
        ({"weight": {"address": 0, "word_order": "middle"}}, "big or little"),
        ({"weight": {"address": 0, "kind": "heavy"}}, "gross, net"),
        ({"weight": {"address": 0, "decimals": 9}}, "decimals"),
        ({"function_code": 6}, "3 or 4"),
        ({"stable": {"address": 1}}, "mask is required"),
        ({"stable": {"address": 1, "mask": 0x10000}}, "no bit"),
        ({"stable": 7}, "must be a table"),
        ({"weight": None}, "must be"),
    ],
)
def test_from_dict_explains_what_is_wrong(changes: dict[str, object], message: str) -> None:
    data: dict[str, object] = {"name": "test", "weight": {"address": 0}}
    data.update(changes)
    with pytest.raises(RegisterMapError, match=message):
        RegisterMap.from_dict(data)


def test_from_dict_requires_name_and_weight() -> None:
    with pytest.raises(RegisterMapError, match="weight is required"):
        RegisterMap.from_dict({"name": "test"})
    with pytest.raises(RegisterMapError, match="name is required"):
        RegisterMap.from_dict({"weight": {"address": 0}})


@pytest.mark.parametrize("name", sorted(PROFILES))
@pytest.mark.parametrize(("weight", "stable"), [(Decimal(32600), True), (Decimal(-120), False)])
def test_encode_is_the_inverse_of_decode(name: str, weight: Decimal, stable: bool) -> None:
    register_map = PROFILES[name]
    encoded = register_map.encode(weight, stable=stable, heartbeat=7)
    block = [encoded.get(register_map.block_start + i, 0) for i in range(register_map.block_count)]
    reading = register_map.decode(block)
    assert reading.weight == weight
    assert reading.stable == (None if register_map.stable is None else stable)
    assert register_map.heartbeat(block) == (None if register_map.heartbeat_address is None else 7)
