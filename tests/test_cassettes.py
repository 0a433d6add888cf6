"""The fixture loader's policy: a missing fixture skips locally and fails under CI."""

from __future__ import annotations

import pytest

from _cassettes import RECORDED, Interaction, cassette, in_ci, interactions, missing, params


@pytest.mark.parametrize(
    ("value", "ci"), [("true", True), ("1", True), ("", False), ("false", False)]
)
def test_ci_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, ci: bool
) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci() is ci


def test_missing_fixture_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="tests/fixtures/recorded/test_none"):
        missing(RECORDED / "test_none")
    with pytest.raises(pytest.fail.Exception, match="sync-fixtures"):
        interactions("test_none", Interaction)
    with pytest.raises(pytest.fail.Exception):
        params([], "test_none")
    with pytest.raises(pytest.fail.Exception):
        cassette("test_anthropic", "no_such_cassette")


def test_missing_fixture_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="tests/fixtures/recorded/test_none"):
        missing(RECORDED / "test_none")
    assert interactions("test_none", Interaction) == []
    (placeholder,) = params([], "test_none")
    assert placeholder.marks[0].name == "skip"


def test_a_cassette_reads_as_recorded() -> None:
    (x,) = cassette("test_anthropic", "test_anthropic_count_tokens_with_native_tools")
    assert (x.method, x.status, x.index) == ("POST", 200, 0)
    assert x.uri == "https://api.anthropic.com/v1/messages/count_tokens?beta=true"
    assert x.request_json() == {
        "messages": [{"content": [{"text": "What is 2 + 2?", "type": "text"}], "role": "user"}],
        "model": "claude-sonnet-4-5",
    }
    assert x.parsed == {"input_tokens": 16}
    assert x.response_body is None
    assert x.body_bytes() == b'{"input_tokens": 16}'
