"""Each policy stage alone: what it declares, refuses and settles."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from junction.config import parse_config
from junction.gateway import Gateway
from junction.gateway.trace import Principal, Trace
from junction.policy import Call
from junction.policy.admission import Admission
from junction.policy.limits import Budgets, RateLimits
from junction.policy.periods import Periods, valid_period
from junction.policy.permissions import KeyPermissions
from junction.stores import KeyRecord, Limits, TeamRecord
from junction.stores.memory import MemoryCounters
from junction.transport import Transport
from junction.types import ChatRequest, GatewayError, Message, TextPart, Usage

CONFIG = """
models:
  sim/openai:
    deployments:
      - {provider: openai, model: gpt-4o-mini, base_url: "http://127.0.0.1:9/v1", api_key: k}
  other/model:
    deployments:
      - {provider: openai, model: gpt-4o, base_url: "http://127.0.0.1:9/v1", api_key: k}
"""
T0 = datetime(2026, 3, 14, 15, 9, 26, tzinfo=ZoneInfo("UTC")).timestamp()


def principal(limits: Limits, team: Limits | None = None, **key: object) -> Principal:
    record = KeyRecord(
        id="key_a",
        name="alice",
        key_hash="0" * 64,
        prefix="sk-jx-aaaa",
        created_at=0.0,
        team="t1" if team else None,
        limits=limits,
        **key,  # type: ignore[arg-type]
    )
    team_record = TeamRecord(id="t1", name="core", created_at=0.0, limits=team) if team else None
    return Principal("alice", id="key_a", key=record, team=team_record)


def call(who: Principal, model: str = "sim/openai", now: float = T0, **extra: object) -> Call:
    gateway = Gateway(parse_config(CONFIG, {}), Transport())
    request = ChatRequest(
        model=model,
        messages=[Message(role="user", content=[TextPart(text="hello " * 40)])],
        max_tokens=100,
        extra=dict(extra),
    )
    return Call(Trace(key=who), request, gateway.route(model), now)


async def test_allow_list_globs_of_key_and_team() -> None:
    stage = KeyPermissions()
    await stage.enter(call(principal(Limits(models=["sim/*"]))))
    with pytest.raises(GatewayError) as refused:
        await stage.enter(call(principal(Limits(models=["sim/*"])), "other/model"))
    assert refused.value.status == 403
    assert "other/model" in refused.value.message
    with pytest.raises(GatewayError) as by_team:
        await stage.enter(call(principal(Limits(), team=Limits(models=["other/*"]))))
    assert by_team.value.status == 403
    assert "team" in by_team.value.message


async def test_fallback_models_cannot_bypass_the_allow_list() -> None:
    who = principal(Limits(models=["sim/*"]))
    with pytest.raises(GatewayError) as refused:
        await KeyPermissions().enter(call(who, models=["other/model"]))
    assert "other/model" in refused.value.message


async def test_a_locked_key_drops_the_requests_provider_preferences() -> None:
    locked = call(principal(Limits(), provider={"order": ["x"]}, provider_locked=True))
    locked.trace.key = Principal(
        "alice",
        id="key_a",
        key=locked.principal.key if locked.principal else None,
        provider_locked=True,
    )
    assert isinstance(locked.request, ChatRequest)
    locked.request.extra["provider"] = {"order": ["evil"]}
    await KeyPermissions().enter(locked)
    assert "provider" not in locked.request.extra
    free = call(principal(Limits()), provider={"order": ["mine"]})
    await KeyPermissions().enter(free)
    assert isinstance(free.request, ChatRequest)
    assert free.request.extra["provider"]


async def test_rate_limits_declare_requests_tokens_and_parallel_per_owner() -> None:
    c = call(principal(Limits(rpm=5, tpm=1000, max_parallel=2), team=Limits(rpm=50)))
    await RateLimits().enter(c)
    declared = {(x.scope, x.kind, x.limit) for x in c.checks}
    assert declared == {
        ("key:key_a", "requests", 5),
        ("key:key_a", "tokens", 1000),
        ("key:key_a", "parallel", 2),
        ("team:t1", "requests", 50),
    }
    tokens = next(x for x in c.checks if x.kind == "tokens")
    assert tokens.amount == c.prompt_tokens + 100  # the prompt estimate and max_tokens


async def test_admission_refuses_with_the_limit_state_and_counts_nothing() -> None:
    counters = MemoryCounters()
    admission = Admission(counters)
    who = principal(Limits(rpm=2))
    for _ in range(2):
        ok = call(who)
        await RateLimits().enter(ok)
        await admission.enter(ok)
    refused = call(who)
    await RateLimits().enter(refused)
    with pytest.raises(GatewayError) as err:
        await admission.enter(refused)
    headers = dict(err.value.headers)
    assert err.value.status == 429
    assert err.value.retry_after == 60
    assert headers["x-ratelimit-limit-requests"] == "2"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    # 60 s later the window has moved on.
    later = call(who, now=T0 + 60)
    await RateLimits().enter(later)
    await admission.enter(later)


async def test_budget_reserves_the_estimate_and_settles_the_real_cost() -> None:
    counters = MemoryCounters()
    admission = Admission(counters)
    budgets = Budgets(Periods("UTC"))
    who = principal(Limits(budget_usd=1.0, budget_period="daily"))
    c = call(who)
    await budgets.enter(c)
    await admission.enter(c)
    check = c.checks[0]
    assert check.kind == "spend"
    assert check.amount == c.cost_estimate
    assert check.amount > 0
    c.usage = Usage(prompt_tokens=10, completion_tokens=5, cost=0.25)
    admission.leave(c)
    await admission.drain()
    verdict = await counters.admit([check], T0 + 1)
    assert verdict.used[0] == pytest.approx(0.25)  # the reserve replaced by the real cost


async def test_a_spent_budget_names_itself_and_its_reset() -> None:
    admission = Admission(MemoryCounters())
    budgets = Budgets(Periods("Europe/Paris"))
    who = principal(Limits(budget_usd=0.0000001, budget_period="daily"))
    c = call(who)
    await budgets.enter(c)
    with pytest.raises(GatewayError) as err:
        await admission.enter(c)
    assert err.value.status == 429
    assert err.value.code == "budget_exceeded"
    # Paris midnight after 2026-03-14 16:09 local is 2026-03-14T23:00Z.
    assert "key key_a" in err.value.message
    assert "2026-03-14T23:00:00+00:00" in err.value.message


async def test_soft_budget_warns_and_passes() -> None:
    admission = Admission(MemoryCounters())
    budgets = Budgets(Periods("UTC"))
    c = call(principal(Limits(soft_budget_usd=0.0000001)))
    await budgets.enter(c)
    await admission.enter(c)
    assert any(name == "x-junction-budget-warning" for name, _ in c.headers)
    assert admission.soft_budget_warnings == 1


def test_calendar_periods_in_a_time_zone() -> None:
    periods = Periods("America/New_York")
    # 2026-03-08 is the US spring-forward day: 23 hours long.
    inside = datetime(2026, 3, 8, 12, tzinfo=ZoneInfo("America/New_York")).timestamp()
    day = periods.window("daily", inside)
    assert day.start is not None
    assert day.end is not None
    assert day.end - day.start == 23 * 3600
    week = periods.window("weekly", inside)
    assert datetime.fromtimestamp(week.start or 0, ZoneInfo("America/New_York")).weekday() == 0
    month = periods.window("monthly", inside)
    first = datetime.fromtimestamp(month.start or 0, ZoneInfo("America/New_York"))
    assert (first.day, first.hour) == (1, 0)
    assert periods.window("7d", inside).rolling == 7 * 86400
    assert periods.window("total", inside).start == 0.0
    # The window moves on when its period ends.
    assert periods.window("daily", day.end).start == day.end


def test_period_names() -> None:
    assert all(valid_period(p) for p in ("daily", "weekly", "monthly", "total", "24h", "30d"))
    assert not any(valid_period(p) for p in ("yearly", "0d", "5m", "", "1.5h"))


async def test_parallel_leases_are_released_when_the_request_leaves() -> None:
    counters = MemoryCounters()
    admission = Admission(counters)
    who = principal(Limits(max_parallel=1))
    first = call(who)
    await RateLimits().enter(first)
    await admission.enter(first)
    second = call(who)
    await RateLimits().enter(second)
    with pytest.raises(GatewayError):
        await admission.enter(second)
    admission.leave(first)
    await admission.drain()
    third = call(who)
    await RateLimits().enter(third)
    await admission.enter(third)
    await asyncio.sleep(0)


async def test_a_models_own_limits_bind_every_caller_keys_or_not() -> None:
    limited = CONFIG.replace("  other/model:\n", "    rpm: 2\n    tpm: 100000\n  other/model:\n")
    gateway = Gateway(parse_config(limited, {}), Transport())
    assert gateway.policy.anonymous
    request = ChatRequest(
        model="sim/openai", messages=[Message(role="user", content=[TextPart(text="hi")])]
    )
    for _ in range(2):
        assert await gateway._enter(Trace(), request) is not None
    with pytest.raises(GatewayError) as refused:
        await gateway._enter(Trace(), request)
    assert refused.value.status == 429
    assert "model sim/openai" in refused.value.message
    # Another model is not counted against it: admitted, with nothing to count.
    other = ChatRequest(
        model="other/model", messages=[Message(role="user", content=[TextPart(text="hi")])]
    )
    admitted = await gateway._enter(Trace(), other)
    assert admitted is not None
    assert admitted.checks == []
