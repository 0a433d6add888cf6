"""The ``embeddings`` encoder: a configured embedding model, called through the gateway.

Any model in the config's ``models:`` that has embedding deployments (OpenAI, Gemini,
Bedrock, a vLLM or Ollama server, the simulator) can give a semantic router its vectors.
The call takes the gateway's own embed path (``Gateway.embed``: provider selection,
failover, accounting, the request log), so the router's embeddings are priced and logged
like any other request's (door ``router_embeddings``, no key).

- ``junction router train --encoder embeddings --encoder-set model=NAME`` embeds the
  training prompts through a gateway built from ``--encoder-set config=PATH`` (default
  ``$JUNCTION_CONFIG``, else ``junction.yaml``), ``batch`` prompts a call.
- In a running gateway, a router whose artifact names this encoder embeds each prompt
  with the same model (or the router's ``embedding_model``) through that gateway,
  awaited on the event loop like any upstream call.

The artifact keeps ``model`` and ``batch``; the vectors are the provider's, L2-normalised.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence

import numpy as np

from junction.gateway.trace import Trace
from junction.semantic.dataset import FloatArray
from junction.semantic.encoders import EncoderError, Setting, Settings, register_encoder
from junction.types import EmbeddingRequest, EmbeddingResponse

NAME = "embeddings"
BATCH = 64
DOOR = "router_embeddings"

Embed = Callable[[EmbeddingRequest, Trace], Awaitable[EmbeddingResponse]]


class EmbeddingsEncoder:
    """Vectors from ``model``'s embeddings, through ``embed`` (a gateway's embed path)."""

    name = NAME

    def __init__(
        self,
        model: str,
        embed: Embed | None = None,
        batch: int = BATCH,
        config: str | None = None,
    ) -> None:
        if not model:
            raise EncoderError(
                "the embeddings encoder needs the embedding model: --encoder-set model=NAME"
            )
        if batch < 1:
            raise EncoderError("embeddings encoder: batch must be at least 1")
        self.model = model
        self.batch = batch
        self.embed = embed
        self.config = config
        self._dim = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddingsEncoder:
        config = settings.get("config")
        return cls(
            model=str(settings.get("model", "")),
            batch=int(settings.get("batch", BATCH)),
            config=str(config) if config is not None else None,
        )

    @property
    def dim(self) -> int:
        return self._dim

    def settings(self) -> dict[str, Setting]:
        return {"model": self.model, "batch": self.batch}

    def identity(self) -> str:
        return f"embeddings model={self.model}"

    async def encode_async(self, texts: Sequence[str]) -> FloatArray:
        """The prompts' vectors, ``batch`` texts a call, through ``embed``."""
        if self.embed is None:
            raise EncoderError("the embeddings encoder has no gateway to call")
        rows: list[list[float]] = []
        for lo in range(0, len(texts), self.batch):
            request = EmbeddingRequest(model=self.model, input=list(texts[lo : lo + self.batch]))
            response = await self.embed(request, Trace(door=DOOR))
            rows.extend(response.data)
        if not rows:
            return np.zeros((0, self._dim))
        vectors = np.asarray(rows, dtype=np.float64)
        self._dim = vectors.shape[1]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        out: FloatArray = vectors / np.where(norms == 0, 1.0, norms)
        return out

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """From a command (no event loop running): a gateway from the config, for this call."""
        if self.embed is not None:
            raise EncoderError(
                "inside a gateway the embeddings encoder is awaited (encode_async), not called"
            )
        return asyncio.run(self._offline(texts))

    async def _offline(self, texts: Sequence[str]) -> FloatArray:
        from junction.config import load_config
        from junction.gateway.core import Gateway
        from junction.transport import Transport

        path = self.config or os.environ.get("JUNCTION_CONFIG") or "junction.yaml"
        gateway = Gateway(load_config(path, os.environ), Transport())
        self.embed = gateway.embed
        try:
            return await self.encode_async(texts)
        finally:
            self.embed = None
            await gateway.close()


register_encoder(NAME, EmbeddingsEncoder.from_settings)
