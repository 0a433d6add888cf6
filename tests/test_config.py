"""The config file: validation with file, line and key; ${VAR}; secrets."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
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


# --- the YAML reader: duplicates, aliases, nesting, tags -------------------------

DEP = "{provider: openai, model: m}"


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (
            f"models:\n  a: {{deployments: [{DEP}]}}\n  b: {{deployments: [{DEP}]}}\n"
            f"  a: {{deployments: [{DEP}]}}\n",
            ":4:",
            "models.a: given twice (first at line 2)",
        ),
        ("server:\n  port: 1\n  port: 2\n", ":3:", "server.port: given twice (first at line 2)"),
        (
            f"models:\n  a:\n    deployments: [{DEP}]\n    deployments: [{DEP}]\n",
            ":4:",
            "models.a.deployments: given twice",
        ),
        (
            "models:\n  a: &x {deployments: [*x]}\n",
            ":2:",
            "an alias refers to a value that contains it",
        ),
        ("server: &s\n  nested: [*s]\n", ":1:", "contains it"),
        ("server: {port: !!python/object:os.system 1}\n", ":1:", "tag"),
        ("server: {port: !custom 1}\n", ":1:", "the tag !custom is not allowed"),
        ("server: !!set {a, b}\n", ":1:", "is not allowed"),
        ("server: {port: !!binary aGk=}\n", ":1:", "is not allowed"),
        ("models:\n  <<: {a: 1}\n", ":2:", "merge keys (<<) are not supported"),
        ('models:\n  "": {deployments: []}\n', ":2:", "a key is empty"),
        ("models:\n  ? [a, b]\n  : 1\n", ":2:", "keys must be plain names, not a list"),
        ("x: " + "[" * 80 + "]" * 80 + "\n", ":1:", "nested deeper than 64 levels"),
        ("", ":1:", "the config file is empty"),
        ("# only a comment\n", ":1:", "the config file is empty"),
        ("source: x\n", ":1:", "unknown field `source`"),
    ],
)
def test_the_yaml_reader_refuses_what_a_config_must_not_hold(
    text: str, where: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, {}, source="team.yaml")
    message = str(caught.value)
    assert message.startswith("team.yaml" + where), message
    assert words in message
    assert "\n" not in message


def test_nesting_beyond_the_yaml_parsers_own_recursion_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="nests deeper than 64 levels"):
        parse_config("x: " + "[" * 20_000 + "]" * 20_000 + "\n", {}, source="team.yaml")


def test_a_billion_laughs_is_refused_at_once() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases expand to more than 10000 values"):
        parse_config("\n".join(lines) + "\n", {}, source="laughs.yaml")
    assert time.perf_counter() - started < 2.0


def test_aliases_within_bounds_still_work() -> None:
    text = (
        "models:\n"
        "  a:\n"
        "    deployments:\n"
        "      - &shared {provider: openai, model: gpt-4o-mini, price: {input: 1, output: 2}}\n"
        "  b:\n"
        "    deployments: [*shared]\n"
    )
    config = parse_config(text, {})
    assert config.models["b"].deployments[0].model == "gpt-4o-mini"
    assert config.models["b"].deployments[0].price is not None


def test_dates_stay_the_text_written() -> None:
    text = (
        "models:\n  a:\n    deployments:\n"
        "      - {provider: azure-deployments, model: m, base_url: 'https://x.example',"
        " api_version: 2024-06-01}\n"
    )
    assert parse_config(text, {}).models["a"].deployments[0].api_version == "2024-06-01"


# --- the validator: values a schema alone would accept ------------------------------

MODEL = f"models:\n  a: {{deployments: [{DEP}]}}\n"


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (
            "timeouts: {connect: 0}\n" + MODEL,
            ":1:",
            "timeouts.connect: must be more than 0 seconds",
        ),
        ("timeouts: {total: -5}\n" + MODEL, ":1:", "timeouts.total: must be more than 0"),
        (
            "models:\n  a:\n    deployments:\n"
            "      - {provider: openai, model: m, timeouts: {first_token: -1}}\n",
            ":4:",
            "models.a.deployments[0].timeouts.first_token: must be more than 0",
        ),
        (
            "server: {max_body_bytes: -1}\n" + MODEL,
            ":1:",
            "server.max_body_bytes: must be at least 1",
        ),
        ("server: {max_body_bytes: 0}\n" + MODEL, ":1:", "must be at least 1"),
        ("server: {port: 0}\n" + MODEL, ":1:", "server.port: must be a port number"),
        ("server: {header_timeout: 0}\n" + MODEL, ":1:", "server.header_timeout: must be more"),
        ("server: {shutdown_grace: -1}\n" + MODEL, ":1:", "server.shutdown_grace: must be more"),
        ("server: {max_connections: 0}\n" + MODEL, ":1:", "server.max_connections: must be at"),
        ("server: {max_headers: -3}\n" + MODEL, ":1:", "server.max_headers: must be at least 1"),
        ("server: {port: 70000}\n" + MODEL, ":1:", "1 to 65535"),
        ("server: {master_key: ''}\n" + MODEL, ":1:", "server.master_key: is empty"),
        ("request_limits: {max_json_depth: 0}\n" + MODEL, ":1:", "must be at least 1"),
        ("request_limits: {max_json_depth: 500}\n" + MODEL, ":1:", "must be at most 128"),
        ("request_limits: {max_n: -1}\n" + MODEL, ":1:", "request_limits.max_n"),
        ("request_limits: {max_batch: 3}\n" + MODEL, ":1:", "unknown field `max_batch`"),
        (
            "models:\n  a:\n    deployments:\n      - {provider: openai, model: m, api_key: ''}\n",
            ":4:",
            "api_key: is empty",
        ),
        (
            "models:\n  a:\n    deployments:\n"
            "      - {provider: openai, model: m, max_output_tokens: 0}\n",
            ":4:",
            "max_output_tokens: must be at least 1",
        ),
        (
            "models:\n  a:\n    deployments:\n"
            "      - {provider: openai, model: m, price: {input: -1}}\n",
            ":4:",
            "price.input: must not be negative",
        ),
        ("keys:\n  - {name: a, key: ''}\n", ":2:", "keys[0].key: is empty"),
        ("keys:\n  - {name: a, key: '${EMPTY:-}'}\n", ":2:", "keys[0].key: is empty"),
        (
            "keys:\n  - {name: a, key: '${K1}'}\n  - {name: b, key: '${K2}'}\n",
            ":3:",
            "keys[1]: the same key as keys[0]",
        ),
        (
            "keys:\n  - {name: a, key: one}\n  - {name: a, key: two}\n",
            ":3:",
            "keys[1].name: keys[0] has this name already",
        ),
    ],
)
def test_the_validator_refuses_bad_values(text: str, where: str, words: str) -> None:
    env = {"K1": "same-secret-key", "K2": "same-secret-key"}
    with pytest.raises(ConfigError) as caught:
        parse_config(text, env, source="team.yaml")
    message = str(caught.value)
    assert message.startswith("team.yaml" + where), message
    assert words in message
    assert "same-secret-key" not in message


def test_request_limits_load() -> None:
    config = parse_config("request_limits: {max_json_depth: 16, max_n: 4}\n" + MODEL, {})
    assert config.request_limits.max_json_depth == 16
    assert config.request_limits.max_n == 4
    assert config.request_limits.max_embedding_inputs == 2048


SECRET = "sk-live-0123456789abcdef"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "models:\n  a:\n    deployments:\n"
            "      - {provider: openai, model: m, base_url: '${URL}'}\n",
            "'${URL}'",
        ),
        ("models:\n  a:\n    deployments:\n      - {provider: '${URL}', model: m}\n", "'${URL}'"),
        (
            "models:\n  a:\n    deployments:\n"
            "      - {provider: openai, model: m, data_collection: '${URL}'}\n",
            "'${URL}'",
        ),
        (
            "models:\n  a:\n    deployments:\n"
            "      - {provider: openai, model: m, quantization: 'q-${URL}'}\n",
            "'q-${URL}'",
        ),
        ("server: {log_level: '${URL}'}\n" + MODEL, "'${URL}'"),
        ("routing: {provider: {sort: '${URL}'}}\n" + MODEL, "'${URL}'"),
    ],
)
def test_errors_never_show_an_expanded_value(text: str, shown: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, {"URL": SECRET}, source="team.yaml")
    message = str(caught.value)
    assert SECRET not in message
    assert shown in message


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"server: {host: caf\xe9}\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(bad, {})


# --- through the command line --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("models:\n  a: &x {deployments: [*x]}\n", "contains it"),
        (
            "\n".join(
                ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
                + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
            )
            + "\n",
            "aliases expand",
        ),
        (
            "models:\n  a:\n    deployments:\n"
            "      - {provider: openai, model: m, base_url: '${JUNCTION_TEST_SECRET}'}\n",
            "must start with http://",
        ),
        (
            "models:\n  a:\n    deployments:\n"
            "      - {provider: openai, model: m, api_key: '${JUNCTION_TEST_SECRET}'}\n"
            "  a:\n    deployments: []\n",
            "given twice",
        ),
        ("", "empty"),
    ],
)
def test_serve_refuses_a_bad_config_in_one_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "JUNCTION_TEST_SECRET": SECRET}
    done = subprocess.run(
        [sys.executable, "-m", "junction.cli", "serve", "--config", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    assert SECRET not in output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"junction: {path}:")
    assert words in lines[0]
