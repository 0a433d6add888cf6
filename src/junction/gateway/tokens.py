"""Prompt size estimates, for count_tokens and routing limits.

An estimate, not a tokenizer: about four characters of text per token
(the usual rule of thumb for English with GPT / Claude tokenizers), plus a
fixed cost per message, image and tool. Exact counts come from the
provider's usage after the call.
"""

from __future__ import annotations

import msgspec

from junction.types import (
    AudioPart,
    ChatRequest,
    FilePart,
    ImagePart,
    Part,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)

_PER_MESSAGE = 4
_PER_IMAGE = 85
_PER_FILE = 85


def _chars(text: str) -> int:
    return (len(text) + 3) // 4


def _part(part: Part) -> int:
    if isinstance(part, TextPart):
        return _chars(part.text)
    if isinstance(part, ThinkingPart):
        return _chars(part.text)
    if isinstance(part, ToolCallPart):
        return _chars(part.name) + _chars(part.arguments)
    if isinstance(part, ToolResultPart):
        return sum(_part(p) for p in part.content)
    if isinstance(part, ImagePart):
        return _PER_IMAGE
    if isinstance(part, FilePart):
        return _PER_FILE
    if isinstance(part, AudioPart):
        return _chars(part.data) // 10
    return 0


def estimate_prompt_tokens(request: ChatRequest) -> int:
    total = 0
    for message in request.messages:
        total += _PER_MESSAGE + sum(_part(p) for p in message.content)
    for tool in request.tools:
        total += _chars(tool.name) + _chars(tool.description or "")
        total += _chars(msgspec.json.encode(tool.parameters).decode())
    return total


def estimate_text_tokens(chars: int) -> int:
    """Tokens in ``chars`` characters of generated text (the same rule)."""
    return (chars + 3) // 4
