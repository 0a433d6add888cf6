"""A response cut into the canonical stream events the simulator sends, in steps.

Each step is the events of one wire chunk and the number of tokens it
carries, which is what the pacing sleeps for. Text and reasoning are cut
every ``4 * chunk_tokens`` characters (the simulator counts 4 characters a
token); a tool call opens with its id and name, then its arguments follow in
pieces of the same size.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from junction.sim.generate import count_tokens
from junction.types import (
    ChatResponse,
    Choice,
    Finish,
    StreamEvent,
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

UNPACED_CHUNK_TOKENS = 4
"""Tokens per chunk when throughput is unlimited."""
MAX_CHUNKS_PER_SECOND = 20


class Step(NamedTuple):
    events: list[StreamEvent]
    tokens: int


def chunk_tokens(tokens_per_second: float) -> int:
    """Tokens per chunk: one chunk per token up to 20 tokens/s, then grouped
    so that no more than about 20 chunks a second are written."""
    if tokens_per_second <= 0:
        return UNPACED_CHUNK_TOKENS
    return max(1, math.ceil(tokens_per_second / MAX_CHUNKS_PER_SECOND))


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _choice_steps(choice: Choice, size: int) -> list[Step]:
    steps: list[Step] = []
    index = choice.index
    call_index = 0
    for part in choice.message.content:
        if isinstance(part, ThinkingPart):
            for piece in _pieces(part.text, size):
                steps.append(Step([ThinkingDelta(text=piece, index=index)], count_tokens(piece)))
            if part.signature:
                steps.append(Step([ThinkingDelta(signature=part.signature, index=index)], 0))
        elif isinstance(part, TextPart):
            for piece in _pieces(part.text, size):
                steps.append(Step([TextDelta(text=piece, index=index)], count_tokens(piece)))
        elif isinstance(part, ToolCallPart):
            head = ToolCallDelta(call_index=call_index, id=part.id, name=part.name, index=index)
            steps.append(Step([head], count_tokens(part.name)))
            for piece in _pieces(part.arguments, size):
                delta = ToolCallDelta(call_index=call_index, arguments=piece, index=index)
                steps.append(Step([delta], count_tokens(piece)))
            call_index += 1
    finish = Finish(
        reason=choice.finish_reason or "stop",
        native=choice.native_finish_reason,
        stop_sequence=choice.stop_sequence,
        index=index,
    )
    steps.append(Step([finish], 0))
    return steps


def plan(response: ChatResponse, tokens_per_chunk: int, *, early_usage: bool = False) -> list[Step]:
    """The steps of ``response``: start, each choice's content and finish, usage.

    With ``early_usage`` a usage report with the prompt tokens (and no
    completion tokens yet) follows the start, as Anthropic sends it."""
    start = StreamStart(id=response.id, model=response.model, created=response.created)
    head: list[StreamEvent] = [start]
    usage = response.usage or Usage()
    if early_usage:
        head.append(UsageReport(usage=Usage(prompt_tokens=usage.prompt_tokens)))
    steps = [Step(head, 0)]
    size = 4 * max(1, tokens_per_chunk)
    for choice in response.choices:
        steps.extend(_choice_steps(choice, size))
    steps.append(Step([UsageReport(usage=usage)], 0))
    return steps
