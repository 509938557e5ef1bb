"""Client secrets at rest: scrypt (stdlib) with a random salt per secret, encoded with
its parameters (`scrypt$n$r$p$salt$hash`) so they can be raised later; checked in
constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class ScryptParameters:
    n: int = 2**14  # 16 MiB of memory and tens of milliseconds per check: slow for guessing
    r: int = 8
    p: int = 1


SECRET_HASH_PARAMETERS = ScryptParameters()


def _scrypt(secret: str, salt: bytes, parameters: ScryptParameters) -> bytes:
    maxmem = 2 * 128 * parameters.r * parameters.n * parameters.p + 2**20
    return hashlib.scrypt(
        secret.encode(),
        salt=salt,
        n=parameters.n,
        r=parameters.r,
        p=parameters.p,
        maxmem=maxmem,
        dklen=32,
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str, parameters: ScryptParameters = SECRET_HASH_PARAMETERS) -> str:
    """`scrypt$n$r$p$salt$hash`, with a fresh random salt per secret."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(secret, salt, parameters)
    return f"scrypt${parameters.n}${parameters.r}${parameters.p}${_b64(salt)}${_b64(digest)}"


def _parse_hash(encoded: str) -> tuple[ScryptParameters, bytes, bytes]:
    scheme, n, r, p, salt, digest = encoded.split("$")
    if scheme != "scrypt":
        raise ValueError(f"unknown secret hash scheme {scheme!r}")
    return ScryptParameters(int(n), int(r), int(p)), _unb64(salt), _unb64(digest)


def verify_secret(secret: str, encoded: str) -> bool:
    """Constant-time check of a presented secret against its stored hash."""
    try:
        parameters, salt, expected = _parse_hash(encoded)
    except ValueError:
        return False
    return hmac.compare_digest(_scrypt(secret, salt, parameters), expected)


def needs_rehash(encoded: str) -> bool:
    """True when a hash was made with other parameters than today's (upgrade on next use)."""
    try:
        parameters, _, _ = _parse_hash(encoded)
    except ValueError:
        return True
    return parameters != SECRET_HASH_PARAMETERS


@cache
def _decoy_hash() -> str:
    return hash_secret(secrets.token_urlsafe(32))


def burn_secret_check(secret: str) -> None:
    """Spend the time of a real check, so unknown clients cannot be told apart by timing."""
    verify_secret(secret, _decoy_hash())
