"""The site configuration: one TOML file per site, read once into frozen dataclasses.

``load_config(path, environ)`` checks everything before the bridge starts and names the
offending key in every error. Client credentials are not written in the file: it names
the environment variables (or files) that hold them. See ``device_bridge/examples/``.
"""

import base64
import binascii
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from device_bridge.backoff import BackoffPolicy
from device_bridge.config_devices import (
    BRIDGE_DEVICE_CODE,
    Device,
    Direction,
    ModbusDevice,
    SerialDevice,
    SerialProtocol,
    WeighingRules,
    device_code,
    parse_device,
)
from device_bridge.config_reader import ConfigError, Section, retry_policy

__all__ = [
    "BRIDGE_DEVICE_CODE",
    "BridgeConfig",
    "CameraSettings",
    "CameraSource",
    "CameraVendor",
    "ConfigError",
    "Device",
    "Direction",
    "HubSettings",
    "ModbusDevice",
    "SerialDevice",
    "SerialProtocol",
    "WeighingRules",
    "load_config",
    "parse_config",
]


class CameraVendor(StrEnum):
    HIKVISION = "hikvision"
    VZENITH = "vzenith"


@dataclass(frozen=True)
class CameraSource:
    id: str
    address: str  # the camera's IP address: pushes from anywhere else are refused
    vendor: CameraVendor


@dataclass(frozen=True)
class CameraSettings:
    host: str
    port: int
    sources: tuple[CameraSource, ...]
    dedupe_seconds: float = 10.0  # cameras repeat a read while the truck stands still
    max_body_bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True)
class HubSettings:
    url: str
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    scope: str | None = None
    batch_size: int = 500  # the most the hub takes per call: backlogs drain fastest
    concurrent_batches: int = 1  # more only for a hub with several workers
    timeout_seconds: float = 15.0
    heartbeat_seconds: float = 30.0
    backoff: BackoffPolicy = field(default_factory=lambda: BackoffPolicy(1.0, 60.0))

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth/token"


@dataclass(frozen=True)
class BridgeConfig:
    site_id: str  # the hub's global id of the site
    site_number: int  # the row id inside it
    ticket_prefix: str
    hub: HubSettings
    outbox_path: Path
    devices: tuple[Device, ...]
    cameras: CameraSettings | None = None

    def camera_deck(self, camera_id: str) -> str | None:
        """The device whose deck a camera watches."""
        return next((d.code for d in self.devices if camera_id in d.cameras), None)


def load_config(path: Path, environ: Mapping[str, str]) -> BridgeConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from error
    return parse_config(data, environ, base=path.resolve().parent)


def parse_config(
    data: Mapping[str, object], environ: Mapping[str, str], base: Path
) -> BridgeConfig:
    top = Section(data)
    site_id, site_number = _site_id(top)
    prefix = top.text("ticket_prefix", f"S{site_number}-")
    if not re.fullmatch(r"[A-Za-z0-9-]{1,12}", prefix):
        raise top.error("ticket_prefix", "1-12 letters, digits or '-'")
    hub = _hub(top.require_section("hub"), environ)
    outbox = top.require_section("outbox")
    outbox_path = (base / Path(outbox.text("path"))).resolve()
    outbox.done()
    cameras_section = top.section("cameras")
    cameras = None if cameras_section is None else _cameras(cameras_section)
    devices = tuple(parse_device(section) for section in top.sections("devices"))
    top.done()
    if not devices:
        raise ConfigError("devices: configure at least one [[devices]]")
    _check_devices(devices, cameras)
    return BridgeConfig(site_id, site_number, prefix, hub, outbox_path, devices, cameras)


