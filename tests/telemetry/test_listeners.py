"""The settle listeners on their own: label bounds, the JSON line, limit rejections."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from _records import gateway, record
from junction.telemetry.labels import OTHER, TopValues
from junction.telemetry.logs import ERROR_LIMIT, RequestLog
from junction.telemetry.metrics import Metrics


def _families(metrics: Metrics) -> dict[str, list[tuple[dict[str, str], float]]]:
    body, _ = metrics.render()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def test_only_the_top_keys_and_teams_get_their_own_label() -> None:
    gw = gateway()
    metrics = Metrics(top_keys=3)
    for i in range(10):
        for _ in range(5 if i < 3 else 1):
            metrics.observe(record(gw, key=f"key-{i}", team=f"team-{i}"))
    requests = _families(metrics)["junction_requests_total"]
    keys = {labels["key"]: value for labels, value in requests}
    assert keys == {"key-0": 5, "key-1": 5, "key-2": 5, OTHER: 7}
    assert {labels["team"] for labels, _ in requests} == {"team-0", "team-1", "team-2", OTHER}


def test_a_key_that_overtakes_a_labelled_one_is_promoted_and_the_bound_holds() -> None:
    values = TopValues(limit=2)
    assert [values.label(v) for v in ("a", "b", "c")] == ["a", "b", OTHER]
    for _ in range(5):
        last = values.label("c")
    assert last == "c"
    assert values.promoted == 1
    for i in range(1000):
        values.label(f"rare-{i}")
    assert len(values.labelled()) == 3


def test_a_limit_rejection_is_counted_by_scope_and_keys_never_show_secrets() -> None:
    gw = gateway()
    metrics = Metrics()
    metrics.observe(record(gw, key="k1", status=429, error="rate_limited"))
    metrics.observe(record(gw, key="k1", status=429, error="budget_exceeded"))
    metrics.observe(record(gw, key="k1"))
    fams = _families(metrics)
    scopes = {labels["scope"]: value for labels, value in fams["junction_limit_rejections_total"]}
    assert scopes == {"rate_limited": 1, "budget_exceeded": 1}
    spend = fams["junction_budget_spend_usd"]
    assert [(labels["key"], value) for labels, value in spend] == [("k1", 0.001)]
    tokens = {
        labels["kind"]: value
        for labels, value in fams["junction_tokens_total"]
        if labels["status"] == "200"
    }
    assert tokens == {
        "prompt": 10,
        "completion": 5,
        "cached_read": 2,
        "cache_write": 0,
        "reasoning": 0,
    }


def test_one_json_line_per_request_with_the_upstream_error_redacted_and_truncated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gw = gateway()
    upstream = '{"error": "bad key sk-provider-secret-abcdef123456"} ' + "x" * 5000
    log = RequestLog(gw.redactor)
    with caplog.at_level(logging.INFO, logger="junction.requests"):
        log(record(gw, key="k1", team="t1", attempt_error=upstream))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "junction.requests"]
    data = json.loads(line)
    assert data["id"] == "gen-test-1"
    assert (data["key"], data["team"], data["door"], data["model"]) == (
        "k1",
        "t1",
        "openai_chat",
        "m/one",
    )
    assert (data["provider"], data["status"], data["error"]) == ("dep-a", 200, None)
    assert data["tokens"] == {
        "prompt": 10,
        "completion": 5,
        "cached_read": 2,
        "cache_write": 0,
        "reasoning": 0,
    }
    assert data["cost"] == 0.001
    assert (data["latency_ms"], data["ttft_ms"], data["streamed"], data["cancelled"]) == (
        55.0,
        20.0,
        False,
        False,
    )
    failed, served = data["attempts"]
    assert (failed["deployment"], failed["status"]) == ("dep-a", 502)
    assert "sk-provider-secret" not in failed["error"]
    assert "[redacted]" in failed["error"]
    assert len(failed["error"].encode()) <= ERROR_LIMIT + 16
    assert "error" not in served
    assert data["time"].endswith("+00:00")


def test_json_logs_through_the_app_are_off_by_default_and_on_when_asked() -> None:
    from junction.config import parse_config
    from junction.telemetry import install

    gw = gateway()
    assert install(gw, parse_config("models: {}", {})).log is None
    on = install(gw, parse_config("models: {}\ntelemetry: {json_logs: true}", {}))
    assert on.log is not None
    assert on.log in gw.accountant.listeners
