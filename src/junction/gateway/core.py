"""The gateway: the request path from canonical request to canonical answer.

The layers are composed here, in order, and nowhere else:

0. semantic router (gateway/auto.py): a request naming a router model
   (``junction/auto``) gets the candidate model the router chooses;
1. model fallback list (``models: [...]``, OpenRouter's field): each model
   in turn, any error moves on;
2. provider selection (gateway/planner.py): the model's endpoints ordered
   by preferences, price, live statistics and sticky routing;
3. the attempt loop (gateway/attempts.py): fail over on retryable errors;
4. accounting (gateway/accounting.py): cost, endpoint statistics, the
   generation log — once per request, at the end of a stream for streams.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Callable

import msgspec

from junction.codecs.base import TokenCounter
from junction.config import Config, key_digest, redactor
from junction.gateway import attempts
from junction.gateway.accounting import Accountant, Generations, ResponseIds
from junction.gateway.auto import AutoRouters
from junction.gateway.failover import FailoverPolicy, Health, exhausted
from junction.gateway.planner import Plan, Planner
from junction.gateway.routes import ModelRoute, build_routes, global_preferences
from junction.gateway.tokens import estimate_prompt_tokens, estimate_text_tokens
from junction.gateway.trace import Principal, Trace
from junction.routing import EndpointStats, ProviderPreferences, StickyRoutes, parse_preferences
from junction.transport import Transport
from junction.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    Finish,
    GatewayError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
    UsageReport,
)


class Gateway:
    def __init__(
        self, config: Config, transport: Transport, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.transport = transport
        self.clock = clock
        """The clock of live statistics and sticky routes (seconds)."""
        self.redactor = redactor(config)
        """Scrubs this config's secrets from errors and logs (built once)."""
        self.routes: dict[str, ModelRoute] = build_routes(config, self.redactor)
        self.auto = AutoRouters.from_config(config)
        """Semantic routers, loaded once here (never per request)."""
        self.keys: dict[str, Principal] = {
            k.key_sha256 or "": Principal(
                k.name, parse_preferences(k.provider) if k.provider is not None else None
            )
            for k in config.keys
        }
        master = config.server.master_key
        if self.keys and master:
            self.keys[key_digest(master)] = Principal("master", admin=True)
        self.ids = ResponseIds()
        self.reset_state()

    def authenticate(self, token: str | None) -> Principal | None:
        """The key's principal; None when keys are off. Raises 401 otherwise."""
        if not self.keys:
            return None
        found = self.keys.get(key_digest(token)) if token else None
        if found is None:
            what = "is not a key of this gateway" if token else "is missing"
            raise GatewayError(
                "authentication",
                f"The API key {what}. Send it as 'Authorization: Bearer <key>' (or x-api-key).",
            )
        return found

    def reset_state(self) -> None:
        """Forget live statistics, sticky routes and the generation log."""
        config = self.config
        self.stats = EndpointStats()
        sticky = StickyRoutes() if config.routing.sticky else None
        self.planner = Planner(
            self.routes,
            global_preferences(config),
            self.stats,
            sticky,
            config.routing.seed,
            self._now,
        )
        self.generations = Generations()
        self.accountant = Accountant(self.stats, sticky, self.generations, self._now)
        self.failover = FailoverPolicy(
            config.routing.retry,
            config.timeouts.request,
            Health(self.stats, self._now),
            random.Random(config.routing.seed),
        )

    def _now(self) -> float:
        return self.clock()

    def route(self, model: str, kind: str | None = "chat") -> ModelRoute:
        return self.planner.route(model, kind)[0]

    def _drop(self, request: ChatRequest, route: ModelRoute) -> bool:
        asked = request.extra.get("drop_params")
        return asked if isinstance(asked, bool) else route.drop_params

    def _models(self, request: ChatRequest) -> list[str]:
        """The model, then the request's ``models`` fallbacks (deduplicated)."""
        extra = request.extra.get("models")
        if not extra:
            return [request.model]
        if not isinstance(extra, list) or not all(isinstance(m, str) for m in extra):
            raise GatewayError(
                "invalid_request", "models must be a list of model names", param="models"
            )
        return list(dict.fromkeys([request.model, *extra]))

    def _start(self, trace: Trace | None) -> Trace:
        """Give the request its id and deadline."""
        trace = trace if trace is not None else Trace()
        if not trace.id:
            trace.id = self.ids.mint()
        trace.deadline = min(trace.deadline, time.monotonic() + self.failover.request_timeout)
        return trace

    async def chat(self, request: ChatRequest, trace: Trace | None = None) -> ChatResponse:
        trace = self._start(trace)
        trace.router = self.auto.apply(request)
        failures: list[GatewayError] = []
        for name in self._models(request):
            if trace.expired():
                break
            try:
                plan = self.planner.plan(request, name, _key_prefs(trace))
                response = await attempts.call(
                    self.transport,
                    plan.endpoints,
                    request,
                    self._drop(request, plan.route),
                    trace,
                    self.failover,
                )
            except GatewayError as exc:
                failures.append(exc)
                continue
            trace.model = response.model = plan.route.name
            response.router = trace.router
            upstream_id, response.id = response.id, trace.id
            self.accountant.price(trace, response.usage)
            first = response.choices[0] if response.choices else None
            self.accountant.settle(
                trace,
                usage=response.usage,
                streamed=False,
                sticky_key=plan.sticky_key,
                finish=(first.finish_reason, first.native_finish_reason) if first else (None, None),
                upstream_id=upstream_id,
            )
            return response
        raise self._settle_failure(trace, failures, request.model)

    async def chat_stream(
        self, request: ChatRequest, trace: Trace | None = None
    ) -> AsyncIterator[list[StreamEvent]]:
        """Plans before the first event, so that an unknown model or an
        impossible preference is an HTTP error, not a broken stream."""
        trace = self._start(trace)
        trace.router = self.auto.apply(request)
        names = self._models(request)
        plans: list[Plan] = []
        failures: list[GatewayError] = []
        for name in names:
            try:
                plans.append(self.planner.plan(request, name, _key_prefs(trace)))
            except GatewayError as exc:
                failures.append(exc)
        if not plans:
            raise exhausted(failures)
        return self._relay(plans, request, trace, failures)

    async def _relay(
        self, plans: list[Plan], request: ChatRequest, trace: Trace, failures: list[GatewayError]
    ) -> AsyncIterator[list[StreamEvent]]:
        for plan in plans:
            if trace.expired():
                break
            drop = self._drop(request, plan.route)
            events = attempts.stream(
                self.transport, plan.endpoints, request, drop, trace, self.failover
            )
            started = False
            try:
                async for batch in _watch(events, plan, trace, self.accountant, request):
                    started = True
                    yield batch
                return
            except GatewayError as exc:
                if started:
                    raise
                failures.append(exc)
        raise self._settle_failure(trace, failures, request.model)

    def _settle_failure(
        self, trace: Trace, failures: list[GatewayError], model: str
    ) -> GatewayError:
        """A request no endpoint answered: its own record, under its own id
        (when it reached a provider at all), with the status the client gets."""
        error = exhausted(failures)
        trace.status, trace.error = error.status, error.kind
        trace.model = trace.model or model
        if trace.attempts:
            self.accountant.settle(trace, usage=None, streamed=False, sticky_key=None)
        return error

    async def count_tokens(self, request: ChatRequest) -> tuple[int, bool]:
        """Input tokens of a request, and whether the count is exact.

        Exact when the model's first endpoint can count (Anthropic's
        count_tokens); otherwise, or if that call fails, junction's own
        estimate (gateway/tokens.py).
        """
        route = self.route(request.model)
        for ep in route.endpoints[:1]:
            counter = ep.codec
            if isinstance(counter, TokenCounter):
                try:
                    http = counter.encode_count_tokens(request, ep.target)
                    reply = await self.transport.send(http, ep.limits, ep.label)
                    if reply.status < 400:
                        return counter.decode_count_tokens(reply.body), True
                except (GatewayError, msgspec.DecodeError, msgspec.ValidationError):
                    pass
        return estimate_prompt_tokens(request), False

    async def embed(
        self, request: EmbeddingRequest, trace: Trace | None = None
    ) -> EmbeddingResponse:
        route = self.route(request.model, "embedding")
        trace = self._start(trace)
        response = await attempts.embed(
            self.transport, route.endpoints, request, trace, self.failover
        )
        response.model = route.name
        return response


