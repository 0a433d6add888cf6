"""Deterministic answers for canonical requests.

The same request always gets the same answer: the content is derived from a
hash of the model name and the last message. The rules, in order:

- Tools are offered and called (see :func:`tools_to_call`): tool calls with
  arguments valid against each tool's JSON Schema, finish ``tool_calls``.
  After a tool result a call is made only when ``tool_choice`` forces one.
- ``response_format`` ``json_schema``: JSON valid against the schema;
  ``json_object``: JSON valid against the schema written in the prompt, else
  ``{"answer": "<the text the rules below give>"}`` (tool results or not).
- The last message is a user message starting with ``echo:``: the rest of it,
  verbatim (one space after the colon is dropped).
- A system, developer or user message holds a JSON Schema (see
  :func:`junction.sim.schema.schema_in`): JSON valid against it.
- The last message is a tool result (role ``tool``): a sentence that quotes
  the result ("The get_weather tool returned: ...").
- Otherwise a sentence from a fixed word list, ``output_tokens`` long.

Then stop sequences cut the text before the first one found (finish ``stop``
with ``stop_sequence``) and ``max_tokens`` truncates it (finish ``length``).
``max_tokens`` limits the answer text; reasoning, when asked for, comes as a
short :class:`ThinkingPart` with a deterministic signature before the answer.

Token counting (used for both prompt and completion): a text costs
``ceil(len(text) / 4)`` tokens; a message costs 4 more, an image or file 85;
a tool definition costs the tokens of its name, description and JSON schema.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import re
import time
from array import array
from typing import Any

import msgspec

from junction.sim.profile import ModelConfig
from junction.sim.schema import SchemaValues, schema_in
from junction.types import (
    AudioPart,
    ChatRequest,
    ChatResponse,
    Choice,
    EmbeddingRequest,
    EmbeddingResponse,
    FilePart,
    FinishReason,
    GatewayError,
    ImagePart,
    Message,
    Part,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    Usage,
)

WORDS = (
    "the", "quick", "model", "answers", "every", "question", "with", "care", "and", "a",
    "simple", "sentence", "that", "is", "always", "the", "same", "for", "one", "prompt",
    "router", "sends", "tokens", "through", "fast", "quiet", "streams", "of", "text", "to",
    "clients", "who", "wait", "patiently", "while", "servers", "think", "about", "words",
    "bright", "river", "stone", "light", "garden", "morning", "signal", "echo", "harbor",
    "lantern", "meadow", "orbit", "pattern", "quartz", "summit", "thread", "valley",
)  # fmt: skip
_ECHO = "echo:"
_ASKS_FOR_TOOL = re.compile(
    r"\b(?:use (?:the|a|an|your|any) (?:\w+ )?tools?|use tools?|call|invoke)\b", re.IGNORECASE
)
_FINAL_TOOL = re.compile(r"final|output|answer", re.IGNORECASE)
_PROMPT_ROLES = frozenset({"system", "developer", "user"})
_REASONING_TOKENS = {"minimal": 8, "low": 16, "medium": 32, "high": 64, "xhigh": 96, "max": 128}
_MEDIA_TOKENS = 85
_MESSAGE_TOKENS = 4


def count_tokens(text: str) -> int:
    """The simulator's token count of a text: ``ceil(len(text) / 4)``."""
    return (len(text) + 3) // 4


def _part_tokens(part: Part) -> int:
    if isinstance(part, TextPart):
        return count_tokens(part.text)
    if isinstance(part, ThinkingPart):
        return count_tokens(part.text)
    if isinstance(part, ToolCallPart):
        return count_tokens(part.name) + count_tokens(part.arguments)
    if isinstance(part, ToolResultPart):
        return sum(_part_tokens(p) for p in part.content)
    if isinstance(part, ImagePart | FilePart | AudioPart):
        return _MEDIA_TOKENS
    return 0


def prompt_tokens(request: ChatRequest) -> int:
    """The input size of a request under the simulator's count."""
    total = sum(_MESSAGE_TOKENS + sum(_part_tokens(p) for p in m.content) for m in request.messages)
    for tool in request.tools:
        schema = msgspec.json.encode(tool.parameters).decode()
        total += count_tokens(tool.name) + count_tokens(tool.description or "")
        total += count_tokens(schema)
    return total


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def _rng(*parts: str) -> random.Random:
    return random.Random(int.from_bytes(_digest(*parts)[:8], "big"))


def sentence(tokens: int, *seed: str) -> str:
    """A deterministic sentence of about ``tokens`` tokens from :data:`WORDS`."""
    rng = _rng(*seed)
    words = [rng.choice(WORDS).capitalize()]
    while count_tokens(" ".join(words) + ".") < tokens:
        words.append(rng.choice(WORDS))
    return " ".join(words) + "."


def last_user_text(request: ChatRequest) -> str:
    for message in reversed(request.messages):
        if message.role == "user":
            return message.text()
    return ""


