"""An app factory for uvicorn's `--factory`: settings come from the environment, once."""

from __future__ import annotations

from starlette.applications import Starlette

from coalhub.app import create_app
from coalhub.settings import Settings


def app() -> Starlette:
    return create_app(Settings.from_environ())
