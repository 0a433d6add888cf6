"""The attempt loop: try endpoints in order, fail over on retryable errors,
never after anything reached the client.

Which endpoint comes next, retries, the request's deadline, probes and
cooldowns are :class:`~junction.gateway.failover.Failover`'s business; this
module makes the calls. Every attempt is recorded in the request's
:class:`Trace` (endpoint, status, time to first token, latency, whether it
timed out), which accounting turns into endpoint statistics, the
generation log and cost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence

import msgspec

from junction.codecs.base import EmbeddingCodec, StreamDecoder
from junction.gateway.failover import Failover, FailoverPolicy, log_failure
from junction.gateway.params import fit
from junction.gateway.routes import Endpoint
from junction.gateway.trace import Attempt, Trace
from junction.transport import Limits, Transport
from junction.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    FinalBatch,
    GatewayError,
    StreamEvent,
    StreamStart,
    UpstreamError,
    Usage,
    UsageReport,
)

NOT_CONTENT = (StreamStart, UsageReport)
"""Events held back while the attempt may still fail over: a start, and
the usage some dialects report before any content (Anthropic's
``message_start`` carries the prompt tokens)."""


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


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
    policy: FailoverPolicy,
) -> ChatResponse:
    run = Failover(endpoints, policy, trace)
    given = request.given()
    while (ep := await run.next()) is not None:
        if (reservation := await run.reserve(ep, request)) is None:
            continue  # at its own rpm / tpm
        started = time.perf_counter()
        limits, probing = run.begin(ep)
        response = None
        try:
            prepared, warnings = fit(request, ep, drop, given)
            http = ep.codec.encode_request(prepared, ep.target)
            reply = await transport.send(http, limits, ep.label)
            if reply.status >= 400:
                raise ep.codec.decode_error(reply.status, reply.headers, reply.body, ep.target)
            response = _decode(ep, reply.body)
        except GatewayError as exc:
            ep.redactor.scrub_error(exc)  # upstream text enters junction here
            run.failed(ep, started, exc)
            continue
        finally:
            run.end(ep, probing)
            run.release(reservation, response.usage if response is not None else None)
        _served(trace, ep, started, warnings, ttft=False)
        response.provider = ep.label
        response.warnings.extend(warnings)
        return response
    raise run.error()


async def stream(
    transport: Transport,
    endpoints: Sequence[Endpoint],
    request: ChatRequest,
    drop: bool,
    trace: Trace,
    policy: FailoverPolicy,
) -> AsyncIterator[list[StreamEvent]]:
    """Canonical events of the first endpoint that starts streaming, in
    batches: the events decoded from one upstream read (so the client gets
    one write per upstream read, not one per event).

    Events are held back only until the first content event has been
    decoded: a failure before that moves on to the next endpoint; after it,
    the error is raised to the client's stream. The last batch, once the
    provider's stream is over, is a :class:`FinalBatch` (empty when its last
    read held no events).
    """
    run = Failover(endpoints, policy, trace)
    given = request.given()
    while (ep := await run.next()) is not None:
        if (reservation := await run.reserve(ep, request)) is None:
            continue  # at its own rpm / tpm
        started = time.perf_counter()
        limits, probing = run.begin(ep)
        attempt: Attempt | None = None
        usage: list[Usage] = []
        try:
            prepared, warnings = fit(request, ep, drop, given)
            http = ep.codec.encode_request(prepared, ep.target)
            async with await transport.open(http, limits, ep.label) as reply:
                if reply.status >= 400:
                    body = await reply.read()
                    raise ep.codec.decode_error(reply.status, reply.headers, body, ep.target)
                decoder = ep.codec.stream_decoder(ep.target)
                held: list[StreamEvent] | None = []
                async for chunk in reply.chunks():
                    events = _feed(ep, decoder.feed, chunk)
                    if held is not None:
                        held.extend(events)
                        if all(isinstance(e, NOT_CONTENT) for e in held):
                            continue
                        events, held = held, None
                        attempt = _served(trace, ep, started, warnings, ttft=True)
                    if events:
                        if reservation.tokens is not None:
                            _last_usage(events, usage)
                        yield events
                tail = FinalBatch(_feed(ep, _closer(decoder), b""))
                relaying = held is None
                if held is not None:
                    tail[:0] = held
                    attempt = _served(trace, ep, started, warnings, ttft=True)
                if tail and reservation.tokens is not None:
                    _last_usage(tail, usage)
                if tail or relaying:  # the stream is over: what follows is bookkeeping
                    yield tail
                if attempt is not None:
                    attempt.latency_ms = _ms(started)
                return
        except GatewayError as exc:
            ep.redactor.scrub_error(exc)  # upstream text enters junction here
            if attempt is None:
                run.failed(ep, started, exc)
                continue
            _broken(trace, attempt, started, exc, run)  # already streaming to the client
        finally:
            run.end(ep, probing)
            run.release(reservation, usage[-1] if usage else None)
    raise run.error()


def _last_usage(events: list[StreamEvent], into: list[Usage]) -> None:
    """Keep the stream's latest usage report (cumulative: the last is the total)."""
    for e in events:
        if isinstance(e, UsageReport):
            into[:] = [e.usage]


