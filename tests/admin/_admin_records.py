"""A test-only in-memory ``Records`` (the real embedded backends live in
junction.stores): enough to drive the admin API through the real app."""

from __future__ import annotations

from junction.stores import (
    KeyRecord,
    StoreUnavailable,
    TeamRecord,
    UserRecord,
)


class ListRecords:
    def __init__(self) -> None:
        self.key_rows: dict[str, KeyRecord] = {}
        self.team_rows: dict[str, TeamRecord] = {}
        self.user_rows: dict[str, UserRecord] = {}
        self.down = False
        """When true every call raises StoreUnavailable (an unreachable database)."""

    def _up(self) -> None:
        if self.down:
            raise StoreUnavailable("test: the record store is down")

    async def add_key(self, key: KeyRecord) -> None:
        self._up()
        self.key_rows[key.id] = key

    async def key_by_hash(self, key_hash: str) -> KeyRecord | None:
        self._up()
        return next((k for k in self.key_rows.values() if k.key_hash == key_hash), None)

    async def key(self, key_id: str) -> KeyRecord | None:
        self._up()
        return self.key_rows.get(key_id)

    async def keys(self, *, team: str | None = None, user: str | None = None) -> list[KeyRecord]:
        self._up()
        return [
            k
            for k in self.key_rows.values()
            if (team is None or k.team == team) and (user is None or k.user == user)
        ]

    async def put_key(self, key: KeyRecord) -> None:
        self._up()
        self.key_rows[key.id] = key

    async def add_team(self, team: TeamRecord) -> None:
        self._up()
        self.team_rows[team.id] = team

    async def team(self, team_id: str) -> TeamRecord | None:
        self._up()
        return self.team_rows.get(team_id)

    async def teams(self) -> list[TeamRecord]:
        self._up()
        return list(self.team_rows.values())

    async def put_team(self, team: TeamRecord) -> None:
        self._up()
        self.team_rows[team.id] = team

    async def delete_team(self, team_id: str) -> bool:
        self._up()
        return self.team_rows.pop(team_id, None) is not None

    async def add_user(self, user: UserRecord) -> None:
        self._up()
        self.user_rows[user.id] = user

    async def user(self, user_id: str) -> UserRecord | None:
        self._up()
        return self.user_rows.get(user_id)

    async def users(self, *, team: str | None = None) -> list[UserRecord]:
        self._up()
        return [u for u in self.user_rows.values() if team is None or u.team == team]

    async def put_user(self, user: UserRecord) -> None:
        self._up()
        self.user_rows[user.id] = user

    async def delete_user(self, user_id: str) -> bool:
        self._up()
        return self.user_rows.pop(user_id, None) is not None

    async def close(self) -> None:
        return None
