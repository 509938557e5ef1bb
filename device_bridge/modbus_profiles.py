"""Built-in register maps for indicators named in the domain notes.

Each is only as good as its source: the notes give register numbers and little
else, so word order, scaling and bit numbering below are ASSUMPTIONS (listed in
each ``notes``) to confirm against the device's manual or a live read before use.
"Bit n" is read as counting from 0 (mask ``1 << n``).
"""

from device_bridge.protocols.base import WeightKind
from device_bridge.register_map import (
    Addressing,
    BitState,
    DataType,
    RegisterFlag,
    RegisterMap,
    WeightField,
)

FLINTEC_FT112 = RegisterMap(
    name="Flintec FT-112",
    addressing=Addressing.MODICON,
    function_code=3,
    weight=WeightField(address=40005, data_type=DataType.INT32, kind=WeightKind.GROSS),
    stable=RegisterFlag(address=40007, mask=1 << 2, active_when=BitState.CLEAR),
    heartbeat_address=40011,
    notes=(
        "Source: 40001 2-word net, 40005 gross, 40007 status bit 2 unstable, 40011 "
        "heartbeat. Assumed: gross is read (weighbridges record gross), signed int32, "
        "high word first, no decimals (kg), bit 2 = mask 0x0004."
    ),
)

CAS_CI600D = RegisterMap(
    name="CAS CI-600D",
    addressing=Addressing.MODICON,
    function_code=3,
    weight=WeightField(address=40008, data_type=DataType.INT32, kind=WeightKind.GROSS),
    notes=(
        "Source: 40008/9 gross. No stable bit or heartbeat is known: stability must "
        "be inferred (device_bridge.stability). Assumed: signed int32, high word "
        "(40008) first, no decimals (kg)."
    ),
)

ID551PN = RegisterMap(
    name="ID551PN",
    addressing=Addressing.MODICON,
    function_code=3,
    weight=WeightField(address=40001, data_type=DataType.FLOAT32, kind=None),
    stable=RegisterFlag(address=40005, mask=1 << 12, active_when=BitState.CLEAR),
    data_valid=RegisterFlag(address=40005, mask=1 << 15, active_when=BitState.SET),
    notes=(
        "Source: 40001/2 float weight, 40005 status bit 12 motion, bit 15 data OK. "
        "Assumed: IEEE float32 high word first, kg rounded to whole kg, gross or net "
        "not stated (kind None)."
    ),
)

PROFILES: dict[str, RegisterMap] = {
    "flintec_ft112": FLINTEC_FT112,
    "cas_ci600d": CAS_CI600D,
    "id551pn": ID551PN,
}
