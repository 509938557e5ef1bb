"""The connectors' TOML configuration: which connectors exist, of what kind, with what
settings, and how often the scheduler runs the batch ones.

```toml
[connectors.trucks]            # the connector's name (checkpoints and dead letters use it)
kind = "jt808"                 # see KINDS
enabled = true                 # default true; the scheduler skips disabled ones
every = 60                     # batch sources: seconds between scheduled runs (omit: CLI only)
pause = 0.5                    # batch sources: seconds between batches (spares the source)
# ... the kind's own settings
```

Secrets may be given as `NAME_env = "ENV_VAR"` instead of `NAME = "..."`: the value is
read from the environment when the file is loaded.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.base import BatchConnector, Connector, ConnectorConfigError, PushConnector

Table = Mapping[str, Any]
AnyConnector = Connector | BatchConnector[Any] | PushConnector


@dataclass(frozen=True)
class ConnectorSpec:
    name: str
    kind: str
    connector: AnyConnector
    enabled: bool
    every: float | None  # batch sources: scheduled every N seconds; None: on demand only
    pause: float  # batch sources: seconds between batches
    table: Table


_REQUIRED: Any = object()


class Options:
    """Typed reads from one connector's table; errors name the connector and the key."""

    def __init__(self, name: str, table: Table) -> None:
        self.name = name
        self.table = table
        self._used = {"kind", "enabled", "every", "pause"}

    def _get(self, key: str, default: Any, types: tuple[type, ...], what: str) -> Any:
        self._used.add(key)
        value = self.table.get(key, default)
        if value is _REQUIRED:
            raise ConnectorConfigError(f"connectors.{self.name}: `{key}` is required")
        wrong_bool = isinstance(value, bool) and bool not in types
        if value is not None and (wrong_bool or not isinstance(value, types)):
            raise ConnectorConfigError(f"connectors.{self.name}.{key}: expected {what}")
        return value

    def text(self, key: str, default: Any = _REQUIRED) -> str:
        return str(self._get(key, default, (str,), "a string"))

    def opt_text(self, key: str) -> str | None:
        value = self._get(key, None, (str,), "a string")
        return None if value is None else str(value)

    def integer(self, key: str, default: Any = _REQUIRED) -> int:
        return int(self._get(key, default, (int,), "an integer"))

    def opt_integer(self, key: str) -> int | None:
        value = self._get(key, None, (int,), "an integer")
        return None if value is None else int(value)

    def number(self, key: str, default: Any = _REQUIRED) -> float:
        return float(self._get(key, default, (int, float), "a number"))

    def flag(self, key: str, default: bool) -> bool:
        return bool(self._get(key, default, (bool,), "true or false"))

    def array(self, key: str, default: Any = _REQUIRED) -> list[Any]:
        return list(self._get(key, default, (list,), "a list"))

    def mapping(self, key: str, default: Any = _REQUIRED) -> dict[str, Any]:
        return dict(self._get(key, default, (dict,), "a table"))

    def secret(self, key: str) -> str | None:
        env = self.opt_text(f"{key}_env")
        if env is not None:
            value = os.environ.get(env)
            if value is None:
                raise ConnectorConfigError(f"connectors.{self.name}.{key}_env: ${env} is not set")
            return value
        return self.opt_text(key)

    def fail(self, key: str, message: str) -> ConnectorConfigError:
        return ConnectorConfigError(f"connectors.{self.name}.{key}: {message}")

    def check_unused(self) -> None:
        unknown = sorted(set(self.table) - self._used)
        if unknown:
            raise ConnectorConfigError(f"connectors.{self.name}: unknown settings {unknown}")


Factory = Callable[[Options, Path], AnyConnector]


def _kinds() -> dict[str, Factory]:
    # imported here so that loading a configuration does not import every connector
    from connectors import factories

    return factories.KINDS


def load_config(path: Path) -> dict[str, ConnectorSpec]:
    """Read and check the file; relative paths inside it are relative to the file."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConnectorConfigError(f"{path}: {error}") from error
    return parse_config(document, path.parent)


def parse_config(document: Table, base: Path) -> dict[str, ConnectorSpec]:
    tables = document.get("connectors", {})
    if not isinstance(tables, dict):
        raise ConnectorConfigError("`connectors` must be a table of connector tables")
    kinds = _kinds()
    specs: dict[str, ConnectorSpec] = {}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ConnectorConfigError(f"connectors.{name} must be a table")
        if len(name) > 64:
            raise ConnectorConfigError(f"connectors.{name}: names have at most 64 characters")
        options = Options(name, table)
        kind = options.text("kind")
        factory = kinds.get(kind)
        if factory is None:
            raise ConnectorConfigError(
                f"connectors.{name}: unknown kind {kind!r} ({sorted(kinds)})"
            )
        connector = factory(options, base)
        every = table.get("every")
        if every is not None and (not isinstance(every, int | float) or every <= 0):
            raise ConnectorConfigError(f"connectors.{name}.every: expected seconds > 0")
        pause = table.get("pause", 0)
        if not isinstance(pause, int | float) or pause < 0:
            raise ConnectorConfigError(f"connectors.{name}.pause: expected seconds >= 0")
        options.check_unused()
        specs[name] = ConnectorSpec(
            name=name,
            kind=kind,
            connector=connector,
            enabled=options.flag("enabled", True),
            every=None if every is None else float(every),
            pause=float(pause),
            table=table,
        )
    return specs
