"""Vendor records: a vendor is data, a dialect is code.

Adding an OpenAI-compatible vendor is one :class:`Vendor` entry here (or a
``register_vendor`` call from outside). ``base_url`` is what a deployment
gets when its config names no base URL; ``key_env`` lists the environment
variables that hold its key, first match wins.
"""

from __future__ import annotations

import msgspec

from junction.codecs.base import Quirks
from junction.codecs.openai_chat import AZURE_API_VERSION


class Vendor(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    dialect: str
    """A registered dialect (:mod:`junction.codecs.registry`): one of the five
    built-ins (openai_chat | openai_responses | anthropic_messages | gemini |
    bedrock_converse) or a plugin's. ``register_vendor`` refuses any other."""
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
    # OpenAI's Responses API, for models served only there (stateless: store false).
    Vendor(
        "openai-responses",
        "openai_responses",
        "https://api.openai.com/v1",
        Quirks(auth="bearer"),
        key_env=("OPENAI_API_KEY",),
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
    # Azure OpenAI's classic deployment paths, chosen by naming this vendor:
    # base_url https://<resource>.openai.azure.com (a trailing /openai is
    # tolerated), model = the deployment name, api_version = the deployment's
    # `api_version` or 2024-10-21. Calls go to
    # {base}/openai/deployments/{model}/chat/completions?api-version=... (and
    # /embeddings) with an ``api-key`` header.
    Vendor(
        "azure-deployments",
        "openai_chat",
        None,
        Quirks(
            auth="api-key",
            max_tokens_field="max_completion_tokens",
            url_style="azure-deployment",
        ),
        key_env=("AZURE_OPENAI_API_KEY", "AZURE_API_KEY"),
        api_version=AZURE_API_VERSION,
    ),
    Vendor(
        "groq",
        "openai_chat",
        "https://api.groq.com/openai/v1",
        # Groq answers 400 to logprobs / logit_bias / messages[].name and
        # requires n == 1; it documents temperature 0 as becoming 1e-8.
        Quirks(unsupported=_NO_LOGPROBS | {"n"}, min_temperature=1e-8, send_message_name=False),
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
        # reasoning_content goes back in history: DeepSeek ignores it between
        # user turns and requires it in thinking-mode tool loops (400 without
        # it). Only the first deepseek-reasoner (R1) refused it in input.
        Quirks(reasoning_field="reasoning_content", send_reasoning_back=True),
        key_env=("DEEPSEEK_API_KEY",),
        default_models=("deepseek-chat", "deepseek-reasoner"),
    ),
    Vendor(
        "mistral",
        "openai_chat",
        "https://api.mistral.ai/v1",
        # Tool-call ids must match [a-zA-Z0-9]{9} (400, code 3280): foreign ids
        # (OpenAI's call_..., Anthropic's toolu_...) are rewritten to 9 base62
        # characters of their hash, the same in the call and its result.
        # Mistral's own ids already match, so they go back unchanged and
        # nothing in its responses needs mapping.
        Quirks(unsupported=_NO_LOGPROBS, tool_call_id_length=9),
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
        # OpenRouter's own request fields pass through from the request's
        # extra, its reasoning object replaces reasoning_effort, and it takes
        # top_k / repetition_penalty.
        Quirks(
            pass_extra=frozenset(
                {"provider", "models", "transforms", "plugins", "route", "session_id", "usage"}
                | {"reasoning", "top_k", "repetition_penalty"}
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
    # vLLM takes sampling fields OpenAI lacks: top_k and repetition_penalty
    # from the canonical request, the rest from the request's extra. It
    # accepts and ignores parallel_tool_calls, so that is refused (dropped
    # with a warning) rather than silently not honoured.
    Vendor(
        "vllm",
        "openai_chat",
        None,
        Quirks(
            auth="bearer",
            unsupported=frozenset({"parallel_tool_calls"}),
            pass_extra=frozenset(
                {"top_k", "repetition_penalty", "min_p", "min_tokens", "best_of"}
                | {"use_beam_search", "ignore_eos", "skip_special_tokens"}
                | {"guided_json", "guided_choice", "guided_regex", "guided_grammar"}
                | {"structured_outputs", "chat_template_kwargs"}
            ),
        ),
        key_env=("VLLM_API_KEY",),
    ),
    Vendor(
        "ollama",
        "openai_chat",
        "http://127.0.0.1:11434/v1",
        # Ollama's /v1 shim: reasoning in `reasoning`. It sends usage in a
        # final chunk for stream_options.include_usage (older versions ignore
        # the field, so asking is harmless). parallel_tool_calls is not among
        # its fields; logprobs came late and older versions ignore them.
        Quirks(
            auth="none",
            reasoning_field="reasoning",
            unsupported=_NO_LOGPROBS | {"parallel_tool_calls"},
        ),
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
    # AWS Bedrock Converse. The default endpoint is us-east-1 (another region:
    # set base_url to https://bedrock-runtime.<region>.amazonaws.com; the
    # signing region is read from it). api_key is
    # "ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]" (SigV4) or a Bedrock API
    # key (bearer). No default_models: AWS_ACCESS_KEY_ID alone cannot sign.
    Vendor(
        "bedrock",
        "bedrock_converse",
        "https://bedrock-runtime.us-east-1.amazonaws.com",
        key_env=("AWS_ACCESS_KEY_ID",),
    ),
)
