"""The five wire dialects the simulator serves, as data over each dialect's
server codec (``SERVER``: the codecs do all the wire work), plus any other
registered dialect whose server codec names its ``paths``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from junction.codecs import (
    anthropic_messages,
    bedrock_converse,
    gemini,
    openai_chat,
    openai_responses,
    registry,
)
from junction.codecs.base import ServerCodec
from junction.codecs.bedrock_converse.eventstream import event

GARBAGE = b'{"sim": "malformed", this is not JSON <<<'
"""The payload of a ``malformed`` fault's frame: not JSON."""

SIGV4 = "AWS4-HMAC-SHA256 "


def auth_scheme(headers: Mapping[str, str]) -> str:
    """``sigv4`` | ``bearer`` | ``none``: what the request's Authorization holds."""
    value = headers.get("authorization") or headers.get("Authorization") or ""
    if value.startswith(SIGV4) and "Signature=" in value:
        return "sigv4"
    if value.lower().startswith("bearer ") and value[7:].strip():
        return "bearer"
    return "none"


def _as_sent(headers: Mapping[str, str]) -> Mapping[str, str]:
    return headers


def _bedrock_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    """Bedrock's request log: the headers plus ``x-sim-auth`` (which
    credentials came; SigV4 signatures are accepted unverified)."""
    return {**{k.lower(): v for k, v in headers.items()}, "x-sim-auth": auth_scheme(headers)}


@dataclass(frozen=True, slots=True)
class SimDialect:
    """How the simulator serves one wire API."""

    label: str
    """The name in ``/_sim/stats`` and the request log (``openai``)."""
    server: ServerCodec
    id_prefix: str
    """Response ids are ``<id_prefix>-<hex>``."""
    early_usage: bool = False
    """Report the prompt tokens at the start of a stream (Anthropic's
    ``message_start`` carries them)."""
    garbage_frame: bytes = b"data: " + GARBAGE + b"\n\n"
    """What a ``malformed`` fault writes into a stream: a frame whose data is
    not JSON, under the event name the dialect's clients parse."""
    logged_headers: Callable[[Mapping[str, str]], Mapping[str, str]] = _as_sent
    """The request headers as the request log shows them."""


OPENAI = SimDialect("openai", openai_chat.SERVER, "chatcmpl-sim")
OPENAI_RESPONSES = SimDialect(
    "openai_responses",
    openai_responses.SERVER,
    "resp_sim",
    garbage_frame=b"event: response.output_text.delta\ndata: " + GARBAGE + b"\n\n",
)
ANTHROPIC = SimDialect(
    "anthropic",
    anthropic_messages.SERVER,
    "msg_sim",
    early_usage=True,
    garbage_frame=b"event: content_block_delta\ndata: " + GARBAGE + b"\n\n",
)
GEMINI = SimDialect("gemini", gemini.SERVER, "sim")
BEDROCK = SimDialect(
    "bedrock",
    bedrock_converse.SERVER,
    "bedrock-sim",
    # A well-framed event (valid CRCs) whose JSON payload is broken.
    garbage_frame=event("contentBlockDelta", GARBAGE),
    logged_headers=_bedrock_headers,
)
BUILTIN = (OPENAI, OPENAI_RESPONSES, ANTHROPIC, GEMINI, BEDROCK)


def served_elsewhere() -> list[SimDialect]:
    """Every other registered dialect whose server codec names ``paths``:
    served at those paths with the default stream facts."""
    built_in = {d.server.name for d in BUILTIN}
    return [
        SimDialect(server.name, server, server.name)
        for server in registry.servers()
        if server.paths and server.name not in built_in
    ]
