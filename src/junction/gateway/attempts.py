"""The attempt loop: try endpoints in order, fail over on retryable errors,
never after anything reached the client.

Every attempt is recorded in the request's :class:`Trace` (endpoint,
status, time to first token, latency, whether it timed out), which
accounting turns into endpoint statistics, the generation log and cost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import msgspec

from junction.codecs.base import EmbeddingCodec, StreamDecoder
from junction.gateway.params import fit
from junction.gateway.routes import Endpoint
from junction.routing import ProviderPreferences
from junction.transport import Transport
from junction.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    GatewayError,
    StreamEvent,
    StreamStart,
    UpstreamError,
)


@dataclass(slots=True)
class Attempt:
    endpoint: Endpoint
    status: int
    latency_ms: float
    ttft_ms: float | None = None
    error: str | None = None
    timeout: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Principal:
    """A client key, as the gateway knows it: its name and defaults."""

    name: str
    preferences: ProviderPreferences | None = None


@dataclass(slots=True)
class Trace:
    """What happened to one request, attempt by attempt."""

    attempts: list[Attempt] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    served: Endpoint | None = None
    model: str | None = None
    """The model that answered (after a ``models`` fallback)."""
    key: Principal | None = None
    """The client key the request came with (when the config has keys)."""
    started: float = field(default_factory=time.time)

    @property
    def served_by(self) -> str | None:
        return self.served.label if self.served is not None else None


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def _failed(trace: Trace, ep: Endpoint, started: float, exc: GatewayError) -> None:
    timeout = exc.kind == "timeout"
    trace.attempts.append(Attempt(ep, exc.status, _ms(started), None, exc.message, timeout))


def _served(trace: Trace, ep: Endpoint, started: float, warnings: list[str], ttft: bool) -> Attempt:
    latency = _ms(started)
    attempt = Attempt(ep, 200, latency, latency if ttft else None)
    trace.attempts.append(attempt)
    trace.served = ep
    trace.warnings.extend(warnings)
    return attempt


async def call(
    transport: Transport,
    endpoints: Sequence[Endpoint],
    request: ChatRequest,
    drop: bool,
    trace: Trace,
) -> ChatResponse:
    failures: list[GatewayError] = []
    given = request.given()
    for ep in endpoints:
        started = time.perf_counter()
        try:
            prepared, warnings = fit(request, ep, drop, given)
            http = ep.codec.encode_request(prepared, ep.target)
            reply = await transport.send(http, ep.limits, ep.label)
            if reply.status >= 400:
                raise ep.codec.decode_error(reply.status, reply.headers, reply.body, ep.target)
            response = _decode(ep, reply.body)
        except GatewayError as exc:
            ep.redactor.scrub_error(exc)  # upstream text enters junction here
            _failed(trace, ep, started, exc)
            failures.append(exc)
            if _final(exc):
                raise
            continue
        _served(trace, ep, started, warnings, ttft=False)
        response.provider = ep.label
        response.warnings.extend(warnings)
        return response
    raise exhausted(failures)


async def stream(
    transport: Transport,
    endpoints: Sequence[Endpoint],
    request: ChatRequest,
    drop: bool,
    trace: Trace,
) -> AsyncIterator[list[StreamEvent]]:
    """Canonical events of the first endpoint that starts streaming, in
    batches: the events decoded from one upstream read (so the client gets
    one write per upstream read, not one per event).

    Events are held back only until the first content event has been
    decoded: a failure before that moves on to the next endpoint; after it,
    the error is raised to the client's stream.
    """
    failures: list[GatewayError] = []
    given = request.given()
    for ep in endpoints:
        started = time.perf_counter()
        held: list[StreamEvent] | None = []
        attempt: Attempt | None = None
        try:
            prepared, warnings = fit(request, ep, drop, given)
            http = ep.codec.encode_request(prepared, ep.target)
            async with await transport.open(http, ep.limits, ep.label) as reply:
                if reply.status >= 400:
                    body = await reply.read()
                    raise ep.codec.decode_error(reply.status, reply.headers, body, ep.target)
                decoder = ep.codec.stream_decoder(ep.target)
                async for chunk in reply.chunks():
                    events = _feed(ep, decoder.feed, chunk)
                    if held is not None:
                        held.extend(events)
                        if all(isinstance(e, StreamStart) for e in held):
                            continue
                        events, held = held, None
                        attempt = _served(trace, ep, started, warnings, ttft=True)
                    if events:
                        yield events
                tail = _feed(ep, _closer(decoder), b"")
                if held is not None:
                    tail = held + tail
                    attempt = _served(trace, ep, started, warnings, ttft=True)
                if tail:
                    yield tail
                if attempt is not None:
                    attempt.latency_ms = _ms(started)
                return
        except GatewayError as exc:
            ep.redactor.scrub_error(exc)  # upstream text enters junction here
            if attempt is not None:  # already streaming to the client
                attempt.latency_ms = _ms(started)
                attempt.error = exc.message
                attempt.status = exc.status
                attempt.timeout = exc.kind == "timeout"
                raise
            _failed(trace, ep, started, exc)
            failures.append(exc)
            if _final(exc):
                raise
    raise exhausted(failures)


async def embed(
    transport: Transport,
    endpoints: Sequence[Endpoint],
    request: EmbeddingRequest,
    trace: Trace,
) -> EmbeddingResponse:
    failures: list[GatewayError] = []
    for ep in endpoints:
        started = time.perf_counter()
        codec = ep.codec
        if not isinstance(codec, EmbeddingCodec):
            failures.append(
                GatewayError("invalid_request", f"{ep.label} ({ep.dialect}) cannot make embeddings")
            )
            continue
        try:
            response = await _embed_batches(transport, ep, codec, request)
        except GatewayError as exc:
            ep.redactor.scrub_error(exc)  # upstream text enters junction here
            _failed(trace, ep, started, exc)
            failures.append(exc)
            if _final(exc):
                raise
            continue
        _served(trace, ep, started, [], ttft=False)
        response.provider = ep.label
        return response
    raise exhausted(failures)


async def _embed_batches(
    transport: Transport, ep: Endpoint, codec: EmbeddingCodec, request: EmbeddingRequest
) -> EmbeddingResponse:
    """One upstream call, or several in parallel when the model takes fewer
    inputs per call than the request has (Bedrock Titan takes one)."""
    limit_of = getattr(codec, "embedding_batch_limit", None)
    limit = limit_of(ep.target) if limit_of is not None else None
    inputs = request.input
    if limit is None or len(inputs) <= limit:
        return await _embed_once(transport, ep, codec, request)
    parts = [
        msgspec.structs.replace(request, input=inputs[i : i + limit])
        for i in range(0, len(inputs), limit)
    ]
    answers = await asyncio.gather(*(_embed_once(transport, ep, codec, p) for p in parts))
    merged = answers[0]
    for extra in answers[1:]:
        merged.data.extend(extra.data)
        merged.usage.prompt_tokens += extra.usage.prompt_tokens
    return merged


async def _embed_once(
    transport: Transport, ep: Endpoint, codec: EmbeddingCodec, request: EmbeddingRequest
) -> EmbeddingResponse:
    http = codec.encode_embeddings(request, ep.target)
    reply = await transport.send(http, ep.limits, ep.label)
    if reply.status >= 400:
        raise ep.codec.decode_error(reply.status, reply.headers, reply.body, ep.target)
    try:
        return codec.decode_embeddings(reply.body, ep.target)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise _unreadable(ep, exc) from None


def _decode(ep: Endpoint, body: bytes) -> ChatResponse:
    try:
        return ep.codec.decode_response(body, ep.target)
    except GatewayError:
        raise
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError, TypeError) as exc:
        raise _unreadable(ep, exc) from None


def _closer(decoder: StreamDecoder) -> Callable[[bytes], list[StreamEvent]]:
    return lambda _: decoder.close()


def _feed(
    ep: Endpoint, feed: Callable[[bytes], list[StreamEvent]], chunk: bytes
) -> list[StreamEvent]:
    try:
        events = feed(chunk)
    except GatewayError:
        raise
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError, TypeError) as exc:
        raise _unreadable(ep, exc) from None
    return events


def _unreadable(ep: Endpoint, exc: Exception) -> UpstreamError:
    return UpstreamError(
        "provider_unavailable",
        f"{ep.label} sent a response junction could not read ({type(exc).__name__}: {exc})",
        provider=ep.label,
        status=502,
        retryable=True,
    )


def _final(exc: GatewayError) -> bool:
    """An error the next endpoint would not fix (bad request, bad key...)."""
    if isinstance(exc, UpstreamError):
        return not exc.retryable
    return exc.kind != "unsupported_parameter"


def exhausted(failures: Sequence[GatewayError]) -> GatewayError:
    """One error for a list of failed attempts, naming each."""
    if not failures:
        return GatewayError("provider_unavailable", "the model has no endpoint to call")
    last = failures[-1]
    if len(failures) == 1:
        return last
    tried = "; ".join(f.message for f in failures)
    message = f"all {len(failures)} attempts failed: {tried}"
    if isinstance(last, UpstreamError):
        return UpstreamError(
            last.kind,
            message,
            provider=last.provider,
            status=last.status,
            retryable=last.retryable,
            upstream_status=last.upstream_status,
            retry_after=last.retry_after,
        )
    return GatewayError(last.kind, message, status=last.status, param=last.param, code=last.code)
