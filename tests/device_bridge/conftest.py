"""Fixtures shared by the device bridge tests."""

import json
from pathlib import Path
from typing import Any

import pytest

# shared/ is a sibling of the repository clone, here and in CI
VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "frames.json"


@pytest.fixture(scope="session")
def frame_vectors() -> dict[str, Any]:
    if not VECTORS.is_file():
        pytest.skip(f"test vectors not found at {VECTORS} (expected shared/ next to the repo)")
    vectors: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return vectors