def _tool_result_text(message: Message) -> str:
    texts = []
    for part in message.content:
        if isinstance(part, ToolResultPart):
            inner = "".join(p.text for p in part.content if isinstance(p, TextPart))
            label = f"The {part.name} tool" if part.name else "The tool"
            texts.append(f"{label} returned: {inner}")
    return " ".join(texts) if texts else message.text()


def _mentions(text: str, name: str) -> bool:
    return (
        re.search(r"(?<![\w-])" + re.escape(name.lower()) + r"(?![\w-])", text.lower()) is not None
    )


def tools_to_call(request: ChatRequest) -> list[Tool]:
    """The tools the simulated model calls for this request (may be none).

    ``tool_choice`` ``none``: none. ``tool``: the named tool. After a tool
    result (the last message has role ``tool``): with ``required``, one tool
    (see :func:`next_tool`), otherwise none, so the model answers. Else, with
    ``required``: the tools the last user message names, else the first tool;
    ``auto`` (or unset): the tools the last user message names; if it names
    none but asks for a tool ("use the tool", "call", "invoke"), the first
    tool. Without ``parallel_tool_calls: false`` every named tool is called.
    """
    if not request.tools:
        return []
    choice = request.tool_choice or ToolChoice()
    if choice.mode == "none":
        return []
    if choice.mode == "tool":
        for tool in request.tools:
            if tool.name == choice.name:
                return [tool]
        raise GatewayError(
            "invalid_request",
            f"tool_choice names the tool {choice.name!r}, which is not among the tools offered",
            param="tool_choice",
        )
    last = request.messages[-1] if request.messages else None
    if last is not None and last.role == "tool":
        return [next_tool(request)] if choice.mode == "required" else []
    prompt = last_user_text(request)
    named = [tool for tool in request.tools if _mentions(prompt, tool.name)]
    if request.parallel_tool_calls is False:
        named = named[:1]
    if named:
        return named
    if choice.mode == "required" or _ASKS_FOR_TOOL.search(prompt):
        return [request.tools[0]]
    return []


def next_tool(request: ChatRequest) -> Tool:
    """The tool a forced call after a tool result goes to.

    Among the tools not yet called in the conversation (all tools, when every
    one has been called): the first whose parameters match the answer's schema
    (``response_format``'s, else one written in the prompt), else the first
    whose name marks a final answer (contains ``final``, ``output`` or
    ``answer``), else the first.
    """
    called = {call.name for message in request.messages for call in message.tool_calls()}
    fresh = [tool for tool in request.tools if tool.name not in called] or request.tools
    target = answer_schema(request)
    if target is not None:
        for tool in fresh:
            if _same_shape(tool.parameters, target):
                return tool
    for tool in fresh:
        if _FINAL_TOOL.search(tool.name):
            return tool
    return fresh[0]


def answer_schema(request: ChatRequest) -> dict[str, Any] | None:
    """The schema the final answer follows: ``response_format``'s, else one
    written in a system, developer or user message (the latest such message)."""
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema":
        return fmt.schema or {"type": "object"}
    return prompt_schema(request)


def prompt_schema(request: ChatRequest) -> dict[str, Any] | None:
    """A JSON Schema written into the latest system, developer or user message
    that holds one."""
    for message in reversed(request.messages):
        if message.role in _PROMPT_ROLES:
            found = schema_in(message.text())
            if found is not None:
                return found
    return None


def _same_shape(parameters: dict[str, Any], schema: dict[str, Any]) -> bool:
    if parameters == schema:
        return True
    mine, theirs = parameters.get("properties"), schema.get("properties")
    return (
        isinstance(mine, dict)
        and isinstance(theirs, dict)
        and bool(mine)
        and mine.keys() == theirs.keys()
    )


def _apply_limits(text: str, request: ChatRequest) -> tuple[str, FinishReason, str | None]:
    found: tuple[int, str] | None = None
    for seq in request.stop:
        at = text.find(seq) if seq else -1
        if at >= 0 and (found is None or at < found[0]):
            found = (at, seq)
    if found is not None:
        text = text[: found[0]]
    if request.max_tokens is not None and count_tokens(text) > max(0, request.max_tokens):
        return text[: 4 * max(0, request.max_tokens)], "length", None
    return text, "stop", found[1] if found else None