def _key_prefs(trace: Trace) -> ProviderPreferences | None:
    return trace.key.preferences if trace.key is not None else None


async def _watch(
    batches: AsyncIterator[list[StreamEvent]],
    plan: Plan,
    trace: Trace,
    accountant: Accountant,
    request: ChatRequest,
) -> AsyncIterator[list[StreamEvent]]:
    """Relay a stream, pricing its usage as it passes and settling at the end.
    The stream carries junction's own id (the provider's is kept in the record).
    A stream that ends before its usage report (cut, stalled, abandoned) is
    charged an estimate of what was relayed."""
    upstream_id = ""
    usage = None
    finish: tuple[str | None, str | None] = (None, None)
    complete = False
    relayed = 0  # characters of content sent to the client
    try:
        async for batch in batches:
            for event in batch:
                if isinstance(event, StreamStart):
                    trace.model = event.model = plan.route.name
                    event.provider = trace.served_by
                    event.router = trace.router
                    upstream_id, event.id = event.id, trace.id
                elif isinstance(event, (TextDelta, ThinkingDelta)):
                    relayed += len(event.text)
                elif isinstance(event, ToolCallDelta):
                    relayed += len(event.name or "") + len(event.arguments)
                elif isinstance(event, UsageReport):
                    usage = event.usage
                    accountant.price(trace, usage)
                elif isinstance(event, Finish) and event.index == 0:
                    finish = (event.reason, event.native)
            yield batch
        complete = True
    finally:
        if trace.served is not None:
            if not complete:
                usage = _estimated(usage, relayed, request, trace, accountant)
            accountant.settle(
                trace,
                usage=usage,
                streamed=True,
                sticky_key=plan.sticky_key,
                finish=finish,
                cancelled=not complete,
                upstream_id=upstream_id,
            )


def _estimated(
    usage: Usage | None, relayed: int, request: ChatRequest, trace: Trace, accountant: Accountant
) -> Usage | None:
    """The usage of a stream that ended early: the provider's, or, when it
    reported no output tokens, an estimate of the content relayed."""
    if not relayed or (usage is not None and usage.completion_tokens):
        return usage
    prompt = usage.prompt_tokens if usage is not None else estimate_prompt_tokens(request)
    estimate = Usage(prompt_tokens=prompt, completion_tokens=estimate_text_tokens(relayed))
    accountant.price(trace, estimate)
    return estimate
