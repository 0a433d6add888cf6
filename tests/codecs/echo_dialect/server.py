"""The echo API, server side: request bodies in, answers and errors out."""

from __future__ import annotations

import msgspec

from echo_dialect import wire
from junction.codecs._shared.validation import invalid_body
from junction.types import ChatRequest, ChatResponse, GatewayError, Message, TextPart


def decode_request(body: bytes) -> ChatRequest:
    try:
        incoming = msgspec.json.decode(body, type=wire.Request)
    except msgspec.ValidationError as exc:
        raise invalid_body(exc, "invalid echo request") from None
    except msgspec.DecodeError as exc:
        raise GatewayError("invalid_request", f"the body is not JSON: {exc}") from None
    return ChatRequest(
        model=incoming.model,
        messages=[Message("user", [TextPart(incoming.text)])],
        stream=incoming.stream,
        include_usage=incoming.stream,
        max_tokens=incoming.max_words,
    )


def encode_response(response: ChatResponse) -> bytes:
    usage = response.usage
    tokens = wire.Tokens(usage.prompt_tokens, usage.completion_tokens) if usage else wire.Tokens()
    reply = response.choices[0].message.text() if response.choices else ""
    return msgspec.json.encode(wire.Answer(response.id, response.model, reply, tokens))


def encode_error(err: GatewayError) -> bytes:
    return msgspec.json.encode(wire.ProblemBody(wire.Problem(err.kind, err.message)))