class _Answer:
    """Everything derived from one request, shared by its choices."""

    def __init__(self, request: ChatRequest, config: ModelConfig) -> None:
        self.request = request
        self.config = config
        last = request.messages[-1] if request.messages else Message(role="user")
        self.last = last
        self.prompt = last_user_text(request)
        self.key = _tool_result_text(last) if last.role == "tool" else self.prompt
        self.tools = tools_to_call(request)

    def text(self, index: int) -> str:
        fmt = self.request.response_format
        if fmt is not None and fmt.type == "json_schema":
            return self._json(fmt.schema or {"type": "object"})
        written = prompt_schema(self.request)
        if fmt is not None and fmt.type == "json_object":
            if written is not None:
                return self._json(written)
            return msgspec.json.encode({"answer": self._plain(index)}).decode()
        if self.last.role != "tool" and self.prompt.startswith(_ECHO):
            return self._plain(index)
        if written is not None:
            return self._json(written)
        return self._plain(index)

    def _json(self, schema: dict[str, Any]) -> str:
        return msgspec.json.encode(SchemaValues(schema, self.prompt).value()).decode()

    def _plain(self, index: int) -> str:
        """The text answer when no JSON is asked for."""
        if self.last.role == "tool":
            return _tool_result_text(self.last)
        if self.prompt.startswith(_ECHO):
            rest = self.prompt[len(_ECHO) :]
            return rest[1:] if rest.startswith(" ") else rest
        return sentence(self.config.output_tokens, self.request.model, self.key, str(index))

    def thinking(self, index: int) -> ThinkingPart | None:
        reasoning = self.request.reasoning
        if reasoning is None or not reasoning.enabled or reasoning.effort == "none":
            return None
        size = _REASONING_TOKENS.get(reasoning.effort or "medium", 32)
        if reasoning.max_tokens is not None:
            size = max(1, min(size, reasoning.max_tokens))
        text = "Thinking: " + sentence(size, "thinking", self.request.model, self.key, str(index))
        signature = base64.b64encode(_digest("signature", self.request.model, text)).decode()
        return ThinkingPart(text=text, signature=signature)

    def tool_calls(self, index: int) -> list[ToolCallPart]:
        calls = []
        for position, tool in enumerate(self.tools):
            args = SchemaValues(tool.parameters, self.prompt).value()
            digest = _digest("call", self.request.model, self.key, tool.name, str(position))
            calls.append(
                ToolCallPart(
                    id="call_" + digest.hex()[:24],
                    name=tool.name,
                    arguments=msgspec.json.encode(args).decode(),
                )
            )
        return calls


def _choice(answer: _Answer, index: int) -> tuple[Choice, int, int]:
    """One choice, its completion tokens and its reasoning tokens."""
    content: list[Part] = []
    thinking = answer.thinking(index)
    reasoning_tokens = count_tokens(thinking.text) if thinking else 0
    if thinking is not None and not (answer.request.reasoning and answer.request.reasoning.exclude):
        content.append(thinking)
    calls = answer.tool_calls(index)
    if calls:
        content.extend(calls)
        used = sum(_part_tokens(c) for c in calls)
        choice = Choice(
            index=index, message=Message("assistant", content), finish_reason="tool_calls"
        )
        return choice, used + reasoning_tokens, reasoning_tokens
    text, reason, stop_sequence = _apply_limits(answer.text(index), answer.request)
    content.append(TextPart(text=text))
    choice = Choice(
        index=index,
        message=Message("assistant", content),
        finish_reason=reason,
        stop_sequence=stop_sequence,
    )
    return choice, count_tokens(text) + reasoning_tokens, reasoning_tokens


def generate(request: ChatRequest, config: ModelConfig, response_id: str = "") -> ChatResponse:
    """The simulated model's answer to ``request``."""
    answer = _Answer(request, config)
    choices = []
    completion = reasoning = 0
    for index in range(max(1, request.n)):
        choice, used, thought = _choice(answer, index)
        choices.append(choice)
        completion += used
        reasoning += thought
    usage = Usage(
        prompt_tokens=prompt_tokens(request),
        completion_tokens=completion,
        reasoning_tokens=reasoning,
    )
    rid = response_id or "sim-" + _digest(request.model, answer.key).hex()[:24]
    return ChatResponse(
        id=rid, model=request.model, choices=choices, usage=usage, created=int(time.time())
    )


def _word_vector(model: str, word: str, dimensions: int) -> array[int]:
    raw = hashlib.shake_256(f"{model}\x1f{word}".encode()).digest(2 * dimensions)
    return array("h", raw)


_WORD = re.compile(r"\w+")


def embedding(model: str, text: str, dimensions: int) -> list[float]:
    """A unit-norm vector for ``text``: the normalised sum of one pseudo-random
    vector per lower-cased word, so texts that share words point the same way."""
    words = _WORD.findall(text.lower()) or [text]
    total = [0.0] * dimensions
    for word in words:
        for i, value in enumerate(_word_vector(model, word, dimensions)):
            total[i] += value
    norm = math.sqrt(sum(v * v for v in total)) or 1.0
    return [v / norm for v in total]


def embed(request: EmbeddingRequest, config: ModelConfig) -> EmbeddingResponse:
    """Deterministic embeddings; ``request.dimensions`` wins over the profile's."""
    dimensions = request.dimensions or config.embedding_dimensions
    data: list[list[float]] = []
    used = 0
    for item in request.input:
        text = item if isinstance(item, str) else " ".join(str(t) for t in item)
        used += count_tokens(item) if isinstance(item, str) else len(item)
        data.append(embedding(request.model, text, dimensions))
    return EmbeddingResponse(model=request.model, data=data, usage=Usage(prompt_tokens=used))
