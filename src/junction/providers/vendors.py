"""Vendor records: a vendor is data, a dialect is code.

Adding an OpenAI-compatible vendor is one :class:`Vendor` entry here (or a
``register_vendor`` call from outside). ``base_url`` is what a deployment
gets when its config names no base URL; ``key_env`` lists the environment
variables that hold its key, first match wins.
"""

from __future__ import annotations

import msgspec

from junction.codecs.base import Quirks


class Vendor(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    dialect: str
    """Codec name: openai_chat | anthropic_messages | gemini."""
    base_url: str | None = None
    """None: the deployment must give one (self-hosted servers, Azure)."""
    quirks: Quirks = Quirks()
    key_env: tuple[str, ...] = ()
    default_models: tuple[str, ...] = ()
    """Models exposed as ``<vendor>/<model>`` when only an env key is present."""
    api_version: str | None = None


_NO_LOGPROBS = frozenset({"logprobs", "top_logprobs", "logit_bias"})

BUILTIN_VENDORS: tuple[Vendor, ...] = (
    Vendor(
        "openai",
        "openai_chat",
        "https://api.openai.com/v1",
        Quirks(max_tokens_field="max_completion_tokens"),
        key_env=("OPENAI_API_KEY",),
        default_models=("gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "o4-mini"),
    ),
    # Azure OpenAI's v1 API (https://<resource>.openai.azure.com/openai/v1):
    # OpenAI's paths with the model (deployment name) in the body and an
    # ``api-key`` header. The deployment gives the resource's base_url.
    Vendor(
        "azure",
        "openai_chat",
        None,
        Quirks(auth="api-key", max_tokens_field="max_completion_tokens"),
        key_env=("AZURE_OPENAI_API_KEY", "AZURE_API_KEY"),
    ),
    Vendor(
        "groq",
        "openai_chat",
        "https://api.groq.com/openai/v1",
        # Groq answers 400 to logprobs / logit_bias and requires n == 1.
        Quirks(unsupported=_NO_LOGPROBS | {"n"}),
        key_env=("GROQ_API_KEY",),
        default_models=("llama-3.3-70b-versatile", "llama-3.1-8b-instant"),
    ),
    Vendor(
        "together",
        "openai_chat",
        "https://api.together.xyz/v1",
        key_env=("TOGETHER_API_KEY",),
        default_models=("meta-llama/Llama-3.3-70B-Instruct-Turbo",),
    ),
    Vendor(
        "fireworks",
        "openai_chat",
        "https://api.fireworks.ai/inference/v1",
        key_env=("FIREWORKS_API_KEY",),
        default_models=("accounts/fireworks/models/llama-v3p3-70b-instruct",),
    ),
    Vendor(
        "deepseek",
        "openai_chat",
        "https://api.deepseek.com/v1",
        Quirks(reasoning_field="reasoning_content"),
        key_env=("DEEPSEEK_API_KEY",),
        default_models=("deepseek-chat", "deepseek-reasoner"),
    ),
    Vendor(
        "mistral",
        "openai_chat",
        "https://api.mistral.ai/v1",
        Quirks(unsupported=_NO_LOGPROBS),
        key_env=("MISTRAL_API_KEY",),
        default_models=("mistral-large-latest", "mistral-small-latest"),
    ),
    Vendor(
        "xai",
        "openai_chat",
        "https://api.x.ai/v1",
        key_env=("XAI_API_KEY",),
        default_models=("grok-4", "grok-3-mini"),
    ),
    Vendor(
        "openrouter",
        "openai_chat",
        "https://openrouter.ai/api/v1",
        Quirks(
            pass_extra=frozenset(
                {"provider", "models", "transforms", "plugins", "route", "session_id", "usage"}
            ),
            reasoning_field="reasoning",
        ),
        key_env=("OPENROUTER_API_KEY",),
        default_models=("openai/gpt-4o-mini", "anthropic/claude-sonnet-4.5"),
    ),
    Vendor(
        "cerebras",
        "openai_chat",
        "https://api.cerebras.ai/v1",
        Quirks(unsupported=frozenset({"frequency_penalty", "presence_penalty", "logit_bias"})),
        key_env=("CEREBRAS_API_KEY",),
        default_models=("llama-3.3-70b",),
    ),
    Vendor("vllm", "openai_chat", None, Quirks(auth="bearer"), key_env=("VLLM_API_KEY",)),
    Vendor(
        "ollama",
        "openai_chat",
        "http://127.0.0.1:11434/v1",
        Quirks(auth="none", reasoning_field="reasoning", unsupported=_NO_LOGPROBS),
    ),
    Vendor("llamacpp", "openai_chat", "http://127.0.0.1:8080/v1", Quirks(auth="none")),
    Vendor("lmstudio", "openai_chat", "http://127.0.0.1:1234/v1", Quirks(auth="none")),
    Vendor(
        "anthropic",
        "anthropic_messages",
        "https://api.anthropic.com",
        Quirks(auth="x-api-key"),
        key_env=("ANTHROPIC_API_KEY",),
        default_models=("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"),
        api_version="2023-06-01",
    ),
    Vendor(
        "gemini",
        "gemini",
        "https://generativelanguage.googleapis.com",
        Quirks(auth="x-goog-api-key"),
        key_env=("GEMINI_API_KEY", "GOOGLE_API_KEY"),
        default_models=("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"),
    ),
)
