"""OpenAI Chat Completions, client side: calling OpenAI and every vendor that
speaks its dialect (Groq, DeepSeek, Mistral, OpenRouter, Cerebras, Ollama,
vLLM, Azure...). Vendor differences come from ``target.quirks``, never from
the vendor's name. Request encoding and response bodies live here; streams
are read in ``client_stream``.
"""

from __future__ import annotations

import base64
import hashlib
import string
import struct
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import msgspec
from msgspec import UNSET, UnsetType

from junction.codecs._shared.media import data_url
from junction.codecs._shared.openai_errors import decode_error, invalid_response, plain_text
from junction.codecs._shared.reasoning import openai_effort
from junction.codecs.base import Quirks, Target, auth_headers, join_url
from junction.codecs.openai_chat import wire
from junction.codecs.openai_chat.client_stream import (
    BODY_DECODER,
    OpenAIStreamDecoder,
    custom_field,
    decode_logprobs,
    decode_message,
    decode_usage,
    reasoning_text,
    stream_error,
)
from junction.codecs.openai_chat.wire import normalise_finish
from junction.types import (
    AudioPart,
    CacheControl,
    ChatRequest,
    ChatResponse,
    Choice,
    FilePart,
    ImagePart,
    Message,
    Part,
    Reasoning,
    TextPart,
    ToolResultPart,
    UpstreamError,
    Usage,
)
from junction.types.embeddings import EmbeddingRequest, EmbeddingResponse
from junction.types.http import HttpRequest

_json = msgspec.json.Encoder().encode


AZURE_API_VERSION = "2024-10-21"
"""Azure OpenAI's GA data-plane version, used when a deployment-style target
names none (the ``azure-deployments`` vendor record defaults to it)."""


_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def vendor_tool_call_id(call_id: str, length: int) -> str:
    """``call_id`` as ``length`` ASCII letters and digits (Mistral's rule).

    An id already of that form is kept, so ids the vendor made itself go
    back unchanged; any other id becomes base62 digits of its SHA-256, the
    same for the assistant's tool call and the tool result that answers it.
    """
    if len(call_id) == length and call_id.isascii() and call_id.isalnum():
        return call_id
    number = int.from_bytes(hashlib.sha256(call_id.encode()).digest(), "big")
    digits = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "".join(digits)


def _call_id(call_id: str, quirks: Quirks) -> str:
    length = quirks.tool_call_id_length
    return call_id if length is None else vendor_tool_call_id(call_id, length)


def _with_fields(encoded: bytes, fields: Mapping[str, Any]) -> bytes:
    """A JSON object's bytes with more fields merged in (none of its own names)."""
    if not fields:
        return encoded
    tail = _json(fields)
    return tail if encoded == b"{}" else encoded[:-1] + b"," + tail[1:]


def _cache(part: Part, cache: bool) -> CacheControl | UnsetType:
    found = getattr(part, "cache_control", None)
    return found if cache and found is not None else UNSET


def _text_part(part: TextPart, cache: bool) -> wire.SentPart:
    return wire.SentPart(type="text", text=part.text, cache_control=_cache(part, cache))


def _media_part(part: Part, cache: bool) -> wire.SentPart | None:
    """A non-text user part on the wire; None for parts OpenAI cannot take."""
    if isinstance(part, TextPart):
        return _text_part(part, cache)
    if isinstance(part, ImagePart):
        url = part.url if part.data is None else data_url(part.data, part.media_type)
        image = wire.SentImageURL(url=url, detail=part.detail or UNSET)
        return wire.SentPart(type="image_url", image_url=image, cache_control=_cache(part, cache))
    if isinstance(part, AudioPart):
        return wire.SentPart(type="input_audio", input_audio=wire.SentAudio(part.data, part.format))
    if isinstance(part, FilePart):
        file = wire.SentFile(
            file_data=(
                data_url(part.data, part.media_type)
                if part.data is not None
                else part.url
                if part.url is not None
                else UNSET
            ),
            file_id=UNSET if part.file_id is None else part.file_id,
            filename=UNSET if part.filename is None else part.filename,
        )
        return wire.SentPart(type="file", file=file, cache_control=_cache(part, cache))
    return None


