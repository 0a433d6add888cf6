"""Every wire struct of the echo API."""

from __future__ import annotations

import msgspec


class Request(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    model: str
    text: str
    stream: bool = False
    max_words: int | None = None


class Tokens(msgspec.Struct, rename={"prompt": "in", "completion": "out"}):
    prompt: int = 0
    completion: int = 0


class Answer(msgspec.Struct):
    id: str
    model: str
    reply: str
    tokens: Tokens


class Frame(msgspec.Struct, omit_defaults=True):
    delta: str | None = None
    done: bool = False
    tokens: Tokens | None = None


class Problem(msgspec.Struct):
    kind: str
    message: str


class ProblemBody(msgspec.Struct):
    problem: Problem
