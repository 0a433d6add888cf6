"""Gemini server side, proven with the official google-genai SDK types."""

from __future__ import annotations

import json
from typing import Any

import pytest

from _gemini_fixtures import exchanges, require_fixtures, skip_reason, sse_chunks
from junction.codecs.base import Quirks, Target
from junction.codecs.gemini import (
    CODEC,
    PARAMS,
    StreamEncoder,
    decode_embed_request,
    encode_embed_response,
    encode_error,
    encode_response,
)
from junction.types import (
    ChatRequest,
    ChatResponse,
    Choice,
    EmbeddingRequest,
    EmbeddingResponse,
    Finish,
    GatewayError,
    Message,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCallDelta,
    ToolCallPart,
    Usage,
    UsageReport,
)
from junction.types.chat import OPTIONAL_PARAMS

genai_types = pytest.importorskip("google.genai.types")
genai_errors = pytest.importorskip("google.genai.errors")

TARGET = Target(
    provider="gemini",
    base_url="https://generativelanguage.googleapis.com",
    model="gemini-embedding-001",
    api_key="k",
    quirks=Quirks(auth="x-goog-api-key"),
)


def sdk(body: bytes) -> Any:
    """Strict parse (unknown fields are refused): used on what junction encodes."""
    return genai_types.GenerateContentResponse.model_validate_json(body)


def sdk_recorded(doc: dict[str, Any]) -> Any:
    """The SDK's own response path, which skips fields newer than this SDK."""
    from google.genai import models

    converted = models._GenerateContentResponse_from_mldev(doc)
    return genai_types.GenerateContentResponse._from_response(response=converted, kwargs={})


def test_encode_response_parsed_by_sdk() -> None:
    resp = ChatResponse(
        id="resp-1",
        model="gemini-2.5-flash",
        choices=[
            Choice(
                index=0,
                message=Message(
                    role="assistant",
                    content=[
                        ThinkingPart(text="pondering", signature="U0ln", provider="gemini"),
                        TextPart(text="Calling."),
                        ToolCallPart(
                            id="c1", name="lookup", arguments='{"q": "x"}', signature="U0lHMQ=="
                        ),
                    ],
                ),
                finish_reason="tool_calls",
            )
        ],
        usage=Usage(prompt_tokens=10, completion_tokens=30, reasoning_tokens=20, cached_tokens=4),
    )
    parsed = sdk(encode_response(resp))
    assert parsed.response_id == "resp-1"
    assert parsed.model_version == "gemini-2.5-flash"
    cand = parsed.candidates[0]
    assert cand.finish_reason == genai_types.FinishReason.STOP
    assert cand.content.role == "model"
    parts = cand.content.parts
    assert parts[0].thought is True
    assert parts[0].text == "pondering"
    assert parts[0].thought_signature == b"SIg"
    assert parts[2].thought_signature == b"SIG1"
    assert parts[1].text == "Calling."
    assert parts[2].function_call.name == "lookup"
    assert parts[2].function_call.args == {"q": "x"}
    assert parts[2].function_call.id == "c1"
    usage = parsed.usage_metadata
    assert usage.prompt_token_count == 10
    assert usage.candidates_token_count == 10
    assert usage.thoughts_token_count == 20
    assert usage.cached_content_token_count == 4
    assert usage.total_token_count == 40


@pytest.mark.parametrize(
    ("reason", "native", "expected"),
    [
        ("stop", None, "STOP"),
        ("length", None, "MAX_TOKENS"),
        ("content_filter", None, "SAFETY"),
        ("content_filter", "RECITATION", "RECITATION"),
        ("stop", "end_turn", "STOP"),
    ],
)
def test_finish_reason_encoding(reason: Any, native: str | None, expected: str) -> None:
    resp = ChatResponse(
        id="r",
        model="m",
        choices=[
            Choice(
                index=0,
                message=Message(role="assistant"),
                finish_reason=reason,
                native_finish_reason=native,
            )
        ],
    )
    assert sdk(encode_response(resp)).candidates[0].finish_reason.value == expected


UNARY = [e for e in exchanges() if e.status == 200 and not e.stream]
STREAMS = [e for e in exchanges() if e.status == 200 and e.stream]


def sdk_summary(parsed: list[Any]) -> dict[str, Any]:
    """Text, thoughts, calls and finish per candidate from SDK-parsed chunks."""
    out: dict[int, dict[str, Any]] = {}
    for resp in parsed:
        for cand in resp.candidates or []:
            s = out.setdefault(
                cand.index or 0, {"text": "", "thought": "", "calls": [], "finish": None}
            )
            for part in cand.content.parts if cand.content and cand.content.parts else []:
                if part.function_call:
                    s["calls"].append((part.function_call.name, part.function_call.args or {}))
                elif part.thought:
                    s["thought"] += part.text or ""
                elif part.text:
                    s["text"] += part.text
            if cand.finish_reason:
                s["finish"] = cand.finish_reason
    return out


