"""Batch imports from files: which files, and how far each one has been read.

The checkpoint state is `{"files": {path: {"sha256", "offset", "complete"}}}`: a file is
resumed at its offset (records for whole-file formats, bytes for CSV) while its content
is unchanged; a file whose content changed is read again from the start (stores are
idempotent, so that only adds what is new)."""

from __future__ import annotations

import glob
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.base import JSONState


@dataclass(frozen=True)
class FileSet:
    patterns: tuple[str, ...]  # globs, relative to `base` unless absolute
    base: Path

    def paths(self) -> list[Path]:
        found: set[Path] = set()
        for pattern in self.patterns:
            full = pattern if Path(pattern).is_absolute() else str(self.base / pattern)
            found.update(Path(p) for p in glob.glob(full, recursive=True) if Path(p).is_file())
        return sorted(found)


class Digests:
    """sha256 of files, recomputed only when size or modification time change."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, int, int], str] = {}

    def __call__(self, path: Path) -> str:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in self._known:
            digest = hashlib.sha256()
            with path.open("rb") as file:
                for chunk in iter(lambda: file.read(1 << 20), b""):
                    digest.update(chunk)
            self._known[key] = digest.hexdigest()
        return self._known[key]


@dataclass(frozen=True)
class Position:
    path: Path
    sha256: str
    offset: int
    entry: dict[str, Any]  # the file's saved state (empty when starting it afresh)


def next_file(state: JSONState, paths: list[Path], digests: Digests) -> Position | None:
    """The first file not completely read, and where to resume it."""
    files: dict[str, Any] = state.get("files", {})
    for path in paths:
        sha256 = digests(path)
        entry = files.get(str(path))
        if entry and entry.get("sha256") == sha256:
            if entry.get("complete"):
                continue
            return Position(path, sha256, int(entry.get("offset", 0)), dict(entry))
        return Position(path, sha256, 0, {})
    return None


def advanced(
    state: JSONState, position: Position, offset: int, complete: bool, **extra: Any
) -> JSONState:
    files = dict(state.get("files", {}))
    files[str(position.path)] = {
        "sha256": position.sha256,
        "offset": offset,
        "complete": complete,
        **extra,
    }
    return {**state, "files": files}
