"""The OpenAI Responses dialect as the simulator serves it (``POST /v1/responses``):
a thin adapter over the server side of ``junction.codecs.openai_responses``,
shaped like the adapters in ``junction.sim.dialects``."""

from __future__ import annotations

from junction.codecs import openai_responses
from junction.sim.dialects import Encoder
from junction.types import ChatRequest, ChatResponse, GatewayError


class OpenAIResponsesDialect:
    name = "openai_responses"
    early_usage = False
    garbage_frame = (
        b'event: response.output_text.delta\ndata: {"sim": "malformed", this is not JSON <<<\n\n'
    )

    def decode(self, body: bytes, *, model: str, stream: bool) -> ChatRequest:
        return openai_responses.decode_request(body)

    def encode_response(self, response: ChatResponse) -> bytes:
        # The plain answer cannot echo the request's settings: the simulator's
        # Dialect contract hands over the response only (streams get the request).
        return openai_responses.encode_response(response)

    def stream_encoder(self, request: ChatRequest) -> Encoder:
        return openai_responses.StreamEncoder(request)

    def encode_error(self, err: GatewayError) -> bytes:
        return openai_responses.encode_error(err)


OPENAI_RESPONSES = OpenAIResponsesDialect()