def _broken(
    trace: Trace, attempt: Attempt, started: float, exc: GatewayError, run: Failover
) -> None:
    """A stream that failed after content reached the client: the error goes
    to the client's stream (named as the deadline when that is the cause)."""
    attempt.latency_ms = _ms(started)
    attempt.error = exc.message
    attempt.status = exc.status
    attempt.timeout = exc.kind == "timeout"
    log_failure(trace, attempt, exc)
    if trace.expired():
        run.failures.append(exc)
        raise run.error() from None
    raise exc


async def embed(
    transport: Transport,
    endpoints: Sequence[Endpoint],
    request: EmbeddingRequest,
    trace: Trace,
    policy: FailoverPolicy,
) -> EmbeddingResponse:
    run = Failover(endpoints, policy, trace)
    while (ep := await run.next()) is not None:
        started = time.perf_counter()
        codec = ep.codec
        if not isinstance(codec, EmbeddingCodec):
            run.skip(
                GatewayError("invalid_request", f"{ep.label} ({ep.dialect}) cannot make embeddings")
            )
            continue
        limits, probing = run.begin(ep)
        try:
            response = await _embed_batches(transport, ep, limits, codec, request)
        except GatewayError as exc:
            ep.redactor.scrub_error(exc)  # upstream text enters junction here
            run.failed(ep, started, exc)
            continue
        finally:
            run.end(ep, probing)
        _served(trace, ep, started, [], ttft=False)
        response.provider = ep.label
        return response
    raise run.error()


async def _embed_batches(
    transport: Transport,
    ep: Endpoint,
    limits: Limits,
    codec: EmbeddingCodec,
    request: EmbeddingRequest,
) -> EmbeddingResponse:
    """One upstream call, or several in parallel when the model takes fewer
    inputs per call than the request has (Bedrock Titan takes one)."""
    limit_of = getattr(codec, "embedding_batch_limit", None)
    limit = limit_of(ep.target) if limit_of is not None else None
    inputs = request.input
    if limit is None or len(inputs) <= limit:
        return await _embed_once(transport, ep, limits, codec, request)
    parts = [
        msgspec.structs.replace(request, input=inputs[i : i + limit])
        for i in range(0, len(inputs), limit)
    ]
    answers = await asyncio.gather(*(_embed_once(transport, ep, limits, codec, p) for p in parts))
    merged = answers[0]
    for extra in answers[1:]:
        merged.data.extend(extra.data)
        merged.usage.prompt_tokens += extra.usage.prompt_tokens
    return merged


async def _embed_once(
    transport: Transport,
    ep: Endpoint,
    limits: Limits,
    codec: EmbeddingCodec,
    request: EmbeddingRequest,
) -> EmbeddingResponse:
    http = codec.encode_embeddings(request, ep.target)
    reply = await transport.send(http, limits, ep.label)
    if reply.status >= 400:
        raise ep.codec.decode_error(reply.status, reply.headers, reply.body, ep.target)
    try:
        return codec.decode_embeddings(reply.body, ep.target)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise _unreadable(ep, exc) from None


def _decode(ep: Endpoint, body: bytes) -> ChatResponse:
    try:
        return ep.codec.decode_response(body, ep.target)
    except UpstreamError as exc:
        raise _answer_failed(exc) from None
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
    except UpstreamError as exc:
        raise _answer_failed(exc) from None
    except GatewayError:
        raise
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError, TypeError) as exc:
        raise _unreadable(ep, exc) from None
    return events


def _answer_failed(exc: UpstreamError) -> UpstreamError:
    """A provider's failure found in its 200 answer (unreadable, cut, an
    error event): the next endpoint may be tried when it is the provider's
    fault (5xx) and nothing reached the client yet, which the attempt loop
    decides. Codecs mark a stream that ended early as not retryable, as
    they cannot know whether content was already relayed."""
    if exc.status >= 500:
        exc.retryable = True
    return exc


def _unreadable(ep: Endpoint, exc: Exception) -> UpstreamError:
    return UpstreamError(
        "provider_unavailable",
        f"{ep.label} sent a response junction could not read ({type(exc).__name__}: {exc})",
        provider=ep.label,
        status=502,
        retryable=True,
    )
