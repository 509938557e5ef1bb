"""A hub over a small synthetic city, loaded once per test function."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub.synthetic import Scale, generate
from tests.conftest import Hub


@pytest.fixture
async def seeded_hub(hub: Hub, engine: AsyncEngine) -> Hub:
    await generate(engine, Scale.tiny())
    return hub
