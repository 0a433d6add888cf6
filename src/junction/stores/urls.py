"""Database URLs: ``sqlite:///path`` (the embedded default) or
``postgresql://user@host:port/db`` (shared), and opening the records store
one names.

A bad URL is a :class:`~junction.config.ConfigError` that says what is
wrong; no message here ever shows a password from the URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from junction.config import ConfigError
from junction.stores.protocols import Records

DEFAULT_DATABASE_URL = "sqlite:///junction.db"
"""Used when neither ``stores.database_url`` nor ``$JUNCTION_DATABASE_URL`` is set."""

Backend = Literal["sqlite", "postgres"]

_POSTGRES_SCHEMES = ("postgresql", "postgres")
_PASSWORD = re.compile(r"(://[^:/@]*):[^@]*@")


@dataclass(frozen=True, slots=True)
class DatabaseURL:
    """A parsed database URL."""

    backend: Backend
    url: str
    """As given (may hold a password: never print it; print :attr:`shown`)."""
    path: str = ""
    """SQLite: the file (relative to the working directory unless absolute)."""
    host: str = ""
    port: int = 0

    @property
    def shown(self) -> str:
        """The URL without its password, for messages and logs."""
        return redact(self.url)

    @property
    def where(self) -> str:
        """``host:port`` (Postgres) or the file (SQLite), for error messages."""
        return f"{self.host}:{self.port}" if self.backend == "postgres" else self.path


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _PASSWORD.sub(r"\1:***@", url)
    if parts.password is None:
        return url
    user_info, _, host_port = parts.netloc.rpartition("@")
    user = user_info.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host_port}"))


def parse_database_url(url: str) -> DatabaseURL:
    """Parse ``url``, or raise :class:`ConfigError` naming what is wrong."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ConfigError(
            f"database URL {redact(url)!r}: expected sqlite:///path or postgresql://host/db"
        )
    if scheme == "sqlite":
        return _sqlite(url, rest)
    if scheme in _POSTGRES_SCHEMES:
        return _postgres(url)
    raise ConfigError(
        f"database URL {redact(url)!r}: unknown scheme {scheme!r} "
        "(expected sqlite:///path or postgresql://host/db)"
    )


def _sqlite(url: str, rest: str) -> DatabaseURL:
    host, slash, path = rest.partition("/")
    if host or not slash:
        raise ConfigError(
            f"database URL {url!r}: a SQLite URL has no host, write sqlite:///relative/file.db "
            "or sqlite:////absolute/file.db"
        )
    path = path.split("?", 1)[0]
    if not path:
        raise ConfigError(f"database URL {url!r}: no file named (sqlite:///junction.db)")
    return DatabaseURL("sqlite", url, path=path)


def _postgres(url: str) -> DatabaseURL:
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError as exc:
        raise ConfigError(f"database URL {redact(url)!r}: {exc}") from None
    if not parts.path.strip("/"):
        raise ConfigError(
            f"database URL {redact(url)!r}: no database named (postgresql://host:5432/junction)"
        )
    return DatabaseURL("postgres", url, host=parts.hostname or "localhost", port=port)


async def open_records(url: str | None = None, *, migrate: bool = False) -> Records:
    """Open the records store ``url`` names (default :data:`DEFAULT_DATABASE_URL`),
    first applying pending migrations when ``migrate`` (``stores.migrate_on_start``);
    without, the schema must be current (``junction db upgrade``).

    Raises :class:`~junction.stores.protocols.StoreUnavailable` when the
    database cannot be reached.
    """
    parsed = parse_database_url(url or DEFAULT_DATABASE_URL)
    if migrate:
        from junction.stores.migrate import upgrade

        await upgrade(parsed.url)
    if parsed.backend == "sqlite":
        from junction.stores.sqlite.records import SQLiteRecords

        return await SQLiteRecords.open(parsed.path)
    from junction.stores.postgres.records import PostgresRecords

    return await PostgresRecords.open(parsed)
