"""The gateway: the request path from canonical request to canonical answer.

The policy layers are composed here, in order, and nowhere else. Today the
path is: resolve the model -> the attempt loop over its endpoints. Later
layers (auth, limits, budgets, cache, provider selection, accounting) slot
in between, each its own module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from junction.config import Config
from junction.gateway import attempts
from junction.gateway.attempts import Trace
from junction.gateway.routes import ModelRoute, build_routes
from junction.transport import Transport
from junction.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    GatewayError,
    StreamEvent,
    StreamStart,
)


class Gateway:
    def __init__(self, config: Config, transport: Transport) -> None:
        self.config = config
        self.transport = transport
        self.routes: dict[str, ModelRoute] = build_routes(config)

    def route(self, model: str, kind: str = "chat") -> ModelRoute:
        found = self.routes.get(model)
        if found is None:
            raise GatewayError(
                "not_found",
                f"The model {model!r} does not exist here. "
                "GET /v1/models lists the models this gateway serves.",
                param="model",
                code="model_not_found",
            )
        if found.kind != kind:
            raise GatewayError(
                "invalid_request",
                f"The model {model!r} is a {found.kind} model; it cannot serve {kind} requests.",
                param="model",
            )
        return found

    def _drop(self, request: ChatRequest, route: ModelRoute) -> bool:
        asked = request.extra.get("drop_params")
        return asked if isinstance(asked, bool) else route.drop_params

    async def chat(self, request: ChatRequest, trace: Trace | None = None) -> ChatResponse:
        route = self.route(request.model)
        trace = trace if trace is not None else Trace()
        drop = self._drop(request, route)
        response = await attempts.call(self.transport, route.endpoints, request, drop, trace)
        response.model = route.name
        return response

    async def chat_stream(
        self, request: ChatRequest, trace: Trace | None = None
    ) -> AsyncIterator[StreamEvent]:
        """Resolves the model before the first event, so that an unknown
        model is an HTTP error, not a broken stream."""
        route = self.route(request.model)
        trace = trace if trace is not None else Trace()
        drop = self._drop(request, route)
        return self._relay(route, request, drop, trace)

    async def _relay(
        self, route: ModelRoute, request: ChatRequest, drop: bool, trace: Trace
    ) -> AsyncIterator[StreamEvent]:
        events = attempts.stream(self.transport, route.endpoints, request, drop, trace)
        async for event in events:
            if isinstance(event, StreamStart):
                event.model = route.name
                event.provider = trace.served_by
            yield event

    async def embed(
        self, request: EmbeddingRequest, trace: Trace | None = None
    ) -> EmbeddingResponse:
        route = self.route(request.model, "embedding")
        trace = trace if trace is not None else Trace()
        response = await attempts.embed(self.transport, route.endpoints, request, trace)
        response.model = route.name
        return response