def usage_of(meta: Any) -> tuple[int, int, int, int]:
    if meta is None:
        return (0, 0, 0, 0)
    prompt = (meta.prompt_token_count or 0) + (meta.tool_use_prompt_token_count or 0)
    return (
        prompt,
        meta.candidates_token_count or 0,
        meta.thoughts_token_count or 0,
        meta.total_token_count or 0,
    )


@pytest.mark.parametrize("ex", UNARY, ids=lambda e: e.id)
def test_recorded_response_reencoded(ex: Any) -> None:
    require_fixtures()
    if skip_reason(json.loads(ex.body)):
        pytest.skip(skip_reason(json.loads(ex.body)) or "")
    if not json.loads(ex.body).get("candidates"):
        pytest.skip("prompt blocked: no candidates to re-encode")
    original = sdk_recorded(json.loads(ex.body))
    again = sdk(encode_response(CODEC.decode_response(ex.body, TARGET)))
    assert sdk_summary([again]) == sdk_summary([original])
    assert usage_of(again.usage_metadata) == usage_of(original.usage_metadata)
    assert again.response_id == original.response_id


def reencode_stream(body: bytes, events_hook: Any = None) -> list[bytes]:
    decoder = CODEC.stream_decoder(TARGET)
    events = decoder.feed(body) + decoder.close()
    encoder = StreamEncoder()
    frames = [encoder.encode(e) for e in events] + [encoder.finish()]
    return [f for f in frames if f]


def frames_to_sdk(frames: list[bytes]) -> list[Any]:
    return [sdk(json.dumps(c).encode()) for c in sse_chunks(b"".join(frames))]


@pytest.mark.parametrize("ex", STREAMS, ids=lambda e: e.id)
def test_recorded_stream_reencoded(ex: Any) -> None:
    require_fixtures()
    docs = sse_chunks(ex.body)
    if skip_reason(docs):
        pytest.skip(skip_reason(docs) or "")
    original = [sdk_recorded(d) for d in docs]
    again = frames_to_sdk(reencode_stream(ex.body))
    assert sdk_summary(again) == sdk_summary(original)
    assert usage_of(again[-1].usage_metadata) == usage_of(original[-1].usage_metadata)
    # Gemini's way: the last chunk carries both the finish reason and the usage.
    assert again[-1].candidates[0].finish_reason is not None
    assert again[-1].usage_metadata is not None


def test_stream_encoder_buffers_calls_and_holds_finish() -> None:
    enc = StreamEncoder()
    out = [
        enc.encode(StreamStart(id="r1", model="m")),
        enc.encode(ThinkingDelta(text="", signature="U0lH")),
        enc.encode(TextDelta(text="Hi")),
        enc.encode(ToolCallDelta(call_index=0, id="a", name="f", arguments='{"x"')),
        enc.encode(ToolCallDelta(call_index=0, arguments=": 1}")),
        enc.encode(ToolCallDelta(call_index=1, id="b", name="g", arguments="{}")),
        enc.encode(Finish(reason="tool_calls")),
    ]
    assert out[0] == out[1] == out[3] == out[4] == out[5] == b""
    text = frames_to_sdk([out[2]])[0]
    assert text.candidates[0].content.parts[0].text == "Hi"
    assert text.candidates[0].content.parts[0].thought_signature == b"SIG"
    calls = frames_to_sdk([out[6]])
    assert len(calls) == 1  # the calls; the finish is held for the usage
    fcs = [p.function_call for p in calls[0].candidates[0].content.parts]
    assert [(f.name, f.args, f.id) for f in fcs] == [("f", {"x": 1}, "a"), ("g", {}, "b")]
    last = frames_to_sdk(
        [enc.encode(UsageReport(usage=Usage(prompt_tokens=5, completion_tokens=2)))]
    )
    assert last[0].candidates[0].finish_reason == genai_types.FinishReason.STOP
    assert last[0].usage_metadata.total_token_count == 7
    assert last[0].response_id == "r1"
    assert enc.finish() == b""


def test_stream_encoder_finish_flushes_held() -> None:
    enc = StreamEncoder()
    enc.encode(StreamStart(id="r", model="m"))
    assert enc.encode(Finish(reason="length")) == b""
    chunks = frames_to_sdk([enc.finish()])
    assert chunks[0].candidates[0].finish_reason == genai_types.FinishReason.MAX_TOKENS
    assert b"[DONE]" not in enc.finish()


