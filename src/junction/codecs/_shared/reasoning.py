"""Reasoning settings as more than one dialect sends them."""

from __future__ import annotations

from typing import get_args

from junction.types import Reasoning, ReasoningEffort

EFFORTS: tuple[str, ...] = get_args(ReasoningEffort)
"""Every canonical reasoning effort, in order (the values a door accepts)."""

THINKING_BUDGET: dict[str, int] = {
    "minimal": 1024,
    "low": 1024,
    "medium": 4096,
    "high": 16384,
    "xhigh": 32768,
    "max": 65536,
}
"""Claude's thinking ``budget_tokens`` for a reasoning effort without an
explicit budget (Anthropic's API and Claude on Bedrock)."""

MIN_THINKING_BUDGET = 1024
"""Claude's smallest accepted ``budget_tokens``."""


def openai_effort(reasoning: Reasoning) -> str | None:
    """OpenAI's ``reasoning_effort`` / ``reasoning.effort`` for a canonical
    setting: disabled is ``none``, ``max`` is ``xhigh``, a token budget maps
    to low / medium / high; None when nothing says."""
    if not reasoning.enabled:
        return "none"
    if reasoning.effort is not None:
        return "xhigh" if reasoning.effort == "max" else reasoning.effort
    budget = reasoning.max_tokens
    if budget is None:
        return None
    return "low" if budget <= 2048 else "medium" if budget <= 8192 else "high"
