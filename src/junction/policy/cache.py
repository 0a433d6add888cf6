"""The response cache as a policy stage (docs/cache.md).

It runs last, after the key's limits and budget were decided: a hit is
still a request for the key. On ``enter`` it reads the request's cache
controls, looks the request up in each cache (exact first, then the
semantic one when configured) and, on a hit, hands the answer to the
gateway in ``call.cached`` (upstream is not called); on a miss it asks the
gateway for the answer (``call.answer``). On ``leave`` a whole answer —
not an error, not a cancelled or cut stream — is written in the
background. A cache that fails (Redis down, an embedding call refused) is
a miss, logged at most once a minute, never the request's failure.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from junction.cache import CacheOptions, cache_options, decode_entry, encode_entry
from junction.cache.answer import Answer
from junction.cache.memory import MemoryCache
from junction.cache.protocol import AnswerCache, Ask, ExactCache, Found, ResponseCache
from junction.config import CacheSettings, Config, ConfigError
from junction.gateway.trace import Trace
from junction.policy.stage import Call
from junction.stores.open import database_url, redis_prefix, redis_url
from junction.stores.urls import DEFAULT_DATABASE_URL, parse_database_url
from junction.types import ChatRequest, EmbeddingRequest, EmbeddingResponse

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from junction.cache.semantic import Embed

log = logging.getLogger("junction.cache")

HEADER = "x-junction-cache"
"""``hit``, ``miss``, or ``bypass`` (``cache-control: no-cache``)."""
SIMILARITY_HEADER = "x-junction-cache-similarity"
"""On a semantic hit: the cosine similarity of the request that was answered."""
WARN_EVERY = 60.0


class _Keep(Answer):
    """The answer of a miss, and where and how long to keep it."""

    def __init__(self, ask: Ask, options: CacheOptions, max_chars: int) -> None:
        super().__init__(max_chars)
        self.ask = ask
        self.ttl = options.ttl


class ResponseCaching:
    def __init__(self, caches: Sequence[AnswerCache], settings: CacheSettings) -> None:
        self.caches = tuple(caches)
        self.settings = settings
        self.errors = 0
        """Cache operations that failed (each a miss or an unkept answer)."""
        self._writing: set[asyncio.Task[None]] = set()
        self._warned = -math.inf

    async def enter(self, call: Call) -> None:
        request = call.request
        if not isinstance(request, ChatRequest):
            return
        settings = self.settings
        trace = call.trace
        if request.stream and (request.logprobs or request.top_logprobs):
            # The canonical stream carries no logprobs: a replay would drop
            # what the client asked for, and the answer a stream collects has
            # none to keep for a plain request with the same key.
            call.headers.append((HEADER, "bypass"))
            return
        options = cache_options(trace.request_headers, settings.ttl, settings.max_ttl)
        ask = Ask(request, options.namespace)
        if options.read:
            found = await self._find(ask)
            cached = decode_entry(found.value) if found is not None else None
            trace.cache_hit = cached is not None
            if found is not None and cached is not None:
                call.cached = cached
                trace.saved_cost = cached.usage.cost if cached.usage is not None else None
                call.headers.append((HEADER, "hit"))
                if found.similarity is not None:
                    call.headers.append((SIMILARITY_HEADER, f"{found.similarity:.4f}"))
                return
        call.headers.append((HEADER, "miss" if options.read else "bypass"))
        if options.write:
            call.answer = _Keep(ask, options, settings.max_entry_bytes)

    def leave(self, call: Call) -> None:
        answer = call.answer
        if not isinstance(answer, _Keep) or call.error is not None or call.cancelled:
            return
        response = answer.result()
        if response is None or any(c.finish_reason == "error" for c in response.choices):
            return
        value = encode_entry(response)
        if len(value) > self.settings.max_entry_bytes:
            return
        task = asyncio.get_running_loop().create_task(self._keep(answer.ask, value, answer.ttl))
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

    async def _find(self, ask: Ask) -> Found | None:
        for cache in self.caches:
            try:
                found = await cache.find(ask)
            except Exception:
                self._failed(cache, "lookup")
                continue
            if found is not None:
                return found
        return None

    async def _keep(self, ask: Ask, value: bytes, ttl: float) -> None:
        for cache in self.caches:
            try:
                await cache.keep(ask, value, ttl)
            except Exception:
                self._failed(cache, "write")

    def _failed(self, cache: AnswerCache, what: str) -> None:
        self.errors += 1
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY:
            self._warned = now
            log.warning("the %s response cache failed a %s", cache.kind, what, exc_info=True)

    async def drain(self) -> None:
        """Wait for the writes in flight (shutdown, tests)."""
        while self._writing:
            await asyncio.gather(*list(self._writing), return_exceptions=True)

    async def close(self) -> None:
        """Finish the writes in flight, then close the caches."""
        await self.drain()
        for cache in self.caches:
            await cache.close()


EmbedCall = Callable[[EmbeddingRequest, Trace], Awaitable[EmbeddingResponse]]
"""The gateway's own embeddings path (``Gateway.embed``)."""


def through_gateway(embed: EmbedCall, model: str) -> Embed:
    """Embeddings of ``model`` through the gateway: routed, failed over,
    priced and logged like a client's (door ``cache``, no key)."""
    import numpy as np  # loaded when a semantic cache is configured, not before

    async def call(texts: Sequence[str]) -> npt.NDArray[np.floating]:
        request = EmbeddingRequest(model=model, input=list(texts))
        response = await embed(request, Trace(door="cache"))
        return np.asarray(response.data, dtype=np.float32)

    return call


def response_caching(
    config: Config, env: Mapping[str, str], embed: EmbedCall | None = None
) -> ResponseCaching | None:
    """The cache stage ``config.cache`` asks for (None when off). Raises
    :class:`~junction.config.ConfigError` for a Redis backend without a Redis URL."""
    settings = config.cache
    if not settings.enabled:
        return None
    caches: list[AnswerCache] = [ExactCache(_backend(config, env))]
    semantic = settings.semantic
    if semantic.enabled:
        from junction.cache.semantic import SemanticCache, lexical_embed

        encoder = lexical_embed()
        if semantic.model is not None:
            if embed is None:
                raise ConfigError("cache.semantic.model needs the gateway's embeddings path")
            encoder = through_gateway(embed, semantic.model)
        caches.append(
            SemanticCache(
                encoder, semantic.threshold, semantic.max_entries, semantic.max_namespaces
            )
        )
    return ResponseCaching(caches, settings)


def _backend(config: Config, env: Mapping[str, str]) -> ResponseCache:
    settings = config.cache
    if settings.backend == "memory":
        return MemoryCache(settings.max_entries, max_bytes=settings.max_memory_bytes)
    if settings.backend == "sqlite":
        from junction.cache.sqlite_cache import SqliteCache

        stores = database_url(config, env)
        url = settings.database_url or (
            stores if stores is not None and stores.startswith("sqlite:") else DEFAULT_DATABASE_URL
        )
        return SqliteCache(parse_database_url(url).path)
    shared = redis_url(config, env)
    if shared is None:
        raise ConfigError("cache.backend: redis needs stores.redis_url (or $JUNCTION_REDIS_URL)")
    from junction.cache.redis_cache import RedisCache

    return RedisCache.from_url(shared, prefix=f"{redis_prefix(config, env)}:cache:")
