"""Hatchling build hook: build the offline GraphiQL bundle before a wheel is made.

``frontend/`` (npm + esbuild) bundles GraphiQL, React and their CSS and fonts into
``coalhub/static/graphiql/`` (git-ignored; shipped in wheels via ``artifacts`` in
pyproject.toml). This hook runs ``npm ci`` (``npm install`` only when there is no
``package-lock.json``) and ``npm run build`` for standard and editable wheels
(``pip install .``, ``pip install -e .``, ``python -m build``) whenever the bundle is missing
or older than its sources. It needs Node.js/npm and the npm registry, nothing else.

``COALHUB_SKIP_FRONTEND=1`` skips it (the GraphiQL page then says the front end is not built).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SKIP_ENV = "COALHUB_SKIP_FRONTEND"
FRONTEND_DIR = "frontend"
BUNDLE_DIR = Path("coalhub", "static", "graphiql")
BUNDLE_FILES = ("graphiql.js", "graphiql.css")
# What the bundle is built from, relative to frontend/.
SOURCE_FILES = ("package.json", "package-lock.json", "build.mjs")
SOURCE_DIRS = ("src",)


class FrontendBuildError(RuntimeError):
    """The GraphiQL front end could not be built."""


class CoalhubFrontendHook(BuildHookInterface[BuilderConfig]):
    PLUGIN_NAME = "custom"

    @property
    def frontend(self) -> Path:
        return Path(self.root, FRONTEND_DIR)

    @property
    def bundle_dir(self) -> Path:
        return Path(self.root, BUNDLE_DIR)

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        # The sdist ships frontend/ (and the bundle, if built); the wheel built from it runs
        # this hook. Only wheels, standard and editable, need the bundle itself.
        if self.target_name != "wheel":
            return
        if os.environ.get(SKIP_ENV) == "1":
            self.app.display_warning(
                f"{SKIP_ENV}=1: not building the GraphiQL front end; the GraphiQL page will "
                "say it is not built."
            )
            return
        if not (self.frontend / "package.json").is_file():
            if self._bundle_present():
                return  # e.g. a wheel built from an sdist that carries only the bundle
            raise FrontendBuildError(
                f"{FRONTEND_DIR}/package.json is missing, and so is the GraphiQL bundle "
                f"({BUNDLE_DIR.as_posix()}/). Build from a full source tree, or set "
                f"{SKIP_ENV}=1 to build without GraphiQL."
            )
        stale = self._stale_reason()
        if stale is None:
            self.app.display_info(f"GraphiQL bundle is up to date ({BUNDLE_DIR.as_posix()}/)")
            return
        self.app.display_waiting(f"Building the GraphiQL front end: {stale}")
        self._build()

    def clean(self, versions: list[str]) -> None:
        for name in BUNDLE_FILES:
            (self.bundle_dir / name).unlink(missing_ok=True)

    # -- helpers --------------------------------------------------------------------------

    def _bundle_present(self) -> bool:
        return all((self.bundle_dir / name).is_file() for name in BUNDLE_FILES)

    def _sources(self) -> Iterator[Path]:
        for name in SOURCE_FILES:
            path = self.frontend / name
            if path.is_file():
                yield path
        for name in SOURCE_DIRS:
            yield from (p for p in (self.frontend / name).rglob("*") if p.is_file())

    def _stale_reason(self) -> str | None:
        """Why the bundle must be (re)built, or None if it is newer than all its sources."""
        outputs = [self.bundle_dir / name for name in BUNDLE_FILES]
        missing = [p.name for p in outputs if not p.is_file()]
        if missing:
            return f"{', '.join(missing)} missing"
        oldest_output = min(p.stat().st_mtime for p in outputs)
        newer = [p for p in self._sources() if p.stat().st_mtime > oldest_output]
        if newer:
            return f"{newer[0].relative_to(self.root).as_posix()} changed"
        return None

    def _build(self) -> None:
        npm = shutil.which("npm")
        if npm is None:
            raise FrontendBuildError(
                "npm was not found on PATH. coalhub's offline GraphiQL page is bundled from "
                f"{FRONTEND_DIR}/ with npm (Node.js 18 or later) when the package is built. "
                "Install Node.js and npm (Debian: apt-get install nodejs npm) and retry, or "
                f"set {SKIP_ENV}=1 to build without GraphiQL."
            )
        has_lock = (self.frontend / "package-lock.json").is_file()
        install = ["ci"] if has_lock else ["install"]
        started = time.monotonic()
        self._npm(npm, [*install, "--no-audit", "--no-fund"])
        self._npm(npm, ["run", "build"])
        missing = [name for name in BUNDLE_FILES if not (self.bundle_dir / name).is_file()]
        if missing:
            raise FrontendBuildError(
                f"`npm run build` finished but {', '.join(missing)} is missing from "
                f"{BUNDLE_DIR.as_posix()}/"
            )
        self.app.display_success(
            f"GraphiQL front end built in {time.monotonic() - started:.1f} s "
            f"({BUNDLE_DIR.as_posix()}/)"
        )

    def _npm(self, npm: str, args: list[str]) -> None:
        command = [npm, *args]
        shown = " ".join(["npm", *args])
        self.app.display_info(f"$ (cd {FRONTEND_DIR} && {shown})")
        try:
            # A fixed argv from this file, no shell; npm's own output goes to the build log.
            subprocess.run(command, cwd=self.frontend, check=True)  # noqa: S603
        except subprocess.CalledProcessError as exc:
            raise FrontendBuildError(
                f"`{shown}` failed in {FRONTEND_DIR}/ (exit code {exc.returncode}); see the npm "
                f"output above. Set {SKIP_ENV}=1 to build without GraphiQL."
            ) from exc
        except OSError as exc:
            raise FrontendBuildError(f"could not run `{shown}`: {exc}") from exc
