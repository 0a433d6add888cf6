"""The echo API, client side: canonical request -> ``POST /echo/v1/say``,
and the answer and errors back."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from echo_dialect import wire
from echo_dialect.client_stream import EchoStreamDecoder
from junction.codecs.base import Target, auth_headers, join_url
from junction.types import (
    ChatRequest,
    ChatResponse,
    Choice,
    HttpRequest,
    Message,
    TextPart,
    UpstreamError,
    Usage,
    upstream_error,
)


class EchoCodec:
    name = "echo"

    def encode_request(self, request: ChatRequest, target: Target) -> HttpRequest:
        text = request.messages[-1].text() if request.messages else ""
        body = wire.Request(target.model, text, request.stream, request.max_tokens)
        return HttpRequest(
            method="POST",
            url=join_url(target.base_url, "/echo/v1/say"),
            headers={"content-type": "application/json", **auth_headers(target)},
            body=msgspec.json.encode(body),
            stream=request.stream,
        )

    def decode_response(self, body: bytes, target: Target) -> ChatResponse:
        answer = msgspec.json.decode(body, type=wire.Answer)
        return ChatResponse(
            id=answer.id,
            model=answer.model,
            choices=[Choice(0, Message("assistant", [TextPart(answer.reply)]), "stop")],
            usage=Usage(answer.tokens.prompt, answer.tokens.completion),
            provider=target.provider,
        )

    def stream_decoder(self, target: Target) -> EchoStreamDecoder:
        return EchoStreamDecoder(target)

    def decode_error(
        self, status: int, headers: Mapping[str, str], body: bytes, target: Target
    ) -> UpstreamError:
        try:
            problem = msgspec.json.decode(body, type=wire.ProblemBody).problem.message
        except msgspec.DecodeError:
            problem = body.decode(errors="replace")
        return upstream_error(target.provider, status, problem)
