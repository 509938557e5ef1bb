"""Cursor-paged JSON pull, shared by the transport, police and tax pull connectors.

The page protocol (what we ask of every department's API; adapt the paths in config):
`GET {url}?cursor=C&limit=N` answers `{"items": [...], "next_cursor": "D", "has_more": b}`.
The cursor is opaque; the connector saves `next_cursor` with the items it stored, so a
restart asks for the page after the last stored one. Outages (refused, timeouts, 5xx,
429, a cut-off body) raise `ConnectorUnavailableError` and the runner retries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from connectors.base import Batch, ConnectorUnavailableError, JSONState, Reject

R = TypeVar("R")
Item = dict[str, Any]


class PullRefusedError(Exception):
    """The API refused the request itself (4xx other than 429): configuration, not outage."""


@dataclass(frozen=True)
class PullSource:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    page_size: int = 500
    timeout: float = 15.0
    params: dict[str, str] = field(default_factory=dict)


def item_payload(item: object) -> str:
    return json.dumps(item, ensure_ascii=False, sort_keys=True, default=str)


class PagedPuller(Generic[R]):
    """Fetches one page per call; subclasses turn items into records."""

    def __init__(self, source: PullSource, parse: Callable[[Item, str], R | Reject]) -> None:
        self.source = source
        self._parse = parse
        self._client: httpx.AsyncClient | None = None

    async def fetch(self, state: JSONState) -> Batch[R]:
        cursor = state.get("cursor")
        page = await self._get(cursor)
        items = page.get("items")
        if not isinstance(items, list):
            raise ConnectorUnavailableError(f"{self.source.url}: page without an items list")
        locator = self.source.url  # not the cursor: page boundaries move between replays
        records: list[R] = []
        rejects: list[Reject] = []
        for item in items:
            parsed = (
                self._parse(item, locator)
                if isinstance(item, dict)
                else Reject("bad_record", "an item is not an object", item_payload(item), locator)
            )
            if isinstance(parsed, Reject):
                rejects.append(parsed)
            else:
                records.append(parsed)
        next_cursor = page.get("next_cursor")
        new_state = dict(state)
        if isinstance(next_cursor, str | int) and next_cursor != "":
            new_state["cursor"] = str(next_cursor)
        more = bool(page.get("has_more")) and new_state.get("cursor") != cursor
        pages = int(state.get("pages", 0)) + 1
        new_state["pages"] = pages
        return Batch(records, rejects, new_state, done=not more, progress=(pages, None))

    async def _get(self, cursor: str | None) -> dict[str, Any]:
        params = dict(self.source.params, limit=str(self.source.page_size))
        if cursor is not None:
            params["cursor"] = cursor
        client = self._client_for()
        try:
            response = await client.get(self.source.url, params=params)
        except httpx.TransportError as error:
            raise ConnectorUnavailableError(f"{self.source.url}: {error!r}") from error
        if response.status_code >= 500 or response.status_code == 429:
            raise ConnectorUnavailableError(f"{self.source.url}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PullRefusedError(f"{self.source.url}: HTTP {response.status_code}")
        try:
            page = response.json()
        except ValueError as error:
            # a page cut off by a proxy or a restart: ask again
            raise ConnectorUnavailableError(f"{self.source.url}: unreadable page") from error
        if not isinstance(page, dict):
            raise ConnectorUnavailableError(f"{self.source.url}: page is not an object")
        return page

    def _client_for(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                headers=self.source.headers, timeout=self.source.timeout, follow_redirects=False
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def records_of(records: Sequence[object], kind: type[R]) -> list[R]:
    return [record for record in records if isinstance(record, kind)]
