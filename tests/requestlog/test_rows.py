"""Stored bodies are redacted first; tags are parsed bounded."""

from __future__ import annotations

import json

from junction.requestlog.rows import MAX_TAGS, Redaction, parse_tags


def test_redaction_scrubs_key_values_at_any_depth_and_patterns() -> None:
    r = Redaction.of([r"sk-[A-Za-z0-9]{10,}"], ["Password", "api_key"])
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "my key is sk-abcdefghijklmnop"}],
        "metadata": {"password": "hunter2", "nested": {"API_KEY": "x"}},
    }
    out = json.loads(r.apply(json.dumps(body).encode()))
    assert out["metadata"]["password"] == "[REDACTED]"
    assert out["metadata"]["nested"]["API_KEY"] == "[REDACTED]"
    assert out["messages"][0]["content"] == "my key is [REDACTED]"
    assert out["model"] == "m"


def test_a_body_that_is_not_json_still_gets_the_patterns() -> None:
    r = Redaction.of([r"secret\d+"], [])
    assert r.apply(b"not json secret42") == "not json [REDACTED]"


def test_tags_are_trimmed_deduplicated_and_bounded() -> None:
    assert parse_tags(" a, b,,a , c ") == ["a", "b", "c"]
    assert parse_tags(None) == []
    assert len(parse_tags(",".join(f"t{i}" for i in range(100)))) == MAX_TAGS
