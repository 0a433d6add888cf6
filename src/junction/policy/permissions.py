"""What a key may ask for: its models (and its team's), and its provider
defaults, which a locked key's request cannot override."""

from __future__ import annotations

from fnmatch import fnmatchcase

from junction.gateway.trace import Principal
from junction.policy.stage import Call, PerPrincipal
from junction.types import ChatRequest, EmbeddingRequest, GatewayError

MODELS_KEPT = 256
"""Model names whose answer one principal remembers (client-chosen names: bounded)."""


class _Allowed:
    """One principal's allow-lists, and the answer for each model asked so far."""

    __slots__ = ("answers", "lists")

    def __init__(self, principal: Principal) -> None:
        self.lists = [
            (owner, record.name, allowed)
            for owner, record in (("key", principal.key), ("team", principal.team))
            if record is not None and (allowed := record.limits.models) is not None
        ]
        self.answers: dict[str, str | None] = {}
        """Model -> why it is refused (None: allowed)."""

    def refusal(self, model: str) -> str | None:
        if model in self.answers:
            return self.answers[model]
        refused = None
        for owner, name, allowed in self.lists:
            if not any(fnmatchcase(model, g) for g in allowed):
                refused = (
                    f"This {owner} ({name}) may not use the model {model!r}; "
                    f"it may use: {', '.join(allowed) or 'no model'}."
                )
                break
        if len(self.answers) < MODELS_KEPT:
            self.answers[model] = refused
        return refused


class KeyPermissions:
    def __init__(self) -> None:
        self._allowed = PerPrincipal(_Allowed)

    async def enter(self, call: Call) -> None:
        principal = call.principal
        if principal is None or principal.admin:
            return
        request = call.request
        allowed = self._allowed.get(principal)
        if allowed.lists:
            for model in _asked(request):
                refused = allowed.refusal(model)
                if refused is not None:
                    raise GatewayError(
                        "permission_denied", refused, param="model", code="model_not_allowed"
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
