"""Casbin policy rules, kept in the database and edited through audited mutations."""

from __future__ import annotations
