"""One registry for vendors and dialects; the built-ins register through it."""

from __future__ import annotations

import importlib

from junction.codecs.base import ChatCodec
from junction.providers.vendors import BUILTIN_VENDORS, Vendor

_VENDORS: dict[str, Vendor] = {}
_DIALECTS: dict[str, str] = {
    "openai_chat": "junction.codecs.openai_chat",
    "openai_responses": "junction.codecs.openai_responses",
    "anthropic_messages": "junction.codecs.anthropic_messages",
    "gemini": "junction.codecs.gemini",
    "bedrock_converse": "junction.codecs.bedrock_converse",
}
_CODECS: dict[str, ChatCodec] = {}


def register_vendor(vendor: Vendor) -> None:
    if vendor.dialect not in _DIALECTS:
        raise ValueError(f"vendor {vendor.name!r}: unknown dialect {vendor.dialect!r}")
    _VENDORS[vendor.name] = vendor


def register_dialect(name: str, module: str) -> None:
    """A codec module exposing ``CODEC`` (and optionally ``PARAMS``)."""
    _DIALECTS[name] = module
    _CODECS.pop(name, None)


def vendor(name: str) -> Vendor | None:
    return _VENDORS.get(name)


def vendors() -> list[Vendor]:
    return list(_VENDORS.values())


def dialects() -> list[str]:
    return list(_DIALECTS)


def codec(dialect: str) -> ChatCodec:
    found = _CODECS.get(dialect)
    if found is None:
        module = importlib.import_module(_DIALECTS[dialect])
        found = module.CODEC
        _CODECS[dialect] = found
    return found


def params(dialect: str) -> dict[str, str]:
    """The dialect's parameter support table (name -> native | translated)."""
    module = importlib.import_module(_DIALECTS[dialect])
    table: dict[str, str] = getattr(module, "PARAMS", {})
    return table


for _v in BUILTIN_VENDORS:
    register_vendor(_v)
