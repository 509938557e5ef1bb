"""Connector kinds and how each is built from its table in the TOML configuration.

Example configurations of every kind are in connectors/examples/."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from connectors import fields, jt809
from connectors.config import AnyConnector, Factory, Options
from connectors.http_pull import PullSource
from connectors.positions import Bounds

if TYPE_CHECKING:
    from connectors.files import FileSet
    from connectors.police import CheckpointRegistry


def bounds(options: Options) -> Bounds:
    table = options.mapping("bounds", {})
    allowed = {"min_latitude", "max_latitude", "min_longitude", "max_longitude"}
    if set(table) - allowed:
        raise options.fail("bounds", f"only {sorted(allowed)}")
    default = Bounds()
    return Bounds(
        min_latitude=float(table.get("min_latitude", default.min_latitude)),
        max_latitude=float(table.get("max_latitude", default.max_latitude)),
        min_longitude=float(table.get("min_longitude", default.min_longitude)),
        max_longitude=float(table.get("max_longitude", default.max_longitude)),
    )


def pull_source(options: Options, key: str = "url") -> PullSource:
    headers = {str(k): str(v) for k, v in options.mapping("headers", {}).items()}
    api_key = options.secret("api_key")
    if api_key is not None:
        headers[options.text("api_key_header", "X-Api-Key")] = api_key
    return PullSource(
        url=options.text(key),
        headers=headers,
        page_size=options.integer("page_size", 500),
        timeout=options.number("timeout", 15.0),
    )


def colour_codes(options: Options) -> fields.ColourCodes:
    codes = options.text("colour_codes", "jtt415")
    if codes not in ("jtt415", "etc"):
        raise options.fail("colour_codes", 'expected "jtt415" or "etc"')
    return cast("fields.ColourCodes", codes)


def jt808_gateway(options: Options, base: Path) -> AnyConnector:
    from connectors.jt808_gateway import JT808Gateway, JT808GatewayConfig

    config = JT808GatewayConfig(
        host=options.text("host", "0.0.0.0"),  # noqa: S104
        port=options.integer("port", 7808),
        idle_timeout=options.number("idle_timeout", 300.0),
        require_authentication=options.flag("require_authentication", True),
        skip_unpositioned=options.flag("skip_unpositioned", True),
        bounds=bounds(options),
    )
    return JT808Gateway(options.name, config)


def jt809_receiver(options: Options, base: Path) -> AnyConnector:
    from connectors.jt809_receiver import JT809Receiver, JT809ReceiverConfig

    users: dict[int, str] = {}
    for index, user in enumerate(options.array("users")):
        user_options = Options(f"{options.name}.users[{index}]", user)
        password = user_options.secret("password")
        if password is None or len(password.encode("gbk")) > 8:
            raise options.fail("users", "each user needs a password of at most 8 bytes")
        users[user_options.integer("user_id")] = password
    edition = options.integer("edition", 2011)
    if edition not in (2011, 2019):
        raise options.fail("edition", "2011 or 2019")
    config = JT809ReceiverConfig(
        users=users,
        host=options.text("host", "0.0.0.0"),  # noqa: S104
        port=options.integer("port", 7809),
        edition=jt809.Edition(edition),
        centre_id=options.opt_integer("centre_id"),
        idle_timeout=options.number("idle_timeout", 180.0),
        skip_unpositioned=options.flag("skip_unpositioned", True),
        bounds=bounds(options),
    )
    return JT809Receiver(options.name, config)


def transport_http_vehicles(options: Options, base: Path) -> AnyConnector:
    from connectors.transport_http import TransportVehiclesHttp

    return TransportVehiclesHttp(options.name, pull_source(options), colour_codes(options))


def transport_http_positions(options: Options, base: Path) -> AnyConnector:
    from connectors.transport_http import TransportPositionsHttp

    return TransportPositionsHttp(
        options.name, pull_source(options), colour_codes(options), bounds(options)
    )


def checkpoint_registry(options: Options) -> CheckpointRegistry:
    from connectors.police import CheckpointRegistry, CheckpointSite

    sites: dict[str, CheckpointSite] = {}
    for index, table in enumerate(options.array("checkpoints")):
        site = Options(f"{options.name}.checkpoints[{index}]", table)
        code = site.text("code")
        if len(code) > 32:
            raise site.fail("code", "at most 32 characters")
        sites[code] = CheckpointSite(
            code=code,
            name=site.text("name"),
            latitude=site.number("latitude"),
            longitude=site.number("longitude"),
            on_city_boundary=site.flag("on_city_boundary", False),
            district=site.opt_text("district"),
            inbound=frozenset(str(w).lower() for w in site.array("inbound", [])),
            outbound=frozenset(str(w).lower() for w in site.array("outbound", [])),
        )
        site.check_unused()
    return CheckpointRegistry(sites)


def police_push(options: Options, base: Path) -> AnyConnector:
    import ipaddress

    from connectors.police_push import PolicePush, PolicePushConfig

    default = PolicePushConfig()
    try:
        allow = (
            tuple(ipaddress.ip_network(str(net)) for net in options.array("allow_from", []))
            or default.allow_from
        )
    except ValueError as error:
        raise options.fail("allow_from", str(error)) from error
    config = PolicePushConfig(
        path=options.text("path", default.path),
        allow_from=allow,
        max_body_bytes=options.integer("max_body_bytes", default.max_body_bytes),
    )
    return PolicePush(options.name, config, checkpoint_registry(options))


def police_pull(options: Options, base: Path) -> AnyConnector:
    from connectors.police import PolicePull

    return PolicePull(options.name, pull_source(options), checkpoint_registry(options))


def file_set(options: Options, base: Path) -> FileSet:
    from connectors.files import FileSet

    patterns = tuple(str(p) for p in options.array("paths"))
    if not patterns:
        raise options.fail("paths", "name at least one file or glob")
    return FileSet(patterns, base)


def tax_files(options: Options, base: Path) -> AnyConnector:
    from connectors.tax_sources import TaxFiles

    file_format = options.opt_text("format")
    if file_format not in (None, "json", "xml", "csv"):
        raise options.fail("format", 'one of "json", "xml", "csv" (default: by extension)')
    return TaxFiles(
        options.name,
        file_set(options, base),
        file_format=file_format,
        encoding=options.text("encoding", "utf-8-sig"),
        batch_size=options.integer("batch_size", 500),
    )


def tax_api(options: Options, base: Path) -> AnyConnector:
    from connectors.tax_sources import TaxApi

    return TaxApi(options.name, pull_source(options))


def legacy_weigh_tickets(options: Options, base: Path) -> AnyConnector:
    from coalhub.identifiers import PlateColour
    from coalhub.models import WeighDirection
    from connectors.legacy import COLUMNS, OPTIONAL_COLUMNS, DistrictMapping, LegacyWeighTickets

    columns = {str(k): str(v) for k, v in options.mapping("columns").items()}
    unknown = set(columns) - set(COLUMNS) - set(OPTIONAL_COLUMNS)
    if unknown:
        raise options.fail("columns", f"unknown fields {sorted(unknown)}")
    try:
        mapping = DistrictMapping(
            district=options.text("district"),
            columns=columns,
            products={str(k): str(v) for k, v in options.mapping("products", {}).items()},
            directions={str(k): str(v) for k, v in options.mapping("directions", {}).items()},
            sites={str(k): str(v) for k, v in options.mapping("sites", {}).items()},
            default_direction=WeighDirection(options.text("default_direction", "sale")),
            default_plate_colour=PlateColour(options.text("default_plate_colour", "yellow")),
            weight_unit=options.text("weight_unit", "kg"),
            time_format=options.opt_text("time_format"),
        )
    except ValueError as error:
        raise options.fail("mapping", str(error)) from error
    if mapping.missing_columns():
        raise options.fail("columns", f"map every one of {list(COLUMNS)}")
    if mapping.weight_unit not in ("kg", "t"):
        raise options.fail("weight_unit", '"kg" or "t"')
    return LegacyWeighTickets(
        options.name,
        file_set(options, base),
        mapping,
        encoding=options.text("encoding", "utf-8-sig"),
        delimiter=options.text("delimiter", ","),
        batch_size=options.integer("batch_size", 500),
    )


KINDS: dict[str, Factory] = {
    "jt808": jt808_gateway,
    "jt809": jt809_receiver,
    "transport_http_vehicles": transport_http_vehicles,
    "transport_http_positions": transport_http_positions,
    "police_push": police_push,
    "police_pull": police_pull,
    "tax_files": tax_files,
    "tax_api": tax_api,
    "legacy_weigh_tickets": legacy_weigh_tickets,
}
