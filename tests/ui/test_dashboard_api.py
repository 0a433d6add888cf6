"""The admin endpoints the dashboard reads, through real sockets against the live
gateway: each figure checked against what the log and the admin API say."""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
import pytest

from _ui_stack import MASTER, Stack, Traffic
from junction.catalog import cost
from junction.types import Usage

Q = (0.50, 0.90, 0.95, 0.99)


def _nearest_rank(values: list[float]) -> list[float]:
    ordered = sorted(values)
    return [ordered[max(0, math.ceil(q * len(ordered)) - 1)] for q in Q]


def test_the_endpoints_take_the_master_key_only(stack: Stack, traffic: Traffic) -> None:
    paths = ["/admin/providers", "/admin/usage", "/admin/latency", "/admin/routing"]
    with httpx.Client(base_url=stack.url, timeout=30) as c:
        for path in paths:
            assert c.get(path).status_code == 401
            r = c.get(path, headers={"authorization": f"Bearer {traffic.key}"})
            assert r.status_code == 403, path
            assert r.json()["error"]["type"] == "permission_error"


def test_providers_show_live_statistics_and_the_open_circuit(
    stack: Stack, traffic: Traffic
) -> None:
    for _ in range(3):  # failures inside the last 30 s (the master key's, not the traffic's)
        assert stack.chat(MASTER, "broken") >= 500
    with stack.admin() as c:
        data = c.get("/admin/providers").json()["data"]
    by_model = {e["model"]: e for e in data}
    assert set(by_model) == {"cheap", "strong", "broken"}
    down = by_model["broken"]
    # Six connection failures in a row: the breaker (five) is open, nothing is up.
    assert down["circuit"] == "open"
    assert down["uptime_5m"] == 0.0
    assert down["error_rate_5m"] == 1.0
    assert down["recent_failures"] is True
    assert 1 <= len(down["failures"]) <= 5
    logged = {r["id"] for r in stack.settled(model="broken", want=traffic.failed + 3)}
    assert {f["generation"] for f in down["failures"]} <= logged
    up = by_model["cheap"]
    assert up["circuit"] == "closed"
    assert up["uptime_5m"] == 1.0
    assert up["latency_ms_30m"]["p50"] > 0
    assert up["ttft_ms_30m"]["p50"] > 0
    assert up["failures"] == []
    # The same statistics routing reads: the OpenRouter endpoints page agrees.
    with stack.admin() as c:
        page = c.get("/api/v1/models/cheap/endpoints").json()["data"]["endpoints"][0]
    assert page["uptime_last_30m"] == pytest.approx(100 * up["uptime_30m"])


def test_usage_is_what_the_limits_count_now(stack: Stack, traffic: Traffic) -> None:
    with stack.admin() as c:
        made = c.post(
            "/admin/keys",
            json={
                "name": "usage",
                "rpm": 100,
                "tpm": 100_000,
                "max_parallel": 3,
                "budget_usd": 5,
            },
        ).json()
    for _ in range(3):
        assert stack.chat(made["key"], "cheap") == 200
    rows = stack.settled(want=3, key=made["id"])
    with stack.admin() as c:
        key = c.get("/admin/usage", params={"key": made["id"]}).json()["data"]
        everything = c.get("/admin/usage").json()["data"]
        bad = c.get("/admin/usage", params={"colour": "red"})
    assert [u["scope"] for u in key] == ["key"]
    limits = {item["limit"]: item for item in key[0]["limits"]}
    assert set(limits) == {"rpm", "tpm", "max_parallel", "budget_usd"}
    assert limits["rpm"]["max"] == 100
    assert limits["budget_usd"]["period"] == "monthly"
    assert limits["rpm"]["used"] == 3  # the sliding minute
    assert limits["tpm"]["used"] == sum(r["prompt_tokens"] + r["completion_tokens"] for r in rows)
    assert limits["max_parallel"]["used"] == 0  # nothing in flight
    assert limits["budget_usd"]["used"] == pytest.approx(sum(r["cost"] for r in rows), rel=1e-6)
    assert limits["budget_usd"]["resets_at"] is not None
    assert {"key", "team"} <= {u["scope"] for u in everything}
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "colour"


def test_latency_percentiles_are_the_logs_when_the_sample_holds_every_row(
    stack: Stack, traffic: Traffic
) -> None:
    with stack.admin() as c:
        view = c.get("/admin/latency", params={"key": traffic.key_id}).json()
    rows = stack.settled(key=traffic.key_id)
    ok = [r for r in rows if r["status"] < 400]
    assert view["exact"] is True
    assert view["sampled"] == traffic.requests
    expected = dict(
        zip(
            ("p50", "p90", "p95", "p99"), _nearest_rank([r["latency_ms"] for r in ok]), strict=False
        )
    )
    assert view["latency_ms"] == pytest.approx(expected, abs=1e-3)
    ttft = _nearest_rank([r["ttft_ms"] for r in ok if r["ttft_ms"] is not None])
    assert view["ttft_ms"] == pytest.approx(
        dict(zip(("p50", "p90", "p95", "p99"), ttft, strict=False)), abs=1e-3
    )
    models = {m["model"]: m for m in view["by_model"]}
    assert models["cheap"]["sampled"] == sum(1 for r in ok if r["model_used"] == "cheap")


