"""The site configuration: every example loads; mistakes are refused naming their key."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from device_bridge.config import (
    ConfigError,
    Direction,
    ModbusDevice,
    SerialDevice,
    SerialProtocol,
    load_config,
    parse_config,
)
from device_bridge.modbus import RtuLink, TcpLink
from device_bridge.modbus_profiles import FLINTEC_FT112
from device_bridge.protocols.toledo import Parity

EXAMPLES = sorted(
    (Path(__file__).resolve().parents[2] / "device_bridge" / "examples").glob("*.toml")
)
ENVIRON = {"COALHUB_BRIDGE_CLIENT_ID": "bridge-12", "COALHUB_BRIDGE_CLIENT_SECRET": "s3cret"}
SHIPPER = "91150304MA0000012J"
BUYER = "91150303MA00009995"


def minimal(**changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "site_id": "U2l0ZToxMg==",
        "hub": {"url": "http://127.0.0.1:8000/"},
        "outbox": {"path": "outbox.sqlite3"},
        "devices": [
            {
                "code": "WB1",
                "kind": "modbus_tcp",
                "modbus": {"host": "127.0.0.1", "profile": "flintec_ft112"},
                "weighing": {
                    "product_code": "JM-XJ",
                    "shipper_uscc": SHIPPER,
                    "consignee_uscc": BUYER,
                },
            }
        ],
    }
    config.update(changes)
    return config


def parse(data: dict[str, Any], environ: dict[str, str] | None = None) -> Any:
    return parse_config(data, environ or {}, base=Path("/srv/bridge"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_loads(path: Path) -> None:
    config = load_config(path, ENVIRON)
    assert config.devices
    assert config.hub.client_id == "bridge-12"
    assert config.hub.client_secret == "s3cret"
    assert "s3cret" not in repr(config)


def test_examples_cover_every_device_kind_and_serial_protocol() -> None:
    devices = [device for path in EXAMPLES for device in load_config(path, ENVIRON).devices]
    links = {type(d.link) for d in devices if isinstance(d, ModbusDevice)}
    protocols = {d.protocol for d in devices if isinstance(d, SerialDevice)}
    assert links == {TcpLink, RtuLink}
    assert protocols == set(SerialProtocol)


def test_the_site_may_be_spelt_out() -> None:
    assert parse(minimal(site_id="Site:12")).site_id == "U2l0ZToxMg=="


def test_defaults_and_derived_values() -> None:
    config = parse(minimal())
    assert config.site_number == 12
    assert config.ticket_prefix == "S12-"
    assert config.hub.graphql_url == "http://127.0.0.1:8000/graphql"
    assert config.hub.token_url == "http://127.0.0.1:8000/oauth/token"
    assert config.hub.client_id is None  # a development hub
    assert config.outbox_path == Path("/srv/bridge/outbox.sqlite3")
    [device] = config.devices
    assert isinstance(device, ModbusDevice)
    assert device.register_map is FLINTEC_FT112
    assert device.protocol == "modbus_tcp"
    assert device.weighing.direction is Direction.SALE
    assert device.weighing.stability.division == Decimal(20)


def test_inline_register_map_and_toledo_options() -> None:
    rtu = load_config(next(p for p in EXAMPLES if p.name == "modbus-rtu.toml"), ENVIRON)
    [device] = rtu.devices
    assert isinstance(device, ModbusDevice)
    assert device.register_map.function_code == 4
    assert device.register_map.wire_address(1) == 0
    assert device.weighing.division_kg == Decimal("0.5")
    toledo = load_config(next(p for p in EXAMPLES if p.name == "serial-toledo.toml"), ENVIRON)
    [clone] = toledo.devices
    assert isinstance(clone, SerialDevice)
    assert (clone.toledo.parity, clone.toledo.kg_bit) == (Parity.EVEN, 5)


def _device(**changes: Any) -> dict[str, Any]:
    device: dict[str, Any] = minimal()["devices"][0]
    device.update(changes)
    return device


def _weighing(**changes: Any) -> dict[str, Any]:
    weighing: dict[str, Any] = _device()["weighing"]
    weighing.update(changes)
    return weighing


MISTAKES: list[tuple[dict[str, Any], str]] = [
    ({"site_id": "Site:twelve"}, "site_id"),
    ({"site_id": "RW50ZXJwcmlzZTox"}, "site_id"),  # an Enterprise id
    ({"ticket_prefix": "WB 1"}, "ticket_prefix"),
    ({"hub": {}}, "hub.url"),
    ({"hub": {"url": "ftp://hub"}}, "hub.url"),
    ({"hub": {"url": "http://hub", "client_secret": "x"}}, "hub.client_secret"),
    ({"hub": {"url": "http://hub", "client_id": "a"}}, "hub.client_secret_env"),
    ({"hub": {"url": "http://hub", "batch_size": 1000}}, "hub.batch_size"),
    ({"hub": {"url": "http://hub", "batch_size": 0}}, "hub.batch_size"),
    ({"hub": {"url": "http://hub", "timeout_seconds": "10"}}, "hub.timeout_seconds"),
    ({"outbox": {}}, "outbox.path"),
    ({"devices": []}, "devices"),
    ({"devices": [_device(code="WB 1")]}, "devices[0].code"),
    ({"devices": [_device(code="bridge")]}, "devices[0].code"),
    ({"devices": [_device(kind="usb")]}, "devices[0].kind"),
    ({"devices": [_device(), _device()]}, "unique"),
    ({"devices": [_device(baud=9600)]}, "devices[0]: unknown keys baud"),
    ({"devices": [_device(modbus={"host": "h"})]}, "devices[0].modbus.profile"),
    ({"devices": [_device(modbus={"host": "h", "profile": "x"})]}, "devices[0].modbus.profile"),
    (
        {"devices": [_device(modbus={"host": "h", "register_map": {"name": "m"}})]},
        "devices[0].modbus.register_map",
    ),
    ({"devices": [_device(modbus={"host": "h", "port": True, "profile": "cas_ci600d"})]}, "port"),
    ({"devices": [_device(weighing=_weighing(shipper_uscc="91150304MA0000012X"))]}, "shipper_uscc"),
    ({"devices": [_device(weighing=_weighing(direction="export"))]}, "weighing.direction"),
    ({"devices": [_device(weighing=_weighing(division_kg=0))]}, "weighing.division_kg"),
    ({"devices": [_device(weighing=_weighing(stable_readings=1))]}, "weighing.division_kg"),
    ({"devices": [_device(weighing=_weighing(min_weight_kg=200_000))]}, "min_weight_kg"),
    ({"devices": [_device(weighing=_weighing(unit_price="cheap"))]}, "weighing.unit_price"),
    ({"devices": [_device(cameras=["gate"])]}, "devices[0].cameras"),
    ({"cameras": {"listen": "8081"}}, "cameras.listen"),
    (
        {
            "cameras": {
                "listen": "0.0.0.0:8081",
                "sources": [{"id": "a", "address": "10.0.0.1", "vendor": "dahua"}],
            }
        },
        "cameras.sources[0].vendor",
    ),
]


@pytest.mark.parametrize(("changes", "named"), MISTAKES)
def test_mistakes_name_their_key(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        parse(minimal(**changes))


def test_a_serial_device_needs_a_known_protocol() -> None:
    serial = _device(kind="serial", protocol="yaohua", serial={"port": "/dev/ttyUSB0"})
    del serial["modbus"]
    with pytest.raises(ConfigError, match=r"devices\[0\]\.protocol: must be one of yaohua_a9"):
        parse(minimal(devices=[serial]))
    serial["protocol"] = "yaohua_a9"
    serial["serial"]["parity"] = "X"
    with pytest.raises(ConfigError, match=r"devices\[0\]\.serial\.parity"):
        parse(minimal(devices=[serial]))


def test_a_camera_watches_one_deck() -> None:
    cameras = {
        "listen": "0.0.0.0:8081",
        "sources": [{"id": "gate", "address": "10.0.0.9", "vendor": "vzenith"}],
    }
    devices = [_device(cameras=["gate"]), _device(code="WB2", cameras=["gate"])]
    with pytest.raises(ConfigError, match="a camera watches one deck"):
        parse(minimal(cameras=cameras, devices=devices))
    config = parse(minimal(cameras=cameras, devices=devices[:1]))
    assert config.camera_deck("gate") == "WB1"
    assert config.camera_deck("other") is None


def test_credentials_come_from_the_environment_or_a_file(tmp_path: Path) -> None:
    hub = {
        "url": "http://hub",
        "client_id_env": "BRIDGE_ID",
        "client_secret_env": "BRIDGE_SECRET",
    }
    with pytest.raises(ConfigError, match=r"hub\.client_id_env: environment variable BRIDGE_ID"):
        parse(minimal(hub=hub))
    config = parse(minimal(hub=hub), {"BRIDGE_ID": "id-1", "BRIDGE_SECRET": "secret-1"})
    assert (config.hub.client_id, config.hub.client_secret) == ("id-1", "secret-1")
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    from_file = {"url": "http://hub", "client_id": "id-2", "client_secret_file": str(secret)}
    assert parse(minimal(hub=from_file)).hub.client_secret == "from-a-file"


def test_unreadable_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml", {})
    broken = tmp_path / "broken.toml"
    broken.write_text("site_id = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken, {})
