"""The devices of a site configuration: indicators and the weighing rules of their decks."""

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from coalhub.identifiers import InvalidIdentifierError, validate_uscc
from device_bridge.config_reader import Section, one_of, retry_policy
from device_bridge.modbus import ModbusLink, PollSettings, RtuLink, TcpLink
from device_bridge.modbus_profiles import PROFILES
from device_bridge.protocols.toledo import Parity, ToledoSettings
from device_bridge.register_map import RegisterMap, RegisterMapError
from device_bridge.serial_port import SerialSettings
from device_bridge.stability import StabilitySettings

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")  # as the hub accepts device codes
BRIDGE_DEVICE_CODE = "bridge"  # the bridge reports itself under this code
_T = TypeVar("_T")


class Direction(StrEnum):
    SALE = "sale"  # coal leaves the site
    PURCHASE = "purchase"  # coal arrives
    TRANSFER = "transfer"
    OTHER = "other"


class SerialProtocol(StrEnum):
    YAOHUA_A9 = "yaohua_a9"  # continuous output (tF=0)
    YAOHUA_A9_COMMAND = "yaohua_a9_command"  # polled (tF=1)
    YAOHUA_A12E = "yaohua_a12e"
    TOLEDO = "toledo"  # Mettler-Toledo standard continuous and its clones


@dataclass(frozen=True)
class WeighingRules:
    """How one deck turns readings into weighings, and what its tickets say."""

    product_code: str
    shipper_uscc: str
    consignee_uscc: str
    direction: Direction = Direction.SALE
    contract_number: str | None = None
    unit_price: Decimal | None = None  # yuan per tonne
    division_kg: Decimal = Decimal(20)
    stable_readings: int = 5
    stable_seconds: float = 1.0
    min_weight_kg: int = 500  # below this the deck is empty
    capacity_kg: int = 150_000  # above this a reading is never recorded
    min_net_kg: int = 200  # two weighings closer than this are a re-weighing, not a ticket
    plate_max_age_seconds: float = 180.0  # a plate read longer ago is not this vehicle's
    open_weighing_hours: float = 24.0  # a first weighing waits this long for its second

    @property
    def stability(self) -> StabilitySettings:
        return StabilitySettings(
            division=self.division_kg,
            min_readings=self.stable_readings,
            min_duration=self.stable_seconds,
        )


@dataclass(frozen=True)
class SerialDevice:
    code: str
    protocol: SerialProtocol
    serial: SerialSettings
    weighing: WeighingRules
    cameras: tuple[str, ...] = ()
    unit: str = "kg"  # for frames that do not carry their unit
    address: int = 1  # command mode: the indicator's address (1..26)
    toledo: ToledoSettings = field(default_factory=ToledoSettings)


@dataclass(frozen=True)
class ModbusDevice:
    code: str
    link: ModbusLink
    register_map: RegisterMap
    weighing: WeighingRules
    poll: PollSettings = field(default_factory=PollSettings)
    cameras: tuple[str, ...] = ()

    @property
    def protocol(self) -> str:
        return "modbus_tcp" if isinstance(self.link, TcpLink) else "modbus_rtu"


Device = SerialDevice | ModbusDevice


def device_code(section: Section, name: str) -> str:
    value = section.text(name)
    if not CODE.fullmatch(value):
        raise section.error(name, "1-32 of A-Z a-z 0-9 . _ - (starting with a letter or digit)")
    return value


def parse_device(section: Section) -> Device:
    code = device_code(section, "code")
    if code == BRIDGE_DEVICE_CODE:
        raise section.error("code", f"{BRIDGE_DEVICE_CODE!r} names the bridge itself")
    kind = section.text("kind")
    cameras = section.strings("cameras")
    weighing = _weighing(section.require_section("weighing"))
    device: Device
    if kind == "serial":
        device = _serial_device(section, code, weighing, cameras)
    elif kind in ("modbus_tcp", "modbus_rtu"):
        device = _modbus_device(section, code, kind, weighing, cameras)
    else:
        raise section.error("kind", f"must be serial, modbus_tcp or modbus_rtu, not {kind!r}")
    section.done()
    return device


