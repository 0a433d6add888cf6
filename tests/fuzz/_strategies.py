"""hypothesis strategies for canonical requests, responses and streams, kept to
what all five dialects carry, and the canonical views the properties compare."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import strategies as st

from junction.types import (
    ChatRequest,
    ChatResponse,
    Choice,
    Finish,
    Message,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextPart,
    Tool,
    ToolCallDelta,
    ToolCallPart,
    ToolResultPart,
    Usage,
    UsageReport,
)

# Printable text without surrogates; never empty (dialects drop empty text).
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip() == s and s != "")
names = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)
call_ids = st.from_regex(r"call_[A-Za-z0-9]{6,12}", fullmatch=True)
json_args = st.dictionaries(
    names, st.one_of(st.integers(-1000, 1000), text, st.booleans()), max_size=3
).map(lambda d: json.dumps(d, ensure_ascii=False, separators=(",", ":")))


@st.composite
def tool_turn(draw: st.DrawFn) -> list[Message]:
    """An assistant turn that calls tools, and the results."""
    calls = draw(st.lists(st.tuples(call_ids, names, json_args), min_size=1, max_size=2,
                          unique_by=lambda c: c[0]))  # fmt: skip
    assistant = Message(
        role="assistant", content=[ToolCallPart(id=i, name=n, arguments=a) for i, n, a in calls]
    )
    results = [
        Message(role="tool", content=[ToolResultPart(tool_call_id=i, name=n,
                                                     content=[TextPart(text=draw(text))])])
        for i, n, _ in calls
    ]  # fmt: skip
    return [assistant, *results]


@st.composite
def chat_requests(draw: st.DrawFn) -> ChatRequest:
    messages: list[Message] = []
    if draw(st.booleans()):
        messages.append(Message(role="system", content=[TextPart(text=draw(text))]))
    for _ in range(draw(st.integers(1, 3))):
        messages.append(Message(role="user", content=[TextPart(text=draw(text))]))
        if draw(st.booleans()):
            messages.extend(draw(tool_turn()))
        messages.append(Message(role="assistant", content=[TextPart(text=draw(text))]))
    messages.append(Message(role="user", content=[TextPart(text=draw(text))]))
    tools = [
        Tool(name=n, description=draw(text), parameters={"type": "object", "properties": {}})
        for n in draw(st.lists(names, max_size=2, unique=True))
    ]
    return ChatRequest(
        model="fuzz-model",
        messages=messages,
        stream=draw(st.booleans()),
        max_tokens=draw(st.integers(1, 8192)),
        temperature=draw(st.sampled_from([None, 0.0, 0.5, 1.0])),
        top_p=draw(st.sampled_from([None, 0.25, 0.9])),
        stop=draw(st.lists(text, max_size=2, unique=True)),
        tools=tools,
    )


usages = st.builds(
    Usage, prompt_tokens=st.integers(0, 10**6), completion_tokens=st.integers(0, 10**6)
)


@st.composite
def chat_responses(draw: st.DrawFn) -> ChatResponse:
    parts: list[Any] = [TextPart(text=draw(text))]
    reason = "stop"
    if draw(st.booleans()):
        calls = draw(st.lists(st.tuples(call_ids, names, json_args), min_size=1, max_size=2,
                              unique_by=lambda c: c[0]))  # fmt: skip
        parts += [ToolCallPart(id=i, name=n, arguments=a) for i, n, a in calls]
        reason = "tool_calls"
    elif draw(st.booleans()):
        reason = "length"
    return ChatResponse(
        id="resp_" + draw(st.from_regex(r"[a-z0-9]{8}", fullmatch=True)),
        model="fuzz-model",
        choices=[
            Choice(index=0, message=Message(role="assistant", content=parts),
                   finish_reason=reason)  # type: ignore[arg-type]
        ],
        usage=draw(usages),
    )  # fmt: skip


def stream_of(response: ChatResponse, draw: st.DrawFn) -> list[StreamEvent]:
    """The events a provider streaming ``response`` would send, text in random pieces."""
    choice = response.choices[0]
    events: list[StreamEvent] = [StreamStart(id=response.id, model=response.model)]
    calls = 0
    for part in choice.message.content:
        if isinstance(part, TextPart):
            cuts = sorted(draw(st.sets(st.integers(1, max(1, len(part.text) - 1)), max_size=3)))
            bounds = [0, *[c for c in cuts if c < len(part.text)], len(part.text)]
            events += [
                TextDelta(text=part.text[a:b]) for a, b in itertools.pairwise(bounds) if b > a
            ]
        elif isinstance(part, ToolCallPart):
            events.append(ToolCallDelta(call_index=calls, id=part.id, name=part.name,
                                        arguments=part.arguments))  # fmt: skip
            calls += 1
    events.append(Finish(reason=choice.finish_reason or "stop"))
    assert response.usage is not None
    events.append(UsageReport(usage=response.usage))
    return events


# --- canonical views -------------------------------------------------------------


def _args(arguments: str) -> Any:
    return json.loads(arguments) if arguments.strip() else {}


def request_view(request: ChatRequest, params: dict[str, str]) -> dict[str, Any]:
    """What a request means: each turn's role and parts, and the parameters
    among ``params`` (those the dialect carries)."""
    turns: list[tuple[str, list[Any]]] = []
    for m in request.messages:
        parts: list[Any] = []
        for p in m.content:
            if isinstance(p, TextPart):
                parts.append(("text", p.text))
            elif isinstance(p, ToolCallPart):
                parts.append(("call", p.id, p.name, _args(p.arguments)))
            elif isinstance(p, ToolResultPart):
                parts.append(("result", p.tool_call_id, [c.text for c in p.content
                                                         if isinstance(c, TextPart)]))  # fmt: skip
        role = "tool" if all(p[0] == "result" for p in parts) and parts else m.role
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(parts)  # dialects that merge adjacent same-role turns
        else:
            turns.append((role, parts))
    carried = {
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": list(request.stop),
        "tools": [(t.name, t.description, t.parameters) for t in request.tools],
    }
    return {"turns": turns} | {k: v for k, v in carried.items() if k in params}


def response_view(response: ChatResponse) -> dict[str, Any]:
    choice = response.choices[0]
    text_out = "".join(p.text for p in choice.message.content if isinstance(p, TextPart))
    calls = [
        (p.name, _args(p.arguments)) for p in choice.message.content if isinstance(p, ToolCallPart)
    ]
    usage = response.usage or Usage()
    return {
        "text": text_out,
        "calls": calls,
        "finish": choice.finish_reason,
        "usage": (usage.prompt_tokens, usage.completion_tokens),
    }


def events_view(events: list[StreamEvent]) -> dict[str, Any]:
    """What a stream means: the text, each tool call's name and arguments, the
    finish reason and the usage."""
    text_out = ""
    calls: dict[int, list[str]] = {}
    finish = None
    usage = None
    for e in events:
        if isinstance(e, TextDelta):
            text_out += e.text
        elif isinstance(e, ToolCallDelta):
            call = calls.setdefault(e.call_index, ["", ""])
            call[0] += e.name or ""
            call[1] += e.arguments
        elif isinstance(e, Finish):
            finish = e.reason
        elif isinstance(e, UsageReport):
            usage = (e.usage.prompt_tokens, e.usage.completion_tokens)
    return {
        "text": text_out,
        "calls": [(n, _args(a)) for _, (n, a) in sorted(calls.items())],
        "finish": finish,
        "usage": usage,
    }
