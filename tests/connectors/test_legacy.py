"""Legacy district weigh tickets: column mapping, idempotence, resumption, rejected rows."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub import models as m
from coalhub.settings import Settings
from connectors.config import load_config
from connectors.store import load_checkpoint
from tests.connectors.conftest import context, count, reasons, running, until
from tests.factories import seed_world, uscc

EXAMPLES = Path(__file__).resolve().parents[2] / "connectors" / "examples"
REPO = Path(__file__).resolve().parents[2]
WUDA_MINE = uscc("150304", 3)  # seed_world's mine in Wuda, with weighbridge WB1
BUYER_NAME = "乌海市测试焦化有限公司"
HEADER = ["磅单号", "车牌号", "毛重", "皮重", "过磅时间", "煤种", "发货单位", "收货单位", "磅房"]
BAD_KINDS = ["gross_below_tare", "unknown_product", "unknown_consignee", "bad_time", "bad_plate"]

CONFIG = """
[connectors.legacy]
kind = "legacy_weigh_tickets"
district = "150304"
paths = ["*.csv"]
encoding = "gbk"
batch_size = {batch_size}
pause = {pause}
time_format = "%Y-%m-%d %H:%M"

[connectors.legacy.columns]
ticket_no = "磅单号"
plate = "车牌号"
gross = "毛重"
tare = "皮重"
weighed_at = "过磅时间"
product = "煤种"
shipper = "发货单位"
consignee = "收货单位"
site = "磅房"

