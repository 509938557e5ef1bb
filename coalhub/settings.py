"""Settings, read once from the environment and passed down (nothing reads it at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from starlette.config import Config

DEFAULT_SQLITE_PATH = Path("var") / "coalhub.sqlite3"


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def normalise_database_url(url: str) -> str:
    """Accept the plain URLs operators write and pick the async driver for them."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: sqlite_url(DEFAULT_SQLITE_PATH))
    dev: bool = False
    sql_echo: bool = False
    # connections per worker process: the ORM pool (and as many again in a burst), and the
    # compiled read path's own; workers × 3 × this must stay below the server's limit
    db_pool_size: int = 10
    max_page_size: int = 100
    default_page_size: int = 20
    # OAuth2 (coalhub.oauth): token issuer and audience, token lifetime, clock-skew leeway,
    # and how long a process trusts its cached signing keys and active-client set
    oauth_issuer: str = "urn:coalhub:oauth"
    oauth_audience: str = "coalhub"
    access_token_seconds: int = 600
    token_leeway_seconds: int = 30
    auth_cache_seconds: float = 5.0
    # failed client authentications per source address and minute before /oauth/token
    # answers that address 429 for the rest of the minute
    token_failures_per_minute: int = 20
    # Fernet keys (comma-separated; the first seals, all unseal) that seal the private
    # signing keys stored in the database; unset: stored as plain JWKs
    key_encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    # TOML file naming the connectors the hub runs in-process (none when unset)
    connectors_config: Path | None = None
    # answer read queries with one compiled SQL statement (resolvers/compiler); the executor
    # answers whatever the compiler declines
    compiled_reads: bool = True

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        config = Config(environ=dict(os.environ if environ is None else environ))
        url = config("COALHUB_DATABASE_URL", default="")
        return cls(
            database_url=normalise_database_url(url) if url else sqlite_url(DEFAULT_SQLITE_PATH),
            dev=config("COALHUB_DEV", cast=bool, default=False),
            sql_echo=config("COALHUB_SQL_ECHO", cast=bool, default=False),
            db_pool_size=config("COALHUB_DB_POOL_SIZE", cast=int, default=10),
            max_page_size=config("COALHUB_MAX_PAGE_SIZE", cast=int, default=100),
            oauth_issuer=config("COALHUB_OAUTH_ISSUER", default="urn:coalhub:oauth"),
            oauth_audience=config("COALHUB_OAUTH_AUDIENCE", default="coalhub"),
            access_token_seconds=config("COALHUB_ACCESS_TOKEN_SECONDS", cast=int, default=600),
            token_leeway_seconds=config("COALHUB_TOKEN_LEEWAY_SECONDS", cast=int, default=30),
            auth_cache_seconds=config("COALHUB_AUTH_CACHE_SECONDS", cast=float, default=5.0),
            token_failures_per_minute=config(
                "COALHUB_TOKEN_FAILURES_PER_MINUTE", cast=int, default=20
            ),
            key_encryption_keys=tuple(
                key.strip()
                for key in config("COALHUB_KEY_ENCRYPTION_KEYS", default="").split(",")
                if key.strip()
            ),
            connectors_config=config("COALHUB_CONNECTORS_CONFIG", cast=Path, default=None),
            compiled_reads=config("COALHUB_COMPILED_READS", cast=bool, default=True),
        )

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
