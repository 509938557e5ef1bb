"""Signing keys: the newest unretired key signs; retired keys stay published until every
token they signed has expired, so rotation needs no downtime.

With `COALHUB_KEY_ENCRYPTION_KEYS` set, the private keys are stored sealed (Fernet: AES-128
in CBC mode with an HMAC-SHA256, from `cryptography`): a copy of the database alone signs
nothing. The first key seals; all of them unseal, so the encryption key can be rotated:
put the new key first, run `coalhub keys seal`, then drop the old one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
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


SEALED = "sealed"  # the stored JWK's only member when sealed


class SealedKeyError(RuntimeError):
    """A stored signing key cannot be unsealed with the configured encryption keys."""


def _fernet(settings: Settings) -> MultiFernet | None:
    keys = settings.key_encryption_keys
    try:
        return MultiFernet([Fernet(key) for key in keys]) if keys else None
    except ValueError as error:
        raise SealedKeyError(f"COALHUB_KEY_ENCRYPTION_KEYS: not a Fernet key ({error})") from None


def seal(jwk: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The private JWK as stored: sealed with the first encryption key, or as it is."""
    fernet = _fernet(settings)
    if fernet is None:
        return jwk
    return {SEALED: fernet.encrypt(json.dumps(jwk).encode()).decode()}


def unseal(stored: dict[str, Any], settings: Settings) -> dict[str, Any]:
    if SEALED not in stored:
        return stored
    fernet = _fernet(settings)
    if fernet is None:
        raise SealedKeyError("signing keys are sealed: set COALHUB_KEY_ENCRYPTION_KEYS")
    try:
        found: dict[str, Any] = json.loads(fernet.decrypt(stored[SEALED].encode()))
    except InvalidToken:
        raise SealedKeyError(
            "no key in COALHUB_KEY_ENCRYPTION_KEYS unseals the signing keys"
        ) from None
    return found


def generate_key_encryption_key() -> str:
    return Fernet.generate_key().decode()


async def seal_signing_keys(session: AsyncSession, settings: Settings) -> int:
    """Seal every stored key with the first encryption key (plain or sealed with another);
    the caller commits. Returns how many keys were sealed."""
    if not settings.key_encryption_keys:
        raise SealedKeyError("set COALHUB_KEY_ENCRYPTION_KEYS to seal the signing keys")
    rows = list(await session.scalars(select(SigningKey)))
    for row in rows:
        row.private_jwk = seal(unseal(row.private_jwk, settings), settings)
    await session.flush()
    return len(rows)


def _new_signing_key(now: datetime, settings: Settings) -> SigningKey:
    key = ECKey.generate_key(
        "P-256", parameters={"alg": ALGORITHM, "use": "sig"}, private=True, auto_kid=True
    )
    assert key.kid is not None
    jwk = seal(dict(key.as_dict(private=True)), settings)
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
    row = _new_signing_key(now, settings)
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
                session.add(_new_signing_key(now, self._settings))
                await session.commit()
                rows = await _published_rows(session, since)
        current = max((r for r in rows if r.retired_at is None), key=lambda r: (r.created_at, r.id))
        private = {
            row.kid: ECKey.import_key(unseal(row.private_jwk, self._settings)) for row in rows
        }
        published = {kid: ECKey.import_key(k.as_dict(private=False)) for kid, k in private.items()}
        return _Keys(signing=private[current.kid], published=published)


async def _published_rows(session: AsyncSession, since: datetime) -> list[SigningKey]:
    statement = select(SigningKey).where(
        SigningKey.algorithm == ALGORITHM,
        SigningKey.retired_at.is_(None) | (SigningKey.retired_at > since),
    )
    return list(await session.scalars(statement))
