"""`coalhub bridge`: checks a configuration, shows and requeues dead letters."""

import json
from pathlib import Path

from click.testing import CliRunner

from device_bridge.cli import bridge
from device_bridge.outbox import Outbox, Rejection

EXAMPLES = Path(__file__).resolve().parents[2] / "device_bridge" / "examples"
ENVIRON = {"COALHUB_BRIDGE_CLIENT_ID": "bridge-12", "COALHUB_BRIDGE_CLIENT_SECRET": "s3cret"}


def test_check_validates_and_summarises() -> None:
    result = CliRunner(env=ENVIRON).invoke(
        bridge, ["--config", str(EXAMPLES / "modbus-tcp.toml"), "--check"]
    )
    assert result.exit_code == 0, result.output
    assert "configuration OK" in result.output
    assert "WB1 (modbus_tcp)" in result.output
    assert "s3cret" not in result.output


def test_a_broken_configuration_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    text = (EXAMPLES / "modbus-tcp.toml").read_text(encoding="utf-8")
    config.write_text(text.replace('profile = "flintec_ft112"', 'profile = "ft112"'))
    result = CliRunner(env=ENVIRON).invoke(bridge, ["--config", str(config), "--check"])
    assert result.exit_code == 1
    assert "devices[0].modbus.profile: must be one of" in result.output
    missing = CliRunner(env={}).invoke(bridge, ["--config", str(config), "--check"])
    assert "environment variable COALHUB_BRIDGE_CLIENT_ID is not set" in missing.output


def test_outbox_shows_and_requeues_dead_letters(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    text = (EXAMPLES / "simulator.toml").read_text(encoding="utf-8")
    outbox_path = tmp_path / "outbox.sqlite3"
    config.write_text(text.replace("../../var/bridge-simulator-outbox.sqlite3", str(outbox_path)))
    outbox = Outbox(outbox_path, "SIM-")
    outbox.add("key-1", lambda ticket: {"ticketNo": ticket})
    outbox.add("key-2", lambda ticket: {"ticketNo": ticket})
    outbox.settle({"key-1": None}, {"key-2": Rejection("unknown", "productCode", "no such")})
    outbox.close()

    shown = CliRunner(env=ENVIRON).invoke(bridge, ["--config", str(config), "--outbox"])
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.output)
    assert report["counts"] == {"pending": 0, "delivered": 1, "dead": 1}
    [letter] = report["deadLetters"]
    assert (letter["key"], letter["reason"], letter["field"]) == ("key-2", "unknown", "productCode")

    requeued = CliRunner(env=ENVIRON).invoke(bridge, ["--config", str(config), "--retry-dead"])
    assert json.loads(requeued.output)["requeued"] == 1
    outbox = Outbox(outbox_path, "SIM-")
    assert [p.key for p in outbox.pending(10)] == ["key-2"]
    outbox.close()
