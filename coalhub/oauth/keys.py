"""Signing keys: the newest unretired key signs; retired keys stay published until every
token they signed has expired, so rotation needs no downtime."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey, KeySet
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coalhub.models.base import utcnow
from coalhub.models.client import SigningKey
from coalhub.oauth.cache import Cached, Clock
from coalhub.settings import Settings

ALGORITHM = "ES256"  # P-256 ECDSA: small keys and signatures, supported by every JOSE library


def publication_seconds(settings: Settings) -> float:
    """How long a retired key stays published: the last token it signed (perhaps by a
    process that had not seen the rotation yet) must reach its expiry plus leeway."""
    return (
        settings.access_token_seconds + settings.token_leeway_seconds + settings.auth_cache_seconds
    )


def _new_signing_key(now: datetime) -> SigningKey:
    key = ECKey.generate_key(
        "P-256", parameters={"alg": ALGORITHM, "use": "sig"}, private=True, auto_kid=True
    )
    assert key.kid is not None
    jwk = dict(key.as_dict(private=True))
    return SigningKey(kid=key.kid, algorithm=ALGORITHM, private_jwk=jwk, created_at=now)


async def rotate_signing_key(
    session: AsyncSession, settings: Settings, now: datetime | None = None
) -> str:
    """Make a new current key and retire the others (still published for
    `publication_seconds`); delete keys whose publication has ended. Returns the new kid.
    The caller commits. Running processes start signing with the new key within
    `auth_cache_seconds`."""
    now = now or utcnow()
    await session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=now)
    )
    ended = now - timedelta(seconds=publication_seconds(settings))
    await session.execute(delete(SigningKey).where(SigningKey.retired_at <= ended))
    row = _new_signing_key(now)
    session.add(row)
    await session.flush()
    return row.kid


@dataclass(frozen=True)
class _Keys:
    signing: ECKey
    published: dict[str, ECKey]  # public keys by kid


class KeyStore:
    """The current signing key and the published public keys, cached per process. The first
    use on a database without keys creates one."""

    def __init__(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
    ) -> None:
        self._settings = settings
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._cache = Cached(self._load, settings.auth_cache_seconds, clock)

    async def signing_key(self) -> ECKey:
        return (await self._cache.get()).signing

    async def public_key(self, kid: str) -> ECKey | None:
        """The published key `kid`, re-reading the keys once if it is not known yet."""
        keys = await self._cache.get()
        if kid not in keys.published:
            keys = await self._cache.get(refresh=True)
        return keys.published.get(kid)

    async def jwks(self) -> dict[str, Any]:
        keys = await self._cache.get()
        return dict(KeySet(list(keys.published.values())).as_dict(private=False))

    async def _load(self) -> _Keys:
        now = datetime.fromtimestamp(self._clock(), UTC)
        since = now - timedelta(seconds=publication_seconds(self._settings))
        async with self._sessionmaker() as session:
            rows = await _published_rows(session, since)
            if not any(row.retired_at is None for row in rows):
                session.add(_new_signing_key(now))
                await session.commit()
                rows = await _published_rows(session, since)
        current = max((r for r in rows if r.retired_at is None), key=lambda r: (r.created_at, r.id))
        private = {row.kid: ECKey.import_key(row.private_jwk) for row in rows}
        published = {kid: ECKey.import_key(k.as_dict(private=False)) for kid, k in private.items()}
        return _Keys(signing=private[current.kid], published=published)


async def _published_rows(session: AsyncSession, since: datetime) -> list[SigningKey]:
    statement = select(SigningKey).where(
        SigningKey.algorithm == ALGORITHM,
        SigningKey.retired_at.is_(None) | (SigningKey.retired_at > since),
    )
    return list(await session.scalars(statement))
