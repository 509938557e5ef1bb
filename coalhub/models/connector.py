"""Connector checkpoints and the dead-letter table of rejected records."""

from __future__ import annotations