def _content(parts: list[Part], cache: bool) -> str | list[wire.SentPart]:
    """A plain string when the parts are text only (the common, compact case)."""
    if len(parts) == 1:
        only = parts[0]
        if type(only) is TextPart and (not cache or only.cache_control is None):
            return only.text
    if all(isinstance(p, TextPart) and (not cache or p.cache_control is None) for p in parts):
        return "".join(p.text for p in parts if isinstance(p, TextPart))
    return [w for w in (_media_part(p, cache) for p in parts) if w is not None]


def _assistant(message: Message, quirks: Quirks) -> wire.SentMessage | msgspec.Raw:
    text = message.text()
    calls = message.tool_calls()
    out = wire.SentMessage(role="assistant", content=text if text or not calls else None)
    if calls:
        out.tool_calls = [
            wire.SentToolCall(
                id=_call_id(c.id, quirks), function=wire.SentFunction(c.name, c.arguments)
            )
            for c in calls
        ]
    if message.refusal:
        out.refusal = message.refusal
    if message.name and quirks.send_message_name:
        out.name = message.name
    if quirks.reasoning_field and quirks.send_reasoning_back:
        thinking = "".join(p.text for p in message.thinking())
        if thinking:
            return msgspec.Raw(_with_fields(_json(out), {quirks.reasoning_field: thinking}))
    return out


def _tool_results(parts: list[Part], quirks: Quirks) -> list[wire.SentMessage]:
    """One ``tool`` message per result; images or files a tool returned follow
    in a user message (OpenAI tool messages take text only)."""
    cache = "cache_control" in quirks.pass_extra
    out: list[wire.SentMessage] = []
    attachments: list[wire.SentPart] = []
    for part in parts:
        if not isinstance(part, ToolResultPart):
            continue
        call_id = _call_id(part.tool_call_id, quirks)
        text = "".join(p.text for p in part.content if isinstance(p, TextPart))
        out.append(wire.SentMessage(role="tool", tool_call_id=call_id, content=text))
        media = [p for p in part.content if not isinstance(p, TextPart)]
        if media:
            attachments.append(wire.SentPart(type="text", text=f"Attachments of {call_id}:"))
            attachments.extend(w for w in (_media_part(p, cache) for p in media) if w)
    if attachments:
        out.append(wire.SentMessage(role="user", content=attachments))
    return out


def _messages(messages: list[Message], quirks: Quirks) -> list[wire.SentMessage | msgspec.Raw]:
    cache = "cache_control" in quirks.pass_extra
    out: list[wire.SentMessage | msgspec.Raw] = []
    for m in messages:
        if m.role == "assistant":
            out.append(_assistant(m, quirks))
            continue
        if any(isinstance(p, ToolResultPart) for p in m.content):
            out.extend(_tool_results(m.content, quirks))
            rest: list[Part] = [p for p in m.content if not isinstance(p, ToolResultPart)]
            if not rest:
                continue
            m = Message(role="user" if m.role == "tool" else m.role, content=rest, name=m.name)
        message = wire.SentMessage(role=m.role, content=_content(m.content, cache))
        if m.name and quirks.send_message_name:
            message.name = m.name
        out.append(message)
    return out


def _reasoning_object(reasoning: Reasoning) -> wire.SentReasoning:
    """OpenRouter's ``reasoning`` object; ``enabled`` only when nothing else says it."""
    out = wire.SentReasoning()
    if reasoning.effort is not None:
        out.effort = reasoning.effort
    if reasoning.max_tokens is not None:
        out.max_tokens = reasoning.max_tokens
    if reasoning.exclude:
        out.exclude = True
    said = reasoning.effort is not None or reasoning.max_tokens is not None or reasoning.exclude
    if not said or (not reasoning.enabled and reasoning.effort != "none"):
        out.enabled = reasoning.enabled
    return out


