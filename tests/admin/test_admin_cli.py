"""``junction keys|teams|users`` as a subprocess against the live gateway of
the ``admin`` fixture (which serves in this test loop, so the CLI runs
through asyncio's subprocesses, not blocking it)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from _admin import CLIENT, MASTER, Admin

SRC = str(Path(__file__).resolve().parents[2] / "src")


async def junction(
    admin: Admin | None, *args: str, key: str | None = MASTER, url: str | None = None
) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUNCTION_")}
    env["PYTHONPATH"] = SRC
    env["COLUMNS"] = "200"
    if key is not None:
        env["JUNCTION_MASTER_KEY"] = key
    env["JUNCTION_URL"] = url or (admin.url if admin else "http://127.0.0.1:9")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "junction.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    assert "Traceback" not in err.decode(), err.decode()
    return proc.returncode, out.decode(), err.decode()


async def _json(admin: Admin, *args: str) -> Any:
    code, out, err = await junction(admin, *args, "--json")
    assert code == 0, err
    return json.loads(out)


async def test_keys_create_list_show_rotate_revoke(admin: Admin) -> None:
    team = await _json(admin, "teams", "create", "cli-team", "--budget-usd", "50")
    code, out, err = await junction(
        admin,
        "keys",
        "create",
        "cli-key",
        "--team",
        team["id"],
        "--models",
        "sim/*,gpt-4o*",
        "--rpm",
        "60",
        "--metadata",
        '{"owner": "ops"}',
    )
    assert code == 0, err
    assert "shown this once" in err
    secret = next(line[5:] for line in out.splitlines() if line.startswith("key: sk-jx-"))
    key_id = next(k for k, v in admin.records.key_rows.items() if v.name == "cli-key")
    stored = admin.records.key_rows[key_id]
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.limits.models == ["sim/*", "gpt-4o*"]
    assert stored.limits.rpm == 60
    assert stored.metadata == {"owner": "ops"}
    assert stored.team == team["id"]

    code, out, err = await junction(admin, "keys", "list", "--team", team["id"])
    assert code == 0, err
    assert key_id in out
    assert "cli-key" in out
    assert secret not in out
    listed = await _json(admin, "keys", "list", "--team", team["id"])
    assert [k["id"] for k in listed["data"]] == [key_id]

    shown = await _json(admin, "keys", "show", key_id)
    assert shown["rpm"] == 60
    assert "key" not in shown
    updated = await _json(admin, "keys", "update", key_id, "--rpm", "none", "--tpm", "900")
    assert (updated["rpm"], updated["tpm"]) == (None, 900)

    rotated = await _json(admin, "keys", "rotate", key_id)
    assert rotated["key"].startswith("sk-jx-")
    assert rotated["key"] != secret
    assert admin.records.key_rows[key_id].key_hash != stored.key_hash

    code, out, err = await junction(admin, "keys", "revoke", key_id)
    assert code == 0, err
    assert "revoked" in out
    assert admin.records.key_rows[key_id].revoked_at is not None


async def test_teams_and_users(admin: Admin) -> None:
    team = await _json(admin, "teams", "create", "t-cli", "--rpm", "100")
    user = await _json(admin, "users", "create", "grace", "--team", team["id"], "--email", "g@x.io")
    assert user["team"] == team["id"]
    assert user["email"] == "g@x.io"
    code, out, err = await junction(admin, "users", "list", "--team", team["id"])
    assert code == 0, err
    assert "grace" in out
    assert (await _json(admin, "teams", "update", team["id"], "--tpm", "5"))["tpm"] == 5
    assert (await _json(admin, "teams", "show", team["id"]))["rpm"] == 100
    code, out, err = await junction(admin, "teams", "list")
    assert code == 0
    assert "t-cli" in out
    assert (await _json(admin, "users", "delete", user["id"]))["deleted"] is True
    assert (await _json(admin, "teams", "delete", team["id"]))["deleted"] is True


async def test_store_bodies_flags(admin: Admin) -> None:
    team = await _json(admin, "teams", "create", "t-bodies", "--store-bodies")
    assert team["store_bodies"] is True
    key = await _json(admin, "keys", "create", "k-bodies", "--team", team["id"])
    assert key["store_bodies"] is None
    off = await _json(admin, "keys", "update", key["id"], "--no-store-bodies")
    assert off["store_bodies"] is False
    assert admin.records.key_rows[key["id"]].store_bodies is False
    inherit = await _json(admin, "keys", "update", key["id"], "--inherit-store-bodies")
    assert inherit["store_bodies"] is None
    changed = await _json(admin, "teams", "update", team["id"], "--no-store-bodies")
    assert changed["store_bodies"] is False
    code, _, err = await junction(
        admin, "keys", "create", "k2", "--store-bodies", "--no-store-bodies"
    )
    assert code == 2, err
    await _json(admin, "keys", "revoke", key["id"])


async def test_errors_are_messages_with_exit_codes(admin: Admin) -> None:
    before = len(admin.records.key_rows)
    code, _, err = await junction(admin, "keys", "create", "x", "--rpm", "-3")
    assert code == 2
    assert "(rpm)" in err
    assert "positive" in err
    code, _, err = await junction(admin, "keys", "create", "x", "--team", "team_nope")
    assert code == 2
    assert "(team)" in err
    code, _, err = await junction(admin, "keys", "show", "key_nope")
    assert code == 2
    assert "404" in err
    assert len(admin.records.key_rows) == before

    code, _, err = await junction(admin, "keys", "list", key=CLIENT)
    assert code == 1
    assert "not the master key" in err
    code, _, err = await junction(admin, "keys", "list", key="sk-wrong")
    assert code == 1
    assert "refused" in err
    code, _, err = await junction(admin, "keys", "list", key=None)
    assert code == 2
    assert "JUNCTION_MASTER_KEY" in err
    code, _, err = await junction(None, "keys", "list", url="http://127.0.0.1:9")
    assert code == 1
    assert "cannot connect" in err
    code, _, err = await junction(admin, "keys", "create", "x", "--metadata", "[1]")
    assert code == 2
    assert "JSON object" in err
