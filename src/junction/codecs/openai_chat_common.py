"""Facts about the OpenAI Chat Completions dialect shared by both directions."""

from __future__ import annotations

from junction.types import ErrorKind, FinishReason

FINISH_REASONS: dict[str, FinishReason] = {
    # OpenAI (and Groq, xAI, Cerebras, Fireworks, OpenRouter's normalised field)
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "function_call": "tool_calls",  # OpenAI's legacy functions; Together, Groq
    # Together
    "eos": "stop",
    # Mistral
    "model_length": "length",  # the model's context window, not max_tokens
    "error": "error",  # also OpenRouter's normalised vocabulary and vLLM
    # DeepSeek
    "insufficient_system_resource": "error",
    # vLLM (RequestOutput.finish_reason)
    "abort": "error",
    "repetition": "stop",  # stopped by its repetition detector
    # Anthropic's vocabulary, as OpenAI-compatible shims of Claude echo it
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}
"""Every finish reason seen from OpenAI-compatible vendors, normalised.
Anything else maps to ``stop``; decoders keep the native value beside it
(``Choice.native_finish_reason``, ``Finish.native``)."""


def normalise_finish(native: str) -> FinishReason:
    return FINISH_REASONS.get(native, "stop")


ERROR_TYPES: dict[ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "unsupported_parameter": "invalid_request_error",
    "context_length_exceeded": "invalid_request_error",
    "request_too_large": "invalid_request_error",
    "authentication": "authentication_error",
    "permission_denied": "permission_error",
    "not_found": "not_found_error",
    "rate_limit": "rate_limit_error",
    "timeout": "timeout_error",
    "server": "server_error",
    "provider_unavailable": "server_error",
    "overloaded": "server_error",
}
"""Gateway error kinds in OpenAI's ``error.type`` vocabulary."""


def parse_data_url(url: str) -> tuple[str, str] | None:
    """``data:<media type>;base64,<data>`` -> (data, media type); None otherwise."""
    if not url.startswith("data:"):
        return None
    head, sep, data = url.partition(",")
    if not sep or not head.endswith(";base64"):
        return None
    media_type = head[5:-7].split(";", 1)[0]
    return data, media_type or "application/octet-stream"


def data_url(data: str, media_type: str | None) -> str:
    return f"data:{media_type or 'application/octet-stream'};base64,{data}"
