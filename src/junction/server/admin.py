"""The admin API under ``/admin``: virtual keys, teams and users (docs/admin.md).

Master key only: no key is a 401, any other key a 403, each in OpenAI's
error shape. A body is decoded and checked whole (server/admin_input.py)
before any store is written, so a refused request changes nothing. A
key's secret leaves the gateway once, in the answer that made it (create,
rotate); the stores keep only its sha256 digest.
"""

from __future__ import annotations

import inspect
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast
from urllib.parse import parse_qs

import msgspec
from msgspec import UnsetType

from junction.config import key_digest
from junction.gateway import Gateway
from junction.gateway.trace import Principal
from junction.server.admin_input import (
    KeyCreate,
    KeyPatch,
    TeamCreate,
    TeamPatch,
    UserCreate,
    UserPatch,
    check_body,
    decode,
    expiry,
    invalid,
    iso,
    limits_after,
    sent,
)
from junction.server.asgi import Request, Response
from junction.stores import (
    KeyRecord,
    Limits,
    Records,
    Stores,
    StoreUnavailable,
    TeamRecord,
    UserRecord,
)
from junction.types import GatewayError

SECRET_PREFIX = "sk-jx-"
_MAX_BODY = 256 * 1024
"""Admin bodies are small; a larger one is a 413 before it is read whole."""


class KeyForgetter(Protocol):
    def forget(self, key_hash: str) -> object:
        """Drop a key from this process's cache (and tell the others), so a
        revoked or rotated secret is refused at once. May be async."""
        ...


class AdminGateway(Protocol):
    """What the admin API needs of the gateway."""

    @property
    def stores(self) -> Stores: ...

    @property
    def authenticator(self) -> KeyForgetter: ...


class HasGateway(Protocol):
    @property
    def gateway(self) -> Gateway: ...


AdminHandler = Callable[[HasGateway, Request], Awaitable[Response]]
AddRoute = Callable[[str, tuple[str, ...], AdminHandler], None]
_Handler = Callable[[AdminGateway, Request, float], Awaitable[Response]]


def add_routes(add: AddRoute) -> None:
    """Register every admin route with the app's ``add`` (server/app.py)."""
    for method, path, handler in _ROUTES:
        add(method, (path,), _admin(handler))


def require_master(request: Request) -> None:
    """401 without a key, 403 for any key but the master key."""
    principal = request.principal
    if principal is None:
        raise GatewayError(
            "authentication",
            "The admin API needs the master key: set server.master_key (or "
            "JUNCTION_MASTER_KEY) and send it as 'Authorization: Bearer <key>'.",
        )
    if not (isinstance(principal, Principal) and principal.admin):
        raise GatewayError(
            "permission_denied", "The admin API takes the master key only, not this key."
        )


def _admin(handler: _Handler) -> AdminHandler:
    """``handler`` for the master key only, with store failures as 503s."""

    async def endpoint(st: HasGateway, request: Request) -> Response:
        require_master(request)
        try:
            return await handler(cast(AdminGateway, st.gateway), request, time.time())
        except StoreUnavailable:
            raise GatewayError(
                "overloaded",
                "The record store cannot be reached; nothing was changed. Retry shortly.",
            ) from None

    return endpoint


def _json(value: object, status: int = 200) -> Response:
    return Response(msgspec.json.encode(value), status)


async def _body(request: Request) -> bytes:
    return await request.body(_MAX_BODY)


def _filters(request: Request, allowed: tuple[str, ...]) -> dict[str, str | None]:
    query = parse_qs(request.query, keep_blank_values=True)
    for name in query:
        if name not in allowed:
            known = ", ".join(allowed) or "none"
            raise invalid(name, f"Unknown filter {name!r}; this list filters by: {known}.")
    return {name: query[name][-1] if name in query else None for name in allowed}


def _new_id(kind: str) -> str:
    return f"{kind}_{secrets.token_hex(8)}"


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _limit_view(limits: Limits) -> dict[str, Any]:
    return {
        "models": limits.models,
        "rpm": limits.rpm,
        "tpm": limits.tpm,
        "max_parallel": limits.max_parallel,
        "budget_usd": limits.budget_usd,
        "soft_budget_usd": limits.soft_budget_usd,
        "budget_period": limits.budget_period,
    }


