"""Migrate a database and load the synthetic Wuhai dataset into it.

python -m bench.load --database-url URL --days N [--seed S]
python -m bench.load --database-url URL --preset demo
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import warnings

from sqlalchemy import text

from coalhub.db import create_engine
from coalhub.migrate import upgrade
from coalhub.settings import Settings, normalise_database_url
from coalhub.synthetic import Scale, generate


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = Settings(database_url=normalise_database_url(args.database_url))
    scale = _scale(args.preset, args.days)
    # SQLite keeps NUMERIC as floating point; amounts have 2 decimals, well inside its precision
    warnings.filterwarnings("ignore", message=r"Dialect sqlite\+aiosqlite does \*not\*")
    started = time.perf_counter()
    upgrade(settings)  # before any event loop: Alembic's env.py runs its own
    migrated = time.perf_counter()
    counts = asyncio.run(_load(settings, scale, args.seed))
    loaded = time.perf_counter()
    _print_counts(counts)
    print(f"scale: {scale}")
    print(f"migrate {migrated - started:.1f} s, generate and vacuum {loaded - migrated:.1f} s")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--days", type=int, default=1, help="days of whole-city traffic")
    parser.add_argument("--preset", choices=("city", "demo", "tiny"), default="city")
    parser.add_argument("--seed", type=int, default=20231)
    return parser


def _scale(preset: str, days: int) -> Scale:
    if preset == "demo":
        return Scale.demo()
    if preset == "tiny":
        return Scale.tiny()
    return Scale.days(days)


async def _load(settings: Settings, scale: Scale, seed: int) -> dict[str, int]:
    engine = create_engine(settings)
    try:
        counts = await generate(engine, scale, seed=seed, progress=_show_progress)
        # planner statistics and (PostgreSQL) the visibility map now: a benchmark would
        # otherwise race autovacuum for them, and index-only scans (counts) would still
        # visit the table for every row
        statement = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
        return counts
    finally:
        await engine.dispose()


def _show_progress(step: str, done: int, total: int) -> None:
    finished = done == total
    if finished or sys.stderr.isatty():  # a log gets one line per step, a terminal a counter
        end = "\n" if finished else ""
        print(f"\r{step}: {done:,}/{total:,} rows", end=end, file=sys.stderr, flush=True)


def _print_counts(counts: dict[str, int]) -> None:
    for table, count in counts.items():
        print(f"{table:>18} {count:>10,}")
    print(f"{'total':>18} {sum(counts.values()):>10,}")


if __name__ == "__main__":
    main()
