"""What a key may ask for: its models (and its team's), and its provider
defaults, which a locked key's request cannot override."""

from __future__ import annotations

from fnmatch import fnmatchcase

from junction.policy.stage import Call
from junction.types import ChatRequest, EmbeddingRequest, GatewayError


class KeyPermissions:
    async def enter(self, call: Call) -> None:
        principal = call.principal
        if principal is None or principal.admin:
            return
        request = call.request
        for model in _asked(request):
            for owner, record in (("key", principal.key), ("team", principal.team)):
                allowed = record.limits.models if record is not None else None
                if allowed is not None and not any(fnmatchcase(model, g) for g in allowed):
                    assert record is not None
                    raise GatewayError(
                        "permission_denied",
                        f"This {owner} ({record.name}) may not use the model {model!r}; "
                        f"it may use: {', '.join(allowed) or 'no model'}.",
                        param="model",
                        code="model_not_allowed",
                    )
        if principal.provider_locked and isinstance(request, ChatRequest):
            request.extra.pop("provider", None)

    def leave(self, call: Call) -> None:
        return None


def _asked(request: ChatRequest | EmbeddingRequest) -> list[str]:
    """The model and, for chat, the ``models`` fallbacks the request names."""
    names = [request.model]
    if isinstance(request, ChatRequest):
        extra = request.extra.get("models")
        if isinstance(extra, list):
            names += [m for m in extra if isinstance(m, str)]
    return names
