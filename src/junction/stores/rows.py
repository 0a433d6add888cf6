"""Records as table rows, the same for every SQL backend.

Fields that are queried or indexed are columns; the nested parts (limits,
metadata, provider defaults) are JSON text (``jsonb`` on PostgreSQL).
Column order here is the order of every SELECT and INSERT.
"""

from __future__ import annotations

from typing import Any

import msgspec

from junction.stores.records import KeyRecord, Limits, TeamRecord, UserRecord

KEY_COLUMNS = (
    "id",
    "key_hash",
    "name",
    "prefix",
    "team_id",
    "user_id",
    "limits",
    "expires_at",
    "revoked_at",
    "created_at",
    "metadata",
    "provider",
    "provider_locked",
    "kind",
    "store_bodies",
)
TEAM_COLUMNS = ("id", "name", "created_at", "limits", "metadata", "store_bodies")
USER_COLUMNS = ("id", "name", "created_at", "team_id", "email", "limits", "metadata")

Row = tuple[Any, ...]

_encode = msgspec.json.Encoder()
_dict = msgspec.json.Decoder(dict[str, Any])
_limits = msgspec.json.Decoder(Limits)


def _json(value: object) -> str:
    return _encode.encode(value).decode()


def key_row(k: KeyRecord) -> Row:
    provider = None if k.provider is None else _json(k.provider)
    return (
        k.id,
        k.key_hash,
        k.name,
        k.prefix,
        k.team,
        k.user,
        _json(k.limits),
        k.expires_at,
        k.revoked_at,
        k.created_at,
        _json(k.metadata),
        provider,
        k.provider_locked,
        k.kind,
        k.store_bodies,
    )


def key_record(row: Row) -> KeyRecord:
    (id_, key_hash, name, prefix, team, user, limits, expires_at, revoked_at, created_at) = row[:10]
    metadata, provider, locked, kind, store_bodies = row[10:]
    return KeyRecord(
        id=id_,
        key_hash=key_hash,
        name=name,
        prefix=prefix,
        created_at=created_at,
        team=team,
        user=user,
        limits=_limits.decode(limits),
        expires_at=expires_at,
        revoked_at=revoked_at,
        metadata=_dict.decode(metadata),
        provider=None if provider is None else _dict.decode(provider),
        provider_locked=bool(locked),
        kind=kind,
        store_bodies=_tristate(store_bodies),
    )


def team_row(t: TeamRecord) -> Row:
    return (t.id, t.name, t.created_at, _json(t.limits), _json(t.metadata), t.store_bodies)


def team_record(row: Row) -> TeamRecord:
    id_, name, created_at, limits, metadata, store_bodies = row
    return TeamRecord(
        id=id_,
        name=name,
        created_at=created_at,
        limits=_limits.decode(limits),
        metadata=_dict.decode(metadata),
        store_bodies=_tristate(store_bodies),
    )


def _tristate(value: object) -> bool | None:
    """A nullable boolean column (SQLite keeps 0 / 1 / NULL)."""
    return None if value is None else bool(value)


def user_row(u: UserRecord) -> Row:
    return (u.id, u.name, u.created_at, u.team, u.email, _json(u.limits), _json(u.metadata))


def user_record(row: Row) -> UserRecord:
    id_, name, created_at, team, email, limits, metadata = row
    return UserRecord(
        id=id_,
        name=name,
        created_at=created_at,
        team=team,
        email=email,
        limits=_limits.decode(limits),
        metadata=_dict.decode(metadata),
    )


class DuplicateRecord(ValueError):
    """``add_*`` of an id (or key hash) that is already stored."""


def insert_sql(table: str, columns: tuple[str, ...], marks: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marks)})"


def upsert_sql(table: str, columns: tuple[str, ...], marks: list[str]) -> str:
    """Insert, or replace every column of the row with the same ``id``. (Not
    SQLite's INSERT OR REPLACE, which would silently delete another row
    holding the same unique key hash.)"""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
    return f"{insert_sql(table, columns, marks)} ON CONFLICT (id) DO UPDATE SET {updates}"
