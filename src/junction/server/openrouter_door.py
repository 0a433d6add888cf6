"""OpenRouter's doors: Chat Completions and Responses under ``/api/v1``.

The body of a request and of an answer is OpenAI's (OpenRouter's chat API
is OpenAI's plus fields junction already writes: ``provider``, ``usage.cost``,
``reasoning``), but ``system_fingerprint``, which OpenRouter's ``ChatResult``
requires (null when unknown) and OpenAI's leaves out. The errors differ:
OpenRouter's ``ErrorResponse`` carries the HTTP status as a numeric ``code``
and a ``metadata`` object, and its SDKs (``@openrouter/sdk``) pick their
typed error by it; a chat stream's error chunk carries the numeric code
too. Anthropic's Messages under ``/api/v1/messages`` keep Anthropic's
errors, as OpenRouter's do.
"""

from __future__ import annotations

from junction.codecs import openai_chat, openai_responses
from junction.codecs.base import ServerCodec, StreamEncoder
from junction.codecs.openai_chat import wire
from junction.server.doors import Door
from junction.server.errors import encode_openrouter_error
from junction.types import ChatRequest, ChatResponse, GatewayError

__all__ = [
    "OPENROUTER_CHAT",
    "OPENROUTER_RESPONSES",
    "OpenRouterChatServer",
    "OpenRouterServer",
    "OpenRouterStreamEncoder",
]


class OpenRouterStreamEncoder(openai_chat.StreamEncoder):
    """OpenAI's chunks; the mid-stream error chunk's ``error.code`` is the
    HTTP status (an integer), as OpenRouter writes it."""

    __slots__ = ()

    def error(self, err: GatewayError) -> bytes:
        body = wire.ErrorBody(message=err.message, type=err.kind, param=None, code=err.status)
        choice = wire.ChunkChoice(index=0, delta=wire.Delta(content=""), finish_reason="error")
        return self._chunk([choice], error=body)


class OpenRouterServer:
    """A door's server codec under ``/api/v1``: ``inner``'s requests,
    answers and streams, with errors in OpenRouter's shape (a
    :class:`~junction.codecs.base.ServerCodec`)."""

    def __init__(self, inner: ServerCodec, paths: tuple[str, ...]) -> None:
        self.inner = inner
        self.name = inner.name
        self.paths = paths
        self.stream_content_type = inner.stream_content_type
        self.finish_after_error = inner.finish_after_error

    def decode_request(self, body: bytes, *, model: str = "", stream: bool = False) -> ChatRequest:
        return self.inner.decode_request(body, model=model, stream=stream)

    def encode_response(self, response: ChatResponse, request: ChatRequest) -> bytes:
        return self.inner.encode_response(response, request)

    def stream_encoder(self, request: ChatRequest) -> StreamEncoder:
        return self.inner.stream_encoder(request)

    def encode_error(self, err: GatewayError) -> bytes:
        return encode_openrouter_error(err)

    def error_headers(self, err: GatewayError) -> dict[str, str]:
        return self.inner.error_headers(err)


class OpenRouterChatServer(OpenRouterServer):
    """OpenRouter's ``/api/v1/chat/completions``: OpenAI Chat, with
    OpenRouter's errors in the body and in the stream."""

    def __init__(self) -> None:
        super().__init__(openai_chat.SERVER, ("/api/v1/chat/completions",))

    def encode_response(self, response: ChatResponse, request: ChatRequest) -> bytes:
        return openai_chat.encode_response(response, null_fingerprint=True)

    def stream_encoder(self, request: ChatRequest) -> StreamEncoder:
        return OpenRouterStreamEncoder(include_usage=request.include_usage)


OPENROUTER_CHAT = Door(("/api/v1/chat/completions",), OpenRouterChatServer())
OPENROUTER_RESPONSES = Door(
    ("/api/v1/responses",), OpenRouterServer(openai_responses.SERVER, ("/api/v1/responses",))
)
