"""OAuth2 clients (agency, district, enterprise and device clients) and signing keys."""

from __future__ import annotations
