"""The TOML configuration: the examples load, mistakes are named, the CLI and scheduler."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from coalhub import models as m
from coalhub.settings import Settings
from connectors.base import BatchConnector, ConnectorConfigError, ConnectorStats, PushConnector
from connectors.cli import connector
from connectors.config import load_config, parse_config
from connectors.scheduler import (
    connector_routes,
    police_routes,
    run_connectors,
    scheduled,
    stats_route,
)
from tests.connectors.conftest import FAST_RETRY, count, until
from tests.connectors.test_legacy import ticket_rows, write_config, write_csv
from tests.factories import seed_world

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "connectors" / "examples").glob("*.toml"))
SECRETS = ("COALHUB_JT809_PASSWORD", "COALHUB_TRANSPORT_API_KEY", "COALHUB_POLICE_API_KEY")


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*SECRETS, "COALHUB_TAX_API_KEY"):
        monkeypatch.setenv(name, "s3cret")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
@pytest.mark.usefixtures("secrets")
def test_every_example_loads(path: Path) -> None:
    specs = load_config(path)
    assert specs
    for spec in specs.values():
        assert spec.connector.name == spec.name


@pytest.mark.usefixtures("secrets")
def test_what_the_scheduler_runs() -> None:
    specs = load_config(Path(EXAMPLES[0]))
    chosen = {spec.name for spec in scheduled(specs)}
    # services always; batch sources with `every`; not push receivers, not disabled ones
    assert chosen == {
        "trucks808",
        "national809",
        "transport_registry",
        "transport_positions",
        "police_api",
        "tax_files",
    }
    assert isinstance(specs["police_cameras"].connector, PushConnector)
    assert isinstance(specs["tax_files"].connector, BatchConnector)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"connectors": {"x": {"kind": "nope"}}}, "unknown kind"),
        ({"connectors": {"x": {"kind": "jt808", "prot": 1}}}, "unknown settings ['prot']"),
        ({"connectors": {"x": {"kind": "jt808", "port": "80"}}}, "x.port: expected an integer"),
        ({"connectors": {"x": {"kind": "jt809"}}}, "`users` is required"),
        (
            {
                "connectors": {
                    "x": {"kind": "jt809", "users": [{"user_id": 1, "password_env": "NO_SUCH_VAR"}]}
                }
            },
            "$NO_SUCH_VAR is not set",
        ),
        ({"connectors": {"x": {"kind": "tax_files", "paths": []}}}, "at least one file"),
        ({"connectors": {"x": {"kind": "tax_api", "url": "u", "every": 0}}}, "every: expected"),
        (
            {
                "connectors": {
                    "x": {
                        "kind": "legacy_weigh_tickets",
                        "district": "1",
                        "paths": ["a"],
                        "columns": {"plate": "p"},
                    }
                }
            },
            "map every one of",
        ),
    ],
)
def test_mistakes_are_named(document: dict[str, object], message: str, tmp_path: Path) -> None:
    with pytest.raises(ConnectorConfigError) as raised:
        parse_config(document, tmp_path)
    assert message in str(raised.value)


async def test_the_scheduler_runs_services_and_polls_batch_sources(
    engine: AsyncEngine, settings: Settings, tmp_path: Path
) -> None:
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    rows, bad = ticket_rows(120, seed=4)
    write_csv(tmp_path / "export.csv", rows)
    config = write_config(tmp_path, batch_size=25)
    text = config.read_text(encoding="utf-8").replace("pause = 0\n", "pause = 0\nevery = 0.2\n")
    text += '\n[connectors.gw]\nkind = "jt808"\nhost = "127.0.0.1"\nport = 0\n'
    config.write_text(text, encoding="utf-8")
    stop = asyncio.Event()
    stats: dict[str, ConnectorStats] = {}
    task = asyncio.create_task(
        run_connectors(settings, engine, stop, config, stats=stats, policy=FAST_RETRY)
    )
    good = len(rows) - sum(bad.values())
    await until(lambda: _stored(engine, good))
    # a file dropped later is picked up at the next poll
    more, _ = ticket_rows(130, seed=4)
    write_csv(
        tmp_path / "later.csv", [[f"L{r[0]}", *r[1:]] for r in more[120:] if r[5] == "洗精煤"]
    )
    await until(lambda: stats["legacy"].received >= 120 + 10)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert set(stats) == {"legacy", "gw"}
    assert stats["gw"].errors == 0


async def _stored(engine: AsyncEngine, n: int) -> bool:
    return await count(engine, m.WeighRecord) >= n


async def test_push_routes_come_from_the_configuration(engine: AsyncEngine, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[connectors.cams]\nkind = "police_push"\npath = "/cams"\n'
        'checkpoints = [{code = "K1", name = "K1", latitude = 39.7, longitude = 106.8}]\n',
        encoding="utf-8",
    )
    stats: dict[str, ConnectorStats] = {}
    routes = connector_routes(engine, config, stats=stats)
    assert [getattr(route, "path", None) for route in routes] == ["/cams/{checkpoint}/{vendor}"]
    assert list(stats) == ["cams"]
    assert connector_routes(engine, None) == []
    assert len(police_routes(engine, config)) == 1
    stats["cams"].received = 3
    app = Starlette(routes=[stats_route(stats)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://h"
    ) as http:
        counters = (await http.get("/connectors/stats")).json()
    assert counters["cams"]["received"] == 3


async def test_the_cli_lists_and_runs(
    settings: Settings, tmp_path: Path, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    rows, bad = ticket_rows(60, seed=5)
    write_csv(tmp_path / "export.csv", rows)
    config = write_config(tmp_path, batch_size=25)
    monkeypatch.setenv("COALHUB_DATABASE_URL", settings.database_url)
    runner = CliRunner()

    async def invoke(*args: str, **env: str) -> Result:
        # the commands run their own event loop: give them a thread
        return await asyncio.to_thread(runner.invoke, connector, list(args), env=env)

    ran = await invoke("run", "legacy", "--config", str(config))
    assert ran.exit_code == 0, ran.output
    assert "rejected records of legacy" in ran.output
    listed = await invoke("list", COALHUB_CONNECTORS_CONFIG=str(config))
    assert listed.exit_code == 0, listed.output
    assert "legacy_weigh_tickets" in listed.output
    assert "1/1 files read" in listed.output
    assert str(sum(bad.values())) in listed.output
    letters = await invoke("dead-letters", "legacy", "--limit", "3")
    assert letters.exit_code == 0
    assert "export.csv line" in letters.output
    missing = await invoke("run", "nope", "--config", str(config))
    assert missing.exit_code == 1
    assert "no connector 'nope'" in missing.output
