"""Profiles: YAML loading, validation errors and per-model resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from junction.sim import Faults, ModelSettings, Profile, ProfileError, load_profile, parse_profile
from junction.sim.profile import parse_patch

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sim-profile.yaml"


def test_example_profile_loads_and_documents_every_key() -> None:
    profile = load_profile(EXAMPLE)
    text = EXAMPLE.read_text()
    for key in ("seed", "require_key", "max_logged_requests", "models"):
        assert f"{key}:" in text
    for key in ModelSettings.__struct_fields__:
        assert f"{key}:" in text, key
    for key in Faults.__struct_fields__:
        assert f"{key}:" in text, key
    assert profile.resolve("bench-anything").tokens_per_second == 0


def test_defaults_without_models() -> None:
    config = Profile().resolve("anything")
    assert config.ttft_ms == 0
    assert config.tokens_per_second == 0
    assert config.hang_ms == 600_000
    assert config.faults.total() == 0


def test_resolution_order_star_glob_exact() -> None:
    profile = parse_profile(
        {
            "models": {
                "*": {"ttft_ms": 1, "output_tokens": 5, "jitter": 0.5},
                "gpt-*": {"ttft_ms": 2},
                "gpt-4*": {"ttft_ms": 3, "output_tokens": 7},
                "gpt-4o": {"ttft_ms": 4},
            }
        }
    )
    assert profile.resolve("claude").ttft_ms == 1
    assert profile.resolve("gpt-3.5").ttft_ms == 2
    four = profile.resolve("gpt-4-turbo")
    assert (four.ttft_ms, four.output_tokens, four.jitter) == (3, 7, 0.5)
    exact = profile.resolve("gpt-4o")
    assert (exact.ttft_ms, exact.output_tokens) == (4, 7)


def test_faults_replace_inherited_table() -> None:
    profile = parse_profile(
        {
            "models": {
                "*": {"faults": {"server_error": 0.3}},
                "calm": {"faults": {}},
                "other": {"faults": {"rate_limit": 0.1}},
            }
        }
    )
    assert profile.resolve("x").faults.server_error == 0.3
    assert profile.resolve("calm").faults.total() == 0
    other = profile.resolve("other").faults
    assert (other.rate_limit, other.server_error) == (0.1, 0.0)


def test_with_model_merges_a_patch() -> None:
    profile = parse_profile({"models": {"m": {"ttft_ms": 9, "output_tokens": 3}}})
    patched = profile.with_model("m", parse_patch(b'{"output_tokens": 4}'))
    assert patched.resolve("m").ttft_ms == 9
    assert patched.resolve("m").output_tokens == 4
    assert profile.resolve("m").output_tokens == 3  # the original is untouched


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        ("models:\n  m:\n    ttft: 3\n", "ttft"),
        ("models:\n  m:\n    faults:\n      rate_limit: 1.5\n", "rate_limit"),
        ("models:\n  m:\n    faults:\n      reset: 0.6\n      timeout: 0.6\n", "add up"),
        ("models:\n  m:\n    tokens_per_second: -1\n", "tokens_per_second"),
        ("seed: [1\n", "not valid YAML"),
        ("- 1\n- 2\n", "mapping"),
        ("colour: blue\n", "colour"),
    ],
)
def test_load_errors_are_clear(tmp_path: Path, yaml_text: str, needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert str(path) in message
    assert needle in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "absent.yaml")


def test_empty_file_is_the_default_profile(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_profile(path) == Profile()


def test_bad_patch() -> None:
    with pytest.raises(ProfileError):
        parse_patch(b'{"faults": {"stream_cut": "often"}}')
    with pytest.raises(ProfileError):
        parse_patch(b"not json")
