"""OpenRouter's ``provider`` request object: parsing, layering and model variants.

Units, as OpenRouter documents them (spec schema ``ProviderPreferences``):

* ``max_price.prompt`` / ``.completion``: USD per **million** tokens;
  ``.request``: USD per request; ``.image``: USD per image. The spec types them
  as strings; numbers are accepted too.
* ``preferred_max_latency``: **seconds** (time to first token); a number means
  p50, an object gives per-percentile cutoffs.
* ``preferred_min_throughput``: output tokens per second, same shapes.

Every field defaults to ``None`` = "not set", so :func:`merge` can layer
global defaults < model defaults < key defaults < request: a later layer's
set field wins, except ``ignore``, which is the union of all layers (as
OpenRouter merges a request's ``ignore`` with the account's).

Accepted but not acted on by selection: ``enforce_distillable_text`` (junction
has no distillation data), ``sort.partition`` (junction sorts one model's
endpoints at a time), ``max_price.image`` / ``.audio``. ``sort: "exacto"`` is
treated as ``"throughput"`` (junction has no tool-calling benchmark scores).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

from junction.types import GatewayError

__all__ = [
    "VARIANTS",
    "MaxPrice",
    "PercentileCutoffs",
    "ProviderPreferences",
    "Quantization",
    "Sort",
    "SortBy",
    "merge",
    "parse_preferences",
    "split_variant",
    "variant_preferences",
]

SortBy = Literal["price", "throughput", "latency", "exacto"]
Quantization = Literal[
    "int4",
    "int8",
    "fp4",
    "mxfp4",
    "nvfp4",
    "fp6",
    "fp8",
    "mxfp8",
    "fp16",
    "bf16",
    "fp32",
    "unknown",
]

_NonNegative = Annotated[float, msgspec.Meta(ge=0)]


class Sort(msgspec.Struct, frozen=True, omit_defaults=True):
    by: SortBy | None = None
    partition: Literal["model", "none"] | None = None


class PercentileCutoffs(
    msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True
):
    """Per-percentile thresholds; a bare number in the request is ``p50``."""

    p50: _NonNegative | None = None
    p75: _NonNegative | None = None
    p90: _NonNegative | None = None
    p99: _NonNegative | None = None


class MaxPrice(msgspec.Struct, frozen=True, omit_defaults=True):
    """USD per million prompt / completion tokens, per request, per image, per audio unit."""

    prompt: float | None = None
    completion: float | None = None
    request: float | None = None
    image: float | None = None
    audio: float | None = None


class ProviderPreferences(msgspec.Struct, frozen=True, omit_defaults=True):
    order: tuple[str, ...] | None = None
    allow_fallbacks: bool | None = None
    require_parameters: bool | None = None
    data_collection: Literal["allow", "deny"] | None = None
    zdr: bool | None = None
    enforce_distillable_text: bool | None = None
    only: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    quantizations: tuple[Quantization, ...] | None = None
    sort: Sort | None = None
    preferred_min_throughput: PercentileCutoffs | None = None
    preferred_max_latency: PercentileCutoffs | None = None
    max_price: MaxPrice | None = None

    @property
    def fallbacks_allowed(self) -> bool:
        """``allow_fallbacks`` with its default (true)."""
        return self.allow_fallbacks is not False

    @property
    def sort_by(self) -> SortBy | None:
        return self.sort.by if self.sort is not None else None


# What the wire may carry: the spec's shapes, before normalisation.
_Slugs = list[str] | None
_Cutoff = _NonNegative | PercentileCutoffs | None
_PriceValue = str | _NonNegative | None


class _WireMaxPrice(msgspec.Struct, forbid_unknown_fields=True):
    prompt: _PriceValue = None
    completion: _PriceValue = None
    request: _PriceValue = None
    image: _PriceValue = None
    audio: _PriceValue = None


class _WireSort(msgspec.Struct, forbid_unknown_fields=True):
    by: SortBy | None = None
    partition: Literal["model", "none"] | None = None


class _Wire(msgspec.Struct, forbid_unknown_fields=True):
    order: _Slugs = None
    allow_fallbacks: bool | None = None
    require_parameters: bool | None = None
    data_collection: Literal["allow", "deny"] | None = None
    zdr: bool | None = None
    enforce_distillable_text: bool | None = None
    only: _Slugs = None
    ignore: _Slugs = None
    quantizations: list[Quantization] | None = None
    sort: SortBy | _WireSort | None = None
    preferred_min_throughput: _Cutoff = None
    preferred_max_latency: _Cutoff = None
    max_price: _WireMaxPrice | None = None


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def parse_preferences(obj: object) -> ProviderPreferences:
    """Validate a request's ``provider`` object (already decoded JSON).

    Raises GatewayError("invalid_request", param="provider.<field>") naming
    what is wrong.
    """
    if obj is None:
        return ProviderPreferences()
    if isinstance(obj, ProviderPreferences):
        return obj
    if not isinstance(obj, dict):
        raise GatewayError(
            "invalid_request",
            f"provider must be an object, got {type(obj).__name__}",
            param="provider",
        )
    try:
        wire = msgspec.convert(obj, _Wire, strict=True)
    except msgspec.ValidationError as exc:
        raise _invalid(str(exc)) from None
    return _normalise(wire)


def _invalid(text: str) -> GatewayError:
    match = _AT.match(text)
    message = match.group("msg") if match else text
    path = (match.group("path") if match else None) or ""
    unknown = re.search(r"unknown field `([^`]+)`", message)
    if unknown:
        path = f"{path}.{unknown.group(1)}"
    param = f"provider{path}"
    return GatewayError(
        "invalid_request",
        f"invalid {param}: {message} (see OpenRouter's provider routing docs)",
        param=param,
    )


def _price(value: str | float | None, field: str) -> float | None:
    if value is None or isinstance(value, float | int):
        return value
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number >= 0 or number == float("inf"):
        raise GatewayError(
            "invalid_request",
            f"invalid provider.max_price.{field}: expected a non-negative number "
            f"(USD per million tokens, or per request / image), got {value!r}",
            param=f"provider.max_price.{field}",
        )
    return number


def _cutoffs(value: float | PercentileCutoffs | None) -> PercentileCutoffs | None:
    if value is None or isinstance(value, PercentileCutoffs):
        return value
    return PercentileCutoffs(p50=float(value))


def _normalise(wire: _Wire) -> ProviderPreferences:
    sort: Sort | None = None
    if isinstance(wire.sort, str):
        sort = Sort(by=wire.sort)
    elif wire.sort is not None:
        sort = Sort(by=wire.sort.by, partition=wire.sort.partition)
    max_price = None
    if wire.max_price is not None:
        mp = wire.max_price
        max_price = MaxPrice(
            prompt=_price(mp.prompt, "prompt"),
            completion=_price(mp.completion, "completion"),
            request=_price(mp.request, "request"),
            image=_price(mp.image, "image"),
            audio=_price(mp.audio, "audio"),
        )
    return ProviderPreferences(
        order=_tuple(wire.order),
        allow_fallbacks=wire.allow_fallbacks,
        require_parameters=wire.require_parameters,
        data_collection=wire.data_collection,
        zdr=wire.zdr,
        enforce_distillable_text=wire.enforce_distillable_text,
        only=_tuple(wire.only),
        ignore=_tuple(wire.ignore),
        quantizations=tuple(wire.quantizations) if wire.quantizations is not None else None,
        sort=sort,
        preferred_min_throughput=_cutoffs(wire.preferred_min_throughput),
        preferred_max_latency=_cutoffs(wire.preferred_max_latency),
        max_price=max_price,
    )


def _tuple(items: list[str] | None) -> tuple[str, ...] | None:
    return tuple(items) if items is not None else None


_FIELDS = ProviderPreferences.__struct_fields__


def merge(*layers: ProviderPreferences | None) -> ProviderPreferences:
    """Layer preferences, lowest first: a later layer's set field wins.

    ``ignore`` lists are united instead (no layer can un-ignore a provider).
    """
    values: dict[str, Any] = {}
    ignored: dict[str, None] = {}
    any_ignore = False
    for layer in layers:
        if layer is None:
            continue
        for name in _FIELDS:
            value = getattr(layer, name)
            if value is not None:
                values[name] = value
        if layer.ignore is not None:
            any_ignore = True
            ignored.update(dict.fromkeys(layer.ignore))
    if any_ignore:
        values["ignore"] = tuple(ignored)
    return ProviderPreferences(**values)


VARIANTS: dict[str, ProviderPreferences] = {
    "floor": ProviderPreferences(sort=Sort(by="price")),
    "nitro": ProviderPreferences(sort=Sort(by="throughput")),
}


def split_variant(model: str) -> tuple[str, str | None]:
    """``"llama:nitro"`` → ``("llama", "nitro")``; only known variants are split.

    Other colon suffixes stay part of the name (``"llama3:8b"`` is an Ollama tag).
    """
    base, sep, suffix = model.rpartition(":")
    if sep and base and suffix in VARIANTS:
        return base, suffix
    return model, None


def variant_preferences(variant: str | None) -> ProviderPreferences | None:
    """The preferences a variant implies, to merge just below the request's own.

    ``:floor`` sorts by price, ``:nitro`` by throughput. (OpenRouter also admits
    flex / priority service-tier endpoints for them: pass ``admit_tiers`` to
    ``select``.)
    """
    return VARIANTS.get(variant) if variant is not None else None
