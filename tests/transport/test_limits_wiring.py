"""The config's timeouts and limits reach each endpoint's transport limits
and stream parser, globally and per deployment."""

from __future__ import annotations

from junction.codecs.sse import StreamLimits
from junction.config import parse_config
from junction.gateway.routes import build_routes

CONFIG = """
timeouts: {idle: 7}
limits: {max_body_bytes: 100000, max_line_bytes: 2048, max_event_bytes: 4096}
models:
  m:
    deployments:
      - {provider: openai, name: global, model: a}
      - provider: openai
        name: own
        model: b
        timeouts: {idle: 3}
        limits: {max_body_bytes: 5000, max_line_bytes: 1024, max_event_bytes: 1500}
  d:
    deployments:
      - {provider: openai, model: c}
"""


def test_global_and_per_deployment_limits_reach_the_endpoint() -> None:
    routes = build_routes(parse_config(CONFIG, {}))
    first, second = routes["m"].endpoints
    assert (first.limits.idle, first.limits.max_body) == (7, 100000)
    assert first.target.stream_limits == StreamLimits(2048, 4096)
    assert (second.limits.idle, second.limits.max_body) == (3, 5000)
    assert second.target.stream_limits == StreamLimits(1024, 1500)


def test_defaults() -> None:
    (ep,) = build_routes(
        parse_config("models: {d: {deployments: [{provider: openai, model: c}]}}", {})
    )["d"].endpoints
    assert ep.limits.idle == 120
    assert ep.limits.max_body == 64 * 1024 * 1024
    assert ep.target.stream_limits == StreamLimits(16 * 1024 * 1024, 16 * 1024 * 1024)


def test_one_scrubber_is_shared_by_every_endpoint() -> None:
    routes = build_routes(parse_config(CONFIG, {}))
    scrubbers = {id(ep.redactor) for route in routes.values() for ep in route.endpoints}
    assert len(scrubbers) == 1
