"""Typed reads from parsed TOML whose errors name the offending key in full.

Every key a section offers must be read: :meth:`Section.done` refuses the rest, so a
misspelt key ("baud_rate") is an error rather than a silently ignored setting.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from device_bridge.backoff import BackoffPolicy

_V = TypeVar("_V")
_E = TypeVar("_E", bound=StrEnum)
_MISSING = object()


class ConfigError(ValueError):
    """The configuration cannot work; the message names the key, e.g. ``devices[0].code``."""


class Section:
    def __init__(self, data: Mapping[str, object], path: str = "") -> None:
        self._data = data
        self._path = path
        self._read: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self._path}.{name}" if self._path else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.key(name)}: {problem}")

    def has(self, name: str) -> bool:
        self._read.add(name)
        return name in self._data

    def optional(self, name: str, kind: type[_V]) -> _V | None:
        self._read.add(name)
        if name not in self._data:
            return None
        value = self._data[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # "timeout = 1" means one second
        # bool is an int subclass: "baudrate = true" must not pass as 1
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.error(name, f"must be {_type_name(kind)}, not {value!r}")
        return value

    def get(self, name: str, kind: type[_V], default: _V) -> _V:
        value = self.optional(name, kind)
        return default if value is None else value

    def require(self, name: str, kind: type[_V]) -> _V:
        value = self.optional(name, kind)
        if value is None:
            raise self.error(name, "is required")
        return value

    def text(self, name: str, default: str | None = None) -> str:
        value = self.optional(name, str)
        if value is None:
            if default is None:
                raise self.error(name, "is required")
            return default
        if not value.strip():
            raise self.error(name, "must not be empty")
        return value.strip()

    def positive(self, name: str, kind: type[_V], default: _V | None = None) -> _V:
        value = self.require(name, kind) if default is None else self.get(name, kind, default)
        if not value > 0:  # type: ignore[operator]
            raise self.error(name, f"must be greater than 0, not {value}")
        return value

    def decimal(self, name: str, default: Decimal | None = None) -> Decimal:
        """Decimals may be written as numbers or, exactly, as strings ("0.5")."""
        self._read.add(name)
        value = self._data.get(name, _MISSING)
        if value is _MISSING:
            if default is None:
                raise self.error(name, "is required")
            return default
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.error(name, f"must be a number, not {value!r}")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise self.error(name, f"must be a number, not {value!r}") from None
        if not number.is_finite():
            raise self.error(name, f"must be a finite number, not {value!r}")
        return number

    def choice(self, name: str, kind: type[_E], default: _E | None = None) -> _E:
        value = self.optional(name, str)
        if value is None:
            if default is None:
                raise self.error(name, "is required")
            return default
        try:
            return kind(value)
        except ValueError:
            choices = ", ".join(member.value for member in kind)
            raise self.error(name, f"must be one of {choices}, not {value!r}") from None

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.optional(name, list)
        if value is None:
            return ()
        if not all(isinstance(item, str) and item.strip() for item in value):
            raise self.error(name, "must be a list of non-empty strings")
        return tuple(item.strip() for item in value)

    def section(self, name: str) -> "Section | None":
        value = self.optional(name, dict)
        return None if value is None else Section(value, self.key(name))

    def require_section(self, name: str) -> "Section":
        section = self.section(name)
        if section is None:
            raise self.error(name, "is required (a table)")
        return section

    def sections(self, name: str) -> list["Section"]:
        """An array of tables (``[[name]]``)."""
        value = self.optional(name, list)
        if value is None:
            return []
        if not all(isinstance(item, dict) for item in value):
            raise self.error(name, "must be an array of tables ([[...]])")
        return [Section(item, f"{self.key(name)}[{i}]") for i, item in enumerate(value)]

    def raw(self, name: str) -> Mapping[str, object] | None:
        """A sub-table handed whole to another parser (e.g. a register map)."""
        table: Mapping[str, object] | None = self.optional(name, dict)
        return table

    def done(self) -> None:
        if unknown := sorted(set(self._data) - self._read):
            where = self._path or "the top level"
            raise ConfigError(f"{where}: unknown keys {', '.join(unknown)}")


def _type_name(kind: type) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    names |= {list: "a list", dict: "a table"}
    return names.get(kind, kind.__name__)


def one_of(section: Section, names: Sequence[str]) -> str:
    """The single key of ``names`` that is present (e.g. ``profile`` or ``register_map``)."""
    present = [name for name in names if section.has(name)]
    if len(present) != 1:
        listed = " or ".join(section.key(name) for name in names)
        raise ConfigError(f"give exactly one of {listed}")
    return present[0]


def retry_policy(section: Section, initial: float, maximum: float) -> BackoffPolicy:
    """Waits between attempts to reach a peer: ``retry_initial_seconds`` doubling up to
    ``retry_max_seconds``."""
    first = section.positive("retry_initial_seconds", float, initial)
    last = section.positive("retry_max_seconds", float, maximum)
    if first > last:
        raise section.error("retry_initial_seconds", "must not exceed retry_max_seconds")
    return BackoffPolicy(first, last)
