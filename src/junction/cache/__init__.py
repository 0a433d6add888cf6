"""The response cache (issue 10, item 3; docs/cache.md), run by the policy
stage :class:`~junction.policy.cache.ResponseCaching`.

- :func:`cache_key`: the normalised request (model, messages, tools and the
  parameters that change the answer; never the key, user, metadata or
  request id) in a namespace, as a sha256 hex digest;
- :class:`CacheOptions`: the per-request controls (``cache-control:
  no-cache`` / ``no-store``, ``x-junction-cache-ttl``,
  ``x-junction-cache-namespace``), read from the request's headers;
- :class:`ResponseCache`: the exact cache's backends (get / put / close):
  memory, SQLite (``cache.sqlite_cache``) and Redis (``cache.redis_cache``);
  entries are canonical :class:`~junction.types.ChatResponse` values
  (:func:`encode_entry`, :func:`decode_entry`), so a hit can be written in
  any door's dialect and replayed as a stream (``cache.answer``);
- :class:`AnswerCache`: what the stage asks of a cache (find / keep), kept
  by :class:`ExactCache` and by the semantic cache (``cache.semantic``).
"""

from __future__ import annotations

from junction.cache.entry import decode_entry, encode_entry
from junction.cache.key import cache_key
from junction.cache.memory import MemoryCache
from junction.cache.options import CacheOptions, cache_options
from junction.cache.protocol import AnswerCache, Ask, ExactCache, Found, ResponseCache

__all__ = [
    "AnswerCache",
    "Ask",
    "CacheOptions",
    "ExactCache",
    "Found",
    "MemoryCache",
    "ResponseCache",
    "cache_key",
    "cache_options",
    "decode_entry",
    "encode_entry",
]
