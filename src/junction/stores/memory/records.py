"""Keys, teams and users in one process's memory (no file, nothing kept)."""

from __future__ import annotations

from junction.stores.records import KeyRecord, TeamRecord, UserRecord
from junction.stores.rows import DuplicateRecord


class MemoryRecords:
    def __init__(self) -> None:
        self._keys: dict[str, KeyRecord] = {}
        self._by_hash: dict[str, str] = {}
        self._teams: dict[str, TeamRecord] = {}
        self._users: dict[str, UserRecord] = {}

    async def add_key(self, key: KeyRecord) -> None:
        if key.id in self._keys or key.key_hash in self._by_hash:
            raise DuplicateRecord(f"key {key.id} exists already")
        await self.put_key(key)

    async def put_key(self, key: KeyRecord) -> None:
        old = self._keys.get(key.id)
        if old is not None:
            self._by_hash.pop(old.key_hash, None)
        self._keys[key.id] = key
        self._by_hash[key.key_hash] = key.id

    async def key_by_hash(self, key_hash: str) -> KeyRecord | None:
        found = self._by_hash.get(key_hash)
        return self._keys.get(found) if found is not None else None

    async def key(self, key_id: str) -> KeyRecord | None:
        return self._keys.get(key_id)

    async def keys(self, *, team: str | None = None, user: str | None = None) -> list[KeyRecord]:
        found = [
            k
            for k in self._keys.values()
            if (team is None or k.team == team) and (user is None or k.user == user)
        ]
        return sorted(found, key=_created)

    async def add_team(self, team: TeamRecord) -> None:
        if team.id in self._teams:
            raise DuplicateRecord(f"team {team.id} exists already")
        self._teams[team.id] = team

    async def team(self, team_id: str) -> TeamRecord | None:
        return self._teams.get(team_id)

    async def teams(self) -> list[TeamRecord]:
        return sorted(self._teams.values(), key=_created)

    async def put_team(self, team: TeamRecord) -> None:
        self._teams[team.id] = team

    async def delete_team(self, team_id: str) -> bool:
        return self._teams.pop(team_id, None) is not None

    async def add_user(self, user: UserRecord) -> None:
        if user.id in self._users:
            raise DuplicateRecord(f"user {user.id} exists already")
        self._users[user.id] = user

    async def user(self, user_id: str) -> UserRecord | None:
        return self._users.get(user_id)

    async def users(self, *, team: str | None = None) -> list[UserRecord]:
        return sorted(
            (u for u in self._users.values() if team is None or u.team == team), key=_created
        )

    async def put_user(self, user: UserRecord) -> None:
        self._users[user.id] = user

    async def delete_user(self, user_id: str) -> bool:
        return self._users.pop(user_id, None) is not None

    async def close(self) -> None:
        return None


def _created(record: KeyRecord | TeamRecord | UserRecord) -> tuple[float, str]:
    """The SQL stores' order: oldest first, then by id."""
    return record.created_at, record.id
