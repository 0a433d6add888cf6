"""The dashboard tests' live gateway (tests/ui/_ui_stack.py) and the traffic
they look at: made once per session, before any test reads it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from _ui_stack import EASY, HARD, Stack, Traffic, stack_for

SYNTHETIC_ROWS = 20_000
"""Synthetic log rows over the last 7 days (more per hour than a sample reads)."""


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from stack_for(tmp_path_factory.mktemp("ui"), SYNTHETIC_ROWS)


@pytest.fixture(scope="session")
def traffic(stack: Stack) -> Traffic:
    with stack.admin() as admin:
        team = admin.post("/admin/teams", json={"name": "dashboard team"}).json()["id"]
        made = admin.post(
            "/admin/keys",
            json={
                "name": "dash-a",
                "team": team,
                "rpm": 1000,
                "tpm": 10_000_000,
                "max_parallel": 5,
                "budget_usd": 50,
            },
        ).json()
    key = made["key"]
    calls = [("cheap", "hello", False)] * 4 + [("strong", "hello", False)] * 2
    calls += [("cheap", "stream me", True)] * 2
    calls += [("auto", HARD, False)] * 3 + [("auto", EASY, False)] * 3
    calls += [("watch", HARD, False)] * 2 + [("watch", EASY, False)] * 2
    broken = [("broken", "hello", False)] * 6
    for model, text, stream in calls + broken:
        stack.chat(key, model, text, stream)
    total = len(calls) + len(broken)
    rows = stack.settled(want=total, key=made["id"])
    assert len(rows) == total, "the request log did not settle"
    return Traffic(team, made["id"], key, total, len(broken))