def _weighing(section: Section) -> WeighingRules:
    price = section.decimal("unit_price", Decimal(-1))
    rules = WeighingRules(
        product_code=section.text("product_code"),
        shipper_uscc=_uscc(section, "shipper_uscc"),
        consignee_uscc=_uscc(section, "consignee_uscc"),
        direction=section.choice("direction", Direction, Direction.SALE),
        contract_number=section.optional("contract_number", str),
        unit_price=None if price == -1 else price,
        division_kg=section.decimal("division_kg", Decimal(20)),
        stable_readings=section.get("stable_readings", int, 5),
        stable_seconds=section.get("stable_seconds", float, 1.0),
        min_weight_kg=section.positive("min_weight_kg", int, 500),
        capacity_kg=section.positive("capacity_kg", int, 150_000),
        min_net_kg=section.get("min_net_kg", int, 200),
        plate_max_age_seconds=section.positive("plate_max_age_seconds", float, 180.0),
        open_weighing_hours=section.positive("open_weighing_hours", float, 24.0),
    )
    try:
        rules.stability  # noqa: B018 - validates division, readings and seconds together
    except ValueError as error:
        raise section.error("division_kg", f"unusable stability settings: {error}") from None
    if rules.min_weight_kg >= rules.capacity_kg:
        raise section.error("min_weight_kg", "must be below capacity_kg")
    if rules.unit_price is not None and rules.unit_price < 0:
        raise section.error("unit_price", "must not be negative")
    section.done()
    return rules


def _uscc(section: Section, name: str) -> str:
    # a typo here would have the hub reject every ticket of the lane: refuse it now
    try:
        return validate_uscc(section.text(name))
    except InvalidIdentifierError as error:
        raise section.error(name, str(error)) from None


def _serial_device(
    section: Section, code: str, weighing: WeighingRules, cameras: tuple[str, ...]
) -> SerialDevice:
    protocol = section.choice("protocol", SerialProtocol)
    port = section.require_section("serial")
    options = section.section("options") or Section({}, section.key("options"))
    serial = SerialSettings(
        url=port.text("port"),
        baudrate=port.positive("baudrate", int, 9600),
        bytesize=_among(port, "bytesize", (7, 8), 8),
        parity=_among(port, "parity", ("N", "E", "O"), "N"),
        stopbits=_among(port, "stopbits", (1, 2), 1),
        poll_interval=options.positive("poll_seconds", float, 0.2),
        backoff=retry_policy(port, 0.5, 10.0),
    )
    port.done()
    device = SerialDevice(
        code=code,
        protocol=protocol,
        serial=serial,
        weighing=weighing,
        cameras=cameras,
        unit=options.text("unit", "kg"),
        address=_among(options, "address", tuple(range(1, 27)), 1),
        toledo=_toledo(options),
    )
    options.done()
    return device


def _toledo(options: Section) -> ToledoSettings:
    kg_bit = options.optional("kg_bit", int)
    no_kg_bit = options.get("no_kg_bit", bool, False)
    try:
        return ToledoSettings(
            checksum=options.get("checksum", bool, True),
            parity=options.choice("parity", Parity, Parity.NONE),
            kg_bit=None if no_kg_bit else (4 if kg_bit is None else kg_bit),
            unit_when_no_kg=options.text("unit_when_no_kg", "lb"),
            fixed_unit=options.text("fixed_unit", "kg"),
        )
    except ValueError as error:
        raise options.error("kg_bit", str(error)) from None


def _among(section: Section, name: str, allowed: tuple[_T, ...], default: _T) -> _T:
    value = section.get(name, type(default), default)
    if value not in allowed:
        raise section.error(name, f"must be one of {', '.join(map(str, allowed))}")
    return value


def _modbus_device(
    section: Section, code: str, kind: str, weighing: WeighingRules, cameras: tuple[str, ...]
) -> ModbusDevice:
    modbus = section.require_section("modbus")
    link: ModbusLink
    if kind == "modbus_tcp":
        link = TcpLink(host=modbus.text("host"), port=modbus.positive("port", int, 502))
    else:
        link = RtuLink(
            url=modbus.text("port"),
            baudrate=modbus.positive("baudrate", int, 9600),
            bytesize=_among(modbus, "bytesize", (7, 8), 8),
            parity=_among(modbus, "parity", ("N", "E", "O"), "N"),
            stopbits=_among(modbus, "stopbits", (1, 2), 1),
        )
    register_map = _register_map(modbus)
    poll = PollSettings(
        interval=modbus.positive("poll_seconds", float, 0.2),
        timeout=modbus.positive("timeout_seconds", float, 1.0),
        heartbeat_timeout=modbus.positive("heartbeat_timeout_seconds", float, 3.0),
        backoff=retry_policy(modbus, 0.2, 10.0),
    )
    modbus.done()
    return ModbusDevice(code, link, register_map, weighing, poll, cameras)


def _register_map(modbus: Section) -> RegisterMap:
    if one_of(modbus, ("profile", "register_map")) == "profile":
        name = modbus.text("profile")
        if name not in PROFILES:
            raise modbus.error("profile", f"must be one of {', '.join(PROFILES)}, not {name!r}")
        return PROFILES[name]
    table = modbus.raw("register_map") or {}
    try:
        return RegisterMap.from_dict(table)
    except RegisterMapError as error:
        raise modbus.error("register_map", str(error)) from None
