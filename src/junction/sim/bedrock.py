"""The simulator's AWS Bedrock dialect: Converse, ConverseStream and InvokeModel
embeddings (Titan, Cohere), a thin adapter over :mod:`junction.codecs.bedrock_converse`.

Routes (``sim/app.py``): ``POST /model/{modelId}/converse``,
``/model/{modelId}/converse-stream`` (``application/vnd.amazon.eventstream``)
and ``/model/{modelId}/invoke`` (embedding models only).

Requests signed with SigV4 are accepted without verifying the signature; the
request log records which credentials came in a pseudo-header
``x-sim-auth: sigv4 | bearer | none`` (the ``authorization`` value itself is
masked). Errors carry Bedrock's ``x-amzn-errortype`` header.
"""

from __future__ import annotations

from collections.abc import Mapping

from junction.codecs import bedrock_converse as bedrock
from junction.codecs.bedrock_converse.embed import embed_family
from junction.codecs.bedrock_converse.eventstream import event
from junction.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    GatewayError,
)

SIGV4 = "AWS4-HMAC-SHA256 "


def auth_scheme(headers: Mapping[str, str]) -> str:
    """``sigv4`` | ``bearer`` | ``none``: what the request's Authorization holds."""
    value = headers.get("authorization") or headers.get("Authorization") or ""
    if value.startswith(SIGV4) and "Signature=" in value:
        return "sigv4"
    if value.lower().startswith("bearer ") and value[7:].strip():
        return "bearer"
    return "none"


class BedrockDialect:
    name = "bedrock"
    early_usage = False
    garbage_frame = event("contentBlockDelta", b'{"sim": "malformed", this is not JSON <<<')
    """A well-framed event (valid CRCs) whose JSON payload is broken."""
    stream_content_type = bedrock.EVENTSTREAM_CONTENT_TYPE

    def decode(self, body: bytes, *, model: str, stream: bool) -> ChatRequest:
        return bedrock.decode_request(body, model=model, stream=stream)

    def encode_response(self, response: ChatResponse) -> bytes:
        return bedrock.encode_response(response)

    def stream_encoder(self, request: ChatRequest) -> bedrock.StreamEncoder:
        return bedrock.StreamEncoder()

    def encode_error(self, err: GatewayError) -> bytes:
        return bedrock.encode_error(err)

    def error_headers(self, err: GatewayError) -> dict[str, str]:
        return bedrock.error_headers(err)

    def is_embedding_model(self, model: str) -> bool:
        return embed_family(model) is not None

    def decode_embeddings(self, body: bytes, *, model: str) -> EmbeddingRequest:
        return bedrock.decode_embeddings_request(body, model=model)

    def encode_embeddings(self, response: EmbeddingResponse, *, model: str) -> bytes:
        return bedrock.encode_embeddings_response(response, model=model)

    def logged_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The headers as the request log shows them, plus ``x-sim-auth``."""
        return {**{k.lower(): v for k, v in headers.items()}, "x-sim-auth": auth_scheme(headers)}


BEDROCK = BedrockDialect()

__all__ = ["BEDROCK", "BedrockDialect", "auth_scheme"]
