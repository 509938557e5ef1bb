"""Talking to the hub: OAuth2 client credentials, then GraphQL over HTTP.

The access token comes from ``{hub}/oauth/token`` (RFC 6749 section 4.4, the client
authenticated with HTTP Basic as section 2.3.1 prescribes: id and secret form-encoded,
then base64) and is reused until shortly before it expires. A 401 from the API drops the
token and tries once more with a fresh one. Without configured credentials requests go
unauthenticated, which only a development hub accepts.

Failures come in three kinds: :class:`HubUnavailable` (network down, timeouts, 5xx, the
hub refusing this client: try the same request again later), :class:`HubFailed` (the hub
answered, but failed the whole request with an internal error: the hub's fault, or
something in this request it cannot handle) and :class:`RequestRejected` (the hub refused
the request itself, e.g. a value not valid for its type: sending it again cannot help).
"""

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx

from device_bridge.config import HubSettings

INGEST = """
mutation Ingest($records: [WeighRecordInput!]!) {
  ingestWeighRecords(records: $records) {
    results { index status field reason message weighRecordId }
  }
}"""
REPORT_STATUS = """
mutation Heartbeat($reports: [DeviceStatusInput!]!) {
  reportDeviceStatus(reports: $reports) { results { index key status reason message } }
}"""
# error codes that say "not now" rather than "never": the request may be sent again
RETRYABLE_CODES = frozenset({"FORBIDDEN", "UNAUTHENTICATED", "RATE_LIMITED"})
INTERNAL_ERROR = "INTERNAL_ERROR"
TOKEN_MARGIN_SECONDS = 60.0


class HubUnavailable(Exception):  # noqa: N818 - a state of the world, not a bug
    """The hub could not answer now; the same request may succeed later."""


class HubFailed(Exception):  # noqa: N818
    """The hub answered with an internal error for the whole request."""


class RequestRejected(Exception):  # noqa: N818
    """The hub refused the whole request as malformed: resending it cannot succeed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class _Token:
    value: str
    refresh_at: float


class HubClient:
    def __init__(
        self,
        settings: HubSettings,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._http = http
        self._clock = clock
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()  # the uploader and the heartbeat share one token
        self.tokens_fetched = 0

    async def ingest(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        data = await self.graphql(INGEST, {"records": list(records)})
        results: list[dict[str, Any]] = data["ingestWeighRecords"]["results"]
        if len(results) != len(records):
            raise HubUnavailable(f"{len(results)} results for {len(records)} records")
        return results

    async def report_status(self, reports: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        data = await self.graphql(REPORT_STATUS, {"reports": list(reports)})
        results: list[dict[str, Any]] = data["reportDeviceStatus"]["results"]
        return results

    async def graphql(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        response = await self._post_graphql(query, variables)
        if response.status_code == 401 and self._token is not None:
            self._token = None  # revoked or expired early: one fresh token, one more try
            response = await self._post_graphql(query, variables)
        return _data_of(response)

    async def _post_graphql(self, query: str, variables: Mapping[str, Any]) -> httpx.Response:
        headers = {"Accept": "application/json"}
        token = await self._access_token()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        body = {"query": query, "variables": variables}
        return await self._post(self.settings.graphql_url, json=body, headers=headers)

    async def _access_token(self) -> str | None:
        client_id, secret = self.settings.client_id, self.settings.client_secret
        if client_id is None or secret is None:
            return None
        async with self._token_lock:
            if self._token is None or self._clock() >= self._token.refresh_at:
                self._token = await self._fetch_token(client_id, secret)
                self.tokens_fetched += 1
            return self._token.value

    async def _fetch_token(self, client_id: str, secret: str) -> _Token:
        settings = self.settings
        form = {"grant_type": "client_credentials"}
        if settings.scope:
            form["scope"] = settings.scope
        basic = httpx.BasicAuth(quote_plus(client_id), quote_plus(secret))
        requested_at = self._clock()
        response = await self._post(
            settings.token_url, data=form, auth=basic, headers={"Accept": "application/json"}
        )
        return _token_of(response, requested_at)

    async def _post(self, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.post(url, timeout=self.settings.timeout_seconds, **kwargs)
        except httpx.HTTPError as error:  # connect refused, reset, timeouts, protocol errors
            raise HubUnavailable(f"{url}: {error!r}") from error


def _token_of(response: httpx.Response, requested_at: float) -> _Token:
    if response.status_code != 200:
        # a refused client is an operator's problem; keep retrying meanwhile
        error = _json(response).get("error", response.reason_phrase)
        raise HubUnavailable(f"token endpoint answered {response.status_code}: {error}")
    body = _json(response)
    value, lifetime = body.get("access_token"), body.get("expires_in", 300)
    if not isinstance(value, str) or str(body.get("token_type", "")).lower() != "bearer":
        raise HubUnavailable("token endpoint sent no bearer access_token")
    if not isinstance(lifetime, int | float) or lifetime <= 0:
        lifetime = 300
    margin = min(TOKEN_MARGIN_SECONDS, lifetime / 10)
    return _Token(value, requested_at + lifetime - margin)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _data_of(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 500 or response.status_code in (401, 403, 408, 429):
        raise HubUnavailable(f"hub answered HTTP {response.status_code}")
    body = _json(response)
    errors = body.get("errors") or []
    data = body.get("data")
    # any error rolls the hub's mutation back: data beside errors acknowledges nothing
    if isinstance(data, dict) and data and not errors:
        return data
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    extensions = first.get("extensions") or {}
    code = str(extensions.get("code", f"HTTP_{response.status_code}"))
    message = str(first.get("message", response.reason_phrase))
    if code in RETRYABLE_CODES or not errors:
        raise HubUnavailable(f"{code}: {message}")
    if code == INTERNAL_ERROR:
        raise HubFailed(f"{message} (reference {extensions.get('reference')})")
    raise RequestRejected(code, message)
