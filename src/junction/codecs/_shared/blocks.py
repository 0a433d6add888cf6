"""Content-block stream state, for the dialects whose streams open, fill and
close numbered content blocks (Anthropic's ``content_block_*`` events,
Bedrock's ``contentBlock*``)."""

from __future__ import annotations


class BlockState:
    """One open content block: its kind and, for a tool call, the canonical
    call index and whether any argument text came (a call that ends with
    none gets ``{}``)."""

    __slots__ = ("call_index", "has_args", "kind")

    def __init__(self, kind: str, call_index: int = -1) -> None:
        self.kind = kind
        self.call_index = call_index
        self.has_args = False
