"""The canonical embeddings request and response."""

from __future__ import annotations

from typing import Literal

import msgspec

from junction.types.chat import Usage


class EmbeddingRequest(msgspec.Struct, omit_defaults=True):
    model: str
    input: list[str] | list[list[int]]
    dimensions: int | None = None
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = None


class EmbeddingResponse(msgspec.Struct, omit_defaults=True):
    model: str
    data: list[list[float]]
    usage: Usage = msgspec.field(default_factory=Usage)
    provider: str | None = None
