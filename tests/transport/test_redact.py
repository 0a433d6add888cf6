"""The secret scrubber, and what the config hands it."""

from __future__ import annotations

import hashlib
import logging

import pytest

from junction.config import ConfigError, parse_config, redactor, secret_values
from junction.redact import LogRedactor, Redactor, install_log_redactor

KEY = "sk-proj-abcdefghijklmnop1234"


def test_configured_values_are_replaced_wherever_they_appear() -> None:
    r = Redactor(["plain-secret-value", "AKIDEXAMPLE1"])
    text = "x plain-secret-value y (AKIDEXAMPLE1/20250101/us-east-1)"
    assert r.scrub(text) == "x [redacted] y ([redacted]/20250101/us-east-1)"


def test_short_values_are_not_scrubbed_by_value() -> None:
    # "k" would garble every word with a k in it; no real key is that short.
    assert Redactor(["k"]).scrub("keep the kind words") == "keep the kind words"


def test_a_message_without_secrets_is_unchanged() -> None:
    text = "openai returned 429: Rate limit reached for gpt-4o-mini in organization org-1"
    assert Redactor([KEY]).scrub(text) == text


@pytest.mark.parametrize(
    ("echoed", "expected"),
    [
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer [redacted]"),
        ('"x-api-key": "anykeyvalue"', '"x-api-key": "[redacted]"'),
        ("api-key=whatever123;", "api-key=[redacted];"),
        ("x-goog-api-key: AIzaSyA-1234567890abcdefghijklmnopqrstu", "x-goog-api-key: [redacted]"),
        ("token Bearer eyJhbGciOi.xyz rejected", "token Bearer [redacted] rejected"),
        ("GET /v1beta/models?key=AIzaSecret&alt=sse", "GET /v1beta/models?key=[redacted]&alt=sse"),
        (
            "Incorrect API key provided: sk-ant-api03-AAAA****BBBB.",
            "Incorrect API key provided: [redacted].",
        ),
        ("credential AKIAIOSFODNN7EXAMPLE unknown", "credential [redacted] unknown"),
        ("invalid gsk_abcdefghijklmnopqrstuv", "invalid [redacted]"),
        ("invalid xai-abcdefghijklmnopqrstuv", "invalid [redacted]"),
    ],
)
def test_credentials_in_any_echoed_shape_are_replaced(echoed: str, expected: str) -> None:
    assert Redactor().scrub(echoed) == expected


def test_client_keys_are_found_by_digest_without_being_kept() -> None:
    client = "team-a-key-98765"
    r = Redactor(digests=[hashlib.sha256(client.encode()).hexdigest()])
    assert r.scrub(f"the key {client}, again:{client}") == "the key [redacted], again:[redacted]"
    assert client not in repr(r.signature)


def test_an_errors_message_and_args_are_scrubbed_in_place() -> None:
    from junction.types import UpstreamError

    err = UpstreamError("authentication", f"bad key {KEY}", provider="p", status=401)
    assert Redactor([KEY]).scrub_error(err) is err
    assert KEY not in err.message
    assert KEY not in str(err)


CONFIG = """
server: {master_key: '${MASTER}'}
keys: [{name: a, key: '${CLIENT}'}]
models:
  m:
    deployments:
      - provider: openai
        api_key: ${OPENAI}
        model: gpt-4o-mini
        headers: {x-auth-token: '${TOKEN}', x-team: research-team-one}
      - {provider: bedrock, name: b, model: claude, api_key: '${AWS}'}
"""
ENV = {
    "MASTER": "master-key-1234",
    "CLIENT": "client-key-5678",
    "OPENAI": "sk-openai-key-abcdef",
    "TOKEN": "header-token-999",
    "AWS": "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG:session-token-xyz",
}


def test_the_config_hands_over_every_secret() -> None:
    config = parse_config(CONFIG, ENV)
    values = secret_values(config)
    for expected in (
        "master-key-1234",
        "sk-openai-key-abcdef",
        "header-token-999",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG",
        "session-token-xyz",
    ):
        assert expected in values
    assert "research-team-one" not in values  # not a credential header
    assert "client-key-5678" not in values  # client keys are kept as digests only
    scrub = redactor(config).scrub
    assert scrub(" ".join(ENV.values())) == " ".join(["[redacted]"] * len(ENV))
    # Each part of the AWS key alone, and the client key (by its digest).
    text = "id AKIAIOSFODNN7EXAMPLE secret wJalrXUtnFEMI/K7MDENG key client-key-5678"
    assert scrub(text) == "id [redacted] secret [redacted] key [redacted]"


def test_new_limits_refuse_bad_values_with_the_place() -> None:
    with pytest.raises(ConfigError, match=r"<config>:1: timeouts.idle: Expected `float` > 0"):
        parse_config("timeouts: {idle: 0}\n", {})
    with pytest.raises(
        ConfigError, match=r"<config>:2: limits.max_line_bytes: Expected `int` >= 1024"
    ):
        parse_config("limits:\n  max_line_bytes: 10\n", {})


def test_the_log_filter_scrubs_children_made_before_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    child = logging.getLogger("junction.test_redact_child")
    install_log_redactor(Redactor([KEY]), names=("junction",))
    install_log_redactor(Redactor([KEY]), names=("junction",))
    filters = [f for f in child.filters if isinstance(f, LogRedactor)]
    assert len(filters) == 1  # installing twice adds no second filter
    caplog.set_level(logging.INFO)
    child.info("sent %s upstream", KEY)
    try:
        raise ValueError(KEY)
    except ValueError:
        child.exception("failed")
    assert KEY not in caplog.text
    assert "sent [redacted] upstream" in caplog.text
