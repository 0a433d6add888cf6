"""The gateway: the request path from canonical request to canonical answer.

The layers are composed here, in order, and nowhere else (after the
policy's stages, junction/policy, which may answer from the response cache):

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
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass

import msgspec

from junction.cache.answer import replay
from junction.codecs.base import TokenCounter
from junction.config import Config, redactor
from junction.gateway import attempts
from junction.gateway.accounting import Accountant, Generations, ResponseIds
from junction.gateway.auto import AutoRouters
from junction.gateway.deployment_limits import DeploymentLimits
from junction.gateway.failover import FailoverPolicy, Health, exhausted
from junction.gateway.planner import Plan, Planner
from junction.gateway.routes import ModelRoute, build_routes, global_preferences
from junction.gateway.tokens import estimate_prompt_tokens, estimate_text_tokens
from junction.gateway.trace import Principal, Trace
from junction.policy import Call, build_policy
from junction.policy.auth import Authenticator, KeyRefused
from junction.routing import EndpointStats, ProviderPreferences, StickyRoutes
from junction.stores import Stores
from junction.stores.memory import MemoryCounters, MemoryRecords
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
        self,
        config: Config,
        transport: Transport,
        clock: Callable[[], float] = time.monotonic,
        *,
        stores: Stores | None = None,
        env: Mapping[str, str] | None = None,
        wall_clock: Callable[[], float] = time.time,
        stats: EndpointStats | None = None,
        sticky: StickyRoutes | None = None,
    ) -> None:
        self.config = config
        self._shared = (stats, sticky)
        """Statistics and sticky routes shared with other processes (stores/redis), if any."""
        self.transport = transport
        self.clock = clock
        """The clock of live statistics and sticky routes (seconds)."""
        self.wall_clock = wall_clock
        """The clock of keys' expiry, rate limits and budget periods (epoch seconds)."""
        self.redactor = redactor(config)
        """Scrubs this config's secrets from errors and logs (built once)."""
        self.routes: dict[str, ModelRoute] = build_routes(config, self.redactor)
        self.auto = AutoRouters.from_config(config, self.embed)
        """Semantic routers, loaded once here (never per request)."""
        self.stores = stores if stores is not None else Stores(MemoryRecords(), MemoryCounters())
        self.authenticator = Authenticator(config, self.stores, env or {}, wall_clock)
        self.policy, self.admission = build_policy(
            config, self.stores, wall_clock, env=env or {}, embed=self.embed
        )
        self.ids = ResponseIds()
        self.reset_state()

    async def authenticate(self, token: str | None, door: str = "") -> Principal | None:
        """The key's principal; None when keys are off. Raises 401 otherwise,
        and the refusal goes to the accountant's listeners (log, metrics)."""
        try:
            return await self.authenticator.authenticate(token)
        except KeyRefused as exc:
            self.accountant.refused(self.ids.mint(), door, exc.principal)
            raise

    async def close(self) -> None:
        """Settle what is in flight and close the transport and the stores."""
        await self.admission.drain()
        await self.policy.close()
        self.auto.close()
        await self.transport.close()
        await self.stores.close()

    def reset_state(self) -> None:
        """Forget live statistics, sticky routes and the generation log."""
        config = self.config
        shared_stats, shared_sticky = self._shared
        self.stats = shared_stats or EndpointStats()
        sticky = (shared_sticky or StickyRoutes()) if config.routing.sticky else None
        self.planner = Planner(
            self.routes,
            global_preferences(config),
            self.stats,
            sticky,
            config.routing.seed,
            self._now,
        )
        self.generations = Generations()
        previous: Accountant | None = getattr(self, "accountant", None)
        listeners = previous.listeners if previous is not None else []
        self.accountant = Accountant(self.stats, sticky, self.generations, self._now)
        self.accountant.listeners = listeners  # the log, metrics, traces outlive a reset
        self.failover = FailoverPolicy(
            config.routing.retry,
            config.timeouts.request,
            Health(self.stats, self._now),
            random.Random(config.routing.seed),
            deployment_limits=DeploymentLimits(self.stores.counters, self.wall_clock),
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

    async def _enter(
        self, trace: Trace, request: ChatRequest | EmbeddingRequest, kind: str = "chat"
    ) -> Call | None:
        """Run the policy's stages (junction/policy); a refusal is recorded."""
        if not self.policy.runs_for(trace.key):
            return None
        try:
            return await self.policy.enter(trace, request, self.route(request.model, kind))
        except GatewayError as exc:
            self._settle_failure(trace, exc, request.model)
            raise

    def _leave(
        self,
        call: Call | None,
        usage: Usage | None,
        error: GatewayError | None = None,
        cancelled: bool = False,
    ) -> None:
        if call is not None:
            call.usage, call.error, call.cancelled = usage, error, cancelled
            self.policy.leave(call)

    async def chat(self, request: ChatRequest, trace: Trace | None = None) -> ChatResponse:
        trace = self._start(trace)
        trace.router = await self.auto.apply(request)
        call = await self._enter(trace, request)
        if call is not None and call.cached is not None:
            return self._cached(call, trace, streamed=False)
        try:
            response = await self._chat(request, trace)
        except GatewayError as exc:
            self._leave(call, None, exc)
            raise
        except BaseException:  # cancelled: the client went away
            self._leave(call, None, cancelled=True)
            raise
        if call is not None and call.answer is not None:
            call.answer.response = response
        self._leave(call, response.usage)
        return response

    async def _chat(self, request: ChatRequest, trace: Trace) -> ChatResponse:
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
        error = exhausted(failures)
        self._settle_failure(trace, error, request.model)
        raise error

    async def chat_stream(
        self, request: ChatRequest, trace: Trace | None = None
    ) -> AsyncIterator[list[StreamEvent]]:
        """Plans before the first event, so that an unknown model or an
        impossible preference is an HTTP error, not a broken stream."""
        trace = self._start(trace)
        trace.router = await self.auto.apply(request)
        names = self._models(request)
        plans: list[Plan] = []
        failures: list[GatewayError] = []
        for name in names:
            try:
                plans.append(self.planner.plan(request, name, _key_prefs(trace)))
            except GatewayError as exc:
                failures.append(exc)
        if not plans:
            error = exhausted(failures)
            self._settle_failure(trace, error, request.model)
            raise error
        call = await self._enter(trace, request)
        if call is not None and call.cached is not None:  # replayed in the client's dialect
            return _once(replay(self._cached(call, trace, streamed=True)))
        relayed = self._relay(plans, request, trace, failures, call)
        return call.answer.watch(relayed) if call is not None and call.answer else relayed

    def _cached(self, call: Call, trace: Trace, streamed: bool) -> ChatResponse:
        """A response-cache hit, under this request's id: it costs nothing
        (its saved cost is on the trace) and is settled like any answer."""
        response = call.cached
        assert response is not None
        response.id, response.router = trace.id, trace.router
        trace.model = response.model
        if response.usage is not None:
            response.usage.cost = 0.0 if response.usage.cost is not None else None
        first = response.choices[0] if response.choices else None
        self.accountant.settle(
            trace,
            usage=response.usage,
            streamed=streamed,
            sticky_key=None,
            finish=(first.finish_reason, first.native_finish_reason) if first else (None, None),
        )
        self._leave(call, response.usage)
        return response

    async def _relay(
        self,
        plans: list[Plan],
        request: ChatRequest,
        trace: Trace,
        failures: list[GatewayError],
        call: Call | None,
    ) -> AsyncIterator[list[StreamEvent]]:
        for plan in plans:
            if trace.expired():
                break
            drop = self._drop(request, plan.route)
            events = attempts.stream(
                self.transport, plan.endpoints, request, drop, trace, self.failover
            )
            started = False
            seen = _Seen()
            watched = _watch(events, plan, trace, self.accountant, request, seen)
            try:
                async for batch in watched:
                    started = True
                    yield batch
                self._leave(call, seen.usage)
                return
            except GatewayError as exc:
                if started:
                    self._leave(call, seen.usage, exc)
                    raise
                failures.append(exc)
            except BaseException:  # cancelled, or closed by a client that went away
                await watched.aclose()  # its record first: what was relayed is charged
                self._leave(call, seen.usage, cancelled=True)
                raise
        error = exhausted(failures)
        self._settle_failure(trace, error, request.model)
        self._leave(call, None, error)
        raise error

    def _settle_failure(self, trace: Trace, error: GatewayError, model: str) -> None:
        """A request nothing answered: its own record, under its own id,
        with the status and error the client got and the model it asked for."""
        trace.status, trace.error = error.status, error.kind
        trace.model = trace.model or model
        self.accountant.settle(trace, usage=None, streamed=False, sticky_key=None)

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
        call = await self._enter(trace, request, "embedding")
        try:
            response = await attempts.embed(
                self.transport, route.endpoints, request, trace, self.failover
            )
        except GatewayError as exc:
            self._settle_failure(trace, exc, request.model)
            self._leave(call, None, exc)
            raise
        except BaseException:
            self._leave(call, None, cancelled=True)
            raise
        response.model = trace.model = route.name
        if trace.served is not None:
            self.accountant.price(trace, response.usage)
        self.accountant.settle(trace, usage=response.usage, streamed=False, sticky_key=None)
        self._leave(call, response.usage)
        return response


async def _once(batch: list[StreamEvent]) -> AsyncIterator[list[StreamEvent]]:
    yield batch


def _key_prefs(trace: Trace) -> ProviderPreferences | None:
    return trace.key.preferences if trace.key is not None else None


@dataclass(slots=True)
class _Seen:
    """What a relayed stream used, once it is over (for the policy's settle)."""

    usage: Usage | None = None


async def _watch(
    batches: AsyncIterator[list[StreamEvent]],
    plan: Plan,
    trace: Trace,
    accountant: Accountant,
    request: ChatRequest,
    seen: _Seen,
) -> AsyncGenerator[list[StreamEvent], None]:
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
        seen.usage = usage


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