def key_status(key: KeyRecord, now: float) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def key_view(key: KeyRecord, now: float) -> dict[str, Any]:
    """A key as the admin API shows it: never its secret nor its digest."""
    return {
        "object": "key",
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "status": key_status(key, now),
        "team": key.team,
        "user": key.user,
        **_limit_view(key.limits),
        "expires_at": iso(key.expires_at),
        "created_at": iso(key.created_at),
        "revoked_at": iso(key.revoked_at),
        "metadata": key.metadata,
        "provider": key.provider,
        "provider_locked": key.provider_locked,
        "store_bodies": key.store_bodies,
    }


def team_view(team: TeamRecord) -> dict[str, Any]:
    return {
        "object": "team",
        "id": team.id,
        "name": team.name,
        **_limit_view(team.limits),
        "created_at": iso(team.created_at),
        "metadata": team.metadata,
        "store_bodies": team.store_bodies,
    }


def user_view(user: UserRecord) -> dict[str, Any]:
    return {
        "object": "user",
        "id": user.id,
        "name": user.name,
        "team": user.team,
        "email": user.email,
        **_limit_view(user.limits),
        "created_at": iso(user.created_at),
        "metadata": user.metadata,
    }


def _listing(data: list[dict[str, Any]]) -> Response:
    return _json({"object": "list", "data": data})


async def _forget(gw: AdminGateway, key_hash: str) -> None:
    result = gw.authenticator.forget(key_hash)
    if inspect.isawaitable(result):
        await result


# ----- references -----------------------------------------------------------


async def _check_team(records: Records, team: str | None) -> None:
    if team is not None and await records.team(team) is None:
        raise invalid("team", f"There is no team {team!r}; create it first (POST /admin/teams).")


async def _check_user(records: Records, user: str | None, team: str | None) -> None:
    """A key's user must exist, and a user in a team keeps its keys in that team."""
    if user is None:
        return
    found = await records.user(user)
    if found is None:
        raise invalid("user", f"There is no user {user!r}; create it first (POST /admin/users).")
    if found.team is not None and found.team != team:
        raise invalid(
            "team",
            f"User {user!r} is in team {found.team!r}, so the key's team must be "
            f"{found.team!r} (leave 'team' out on create to take the user's).",
        )


async def _user_team(records: Records, user: str | None) -> str | None:
    """The team of a key's user, taken when a new key names no team."""
    found = await records.user(user) if user is not None else None
    return found.team if found is not None else None


def _check_lock(provider: dict[str, Any] | None, locked: bool) -> None:
    if locked and provider is None:
        raise invalid(
            "provider_locked",
            "'provider_locked' locks the key's 'provider' preferences; give 'provider' too.",
        )


# ----- keys -----------------------------------------------------------------


async def _key(records: Records, request: Request) -> KeyRecord:
    key_id = request.params["id"]
    found = await records.key(key_id)
    if found is None:
        raise GatewayError("not_found", f"There is no key {key_id!r}.", param="id")
    return found


async def create_key(gw: AdminGateway, request: Request, now: float) -> Response:
    body = decode(await _body(request), KeyCreate)
    check_body(body, now)
    limits = limits_after(Limits(), body)
    records = gw.stores.records
    user = sent(body.user, None)
    team = await _user_team(records, user) if isinstance(body.team, UnsetType) else body.team
    provider, locked = sent(body.provider, None), sent(body.provider_locked, False)
    _check_lock(provider, locked)
    await _check_team(records, team)
    await _check_user(records, user, team)
    secret = _new_secret()
    expires = body.expires_at
    key = KeyRecord(
        id=_new_id("key"),
        name=body.name.strip(),
        key_hash=key_digest(secret),
        prefix=secret[:10],
        created_at=now,
        team=team,
        user=user,
        limits=limits,
        expires_at=None if isinstance(expires, UnsetType) or expires is None else expiry(expires),
        metadata=sent(body.metadata, {}),
        provider=provider,
        provider_locked=locked,
        store_bodies=sent(body.store_bodies, None),
    )
    await records.add_key(key)
    return _json({"key": secret, **key_view(key, now)}, 201)


async def list_keys(gw: AdminGateway, request: Request, now: float) -> Response:
    wanted = _filters(request, ("team", "user"))
    keys = await gw.stores.records.keys(team=wanted["team"], user=wanted["user"])
    return _listing([key_view(k, now) for k in keys])


