"""Bedrock embeddings through InvokeModel (``POST /model/{modelId}/invoke``), both directions.

The body is the model's own: chosen by model id.

- Amazon Titan (``amazon.titan-embed*``): ``{"inputText", "dimensions"?, "normalize": true}``
  -> ``{"embedding": [...], "inputTextTokenCount": n}``. One text per call.
- Cohere (``cohere.embed*``): ``{"texts": [...], "input_type": "search_document"}``
  (+ ``output_dimension`` for embed-v4) -> ``{"embeddings": [[...]], "id", ...}``.
  Cohere reports no token count in the body.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import msgspec

from junction.types import EmbeddingRequest, EmbeddingResponse, GatewayError, Usage

EmbedFamily = Literal["titan", "cohere"]


def embed_family(model_id: str) -> EmbedFamily | None:
    lowered = model_id.lower()
    if lowered.startswith("arn:"):
        return None
    if "amazon.titan-embed" in lowered:
        return "titan"
    if "cohere.embed" in lowered:
        return "cohere"
    return None


def _require_family(model_id: str) -> EmbedFamily:
    family = embed_family(model_id)
    if family is None:
        raise GatewayError(
            "invalid_request",
            f"Bedrock model {model_id!r} is not an embedding model junction knows: "
            "use amazon.titan-embed-* or cohere.embed-*",
            param="model",
        )
    return family


def _texts(request: EmbeddingRequest) -> list[str]:
    out: list[str] = []
    for i, item in enumerate(request.input):
        if not isinstance(item, str):
            raise GatewayError(
                "invalid_request",
                "Bedrock embeds text only; send strings, not token ids",
                param=f"input[{i}]",
            )
        out.append(item)
    return out


def embeddings_body(request: EmbeddingRequest, model_id: str) -> bytes:
    family = _require_family(model_id)
    texts = _texts(request)
    if family == "titan":
        if len(texts) != 1:
            raise GatewayError(
                "invalid_request",
                f"Titan embeddings take one text per request (got {len(texts)}); "
                "send one input at a time or use a Cohere embedding model",
                param="input",
            )
        titan: dict[str, Any] = {"inputText": texts[0], "normalize": True}
        if request.dimensions is not None:
            titan["dimensions"] = request.dimensions
        return msgspec.json.encode(titan)
    cohere: dict[str, Any] = {"texts": texts, "input_type": "search_document"}
    if request.dimensions is not None:
        if "embed-v4" not in model_id:
            raise GatewayError(
                "invalid_request",
                "this Cohere embedding model has a fixed size: dimensions needs embed-v4",
                param="dimensions",
            )
        cohere["output_dimension"] = request.dimensions
    return msgspec.json.encode(cohere)


class _TitanOut(msgspec.Struct, rename="camel"):
    embedding: list[float]
    input_text_token_count: int = 0


class _CohereOut(msgspec.Struct):
    embeddings: list[list[float]] | dict[str, list[list[float]]]


def decode_embeddings_body(body: bytes, model_id: str, provider: str) -> EmbeddingResponse:
    """Raises msgspec errors on a body of the wrong shape (the gateway reports them)."""
    if _require_family(model_id) == "titan":
        titan = msgspec.json.decode(body, type=_TitanOut)
        usage = Usage(prompt_tokens=titan.input_text_token_count)
        return EmbeddingResponse(
            model=model_id, data=[titan.embedding], usage=usage, provider=provider
        )
    cohere = msgspec.json.decode(body, type=_CohereOut)
    data = cohere.embeddings
    if isinstance(data, dict):  # embedding_types given: {"float": [[...]]}
        data = data.get("float") or []
    return EmbeddingResponse(model=model_id, data=data, usage=Usage(), provider=provider)


class _TitanIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    input_text: str
    dimensions: int | None = None
    normalize: bool = True
    embedding_types: list[str] | None = None


class _CohereIn(msgspec.Struct, forbid_unknown_fields=True):
    texts: list[str]
    input_type: str = "search_document"
    truncate: str | None = None
    embedding_types: list[str] | None = None
    output_dimension: int | None = None


def decode_embeddings_request(body: bytes, *, model: str) -> EmbeddingRequest:
    family = _require_family(model)
    try:
        if family == "titan":
            titan = msgspec.json.decode(body, type=_TitanIn)
            return EmbeddingRequest(
                model=model, input=[titan.input_text], dimensions=titan.dimensions
            )
        cohere = msgspec.json.decode(body, type=_CohereIn)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        shape = '{"inputText": ...}' if family == "titan" else '{"texts": [...], "input_type": ...}'
        raise GatewayError(
            "invalid_request", f"invalid {family} embedding body (expected {shape}): {exc}"
        ) from None
    if not cohere.texts:
        raise GatewayError("invalid_request", "texts must hold at least one text", param="texts")
    return EmbeddingRequest(model=model, input=cohere.texts, dimensions=cohere.output_dimension)


def encode_embeddings_response(response: EmbeddingResponse, *, model: str) -> bytes:
    if _require_family(model) == "titan":
        vector = response.data[0] if response.data else []
        return msgspec.json.encode(
            {"embedding": vector, "inputTextTokenCount": response.usage.prompt_tokens}
        )
    return msgspec.json.encode(
        {
            "id": uuid.uuid4().hex,
            "embeddings": response.data,
            "response_type": "embeddings_floats",
            "texts": [],
        }
    )