def _tools(request: ChatRequest, body: wire.SentRequest) -> None:
    if request.tools:
        body.tools = [
            wire.SentTool(
                function=wire.SentFunctionDef(
                    name=t.name,
                    parameters=t.parameters,
                    description=UNSET if t.description is None else t.description,
                    strict=UNSET if t.strict is None else t.strict,
                )
            )
            for t in request.tools
        ]
    choice = request.tool_choice
    if choice is not None:
        if choice.mode == "tool":
            body.tool_choice = wire.SentToolChoice(function=wire.SentNamed(choice.name))
        else:
            body.tool_choice = choice.mode
    if request.parallel_tool_calls is not None:
        body.parallel_tool_calls = request.parallel_tool_calls
    fmt = request.response_format
    if fmt is not None:
        if fmt.type != "json_schema":
            body.response_format = wire.SentResponseFormat(type=fmt.type)
        else:
            schema = wire.SentJsonSchema(
                name=fmt.name or "response",
                schema=fmt.schema,
                strict=UNSET if fmt.strict is None else fmt.strict,
                description=UNSET if fmt.description is None else fmt.description,
            )
            body.response_format = wire.SentResponseFormat(type="json_schema", json_schema=schema)


_SIMPLE = (
    "temperature",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "seed",
    "top_logprobs",
    "logit_bias",
    "user",
    "metadata",
    "service_tier",
    "prompt_cache_key",
)
_TOOL_FIELDS = ("tools", "tool_choice", "parallel_tool_calls", "response_format")


def _params(request: ChatRequest, quirks: Quirks, body: wire.SentRequest) -> None:
    if request.max_tokens is not None:
        setattr(body, quirks.max_tokens_field, request.max_tokens)
    for name in _SIMPLE:
        value = getattr(request, name)
        if value is not None:
            setattr(body, name, value)
    floor = quirks.min_temperature
    if floor is not None and request.temperature is not None and request.temperature < floor:
        body.temperature = floor
    if request.stop:
        body.stop = request.stop
    if request.n != 1:
        body.n = request.n
    if request.logprobs:
        body.logprobs = True
    reasoning = request.reasoning
    if reasoning is not None:
        if "reasoning" in quirks.pass_extra:
            body.reasoning = _reasoning_object(reasoning)
        elif (effort := openai_effort(reasoning)) is not None:
            body.reasoning_effort = effort
    extra = quirks.pass_extra
    for name in ("top_k", "repetition_penalty"):
        if name in extra and getattr(request, name) is not None:
            setattr(body, name, getattr(request, name))
    if "cache_control" in extra and request.cache_control is not None:
        body.cache_control = request.cache_control


def _pass_through(request: ChatRequest, quirks: Quirks, body: wire.SentRequest) -> dict[str, Any]:
    """The request's unmapped fields that ``Quirks.pass_extra`` names, sent
    unchanged. One replaces a field of the same name set from the canonical
    request, except the tool fields, which the canonical request decides."""
    if not request.extra or not quirks.pass_extra:
        return {}
    fields = {n: request.extra[n] for n in quirks.pass_extra if n in request.extra}
    for name in list(fields):
        if name in wire.SENT_FIELDS:
            if name in _TOOL_FIELDS and getattr(body, name) is not UNSET:
                del fields[name]
            else:
                setattr(body, name, UNSET)
    return fields


def _url(target: Target, path: str) -> str:
    """The endpoint URL: OpenAI's ``{base}/{path}``, or Azure's deployment form."""
    if target.quirks.url_style != "azure-deployment":
        return join_url(target.base_url, path)
    base = target.base_url.rstrip("/").removesuffix("/openai")
    version = quote(target.api_version or AZURE_API_VERSION, safe="")
    deployment = quote(target.model, safe="")
    return f"{base}/openai/deployments/{deployment}/{path}?api-version={version}"


_WIRE_NAMES: dict[str, tuple[str, ...]] = {
    "max_tokens": ("max_tokens", "max_completion_tokens"),
    "reasoning": ("reasoning_effort", "reasoning"),
    "tools": ("tools", "tool_choice"),
}


def _without_refused(body: wire.SentRequest, fields: dict[str, Any], quirks: Quirks) -> None:
    """Never send what the vendor refuses. The gateway drops those first
    (with a warning); this also covers values ``ChatRequest.given`` does not
    count as set, such as ``parallel_tool_calls: false``."""
    for name in quirks.unsupported:
        for key in _WIRE_NAMES.get(name, (name,)):
            if key in wire.SENT_FIELDS:
                setattr(body, key, UNSET)
            fields.pop(key, None)


