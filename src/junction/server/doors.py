"""Ingress doors: the client-facing wire APIs junction serves.

A door is the paths a wire API answers on and that dialect's server codec
(:class:`~junction.codecs.base.ServerCodec`: read a request, write a
response, a stream and an error). The chat handler is the same for every
door. OpenRouter's ``/api/v1`` paths are OpenRouter's doors
(server/openrouter_door.py), but ``/api/v1/messages``, which is Anthropic's;
any other registered dialect whose ``SERVER`` names ``paths`` gets a door at
those paths (see docs/architecture.md, "How to add a dialect").
"""

from __future__ import annotations

from dataclasses import dataclass

from junction.codecs import anthropic_messages, openai_chat, openai_responses, registry
from junction.codecs.base import ServerCodec


@dataclass(frozen=True, slots=True)
class Door:
    paths: tuple[str, ...]
    server: ServerCodec


def _openai_paths(path: str) -> tuple[str, ...]:
    """OpenAI's path, and the same bare."""
    return (f"/v1{path}", path)


OPENAI_CHAT = Door(_openai_paths("/chat/completions"), openai_chat.SERVER)
ANTHROPIC_MESSAGES = Door(("/v1/messages", "/api/v1/messages"), anthropic_messages.SERVER)
OPENAI_RESPONSES = Door(_openai_paths("/responses"), openai_responses.SERVER)
BUILTIN_DOORS = (OPENAI_CHAT, ANTHROPIC_MESSAGES, OPENAI_RESPONSES)


def doors() -> list[Door]:
    """The built-in doors, then one per other registered dialect that serves
    itself at fixed paths (its ``SERVER.paths``)."""
    built_in = {door.server.name for door in BUILTIN_DOORS}
    extra = [
        Door(server.paths, server)
        for server in registry.servers()
        if server.paths and server.name not in built_in
    ]
    return [*BUILTIN_DOORS, *extra]
