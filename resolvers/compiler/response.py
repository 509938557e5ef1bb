"""The database's JSON, spliced into the HTTP response without being parsed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from graphql.pyutils import Path


class RawJSON(str):
    """JSON text the database built: written into the response as it is."""

    __slots__ = ()


class SplicedData(dict[str, Any]):
    """`data` of a compiled answer: root keys to RawJSON, None or plain values."""


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def encode_response(response: Mapping[str, Any]) -> str:
    """The response as strawberry writes it (json.dumps, compact), RawJSON spliced in."""
    parts = []
    for key, value in response.items():
        text = encode_data(value) if isinstance(value, SplicedData) else _dumps(value)
        parts.append(f"{_dumps(key)}:{text}")
    return "{" + ",".join(parts) + "}"


def encode_data(data: SplicedData) -> str:
    parts = [
        f"{_dumps(key)}:{value if isinstance(value, RawJSON) else _dumps(value)}"
        for key, value in data.items()
    ]
    return "{" + ",".join(parts) + "}"


def as_path(keys: list[str | int]) -> Path | None:
    path = None
    for key in keys:
        path = Path(path, key, None)
    return path
