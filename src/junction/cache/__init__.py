"""An exact-match response cache (issue 10, item 3), not yet wired into the
gateway: the lead adds it as a stage.

- :func:`cache_key`: the normalised request (model, messages, tools and the
  parameters that change the answer; never the key, user, metadata or
  request id) in a namespace, as a sha256 hex digest;
- :class:`CacheOptions`: the per-request controls (``cache-control:
  no-cache`` / ``no-store``, ``x-junction-cache-ttl``,
  ``x-junction-cache-namespace``), read from the request's headers;
- :class:`ResponseCache`: get / put / close, with a memory backend and a
  Redis one; entries are canonical :class:`~junction.types.ChatResponse`
  values (:func:`encode_entry`, :func:`decode_entry`), so a hit can be
  written in any door's dialect and replayed as a stream.
"""

from __future__ import annotations

from junction.cache.entry import decode_entry, encode_entry
from junction.cache.key import cache_key
from junction.cache.memory import MemoryCache
from junction.cache.options import CacheOptions, cache_options
from junction.cache.protocol import ResponseCache

__all__ = [
    "CacheOptions",
    "MemoryCache",
    "ResponseCache",
    "cache_key",
    "cache_options",
    "decode_entry",
    "encode_entry",
]
