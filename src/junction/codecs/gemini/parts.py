"""Canonical messages and parts <-> Gemini ``contents`` / ``parts``.

Private to the Gemini codec; both halves use it (the client encodes messages
and decodes candidates, the server does the reverse).

Thought signatures: Gemini may attach ``thoughtSignature`` to any part. On a
function call it lands in :attr:`ToolCallPart.signature`; on a thought part
in :attr:`ThinkingPart.signature`; on a plain text part it becomes an empty
``ThinkingPart(signature=..., provider="gemini")`` placed just before the
text, and encoding puts it back on the part that follows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from junction.codecs._shared.media import split_data_url
from junction.codecs.gemini.wire import (
    Blob,
    Candidate,
    Content,
    FileData,
    FunctionCall,
    FunctionResponse,
    LogprobsResult,
    Part,
    UsageMetadata,
    finish_reason,
)
from junction.types import (
    AudioPart,
    Choice,
    FilePart,
    GatewayError,
    ImagePart,
    Message,
    TextPart,
    ThinkingPart,
    TokenLogprob,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from junction.types import Part as CanonicalPart

PROVIDER_TAG = "gemini"
"""``ThinkingPart.provider`` for reasoning made by Gemini."""


_json_encode = msgspec.json.Encoder().encode


_json_decode = msgspec.json.decode


def _data_url(url: str) -> Blob | None:
    found = split_data_url(url)
    return None if found is None else Blob(mime_type=found[0], data=found[1])


def _media_part(
    url: str | None, data: str | None, media_type: str | None, default_type: str
) -> Part | None:
    if data:
        return Part(inline_data=Blob(mime_type=media_type or default_type, data=data))
    if not url:
        return None
    blob = _data_url(url)
    if blob is not None:
        return Part(inline_data=blob)
    return Part(file_data=FileData(file_uri=url, mime_type=media_type))


def _keeps_thinking(part: ThinkingPart) -> bool:
    """Only Gemini's own reasoning goes back to Gemini; other providers' is dropped."""
    if part.redacted:
        return False
    if part.provider is not None:
        return part.provider == PROVIDER_TAG
    return part.signature is not None


def tool_args(arguments: str, where: str) -> dict[str, Any]:
    try:
        args = _json_decode(arguments or "{}")
    except msgspec.DecodeError:
        args = None
    if not isinstance(args, dict):
        raise GatewayError(
            "invalid_request",
            f"Gemini needs tool-call arguments that are a JSON object; got {arguments[:80]!r}",
            param=where,
        )
    return args


def _simple_part(part: CanonicalPart) -> Part | None:
    if isinstance(part, TextPart):
        return Part(text=part.text)
    if isinstance(part, ImagePart):
        return _media_part(part.url, part.data, part.media_type, "image/png")
    if isinstance(part, FilePart):
        url = part.url or part.file_id
        return _media_part(url, part.data, part.media_type, "application/pdf")
    if isinstance(part, AudioPart):
        return Part(inline_data=Blob(mime_type=f"audio/{part.format}", data=part.data))
    return None


def _thought(part: ThinkingPart, response: bool) -> Part | None:
    if _keeps_thinking(part):
        return Part(text=part.text, thought=True, thought_signature=part.signature)
    if response and part.text:
        # Another provider's reasoning shown to a Gemini client: text only.
        return Part(text=part.text, thought=True)
    return None


def _response_args(arguments: str) -> dict[str, Any]:
    try:
        args = _json_decode(arguments or "{}")
    except msgspec.DecodeError:
        return {}
    return args if isinstance(args, dict) else {}


def encode_parts(
    parts: Iterable[CanonicalPart], where: str, *, response: bool = False
) -> list[Part]:
    """Gemini parts of a user or model turn (tool results excepted).

    ``response`` is for a model answer given to a Gemini client: there other
    providers' reasoning is shown as thought text and unparseable tool
    arguments become ``{}`` instead of failing the request.
    """
    out: list[Part] = []
    pending_sig: str | None = None
    for j, part in enumerate(parts):
        gpart: Part | None
        if isinstance(part, ThinkingPart):
            if not part.text:
                pending_sig = part.signature if _keeps_thinking(part) else pending_sig
                continue
            gpart = _thought(part, response)
        elif isinstance(part, ToolCallPart):
            if response:
                args = _response_args(part.arguments)
            else:
                args = tool_args(part.arguments, f"{where}.content[{j}].arguments")
            call = FunctionCall(name=part.name, args=args, id=part.id or None)
            gpart = Part(function_call=call, thought_signature=part.signature)
        else:
            gpart = _simple_part(part)
        if gpart is None:
            continue
        if pending_sig is not None and gpart.thought_signature is None:
            gpart.thought_signature = pending_sig
        pending_sig = None
        out.append(gpart)
    if pending_sig is not None:
        out.append(Part(text="", thought=True, thought_signature=pending_sig))
    return out


def _result_response(part: ToolResultPart) -> dict[str, Any]:
    text = "".join(p.text for p in part.content if isinstance(p, TextPart))
    if part.is_error:
        return {"error": text}
    if text.startswith("{"):
        try:
            value = _json_decode(text)
        except msgspec.DecodeError:
            value = None
        if isinstance(value, dict):
            return value
    return {"result": text}


def _tool_turn(message: Message, names: dict[str, str], where: str) -> list[Part]:
    out: list[Part] = []
    for j, part in enumerate(message.content):
        if not isinstance(part, ToolResultPart):
            simple = _simple_part(part)
            if simple is not None:
                out.append(simple)
            continue
        name = part.name or names.get(part.tool_call_id)
        if not name:
            raise GatewayError(
                "invalid_request",
                f"tool result {part.tool_call_id!r} matches no earlier tool call, and Gemini "
                "needs the function name: give the result a name or keep the call in history",
                param=f"{where}.content[{j}]",
            )
        resp = FunctionResponse(
            name=name, response=_result_response(part), id=part.tool_call_id or None
        )
        out.append(Part(function_response=resp))
        media = (_simple_part(c) for c in part.content if not isinstance(c, TextPart))
        out.extend(p for p in media if p is not None)
    return out


def encode_messages(messages: list[Message]) -> tuple[Content | None, list[Content]]:
    """``systemInstruction`` and ``contents`` for canonical messages."""
    system: list[Part] = []
    contents: list[Content] = []
    names: dict[str, str] = {}
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if message.role in ("system", "developer"):
            system.extend(Part(text=t.text) for t in message.content if isinstance(t, TextPart))
            continue
        if message.role == "tool":
            role, parts = "user", _tool_turn(message, names, where)
        else:
            role = "model" if message.role == "assistant" else "user"
            parts = encode_parts(message.content, where)
            names.update((c.id, c.name) for c in message.tool_calls())
        if not parts:
            continue
        if contents and contents[-1].role == role:
            contents[-1].parts.extend(parts)
        else:
            contents.append(Content(role=role, parts=parts))
    return (Content(parts=system) if system else None), contents


def call_id(response_id: str | None, choice: int, n: int) -> str:
    """An id for a function call Gemini sent without one: stable for a given
    response (``responseId``, candidate index, call number) and unique across
    turns."""
    if response_id:
        return f"call_{response_id}_{choice}_{n}"
    return f"call_{choice}_{n}"


def _media(blob_type: str, url: str | None, data: str | None) -> CanonicalPart:
    if blob_type.startswith("image/"):
        return ImagePart(url=url, data=data, media_type=blob_type)
    if data is not None and blob_type.startswith("audio/"):
        return AudioPart(data=data, format=blob_type[6:])
    return FilePart(url=url, data=data, media_type=blob_type or None)


def decode_part(part: Part, make_id: Any) -> list[CanonicalPart]:
    """Canonical parts for one Gemini part; ``make_id()`` names an id-less call."""
    sig = part.thought_signature
    if part.function_call is not None:
        fc = part.function_call
        args = _json_encode(fc.args or {}).decode()
        return [ToolCallPart(id=fc.id or make_id(), name=fc.name, arguments=args, signature=sig)]
    out: list[CanonicalPart] = []
    if part.text is not None and part.thought:
        return [ThinkingPart(text=part.text, signature=sig, provider=PROVIDER_TAG)]
    if sig is not None:
        out.append(ThinkingPart(signature=sig, provider=PROVIDER_TAG))
    if part.text is not None:
        if part.text or sig is not None:
            out.append(TextPart(text=part.text))
    elif part.inline_data is not None:
        out.append(_media(part.inline_data.mime_type, None, part.inline_data.data))
    elif part.file_data is not None:
        fd = part.file_data
        out.append(_media(fd.mime_type or "", fd.file_uri, None))
    return out


def _logprobs(result: LogprobsResult | None) -> list[TokenLogprob] | None:
    if result is None:
        return None
    out: list[TokenLogprob] = []
    for i, chosen in enumerate(result.chosen_candidates):
        top = result.top_candidates[i].candidates if i < len(result.top_candidates) else []
        out.append(
            TokenLogprob(
                token=chosen.token,
                logprob=chosen.log_probability,
                top_logprobs=[TokenLogprob(token=t.token, logprob=t.log_probability) for t in top],
            )
        )
    return out


def decode_candidate(candidate: Candidate, response_id: str | None) -> Choice:
    parts: list[CanonicalPart] = []
    counter = iter(range(1 << 30))
    index = candidate.index

    def make_id() -> str:
        return call_id(response_id, index, next(counter))

    if candidate.content is not None:
        for part in candidate.content.parts:
            parts.extend(decode_part(part, make_id))
    native = candidate.finish_reason
    has_calls = any(isinstance(p, ToolCallPart) for p in parts)
    return Choice(
        index=index,
        message=Message(role="assistant", content=parts),
        finish_reason=finish_reason(native, has_calls) if native else None,
        native_finish_reason=native,
        logprobs=_logprobs(candidate.logprobs_result),
    )


def decode_usage(meta: UsageMetadata) -> Usage:
    return Usage(
        prompt_tokens=meta.prompt_token_count + meta.tool_use_prompt_token_count,
        completion_tokens=meta.candidates_token_count + meta.thoughts_token_count,
        cached_tokens=meta.cached_content_token_count,
        reasoning_tokens=meta.thoughts_token_count,
    )


def encode_usage(usage: Usage) -> UsageMetadata:
    return UsageMetadata(
        prompt_token_count=usage.prompt_tokens,
        candidates_token_count=usage.completion_tokens - usage.reasoning_tokens,
        total_token_count=usage.total_tokens,
        thoughts_token_count=usage.reasoning_tokens,
        cached_content_token_count=usage.cached_tokens,
    )
