"""The three wire dialects the simulator serves, each a thin adapter over the
server side of its codec module (the codecs do all the wire work)."""

from __future__ import annotations

from typing import Protocol

from junction.codecs import anthropic_messages, gemini, openai_chat
from junction.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    GatewayError,
    StreamEvent,
)


class Encoder(Protocol):
    def encode(self, event: StreamEvent) -> bytes: ...

    def finish(self) -> bytes: ...

    def error(self, err: GatewayError) -> bytes: ...


class Dialect(Protocol):
    name: str
    early_usage: bool
    """Report the prompt tokens at the start of a stream (Anthropic's
    ``message_start`` carries them)."""
    garbage_frame: bytes
    """What a ``malformed`` fault writes into a stream: a frame whose data is
    not JSON, under the event name the dialect's clients parse."""

    def decode(self, body: bytes, *, model: str, stream: bool) -> ChatRequest: ...

    def encode_response(self, response: ChatResponse) -> bytes: ...

    def stream_encoder(self, request: ChatRequest) -> Encoder: ...

    def encode_error(self, err: GatewayError) -> bytes: ...


_GARBAGE = b'{"sim": "malformed", this is not JSON <<<\n\n'


class OpenAIDialect:
    name = "openai"
    early_usage = False
    garbage_frame = b"data: " + _GARBAGE

    def decode(self, body: bytes, *, model: str, stream: bool) -> ChatRequest:
        return openai_chat.decode_request(body)

    def encode_response(self, response: ChatResponse) -> bytes:
        return openai_chat.encode_response(response)

    def stream_encoder(self, request: ChatRequest) -> Encoder:
        return openai_chat.StreamEncoder(include_usage=request.include_usage)

    def encode_error(self, err: GatewayError) -> bytes:
        return openai_chat.encode_error(err)

    def decode_embeddings(self, body: bytes) -> EmbeddingRequest:
        return openai_chat.decode_embeddings_request(body)

    def encode_embeddings(self, response: EmbeddingResponse, encoding_format: str) -> bytes:
        return openai_chat.encode_embeddings_response(response, encoding_format)


class AnthropicDialect:
    name = "anthropic"
    early_usage = True
    garbage_frame = b"event: content_block_delta\ndata: " + _GARBAGE

    def decode(self, body: bytes, *, model: str, stream: bool) -> ChatRequest:
        return anthropic_messages.decode_request(body)

    def encode_response(self, response: ChatResponse) -> bytes:
        return anthropic_messages.encode_response(response)

    def stream_encoder(self, request: ChatRequest) -> Encoder:
        return anthropic_messages.StreamEncoder()

    def encode_error(self, err: GatewayError) -> bytes:
        return anthropic_messages.encode_error(err)


class GeminiDialect:
    name = "gemini"
    early_usage = False
    garbage_frame = b"data: " + _GARBAGE

    def decode(self, body: bytes, *, model: str, stream: bool) -> ChatRequest:
        return gemini.decode_request(body, model=model, stream=stream)

    def encode_response(self, response: ChatResponse) -> bytes:
        return gemini.encode_response(response)

    def stream_encoder(self, request: ChatRequest) -> Encoder:
        return gemini.StreamEncoder()

    def encode_error(self, err: GatewayError) -> bytes:
        return gemini.encode_error(err)

    def decode_embed(self, body: bytes, *, model: str, batch: bool) -> EmbeddingRequest:
        return gemini.decode_embed_request(body, model=model, batch=batch)

    def encode_embed(self, response: EmbeddingResponse, *, batch: bool) -> bytes:
        return gemini.encode_embed_response(response, batch=batch)


OPENAI = OpenAIDialect()
ANTHROPIC = AnthropicDialect()
GEMINI = GeminiDialect()