async def show_key(gw: AdminGateway, request: Request, now: float) -> Response:
    return _json(key_view(await _key(gw.stores.records, request), now))


async def update_key(gw: AdminGateway, request: Request, now: float) -> Response:
    body = decode(await _body(request), KeyPatch)
    check_body(body, now)
    records = gw.stores.records
    key = await _key(records, request)
    if key.revoked_at is not None:
        raise invalid("id", f"Key {key.id!r} is revoked and cannot be changed; create a new key.")
    team, user = sent(body.team, key.team), sent(body.user, key.user)
    provider = sent(body.provider, key.provider)
    locked = sent(body.provider_locked, key.provider_locked)
    expires = body.expires_at
    changed = msgspec.structs.replace(
        key,
        name=sent(body.name, key.name).strip(),
        team=team,
        user=user,
        limits=limits_after(key.limits, body),
        expires_at=(
            key.expires_at
            if isinstance(expires, UnsetType)
            else None
            if expires is None
            else expiry(expires)
        ),
        metadata=sent(body.metadata, key.metadata),
        provider=provider,
        provider_locked=locked,
        store_bodies=sent(body.store_bodies, key.store_bodies),
    )
    _check_lock(provider, locked)
    await _check_team(records, team)
    await _check_user(records, user, team)
    await records.put_key(changed)
    await _forget(gw, key.key_hash)  # the next request reads the new limits
    return _json(key_view(changed, now))


async def revoke_key(gw: AdminGateway, request: Request, now: float) -> Response:
    """Revocation keeps the record (spend and logs still name it)."""
    key = await _key(gw.stores.records, request)
    if key.revoked_at is None:
        key = msgspec.structs.replace(key, revoked_at=now)
        await gw.stores.records.put_key(key)
    await _forget(gw, key.key_hash)
    return _json(key_view(key, now))


async def rotate_key(gw: AdminGateway, request: Request, now: float) -> Response:
    """A new secret for the same key (id, limits, spend); the old one is refused."""
    key = await _key(gw.stores.records, request)
    if key.revoked_at is not None:
        raise invalid("id", f"Key {key.id!r} is revoked; create a new key instead of rotating.")
    secret = _new_secret()
    rotated = msgspec.structs.replace(key, key_hash=key_digest(secret), prefix=secret[:10])
    await gw.stores.records.put_key(rotated)
    await _forget(gw, key.key_hash)
    return _json({"key": secret, **key_view(rotated, now)})


# ----- teams ----------------------------------------------------------------


async def _team(records: Records, request: Request) -> TeamRecord:
    team_id = request.params["id"]
    found = await records.team(team_id)
    if found is None:
        raise GatewayError("not_found", f"There is no team {team_id!r}.", param="id")
    return found


async def create_team(gw: AdminGateway, request: Request, now: float) -> Response:
    body = decode(await _body(request), TeamCreate)
    check_body(body, now)
    team = TeamRecord(
        id=_new_id("team"),
        name=body.name.strip(),
        created_at=now,
        limits=limits_after(Limits(), body),
        metadata=sent(body.metadata, {}),
        store_bodies=sent(body.store_bodies, None),
    )
    await gw.stores.records.add_team(team)
    return _json(team_view(team), 201)


async def list_teams(gw: AdminGateway, request: Request, now: float) -> Response:
    _filters(request, ())
    return _listing([team_view(t) for t in await gw.stores.records.teams()])


async def show_team(gw: AdminGateway, request: Request, now: float) -> Response:
    return _json(team_view(await _team(gw.stores.records, request)))


async def update_team(gw: AdminGateway, request: Request, now: float) -> Response:
    body = decode(await _body(request), TeamPatch)
    check_body(body, now)
    team = await _team(gw.stores.records, request)
    changed = msgspec.structs.replace(
        team,
        name=sent(body.name, team.name).strip(),
        limits=limits_after(team.limits, body),
        metadata=sent(body.metadata, team.metadata),
        store_bodies=sent(body.store_bodies, team.store_bodies),
    )
    await gw.stores.records.put_team(changed)
    return _json(team_view(changed))


