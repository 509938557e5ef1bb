import struct
from decimal import Decimal

import pytest

from device_bridge.modbus_profiles import CAS_CI600D, FLINTEC_FT112, ID551PN, PROFILES
from device_bridge.protocols.base import WeightKind
from device_bridge.register_map import RegisterMap, UnusableRegistersError


def int32_words(value: int) -> list[int]:
    return list(struct.unpack(">HH", struct.pack(">i", value)))


def float32_words(value: float) -> list[int]:
    return list(struct.unpack(">HH", struct.pack(">f", value)))


@pytest.mark.parametrize("register_map", PROFILES.values(), ids=PROFILES.keys())
def test_every_profile_says_what_it_assumes(register_map: RegisterMap) -> None:
    assert "Assumed" in register_map.notes


def test_flintec_ft112_gross_status_and_heartbeat() -> None:
    # wire 4-5 gross, 6 status (bit 2 = unstable), 7-9 unused, 10 heartbeat
    moving = [*int32_words(32600), 0x0004, 0, 0, 0, 17]
    reading = FLINTEC_FT112.decode(moving)
    assert (reading.weight, reading.kind, reading.stable) == (
        Decimal(32600),
        WeightKind.GROSS,
        False,
    )
    assert FLINTEC_FT112.heartbeat(moving) == 17
    still = FLINTEC_FT112.decode([*int32_words(-20), 0, 0, 0, 0, 18])
    assert (still.weight, still.stable) == (Decimal(-20), True)


def test_cas_ci600d_has_no_stable_bit() -> None:
    assert (CAS_CI600D.block_start, CAS_CI600D.block_count) == (7, 2)
    reading = CAS_CI600D.decode(int32_words(49260))
    assert (reading.weight, reading.stable) == (Decimal(49260), None)


def test_id551pn_float_weight_motion_and_data_ok() -> None:
    def block(weight: float, status: int) -> list[int]:
        return [*float32_words(weight), 0, 0, status]

    reading = ID551PN.decode(block(32599.6, 0x8000))
    assert (reading.weight, reading.stable, reading.kind) == (Decimal(32600), True, None)
    assert ID551PN.decode(block(32600.0, 0x9000)).stable is False
    with pytest.raises(UnusableRegistersError):
        ID551PN.decode(block(32600.0, 0x1000))
