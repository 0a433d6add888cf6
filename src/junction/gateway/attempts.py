"""The attempt loop: try a model's endpoints in order, fail over on
retryable errors, never after anything reached the client.

Each attempt is recorded (endpoint, outcome, latency) for accounting.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import msgspec

from junction.codecs.base import EmbeddingCodec, StreamDecoder
from junction.gateway.params import fit
from junction.gateway.routes import Endpoint
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
    endpoint: str
    status: int
    latency_ms: float
    error: str | None = None


@dataclass(slots=True)
class Trace:
    """What happened to one request, attempt by attempt."""

    attempts: list[Attempt] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    served_by: str | None = None


async def call(
    transport: Transport,
    endpoints: Sequence[Endpoint],
    request: ChatRequest,
    drop: bool,
    trace: Trace,
) -> ChatResponse:
    failures: list[GatewayError] = []
    for ep in endpoints:
        started = time.perf_counter()
        try:
            prepared, warnings = fit(request, ep, drop)
            http = ep.codec.encode_request(prepared, ep.target)
            reply = await transport.send(http, ep.limits, ep.label)
            if reply.status >= 400:
                raise ep.codec.decode_error(reply.status, reply.headers, reply.body, ep.target)
            response = _decode(ep, reply.body)
        except GatewayError as exc:
            _record(trace, ep, started, exc)
            failures.append(exc)
            if _final(exc):
                raise
            continue
        _record(trace, ep, started, None)
        trace.served_by = ep.label
        trace.warnings.extend(warnings)
        response.provider = ep.label
        response.warnings.extend(warnings)
        return response
    raise _exhausted(failures)


async def stream(
    transport: Transport,
    endpoints: Sequence[Endpoint],
    request: ChatRequest,
    drop: bool,
    trace: Trace,
) -> AsyncIterator[StreamEvent]:
    """Canonical events of the first endpoint that starts streaming.

    Events are held back only until the first content event has been
    decoded: a failure before that moves on to the next endpoint; after it,
    the error is raised to the client's stream.
    """
    failures: list[GatewayError] = []
    for ep in endpoints:
        started = time.perf_counter()
        held: list[StreamEvent] | None = []
        try:
            prepared, warnings = fit(request, ep, drop)
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
                        if not any(not isinstance(e, StreamStart) for e in held):
                            continue
                        events, held = held, None
                        _record(trace, ep, started, None)
                        trace.served_by = ep.label
                        trace.warnings.extend(warnings)
                    for event in events:
                        yield event
                tail = _feed(ep, _closer(decoder), b"")
                if held is not None:
                    tail = held + tail
                    _record(trace, ep, started, None)
                    trace.served_by = ep.label
                    trace.warnings.extend(warnings)
                for event in tail:
                    yield event
                return
        except GatewayError as exc:
            if held is None:
                trace.attempts[-1].error = exc.message
                raise
            _record(trace, ep, started, exc)
            failures.append(exc)
            if _final(exc):
                raise
    raise _exhausted(failures)


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
            http = codec.encode_embeddings(request, ep.target)
            reply = await transport.send(http, ep.limits, ep.label)
            if reply.status >= 400:
                raise ep.codec.decode_error(reply.status, reply.headers, reply.body, ep.target)
            try:
                response = codec.decode_embeddings(reply.body, ep.target)
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
                raise _unreadable(ep, exc) from None
        except GatewayError as exc:
            _record(trace, ep, started, exc)
            failures.append(exc)
            if _final(exc):
                raise
            continue
        _record(trace, ep, started, None)
        trace.served_by = ep.label
        response.provider = ep.label
        return response
    raise _exhausted(failures)


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


def _record(trace: Trace, ep: Endpoint, started: float, exc: GatewayError | None) -> None:
    latency = (time.perf_counter() - started) * 1000
    status = 200 if exc is None else exc.status
    trace.attempts.append(Attempt(ep.label, status, latency, None if exc is None else exc.message))


def _exhausted(failures: list[GatewayError]) -> GatewayError:
    if not failures:
        return GatewayError("provider_unavailable", "the model has no endpoint to call")
    last = failures[-1]
    if len(failures) == 1:
        return last
    tried = "; ".join(f.message for f in failures)
    message = f"all {len(failures)} endpoints failed: {tried}"
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