def _headers(target: Target, stream: bool) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    if stream:
        headers["accept"] = "text/event-stream"
    headers.update(auth_headers(target))
    headers.update(target.headers)
    return headers


class OpenAIChatCodec:
    """The ``openai-chat`` dialect, client side (chat and embeddings)."""

    name = "openai-chat"

    def encode_request(self, request: ChatRequest, target: Target) -> HttpRequest:
        quirks = target.quirks
        body = wire.SentRequest(model=target.model, messages=_messages(request.messages, quirks))
        if request.stream:
            body.stream = True
            if quirks.stream_usage:
                body.stream_options = wire.SentStreamOptions(include_usage=True)
        _params(request, quirks, body)
        _tools(request, body)
        fields = _pass_through(request, quirks, body)
        if quirks.unsupported:
            _without_refused(body, fields, quirks)
        return HttpRequest(
            method="POST",
            url=_url(target, "chat/completions"),
            headers=_headers(target, request.stream),
            body=_with_fields(_json(body), fields),
            stream=request.stream,
        )

    def decode_response(self, body: bytes, target: Target) -> ChatResponse:
        return decode_response(body, target)

    def stream_decoder(self, target: Target) -> OpenAIStreamDecoder:
        return OpenAIStreamDecoder(target)

    def decode_error(
        self, status: int, headers: Mapping[str, str], body: bytes, target: Target
    ) -> UpstreamError:
        return decode_error(status, headers, body, target)

    def encode_embeddings(self, request: EmbeddingRequest, target: Target) -> HttpRequest:
        body: dict[str, Any] = {"model": target.model, "input": request.input}
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        if request.encoding_format == "base64":
            body["encoding_format"] = "base64"
        if request.user is not None:
            body["user"] = request.user
        return HttpRequest(
            method="POST",
            url=_url(target, "embeddings"),
            headers=_headers(target, False),
            body=_json(body),
        )

    def decode_embeddings(self, body: bytes, target: Target) -> EmbeddingResponse:
        return decode_embeddings(body, target)


_EMBEDDINGS_DECODER = msgspec.json.Decoder(wire.ReceivedEmbeddingList)


def _floats(vector: list[float] | str) -> list[float]:
    if isinstance(vector, list):
        return vector
    raw = base64.b64decode(vector)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def decode_response(body: bytes, target: Target) -> ChatResponse:
    try:
        incoming = BODY_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise invalid_response(target, f"{exc}: {plain_text(body[:300], 200)}") from None
    if incoming.error is not None:
        raise stream_error(incoming.error, target)
    if not incoming.choices:
        raise invalid_response(target, "the body has no `choices`")
    custom = custom_field(body, target.quirks, "message")
    choices = []
    for c in incoming.choices:
        m = c.message or wire.ReceivedMessage()
        native = c.native_finish_reason or c.finish_reason
        choices.append(
            Choice(
                index=c.index,
                message=decode_message(m, reasoning_text(m, target.quirks, custom.get(c.index))),
                finish_reason=normalise_finish(c.finish_reason) if c.finish_reason else None,
                native_finish_reason=native,
                logprobs=decode_logprobs(c.logprobs),
            )
        )
    usage = incoming.usage or (incoming.x_groq.usage if incoming.x_groq else None)
    return ChatResponse(
        id=incoming.id,
        model=incoming.model,
        choices=choices,
        usage=decode_usage(usage) if usage is not None else None,
        created=int(incoming.created),
        provider=target.provider,
        system_fingerprint=incoming.system_fingerprint,
        service_tier=incoming.service_tier,
    )


def decode_embeddings(body: bytes, target: Target) -> EmbeddingResponse:
    try:
        incoming = _EMBEDDINGS_DECODER.decode(body)
        data = [_floats(e.embedding) for e in sorted(incoming.data, key=lambda e: e.index)]
    except (msgspec.DecodeError, ValueError, struct.error) as exc:
        raise invalid_response(target, f"bad embeddings body ({exc})") from None
    tokens = (incoming.usage.prompt_tokens or 0) if incoming.usage else 0
    return EmbeddingResponse(
        model=incoming.model or target.model,
        data=data,
        usage=Usage(prompt_tokens=tokens),
        provider=target.provider,
    )
