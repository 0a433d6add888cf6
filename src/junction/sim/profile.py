"""The simulator's profile: latency, throughput, output size and faults per model.

A profile is loaded once (YAML, see ``examples/sim-profile.yaml``) and may be
changed at run time through the control endpoint. Settings are looked up per
model: the exact model name, else the longest matching glob pattern (``gpt-4*``),
else ``"*"``; each level overrides the one below it field by field, except
``faults``, which replaces the inherited fault table as a whole (so
``faults: {}`` means "no faults" for that model).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import msgspec
import yaml

FaultKind = Literal[
    "rate_limit",
    "server_error",
    "unavailable",
    "timeout",
    "reset",
    "stream_cut",
    "malformed",
    "bad_request",
    "auth_error",
    "not_found",
]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

Rate = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
NonNegative = Annotated[float, msgspec.Meta(ge=0.0)]
Count = Annotated[int, msgspec.Meta(ge=0)]
Positive = Annotated[int, msgspec.Meta(ge=1)]


class ProfileError(ValueError):
    """A profile (file or control-endpoint patch) that cannot be used."""


class Faults(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, frozen=True):
    """Probability (0..1) that a request meets each fault; the sum must be <= 1."""

    rate_limit: Rate = 0.0
    server_error: Rate = 0.0
    unavailable: Rate = 0.0
    timeout: Rate = 0.0
    reset: Rate = 0.0
    stream_cut: Rate = 0.0
    malformed: Rate = 0.0
    bad_request: Rate = 0.0
    auth_error: Rate = 0.0
    not_found: Rate = 0.0

    def rate(self, kind: FaultKind) -> float:
        value: float = getattr(self, kind)
        return value

    def total(self) -> float:
        return sum(self.rate(kind) for kind in FAULT_KINDS)


class ModelSettings(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, frozen=True):
    """One level of settings; ``None`` means "inherit"."""

    ttft_ms: NonNegative | None = None
    tokens_per_second: NonNegative | None = None
    jitter: Rate | None = None
    output_tokens: Positive | None = None
    embedding_dimensions: Positive | None = None
    faults: Faults | None = None
    retry_after_s: NonNegative | None = None
    hang_ms: NonNegative | None = None
    stream_cut_after: Count | None = None
    prompt_cache: bool | None = None

    def over(self, base: ModelSettings) -> ModelSettings:
        """These settings laid over ``base``: set fields win."""
        changes = {
            name: value
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not None
        }
        return msgspec.structs.replace(base, **changes) if changes else base


class ModelConfig(msgspec.Struct, frozen=True):
    """The resolved settings for one model: every field concrete."""

    ttft_ms: float = 0.0
    tokens_per_second: float = 0.0
    jitter: float = 0.0
    output_tokens: int = 24
    embedding_dimensions: int = 256
    faults: Faults = Faults()
    retry_after_s: float = 1.0
    hang_ms: float = 600_000.0
    stream_cut_after: int = 2
    prompt_cache: bool = False
    """Report a repeated prompt prefix (first system + first user message)
    as cached input tokens, as providers with prompt caching do."""


_DEFAULTS = ModelConfig()


def _settings_of(config: ModelConfig) -> ModelSettings:
    return ModelSettings(**msgspec.structs.asdict(config))


class Profile(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    seed: int = 0
    """Seeds the fault and jitter random generators: the same profile and the
    same sequence of requests give the same faults."""
    require_key: bool = False
    """Answer 401 (in the dialect's error shape) when no API key is sent."""
    max_logged_requests: Positive = 200
    """How many received requests ``GET /_sim/requests`` can return."""
    models: dict[str, ModelSettings] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, settings in self.models.items():
            _check_settings(name, settings)

    def resolve(self, model: str) -> ModelConfig:
        """The concrete settings for ``model``."""
        merged = _settings_of(_DEFAULTS)
        for key in self._levels(model):
            merged = self.models[key].over(merged)
        return ModelConfig(**msgspec.structs.asdict(merged))

    def _levels(self, model: str) -> list[str]:
        """Matching keys from the most general to the most specific."""
        patterns = sorted(
            (k for k in self.models if k not in ("*", model) and fnmatch.fnmatchcase(model, k)),
            key=len,
        )
        levels = ["*"] if "*" in self.models else []
        levels += patterns
        if model in self.models and model != "*":
            levels.append(model)
        return levels

    def with_model(self, model: str, patch: ModelSettings) -> Profile:
        """A copy where ``patch`` is merged into the settings stored for ``model``."""
        current = self.models.get(model, ModelSettings())
        models = dict(self.models)
        models[model] = patch.over(current)
        return msgspec.structs.replace(self, models=models)


def _check_settings(name: str, settings: ModelSettings) -> None:
    if settings.faults is not None and settings.faults.total() > 1.0 + 1e-9:
        raise ProfileError(
            f"models.{name}.faults: the fault rates add up to {settings.faults.total():g}; "
            "they are probabilities of one request and must add up to at most 1"
        )


def parse_profile(data: Any, source: str = "profile") -> Profile:
    """A profile from already-parsed data (a mapping), with errors naming ``source``."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: expected a mapping at the top level")
    try:
        return msgspec.convert(data, Profile)
    except msgspec.ValidationError as exc:
        raise ProfileError(f"{source}: {exc}") from None
    except ProfileError as exc:
        raise ProfileError(f"{source}: {exc}") from None


def load_profile(path: str | Path) -> Profile:
    """Read a YAML profile; every problem is a :class:`ProfileError` naming the file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{source}: cannot read the profile: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: not valid YAML: {exc}") from None
    return parse_profile(data, source)


def parse_patch(body: bytes) -> ModelSettings:
    """A ``PUT /_sim/models/{model}`` body."""
    try:
        patch = msgspec.json.decode(body or b"{}", type=ModelSettings)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ProfileError(f"model settings: {exc}") from None
    _check_settings("<patch>", patch)
    return patch
