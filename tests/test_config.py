"""The config file: validation with file, line and key; ${VAR}; secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from junction.config import ConfigError, Secret, config_from_env, load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
server:
  port: 4001
models:
  team/chat:
    deployments:
      - provider: openai
        model: gpt-4o-mini
        api_key: ${OPENAI_KEY}
      - provider: anthropic
        model: claude-haiku-4-5
        api_key: ${ANTHROPIC_KEY:-fallback-key}
        price: {input: 1.0, output: 5.0}
"""


def test_a_good_config_loads() -> None:
    config = parse_config(GOOD, {"OPENAI_KEY": "sk-secret-1"})
    assert config.server.port == 4001
    deps = config.models["team/chat"].deployments
    assert [d.provider for d in deps] == ["openai", "anthropic"]
    assert isinstance(deps[0].api_key, Secret)
    assert deps[0].api_key.reveal() == "sk-secret-1"
    assert deps[1].api_key is not None
    assert deps[1].api_key.reveal() == "fallback-key"
    assert deps[1].price is not None
    assert deps[1].price.output == 5.0


def test_secrets_never_print(caplog: pytest.LogCaptureFixture) -> None:
    config = parse_config(GOOD, {"OPENAI_KEY": "sk-secret-1"})
    logging.getLogger("t").warning("config %s %r", config, config)
    assert "sk-secret-1" not in repr(config)
    assert "sk-secret-1" not in str(config)
    assert "sk-secret-1" not in caplog.text
    assert "fallback-key" not in repr(config)


@pytest.mark.parametrize(
    ("text", "env", "where", "words"),
    [
        (GOOD, {}, ":8:", "OPENAI_KEY is not set"),
        (GOOD.replace("4001", '"high"'), {"OPENAI_KEY": "k"}, ":2:", "server.port"),
        (GOOD.replace("provider: openai", "provider: opnai"), {"OPENAI_KEY": "k"}, ":6:", "opnai"),
        (
            GOOD.replace("model: gpt-4o-mini", "modle: gpt-4o-mini"),
            {"OPENAI_KEY": "k"},
            ":6:",
            "unknown field `modle`",
        ),
        (GOOD.replace("input: 1.0", "input: cheap"), {"OPENAI_KEY": "k"}, ":12:", "price.input"),
        ("models:\n  a: {deployments: []}\n", {}, ":2:", "at least one deployment"),
        ("models:\n  - a\n", {}, ":2:", "must be a mapping"),
        ("server: {port: 1\n", {}, ":2:", "not valid YAML"),
        (
            "models:\n  a:\n    deployments:\n      - {provider: vllm, model: m}\n",
            {},
            ":4:",
            "base_url",
        ),
        (
            "models:\n  a:\n    deployments:\n      - {provider: openai, model: m, base_url: ftp://x}\n",
            {},
            ":4:",
            "http://",
        ),
    ],
)
def test_errors_name_file_line_and_key(
    text: str, env: dict[str, str], where: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, env, source="team.yaml")
    message = str(caught.value)
    assert message.startswith("team.yaml" + where), message
    assert words in message


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml", {})


def test_example_config_loads_and_demo_copy_is_identical() -> None:
    example = ROOT / "examples" / "sim.yaml"
    config = load_config(example, {"JUNCTION_SIM_URL": "http://127.0.0.1:9999"})
    assert {"sim/openai", "sim/anthropic", "sim/gemini", "sim/embedding"} <= set(config.models)
    assert config.models["sim/openai"].deployments[0].base_url == "http://127.0.0.1:9999/v1"
    demo = ROOT / "src" / "junction" / "demo.yaml"
    assert demo.read_text() == example.read_text()


def test_provider_keys_in_the_environment_expose_their_models() -> None:
    config = config_from_env({"GROQ_API_KEY": "gsk-1", "ANTHROPIC_API_KEY": "sk-ant"})
    assert config is not None
    assert "groq/llama-3.3-70b-versatile" in config.models
    assert any(name.startswith("anthropic/") for name in config.models)
    assert not any(name.startswith("openai/") for name in config.models)
    assert config_from_env({}) is None
