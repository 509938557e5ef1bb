"""Fixtures shared by the device bridge tests."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub.settings import Settings
from tests.device_bridge.peers import Served, Site, hub_server, seed_site

# shared/ is a sibling of the repository clone, here and in CI
VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "frames.json"


@pytest.fixture(scope="session")
def frame_vectors() -> dict[str, Any]:
    if not VECTORS.is_file():
        pytest.skip(f"test vectors not found at {VECTORS} (expected shared/ next to the repo)")
    vectors: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return vectors


@pytest.fixture
async def site(engine: AsyncEngine) -> Site:
    """A weighbridge site in the test database, with a device client for its bridge."""
    return await seed_site(engine)


@pytest.fixture
def hub_process(settings: Settings) -> Iterator[Served]:
    """The real hub under uvicorn on a free port of 127.0.0.1, on the test's database."""
    served = hub_server(settings)
    served.start()
    yield served
    served.stop()