async def delete_team(gw: AdminGateway, request: Request, now: float) -> Response:
    """Only a team nothing active refers to: its users and unrevoked keys go first."""
    records = gw.stores.records
    team = await _team(records, request)
    users = await records.users(team=team.id)
    keys = [k for k in await records.keys(team=team.id) if k.revoked_at is None]
    if users or keys:
        raise invalid(
            "id",
            f"Team {team.id!r} still has {len(users)} user(s) and {len(keys)} active key(s); "
            "move or delete the users and revoke the keys first.",
        )
    await records.delete_team(team.id)
    return _json({"object": "team", "id": team.id, "deleted": True})


# ----- users ----------------------------------------------------------------


async def _user(records: Records, request: Request) -> UserRecord:
    user_id = request.params["id"]
    found = await records.user(user_id)
    if found is None:
        raise GatewayError("not_found", f"There is no user {user_id!r}.", param="id")
    return found


async def create_user(gw: AdminGateway, request: Request, now: float) -> Response:
    body = decode(await _body(request), UserCreate)
    check_body(body, now)
    limits = limits_after(Limits(), body)
    team = sent(body.team, None)
    await _check_team(gw.stores.records, team)
    user = UserRecord(
        id=_new_id("user"),
        name=body.name.strip(),
        created_at=now,
        team=team,
        email=sent(body.email, None),
        limits=limits,
        metadata=sent(body.metadata, {}),
    )
    await gw.stores.records.add_user(user)
    return _json(user_view(user), 201)


async def list_users(gw: AdminGateway, request: Request, now: float) -> Response:
    wanted = _filters(request, ("team",))
    users = await gw.stores.records.users(team=wanted["team"])
    return _listing([user_view(u) for u in users])


async def show_user(gw: AdminGateway, request: Request, now: float) -> Response:
    return _json(user_view(await _user(gw.stores.records, request)))


async def update_user(gw: AdminGateway, request: Request, now: float) -> Response:
    body = decode(await _body(request), UserPatch)
    check_body(body, now)
    records = gw.stores.records
    user = await _user(records, request)
    team = sent(body.team, user.team)
    changed = msgspec.structs.replace(
        user,
        name=sent(body.name, user.name).strip(),
        team=team,
        email=sent(body.email, user.email),
        limits=limits_after(user.limits, body),
        metadata=sent(body.metadata, user.metadata),
    )
    await _check_team(records, team)
    if team != user.team:
        keys = [k for k in await records.keys(user=user.id) if k.revoked_at is None]
        if any(k.team != team for k in keys):
            raise invalid(
                "team",
                f"User {user.id!r} has {len(keys)} active key(s) in team {user.team!r}; "
                "revoke them, or move them with PATCH /admin/keys/{id}, first.",
            )
    await records.put_user(changed)
    return _json(user_view(changed))


async def delete_user(gw: AdminGateway, request: Request, now: float) -> Response:
    """Only a user no unrevoked key belongs to."""
    records = gw.stores.records
    user = await _user(records, request)
    keys = [k for k in await records.keys(user=user.id) if k.revoked_at is None]
    if keys:
        raise invalid(
            "id",
            f"User {user.id!r} still has {len(keys)} active key(s); revoke them first.",
        )
    await records.delete_user(user.id)
    return _json({"object": "user", "id": user.id, "deleted": True})


_ROUTES: tuple[tuple[str, str, _Handler], ...] = (
    ("POST", "/admin/keys", create_key),
    ("GET", "/admin/keys", list_keys),
    ("POST", "/admin/keys/{id}/rotate", rotate_key),
    ("GET", "/admin/keys/{id}", show_key),
    ("PATCH", "/admin/keys/{id}", update_key),
    ("DELETE", "/admin/keys/{id}", revoke_key),
    ("POST", "/admin/teams", create_team),
    ("GET", "/admin/teams", list_teams),
    ("GET", "/admin/teams/{id}", show_team),
    ("PATCH", "/admin/teams/{id}", update_team),
    ("DELETE", "/admin/teams/{id}", delete_team),
    ("POST", "/admin/users", create_user),
    ("GET", "/admin/users", list_users),
    ("GET", "/admin/users/{id}", show_user),
    ("PATCH", "/admin/users/{id}", update_user),
    ("DELETE", "/admin/users/{id}", delete_user),
)
