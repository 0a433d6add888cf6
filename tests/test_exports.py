"""The public surface is small and explicit: these lists change on purpose only."""

from __future__ import annotations

import importlib

import pytest

EXPORTS = {
    "junction.types": [
        "AudioPart", "CacheControl", "ChatRequest", "ChatResponse", "Choice", "EmbeddingRequest",
        "EmbeddingResponse", "ErrorKind", "FilePart", "FinalBatch", "Finish", "FinishReason",
        "GatewayError",
        "HttpRequest", "ImagePart", "Message", "Part", "Reasoning", "ReasoningEffort",
        "ResponseFormat", "Role", "RouterChoice", "StreamEvent", "StreamStart", "TextDelta",
        "TextPart", "ThinkingDelta", "ThinkingPart", "TokenLogprob", "Tool", "ToolCallDelta",
        "ToolCallPart", "ToolChoice", "ToolResultPart", "UpstreamError", "Usage", "UsageReport",
        "is_retryable_status", "kind_for_status", "upstream_error",
    ],
    "junction.providers": [
        "Vendor", "codec", "dialects", "params", "register_dialect", "register_vendor", "vendor",
        "vendors",
    ],
    "junction.gateway": ["Attempt", "Endpoint", "Gateway", "ModelRoute", "Trace", "build_routes"],
    "junction.transport": ["Limits", "Reply", "StreamReply", "Transport"],
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(EXPORTS))
def test_exported_members(module: str) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(EXPORTS[module])
    for name in mod.__all__:
        assert hasattr(mod, name), name
