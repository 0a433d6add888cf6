"""examples/gateway.yaml and examples/gateway-scale.yaml: they load, and the embedded one serves."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from _scale import Served, clean_env
from junction.config import ConfigError, load_config
from junction.gateway import Gateway

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SIM_MODELS = {"sim/openai", "sim/anthropic", "sim/gemini", "sim/bedrock", "sim/responses"}
BASE_ENV = {"JUNCTION_SIM_URL": "http://127.0.0.1:8900", "JUNCTION_MASTER_KEY": "sk-master"}
SCALE_ENV = {
    **BASE_ENV,
    "JUNCTION_REDIS_URL": "redis://127.0.0.1:6379/0",
    "JUNCTION_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/junction",
}


def test_gateway_yaml_loads_with_embedded_stores() -> None:
    config = load_config(str(EXAMPLES / "gateway.yaml"), BASE_ENV)
    assert set(config.models) >= SIM_MODELS
    assert config.server.master_key is not None
    assert config.stores.redis_url is None
    assert config.stores.database_url == "sqlite:///junction.db"


def test_gateway_scale_yaml_loads_on_redis_and_postgres() -> None:
    config = load_config(str(EXAMPLES / "gateway-scale.yaml"), SCALE_ENV)
    assert set(config.models) >= SIM_MODELS
    assert config.stores.redis_url == SCALE_ENV["JUNCTION_REDIS_URL"]
    assert config.stores.database_url == SCALE_ENV["JUNCTION_DATABASE_URL"]
    assert config.stores.on_unreachable == "closed"


@pytest.mark.parametrize("name", ["gateway.yaml", "gateway-scale.yaml"])
def test_the_examples_serve_the_same_models_as_sim_yaml(name: str) -> None:
    sim = load_config(str(EXAMPLES / "sim.yaml"), BASE_ENV)
    config = load_config(str(EXAMPLES / name), SCALE_ENV)
    assert config.models == sim.models


def test_every_chat_model_is_priced_as_its_real_counterpart() -> None:
    config = load_config(str(EXAMPLES / "gateway.yaml"), BASE_ENV)
    gateway = Gateway(config, transport=None)  # type: ignore[arg-type] - no calls made
    for name in SIM_MODELS:
        for endpoint in gateway.routes[name].endpoints:
            price = endpoint.info.price
            assert price is not None, name
            assert price.input is not None, name
            assert price.output is not None, name
            assert price.input > 0, name
    mini = gateway.routes["sim/openai"].endpoints[0].info.price
    assert mini is not None
    assert (mini.input, mini.output) == (0.15, 0.6)  # gpt-4o-mini's list price


@pytest.mark.parametrize(
    ("name", "missing"),
    [
        ("gateway.yaml", "JUNCTION_MASTER_KEY"),
        ("gateway-scale.yaml", "JUNCTION_REDIS_URL"),
        ("gateway-scale.yaml", "JUNCTION_DATABASE_URL"),
    ],
)
def test_a_missing_variable_is_named(name: str, missing: str) -> None:
    env = {k: v for k, v in SCALE_ENV.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_config(str(EXAMPLES / name), env)


def test_gateway_yaml_serves_from_an_empty_directory(tmp_path: Path) -> None:
    env = clean_env(JUNCTION_MASTER_KEY="sk-master")
    gw = Served(tmp_path, "--config", str(EXAMPLES / "gateway.yaml"), "--with-sim", env=env)
    try:
        gw.wait_healthy()
        r = httpx.post(
            gw.url + "/v1/chat/completions",
            headers={"Authorization": "Bearer sk-master"},
            json={"model": "sim/openai", "messages": [{"role": "user", "content": "echo: ok"}]},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        assert r.json()["usage"]["cost"] > 0
        assert r.headers["x-junction-cache"] == "miss"
        again = httpx.post(
            gw.url + "/v1/chat/completions",
            headers={"Authorization": "Bearer sk-master"},
            json={"model": "sim/openai", "messages": [{"role": "user", "content": "echo: ok"}]},
            timeout=30,
        )
        assert again.headers["x-junction-cache"] == "hit"  # the example's cache, in junction.db
        assert again.json()["usage"]["cost"] == 0
        assert (tmp_path / "junction.db").is_file()
    finally:
        code = gw.stop()
    # One process: uvicorn re-raises the SIGTERM it handled once it has drained.
    assert code in (0, -15), gw.output()