def test_stream_error_and_encode_error() -> None:
    err = GatewayError("rate_limit", "slow down")
    frame = StreamEncoder().error(err)
    assert frame.startswith(b"data: ")
    assert frame.endswith(b"\n\n")
    payload = sse_chunks(frame)[0]
    api = genai_errors.APIError(429, payload)
    assert (api.code, api.status, api.message) == (429, "RESOURCE_EXHAUSTED", "slow down")
    # A decoder reading that chunk raises it again.
    with pytest.raises(GatewayError) as info:
        CODEC.stream_decoder(TARGET).feed(frame)
    assert info.value.status == 429


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("invalid_request", "INVALID_ARGUMENT"),
        ("authentication", "UNAUTHENTICATED"),
        ("permission_denied", "PERMISSION_DENIED"),
        ("not_found", "NOT_FOUND"),
        ("rate_limit", "RESOURCE_EXHAUSTED"),
        ("server", "INTERNAL"),
        ("overloaded", "UNAVAILABLE"),
        ("timeout", "DEADLINE_EXCEEDED"),
    ],
)
def test_encode_error_statuses(kind: Any, status: str) -> None:
    err = GatewayError(kind, "boom")
    body = json.loads(encode_error(err))
    assert body == {"error": {"code": err.status, "message": "boom", "status": status}}
    assert genai_errors.APIError(err.status, body).status == status


# -- embeddings -----------------------------------------------------------------------------


def test_embed_one_and_many() -> None:
    one = CODEC.encode_embeddings(
        EmbeddingRequest(model="e", input=["hello"], dimensions=8), TARGET
    )
    assert (
        one.url
        == "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:embedContent"
    )
    assert json.loads(one.body) == {
        "content": {"parts": [{"text": "hello"}]},
        "outputDimensionality": 8,
    }
    assert one.headers["x-goog-api-key"] == "k"
    many = CODEC.encode_embeddings(EmbeddingRequest(model="e", input=["a", "b"]), TARGET)
    assert many.url.endswith("/models/gemini-embedding-001:batchEmbedContents")
    assert json.loads(many.body) == {
        "requests": [
            {"content": {"parts": [{"text": "a"}]}, "model": "models/gemini-embedding-001"},
            {"content": {"parts": [{"text": "b"}]}, "model": "models/gemini-embedding-001"},
        ]
    }
    with pytest.raises(GatewayError):
        CODEC.encode_embeddings(EmbeddingRequest(model="e", input=[[1, 2]]), TARGET)


def test_embed_server_round_trip_with_sdk() -> None:
    single = decode_embed_request(
        b'{"content": {"parts": [{"text": "hi"}]}, "outputDimensionality": 3}',
        model="e",
        batch=False,
    )
    assert single == EmbeddingRequest(model="e", input=["hi"], dimensions=3)
    batch = decode_embed_request(
        json.dumps(
            {"requests": [{"model": "models/e", "content": {"parts": [{"text": t}]}} for t in "ab"]}
        ).encode(),
        model="e",
        batch=True,
    )
    assert batch.input == ["a", "b"]
    resp = EmbeddingResponse(model="e", data=[[0.1, 0.2], [0.3, 0.4]])
    body = encode_embed_response(resp, batch=True)
    parsed = genai_types.EmbedContentResponse.model_validate_json(body)
    assert [e.values for e in parsed.embeddings] == [[0.1, 0.2], [0.3, 0.4]]
    assert CODEC.decode_embeddings(body, TARGET).data == [[0.1, 0.2], [0.3, 0.4]]
    one = encode_embed_response(EmbeddingResponse(model="e", data=[[0.5]]), batch=False)
    assert genai_types.ContentEmbedding.model_validate(json.loads(one)["embedding"]).values == [0.5]
    decoded = CODEC.decode_embeddings(one, TARGET)
    assert decoded.data == [[0.5]]
    assert decoded.usage == Usage()
    with pytest.raises(GatewayError) as info:
        decode_embed_request(b'{"content": {"parts": "x"}}', model="e", batch=False)
    assert info.value.param == "content.parts"


def test_params_table_names_canonical_parameters() -> None:
    assert set(PARAMS) <= set(OPTIONAL_PARAMS)
    assert set(PARAMS.values()) <= {"native", "translated"}
    # What Gemini cannot express is absent, so the gateway can drop or refuse it.
    for name in ("logit_bias", "repetition_penalty", "parallel_tool_calls", "user"):
        assert name not in PARAMS
    assert ChatRequest(model="m", messages=[], top_k=3).given() <= set(PARAMS)
