"""The dialect registry: a dialect's name -> the package that implements it.

The five built-in dialects register here through :func:`register_dialect`,
exactly as a plugin's does. A dialect package exports ``CODEC`` (its
:class:`~junction.codecs.base.ChatCodec`), ``PARAMS`` and ``PARAM_NOTES``,
and ``SERVER`` (a :class:`~junction.codecs.base.ServerCodec`) when a door or
the simulator serves it. Packages are imported on first use.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Literal

from junction.codecs.base import ChatCodec, ServerCodec

BuiltinDialect = Literal[
    "openai_chat", "openai_responses", "anthropic_messages", "gemini", "bedrock_converse"
]
BUILTIN_DIALECTS: tuple[BuiltinDialect, ...] = (
    "openai_chat",
    "openai_responses",
    "anthropic_messages",
    "gemini",
    "bedrock_converse",
)

_PACKAGES: dict[str, str] = {}
_LOADED: dict[str, ModuleType] = {}


def register_dialect(name: str, package: str) -> None:
    """Make ``package`` (a module path) the dialect ``name``; replaces an
    earlier registration of the same name."""
    _PACKAGES[name] = package
    _LOADED.pop(name, None)


def unregister_dialect(name: str) -> None:
    """Forget a dialect (a plugin unloading, a test cleaning up)."""
    _PACKAGES.pop(name, None)
    _LOADED.pop(name, None)


def is_dialect(name: str) -> bool:
    return name in _PACKAGES


def dialects() -> list[str]:
    return list(_PACKAGES)


def _package(dialect: str) -> ModuleType:
    found = _LOADED.get(dialect)
    if found is None:
        if dialect not in _PACKAGES:
            raise KeyError(f"unknown dialect {dialect!r}; known: {', '.join(_PACKAGES)}")
        found = _LOADED[dialect] = importlib.import_module(_PACKAGES[dialect])
    return found


def codec(dialect: str) -> ChatCodec:
    found: ChatCodec = _package(dialect).CODEC
    return found


def server(dialect: str) -> ServerCodec | None:
    """The dialect's server side, None for an egress-only dialect."""
    found: ServerCodec | None = getattr(_package(dialect), "SERVER", None)
    return found


def servers() -> list[ServerCodec]:
    """The server side of every registered dialect that has one."""
    return [s for name in _PACKAGES if (s := server(name)) is not None]


def params(dialect: str) -> dict[str, str]:
    """The dialect's parameter support table (name -> native | translated)."""
    table: dict[str, str] = getattr(_package(dialect), "PARAMS", {})
    return table


def param_notes(dialect: str) -> dict[str, str]:
    """How the dialect carries a parameter, where that needs saying."""
    notes: dict[str, str] = getattr(_package(dialect), "PARAM_NOTES", {})
    return notes


for _name in BUILTIN_DIALECTS:
    register_dialect(_name, f"junction.codecs.{_name}")