def _site_id(top: Section) -> tuple[str, int]:
    """The site's global id as the hub shows it ("U2l0ZToxMg=="), or spelt out ("Site:12")."""
    text = top.text("site_id")
    try:
        decoded = base64.b64decode(text, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = text
    kind, _, number = decoded.partition(":")
    if kind != "Site" or not number.isdigit():
        raise top.error("site_id", "must be the site's id as the hub shows it (e.g. U2l0ZToxMg==)")
    return base64.b64encode(f"Site:{int(number)}".encode()).decode(), int(number)


def _hub(section: Section, environ: Mapping[str, str]) -> HubSettings:
    url = section.text("url").rstrip("/")
    if not re.match(r"https?://[^/]+", url):
        raise section.error("url", f"must be an http(s) URL, not {url!r}")
    if section.has("client_secret"):
        raise section.error(
            "client_secret",
            "do not write secrets here: set client_secret_env or client_secret_file",
        )
    client_id = _credential(section, "client_id", environ)
    secret = _credential(section, "client_secret", environ)
    if (client_id is None) != (secret is None):
        raise section.error(
            "client_secret_env", "give both the client id and its secret, or neither"
        )
    backoff = retry_policy(section, 1.0, 60.0)
    settings = HubSettings(
        url=url,
        client_id=client_id,
        client_secret=secret,
        scope=section.optional("scope", str),
        batch_size=section.positive("batch_size", int, 500),
        concurrent_batches=section.positive("concurrent_batches", int, 1),
        timeout_seconds=section.positive("timeout_seconds", float, 15.0),
        heartbeat_seconds=section.positive("heartbeat_seconds", float, 30.0),
        backoff=backoff,
    )
    if settings.batch_size > 500:
        raise section.error("batch_size", "the hub takes at most 500 records per call")
    section.done()
    return settings


def _credential(section: Section, name: str, environ: Mapping[str, str]) -> str | None:
    """``name`` itself (client id only), ``name_env`` (a variable) or ``name_file``."""
    literal = section.optional(name, str) if name == "client_id" else None
    variable = section.optional(f"{name}_env", str)
    file = section.optional(f"{name}_file", str)
    given = [value for value in (literal, variable, file) if value is not None]
    if len(given) > 1:
        raise section.error(name, f"give one of {name}, {name}_env, {name}_file")
    if variable is not None:
        value = environ.get(variable, "").strip()
        if not value:
            raise section.error(f"{name}_env", f"environment variable {variable} is not set")
        return value
    if file is not None:
        try:
            value = Path(file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise section.error(f"{name}_file", f"cannot read {file}: {error.strerror}") from error
        if not value:
            raise section.error(f"{name}_file", f"{file} is empty")
        return value
    return literal


def _cameras(section: Section) -> CameraSettings:
    host, _, port = section.text("listen").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise section.error("listen", "must be host:port, e.g. 0.0.0.0:8081")
    sources = []
    for source in section.sections("sources"):
        sources.append(
            CameraSource(
                id=device_code(source, "id"),
                address=source.text("address"),
                vendor=source.choice("vendor", CameraVendor),
            )
        )
        source.done()
    if len({s.id for s in sources}) != len(sources):
        raise section.error("sources", "camera ids must be unique")
    if len({s.address for s in sources}) != len(sources):
        raise section.error("sources", "two cameras cannot share an address")
    settings = CameraSettings(
        host=host.strip("[]"),
        port=int(port),
        sources=tuple(sources),
        dedupe_seconds=section.get("dedupe_seconds", float, 10.0),
        max_body_bytes=section.positive("max_body_bytes", int, 8 * 1024 * 1024),
    )
    section.done()
    return settings


def _check_devices(devices: tuple[Device, ...], cameras: CameraSettings | None) -> None:
    codes = [device.code for device in devices]
    if len(set(codes)) != len(codes):
        raise ConfigError("devices: device codes must be unique")
    known = {source.id for source in cameras.sources} if cameras else set()
    watched: dict[str, str] = {}
    for index, device in enumerate(devices):
        for camera in device.cameras:
            if camera not in known:
                raise ConfigError(f"devices[{index}].cameras: no [[cameras.sources]] id {camera!r}")
            if camera in watched:
                raise ConfigError(
                    f"devices[{index}].cameras: {camera!r} already feeds {watched[camera]}; "
                    "a camera watches one deck"
                )
            watched[camera] = device.code
