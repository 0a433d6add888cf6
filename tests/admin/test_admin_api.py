"""The admin API through the real app over a socket: keys, teams and users,
who may call it, and what a refused body leaves behind (nothing)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import httpx
import pytest

from _admin import CLIENT, Admin


def _error(r: httpx.Response, status: int, param: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err: dict[str, Any] = r.json()["error"]
    if param is not None:
        assert err["param"] == param, err
    assert err["message"]
    return err


async def _team(admin: Admin, **body: Any) -> dict[str, Any]:
    r = await admin.http.post("/admin/teams", json={"name": "research", **body})
    assert r.status_code == 201, r.text
    team: dict[str, Any] = r.json()
    return team


async def _key(admin: Admin, **body: Any) -> dict[str, Any]:
    r = await admin.http.post("/admin/keys", json={"name": "ci", **body})
    assert r.status_code == 201, r.text
    key: dict[str, Any] = r.json()
    return key


# ----- who may call ---------------------------------------------------------


async def test_no_key_is_401_and_a_client_key_is_403(admin: Admin) -> None:
    assert _error(await admin.anon.get("/admin/keys"), 401)["code"] == "authentication"
    r = await admin.anon.post(
        "/admin/keys", json={"name": "x"}, headers={"authorization": f"Bearer {CLIENT}"}
    )
    err = _error(r, 403)
    assert err["code"] == "permission_denied"
    assert "master key" in err["message"]
    r = await admin.anon.get("/admin/teams", headers={"authorization": "Bearer sk-wrong"})
    _error(r, 401)


async def test_a_virtual_key_gets_403_on_admin(admin: Admin) -> None:
    key = await _key(admin)
    r = await admin.anon.get("/admin/keys", headers={"authorization": f"Bearer {key['key']}"})
    _error(r, 403)


async def test_revoked_and_rotated_secrets_are_refused_at_once(admin: Admin) -> None:
    made = await _key(admin)

    def as_key(secret: str) -> dict[str, str]:
        return {"authorization": f"Bearer {secret}"}

    assert (await admin.anon.get("/v1/models", headers=as_key(made["key"]))).status_code == 200
    rotated = (await admin.http.post(f"/admin/keys/{made['id']}/rotate")).json()
    _error(await admin.anon.get("/v1/models", headers=as_key(made["key"])), 401)
    assert (await admin.anon.get("/v1/models", headers=as_key(rotated["key"]))).status_code == 200
    await admin.http.delete(f"/admin/keys/{made['id']}")
    _error(await admin.anon.get("/v1/models", headers=as_key(rotated["key"])), 401)


# ----- keys -----------------------------------------------------------------


async def test_create_key_shows_the_secret_once(admin: Admin) -> None:
    team = await _team(admin)
    expires = time.time() + 3600
    body = {
        "name": "ci",
        "team": team["id"],
        "models": ["sim/*", "gpt-4o-[mn]ini"],
        "rpm": 60,
        "tpm": 10000,
        "max_parallel": 4,
        "budget_usd": 5.0,
        "soft_budget_usd": 4,
        "budget_period": "7d",
        "expires_at": expires,
        "metadata": {"owner": "ops"},
        "provider": {"order": ["openai"], "allow_fallbacks": False},
        "provider_locked": True,
    }
    r = await admin.http.post("/admin/keys", json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    secret = made["key"]
    assert secret.startswith("sk-jx-")
    assert len(secret) > 40
    assert made["id"].startswith("key_")
    assert made["prefix"] == secret[:10]
    assert made["status"] == "active"
    assert made["team"] == team["id"]
    assert made["rpm"] == 60
    assert made["budget_period"] == "7d"
    assert made["soft_budget_usd"] == 4
    assert made["provider"] == body["provider"]
    assert made["provider_locked"] is True
    assert made["expires_at"].endswith("Z")
    assert made["created_at"].endswith("Z")
    stored = admin.records.key_rows[made["id"]]
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert abs(stored.expires_at - expires) < 1  # type: ignore[operator]

    shown = (await admin.http.get(f"/admin/keys/{made['id']}")).json()
    listed = (await admin.http.get("/admin/keys", params={"team": team["id"]})).json()["data"]
    assert [k["id"] for k in listed] == [made["id"]]
    for view in (shown, listed[0]):
        assert "key" not in view
        assert "key_hash" not in view
        assert secret not in str(view)
        assert stored.key_hash not in str(view)
        assert view == {k: v for k, v in made.items() if k != "key"}


async def test_iso_expiry_and_filters(admin: Admin) -> None:
    made = await _key(admin, expires_at="2099-01-31T12:00:00+01:00")
    assert made["expires_at"] == "2099-01-31T11:00:00Z"
    r = await admin.http.get("/admin/keys", params={"user": "user_nobody"})
    assert r.json() == {"object": "list", "data": []}
    _error(await admin.http.get("/admin/keys", params={"colour": "red"}), 400, "colour")


async def test_patch_key_changes_only_what_was_sent(admin: Admin) -> None:
    made = await _key(admin, rpm=10, metadata={"a": 1})
    r = await admin.http.patch(f"/admin/keys/{made['id']}", json={"tpm": 500, "name": "ci-2"})
    assert r.status_code == 200, r.text
    patched = r.json()
    assert (patched["name"], patched["rpm"], patched["tpm"]) == ("ci-2", 10, 500)
    assert patched["metadata"] == {"a": 1}
    assert patched["prefix"] == made["prefix"]
    r = await admin.http.patch(f"/admin/keys/{made['id']}", json={"rpm": None})
    assert r.json()["rpm"] is None
    stored = admin.records.key_rows[made["id"]]
    assert stored.limits.rpm is None
    assert stored.limits.tpm == 500


async def test_revoke_keeps_the_record_and_forgets_the_key(admin: Admin) -> None:
    made = await _key(admin)
    r = await admin.http.delete(f"/admin/keys/{made['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "revoked"
    assert r.json()["revoked_at"].endswith("Z")
    stored = admin.records.key_rows[made["id"]]
    assert stored.revoked_at is not None
    shown = (await admin.http.get(f"/admin/keys/{made['id']}")).json()
    assert shown["status"] == "revoked"
    _error(await admin.http.post(f"/admin/keys/{made['id']}/rotate"), 400, "id")
    _error(await admin.http.patch(f"/admin/keys/{made['id']}", json={"rpm": 1}), 400, "id")


async def test_rotate_gives_a_new_secret_once(admin: Admin) -> None:
    made = await _key(admin, rpm=7)
    old_hash = admin.records.key_rows[made["id"]].key_hash
    r = await admin.http.post(f"/admin/keys/{made['id']}/rotate")
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["key"] != made["key"]
    assert rotated["key"].startswith("sk-jx-")
    assert rotated["id"] == made["id"]
    assert rotated["rpm"] == 7
    assert rotated["prefix"] == rotated["key"][:10]
    stored = admin.records.key_rows[made["id"]]
    assert stored.key_hash == hashlib.sha256(rotated["key"].encode()).hexdigest() != old_hash
    assert "key" not in (await admin.http.get(f"/admin/keys/{made['id']}")).json()


async def test_unknown_ids_are_404(admin: Admin) -> None:
    for method, path in (
        ("GET", "/admin/keys/key_nope"),
        ("PATCH", "/admin/keys/key_nope"),
        ("DELETE", "/admin/keys/key_nope"),
        ("POST", "/admin/keys/key_nope/rotate"),
        ("GET", "/admin/teams/team_nope"),
        ("DELETE", "/admin/teams/team_nope"),
        ("GET", "/admin/users/user_nope"),
        ("PATCH", "/admin/users/user_nope"),
    ):
        body = {"json": {}} if method == "PATCH" else {}
        _error(await admin.http.request(method, path, **body), 404, "id")  # type: ignore[arg-type]


async def test_store_bodies_on_keys_and_teams(admin: Admin) -> None:
    """Unset on create is null (inherit); PATCH sets, flips and clears it."""
    team = await _team(admin, store_bodies=True)
    assert team["store_bodies"] is True
    assert admin.records.team_rows[team["id"]].store_bodies is True
    key = await _key(admin, team=team["id"])
    assert key["store_bodies"] is None
    assert admin.records.key_rows[key["id"]].store_bodies is None
    r = await admin.http.patch(f"/admin/keys/{key['id']}", json={"store_bodies": False})
    assert r.status_code == 200, r.text
    assert r.json()["store_bodies"] is False
    assert (await admin.http.get(f"/admin/keys/{key['id']}")).json()["store_bodies"] is False
    r = await admin.http.patch(f"/admin/keys/{key['id']}", json={"rpm": 3})
    assert r.json()["store_bodies"] is False  # not sent: unchanged
    r = await admin.http.patch(f"/admin/keys/{key['id']}", json={"store_bodies": None})
    assert r.json()["store_bodies"] is None
    r = await admin.http.patch(f"/admin/teams/{team['id']}", json={"store_bodies": None})
    assert r.json()["store_bodies"] is None
    listed = (await admin.http.get("/admin/teams")).json()["data"]
    assert [t["store_bodies"] for t in listed if t["id"] == team["id"]] == [None]
    before = _counts(admin)
    _error(
        await admin.http.post("/admin/keys", json={"name": "x", "store_bodies": "yes"}),
        400,
        "store_bodies",
    )
    _error(
        await admin.http.post("/admin/teams", json={"name": "x", "store_bodies": 1}),
        400,
        "store_bodies",
    )
    _error(
        await admin.http.post("/admin/users", json={"name": "x", "store_bodies": True}),
        400,
        "store_bodies",
    )  # users have no such setting
    assert _counts(admin) == before


# ----- teams and users ------------------------------------------------------


async def test_team_crud(admin: Admin) -> None:
    team = await _team(admin, budget_usd=100, budget_period="monthly", models=["sim/*"])
    assert team["id"].startswith("team_")
    assert team["budget_usd"] == 100
    assert team["id"] in [t["id"] for t in (await admin.http.get("/admin/teams")).json()["data"]]
    r = await admin.http.patch(f"/admin/teams/{team['id']}", json={"rpm": 100})
    assert r.json()["rpm"] == 100
    assert r.json()["budget_usd"] == 100
    assert (await admin.http.get(f"/admin/teams/{team['id']}")).json()["rpm"] == 100
    r = await admin.http.delete(f"/admin/teams/{team['id']}")
    assert r.json() == {"object": "team", "id": team["id"], "deleted": True}
    _error(await admin.http.get(f"/admin/teams/{team['id']}"), 404, "id")


async def test_user_crud_and_references(admin: Admin) -> None:
    team = await _team(admin)
    r = await admin.http.post(
        "/admin/users", json={"name": "ada", "team": team["id"], "email": "ada@example.com"}
    )
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["id"].startswith("user_")
    assert user["team"] == team["id"]
    listed = (await admin.http.get("/admin/users", params={"team": team["id"]})).json()["data"]
    assert [u["id"] for u in listed] == [user["id"]]
    key = await _key(admin, user=user["id"])  # takes the user's team
    assert key["team"] == team["id"]
    other = await _team(admin)
    before = _counts(admin)
    _error(
        await admin.http.post(
            "/admin/keys", json={"name": "k", "user": user["id"], "team": other["id"]}
        ),
        400,
        "team",
    )
    _error(
        await admin.http.post("/admin/keys", json={"name": "k", "user": user["id"], "team": None}),
        400,
        "team",
    )
    _error(
        await admin.http.patch(f"/admin/keys/{key['id']}", json={"team": other["id"]}), 400, "team"
    )
    assert _counts(admin) == before
    moved = await admin.http.patch(f"/admin/users/{user['id']}", json={"team": other["id"]})
    _error(moved, 400, "team")
    assert admin.records.user_rows[user["id"]].team == team["id"]
    await admin.http.delete(f"/admin/teams/{other['id']}")
    # A team with a user, a user with an active key: not deletable yet.
    _error(await admin.http.delete(f"/admin/teams/{team['id']}"), 400, "id")
    _error(await admin.http.delete(f"/admin/users/{user['id']}"), 400, "id")
    await admin.http.delete(f"/admin/keys/{key['id']}")
    r = await admin.http.patch(f"/admin/users/{user['id']}", json={"email": None, "tpm": 9})
    assert (r.json()["email"], r.json()["tpm"]) == (None, 9)
    assert (await admin.http.delete(f"/admin/users/{user['id']}")).json()["deleted"] is True
    assert (await admin.http.delete(f"/admin/teams/{team['id']}")).json()["deleted"] is True


# ----- bad input: 400 naming the field, nothing written ---------------------


def _counts(admin: Admin) -> tuple[int, int, int]:
    r = admin.records
    return len(r.key_rows), len(r.team_rows), len(r.user_rows)


BAD_KEYS: list[tuple[Any, str]] = [
    ({"name": "x", "colour": "red"}, "colour"),
    ({}, "name"),
    ({"name": "  "}, "name"),
    ({"name": 5}, "name"),
    ({"name": "x", "rpm": "60"}, "rpm"),
    ({"name": "x", "rpm": True}, "rpm"),
    ({"name": "x", "rpm": -1}, "rpm"),
    ({"name": "x", "tpm": 0}, "tpm"),
    ({"name": "x", "max_parallel": 1.5}, "max_parallel"),
    ({"name": "x", "budget_usd": -5}, "budget_usd"),
    ({"name": "x", "budget_usd": 5, "soft_budget_usd": 6}, "soft_budget_usd"),
    ({"name": "x", "budget_period": "fortnightly"}, "budget_period"),
    ({"name": "x", "budget_period": "0d"}, "budget_period"),
    ({"name": "x", "models": "sim/*"}, "models"),
    ({"name": "x", "models": ["sim/[abc"]}, "models[0]"),
    ({"name": "x", "models": ["ok", "bad]"]}, "models[1]"),
    ({"name": "x", "models": [""]}, "models[0]"),
    ({"name": "x", "expires_at": 1000}, "expires_at"),
    ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ({"name": "x", "expires_at": "next tuesday"}, "expires_at"),
    ({"name": "x", "metadata": [1]}, "metadata"),
    ({"name": "x", "provider": {"order": "openai"}}, "provider.order"),
    ({"name": "x", "provider": {"sort": "vibes"}}, "provider.sort"),
    ({"name": "x", "provider": {"nope": 1}}, "provider.nope"),
    ({"name": "x", "provider_locked": True}, "provider_locked"),
    ({"name": "x", "provider_locked": "yes"}, "provider_locked"),
    ({"name": "x", "team": "team_missing"}, "team"),
    ({"name": "x", "user": "user_missing"}, "user"),
    ({"name": "x", "rpm": 10**30}, "rpm"),
    ({"name": "x", "budget_usd": 1e300}, "budget_usd"),
    ({"name": "x", "expires_at": 1e20}, "expires_at"),
    ({"name": "x", "expires_at": "9999-12-31T23:59:59-05:00"}, "expires_at"),
    ({"name": "x" * 201}, "name"),
    ({"name": "x\u0000"}, "body"),
    ({"name": "x", "metadata": {"a": json.loads("[" * 20 + "]" * 20)}}, "metadata"),
    ([1, 2], "body"),
]


@pytest.mark.parametrize(("body", "param"), BAD_KEYS)
async def test_bad_key_body_is_400_naming_the_field(admin: Admin, body: Any, param: str) -> None:
    before = _counts(admin)
    err = _error(await admin.http.post("/admin/keys", json=body), 400, param)
    assert err["type"] == "invalid_request_error"
    assert _counts(admin) == before


async def test_bad_patch_writes_nothing(admin: Admin) -> None:
    made = await _key(admin, rpm=5, budget_usd=10)
    before = admin.records.key_rows[made["id"]]
    for body, param in (
        ({"rpm": 10, "tpm": -1}, "tpm"),
        ({"rpm": 10, "soft_budget_usd": 20}, "soft_budget_usd"),
        ({"rpm": 10, "team": "team_missing"}, "team"),
        ({"rpm": 10, "name": None}, "name"),
        ({"rpm": 10, "key_hash": "00"}, "key_hash"),
        ({"rpm": 10, "id": "key_other"}, "id"),
    ):
        _error(await admin.http.patch(f"/admin/keys/{made['id']}", json=body), 400, param)
        assert admin.records.key_rows[made["id"]] == before


async def test_bad_team_and_user_bodies(admin: Admin) -> None:
    before = _counts(admin)
    for path, body, param in (
        ("/admin/teams", {"name": "t", "rpm": 0}, "rpm"),
        ("/admin/teams", {"name": "t", "team": "x"}, "team"),
        ("/admin/teams", {"name": "t", "models": ["[!]"]}, "models[0]"),
        ("/admin/users", {"name": "u", "team": "team_missing"}, "team"),
        ("/admin/users", {"name": "u", "email": 3}, "email"),
        ("/admin/users", {"name": "u", "budget_period": "hourly"}, "budget_period"),
    ):
        _error(await admin.http.post(path, json=body), 400, param)
    assert _counts(admin) == before


async def test_not_json_empty_and_too_large(admin: Admin) -> None:
    before = _counts(admin)
    _error(await admin.http.post("/admin/keys", content=b"{nope"), 400, "body")
    _error(await admin.http.post("/admin/keys", content=b""), 400, "body")
    big = b'{"name": "' + b"x" * 300_000 + b'"}'
    _error(await admin.http.post("/admin/keys", content=big), 413)
    assert _counts(admin) == before


async def test_odd_bodies_are_never_a_500(admin: Admin) -> None:
    before = _counts(admin)
    deep = b'{"name": "x", "metadata": {"a": ' + b"[" * 20000 + b"]" * 20000 + b"}}"
    for content in (deep, b"null", b'"x"', b"[]", b"{}{}", b"\xff\xfe", b'{"name": "\\ud800"}'):
        r = await admin.http.post("/admin/keys", content=content)
        assert r.status_code in (400, 413), (content[:40], r.text)
        r = await admin.http.patch("/admin/teams/team_nope", content=content)
        assert r.status_code in (400, 404, 413), (content[:40], r.text)
    assert _counts(admin) == before


async def test_an_unreachable_store_is_503_not_500(admin: Admin) -> None:
    admin.records.down = True
    try:
        err = _error(await admin.http.get("/admin/keys"), 503)
        assert "record store" in err["message"]
    finally:
        admin.records.down = False