[connectors.legacy.products]
"洗精煤" = "JM-XJ"
"""


def ticket_rows(n: int, seed: int) -> tuple[list[list[str]], dict[str, int]]:
    """n rows, about 5% bad (each kind in turn); the bad ones by reason."""
    rng = random.Random(seed)
    rows: list[list[str]] = []
    bad: dict[str, int] = {}
    for k in range(n):
        row = [
            f"WD{k:07d}",
            f"蒙C{30000 + k % 300}",
            str(49000 - k % 500),
            "17000",
            f"2024-01-{1 + k % 28:02d} {k % 24:02d}:{k % 60:02d}",
            "洗精煤",
            WUDA_MINE,
            BUYER_NAME,
            "WB1",
        ]
        if rng.random() < 0.05:
            kind = BAD_KINDS[sum(bad.values()) % len(BAD_KINDS)]
            bad[kind] = bad.get(kind, 0) + 1
            if kind == "gross_below_tare":
                row[2] = "16000"
            elif kind == "unknown_product":
                row[5] = "金矿石"
            elif kind == "unknown_consignee":
                row[7] = "不存在的公司"
            elif kind == "bad_time":
                row[4] = "上午十点"
            else:
                row[1] = "???"
        rows.append(row)
    return rows, bad


def write_csv(path: Path, rows: list[list[str]], extra: bytes = b"") -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode("gbk") + extra)


def write_config(directory: Path, *, batch_size: int = 50, pause: float = 0) -> Path:
    path = directory / "connectors.toml"
    path.write_text(CONFIG.format(batch_size=batch_size, pause=pause), encoding="utf-8")
    return path


async def test_the_example_mapping_imports_the_sample_export(engine: AsyncEngine) -> None:
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    spec = load_config(EXAMPLES / "legacy_wuda.toml")["legacy_wuda"]
    async with running(spec.connector, engine) as ctx:  # type: ignore[arg-type]
        pass
    assert ctx.stats.stored == 2
    async with engine.connect() as connection:
        rows = list(
            await connection.execute(select(m.WeighRecord.__table__).order_by(m.WeighRecord.id))
        )
        unregistered = await connection.scalar(
            select(m.Vehicle.status).where(m.Vehicle.plate == "蒙C66666")
        )
    first = rows[0]
    assert first.ticket_no == "150304-WD20240105001"
    assert first.idempotency_key == "legacy:150304:WD20240105001"
    assert (first.gross_kg, first.tare_kg) == (48960, 17020)
    assert first.gross_at == datetime(2024, 1, 5, 0, 31, 12, tzinfo=UTC)  # 08:31 Beijing
    assert first.source == m.RecordSource.LEGACY_IMPORT
    assert first.evidence["legacy"]["row"]["磅单号"] == "WD20240105001"
    assert unregistered == m.VehicleStatus.UNREGISTERED


async def test_rejected_rows_are_dead_lettered_with_file_and_line(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    rows, bad = ticket_rows(400, seed=1)
    broken_line = "WD9999999,蒙C1".encode("gbk") + b"\xff\xfe,1,2\r\n"
    write_csv(tmp_path / "export.csv", rows, extra=broken_line + "WD1,蒙C2\r\n".encode("gbk"))
    spec = load_config(write_config(tmp_path, batch_size=37))["legacy"]
    async with running(spec.connector, engine) as ctx:  # type: ignore[arg-type]
        pass
    good = len(rows) - sum(bad.values())
    assert await count(engine, m.WeighRecord) == good
    assert await reasons(engine, "legacy") == bad | {"bad_encoding": 1, "bad_row": 1}
    assert ctx.stats.stored == good
    async with engine.connect() as connection:
        state = await load_checkpoint(connection, "legacy")
        [entry] = state["files"].values()
    assert entry["complete"] is True
    assert entry["offset"] == (tmp_path / "export.csv").stat().st_size
    # running again reads nothing; a reset replays everything and changes nothing
    async with running(load_config(write_config(tmp_path))["legacy"].connector, engine) as again:  # type: ignore[arg-type]
        pass
    assert again.stats.received == 0


async def test_a_cancelled_import_resumes_without_duplicates(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    rows, bad = ticket_rows(600, seed=2)
    write_csv(tmp_path / "export.csv", rows)
    config = write_config(tmp_path, batch_size=20)
    from connectors.runner import run_connector

    ctx = context(engine, "legacy", "legacy")
    task = asyncio.create_task(
        run_connector(load_config(config)["legacy"].connector, ctx)  # type: ignore[arg-type]
    )
    await until(lambda: ctx.stats.received >= 200, within=30)
    task.cancel()  # wherever it is: between batches or inside a transaction
    with pytest.raises(asyncio.CancelledError):
        await task
    stored_before = await count(engine, m.WeighRecord)
    assert 0 < stored_before < len(rows)
    async with running(load_config(config)["legacy"].connector, engine):  # type: ignore[arg-type]
        pass
    assert await count(engine, m.WeighRecord) == len(rows) - sum(bad.values())
    assert await reasons(engine, "legacy") == bad


def _cli(config: Path, database_url: str) -> subprocess.Popen[bytes]:
    environ = {**os.environ, "COALHUB_DATABASE_URL": database_url}
    return subprocess.Popen(
        [sys.executable, "-m", "connectors.cli", "run", "legacy", "--config", str(config)],
        cwd=REPO,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:  # nothing left running, whatever happened
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


async def test_the_cli_killed_mid_import_then_rerun_stores_each_row_once(
    engine: AsyncEngine, settings: Settings, tmp_path: Path, processes: list[Any]
) -> None:
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    rows, bad = ticket_rows(2000, seed=3)
    write_csv(tmp_path / "export.csv", rows)
    config = write_config(tmp_path, batch_size=40, pause=0.01)
    first = _cli(config, settings.database_url)
    processes.append(first)
    deadline = asyncio.get_running_loop().time() + 60
    while await count(engine, m.WeighRecord) < 300:
        assert first.poll() is None, first.communicate()
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    await asyncio.to_thread(first.wait)
    stored_before = await count(engine, m.WeighRecord)
    assert stored_before < len(rows) - sum(bad.values())
    second = _cli(config, settings.database_url)
    processes.append(second)
    out, err = await asyncio.to_thread(second.communicate, None, 120)
    assert second.returncode == 0, err.decode()
    assert "rejected records of legacy" in out.decode()
    assert await count(engine, m.WeighRecord) == len(rows) - sum(bad.values())
    assert await reasons(engine, "legacy") == bad


def write_xlsx(path: Path, rows: list[list[str]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        # as such exports are: weights as numbers, times as real dates
        gross, tare = (int(v) if v.isdigit() else v for v in row[2:4])
        try:
            weighed: object = datetime.strptime(row[4], "%Y-%m-%d %H:%M")
        except ValueError:
            weighed = row[4]
        sheet.append([*row[:2], gross, tare, weighed, *row[5:]])
    workbook.save(path)


async def test_xlsx_exports_import_and_resume_like_csv(engine: AsyncEngine, tmp_path: Path) -> None:
    await seed_world(engine, enterprises_per_district=1, weighings_per_site=0)
    rows, bad = ticket_rows(120, seed=7)
    write_xlsx(tmp_path / "export.xlsx", rows)
    config = write_config(tmp_path, batch_size=25).read_text(encoding="utf-8")
    config = config.replace('paths = ["*.csv"]', 'paths = ["*.xlsx"]')
    (tmp_path / "connectors.toml").write_text(config, encoding="utf-8")
    spec = load_config(tmp_path / "connectors.toml")["legacy"]
    async with running(spec.connector, engine) as ctx:  # type: ignore[arg-type]
        pass
    good = len(rows) - sum(bad.values())
    assert ctx.stats.stored == good
    assert await count(engine, m.WeighRecord) == good
    assert await reasons(engine, "legacy") == bad
    async with engine.connect() as connection:
        [entry] = (await load_checkpoint(connection, "legacy"))["files"].values()
    assert entry["complete"] is True
    assert entry["offset"] == len(rows)
    again = load_config(tmp_path / "connectors.toml")["legacy"]
    async with running(again.connector, engine) as rerun:  # type: ignore[arg-type]
        pass
    assert rerun.stats.received == 0