def test_latency_over_many_rows_samples_and_weighs_by_the_rollup(stack: Stack) -> None:
    now = time.time()
    params = {"start": str(now - 7 * 86400), "end": str(now)}
    with stack.admin() as c:
        view = c.get("/admin/latency", params=params).json()
        spend = c.get("/admin/spend", params={**params, "group_by": "hour", "by": "model"}).json()
    total = sum(r["requests"] for r in spend["data"])
    assert view["requests"] == total > 15_000
    assert view["exact"] is False
    assert view["sampled"] < total
    assert len(view["series"]) <= 48
    assert view["bucket_seconds"] % 3600 == 0
    # The synthetic latencies are uniform on [50, 5000] ms: the sample finds the middle.
    assert 2000 < view["latency_ms"]["p50"] < 3100
    assert sum(m["requests"] for m in view["by_model"]) == pytest.approx(
        sum(r["requests"] - r["errors"] for r in spend["data"]), rel=0.1
    )


def test_routing_decisions_savings_and_the_shadow_comparison(
    stack: Stack, traffic: Traffic
) -> None:
    with stack.admin() as c:
        view = c.get("/admin/routing", params={"key": traffic.key_id}).json()
    routers = {r["name"]: r for r in view["routers"]}
    assert set(routers) == {"auto", "watch"}
    assert routers["auto"]["strong"] == "strong"
    assert routers["watch"]["shadow"] is True
    rows = [r for r in stack.settled(key=traffic.key_id) if r["router"]]
    auto = [r for r in rows if r["router"]["name"] == "auto"]
    watch = [r for r in rows if r["router"]["name"] == "watch"]
    assert len(auto) == 6
    assert len(watch) == 4
    result = view["results"]["auto"]
    assert result["requests"] == 6
    assert set(result["share"]) == {"strong", "cheap"}  # hard prompts to strong, easy to cheap
    strong_price = stack.gateway.routes["strong"].endpoints[0].info.price
    always = sum(cost(_usage(r), strong_price) for r in auto)
    assert result["always_strong_cost"] == pytest.approx(always, rel=1e-4)
    assert result["savings"] == pytest.approx(always - sum(r["cost"] for r in auto), rel=1e-4)
    assert result["savings"] > 0
    shadow = view["results"]["watch"]
    assert shadow["served"] == {"cheap": 1.0}  # a shadow router serves its default
    agree = sum(1 for r in watch if r["router"]["model"] == "cheap") / len(watch)
    assert shadow["shadow"]["agreement"] == pytest.approx(agree)
    assert {d["id"] for d in view["decisions"]} == {r["id"] for r in rows}
    assert sum(sum(b.values()) for b in result["series"]) == pytest.approx(6)


def _usage(row: dict[str, Any]) -> Usage:
    return Usage(
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        cached_tokens=row["cached_tokens"],
        cache_write_tokens=row["cache_write_tokens"],
        reasoning_tokens=row["reasoning_tokens"],
    )


def test_routing_says_so_when_no_router_is_configured(stack: Stack) -> None:
    with stack.admin(stack.bare_url) as c:
        view = c.get("/admin/routing").json()
    assert view["routers"] == []
    assert view["results"] == {}
    assert view["decisions"] == []


def test_one_logged_request_and_bad_parameters(stack: Stack, traffic: Traffic) -> None:
    row = stack.settled(key=traffic.key_id)[0]
    with stack.admin() as c:
        assert c.get(f"/admin/logs/{row['id']}").json() == row
        missing = c.get("/admin/logs/gen-nope")
        assert missing.status_code == 404
        assert missing.json()["error"]["param"] == "id"
        for params, param in (
            ({"colour": "red"}, "colour"),
            ({"start": "2030-01-02", "end": "2030-01-01"}, "start"),
            ({"start": "yesterday"}, "start"),
            ({"start": "1", "end": "1", "key": "a"}, "start"),
        ):
            for path in ("/admin/latency", "/admin/routing"):
                r = c.get(path, params=params)
                assert r.status_code == 400, (path, params)
                assert r.json()["error"]["param"] == param


def test_a_request_log_that_is_off_is_a_404_not_a_500(tmp_path: Any) -> None:
    import asyncio

    from junction.config import parse_config
    from junction.server.app import create_app

    async def main() -> list[int]:
        config = parse_config(
            f"server: {{master_key: {MASTER}}}\n"
            "stores: {database_url: 'memory://'}\nmodels: {}",
            {},
        )
        app = create_app(config)
        await app.context.startup()
        transport = httpx.ASGITransport(app=app)
        headers = {"authorization": f"Bearer {MASTER}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            out = [
                (await c.get(p, headers=headers)).status_code
                for p in ("/admin/latency", "/admin/routing", "/admin/logs/x", "/admin/providers")
            ]
        await app.context.shutdown()
        return out

    assert asyncio.run(main()) == [404, 404, 404, 200]
