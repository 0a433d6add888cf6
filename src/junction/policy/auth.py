"""Who is calling: the first stage, run at the door before the body is read.

Three kinds of key: the master key (``server.master_key`` or
``$JUNCTION_MASTER_KEY``: the admin API), keys in the config file, and
virtual keys in the records store (created through the admin API). Keys are
known by their sha256 digest only; a lookup is a dict or index lookup of
the digest, never a comparison of secrets. A virtual key, with its team and
user, is trusted for ``stores.key_cache_seconds`` in each process, so a
revocation reaches every process within that.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from junction.config import Config, key_digest
from junction.gateway.trace import Principal
from junction.routing import parse_preferences
from junction.stores import KeyRecord, Stores, StoreUnavailable, TeamRecord
from junction.types import GatewayError

log = logging.getLogger("junction.policy")

NEGATIVE_ENTRIES = 10_000
"""Unknown digests remembered (for the cache's lifetime), so a client
guessing keys costs a store lookup per second per guess at most."""


class Authenticator:
    def __init__(
        self,
        config: Config,
        stores: Stores,
        env: Mapping[str, str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stores = stores
        self.clock = clock
        self.ttl = config.stores.key_cache_seconds
        self.static: dict[str, Principal] = {
            k.key_sha256 or "": Principal(
                k.name,
                parse_preferences(k.provider) if k.provider is not None else None,
                id=f"config:{k.name}",
                store_bodies=k.store_bodies,
            )
            for k in config.keys
        }
        master = config.server.master_key or env.get("JUNCTION_MASTER_KEY")
        self.master = key_digest(master) if master else None
        if self.master is not None:
            self.static[self.master] = Principal("master", admin=True, id="master")
        self._cache: OrderedDict[str, tuple[float, Principal | None]] = OrderedDict()
        self.virtual = self.master is not None
        """Virtual keys are looked up only when a master key exists (with no
        master key nobody can create one)."""

    @property
    def enabled(self) -> bool:
        """Whether callers need a key (no keys configured: anyone may call)."""
        return bool(self.static)

    async def authenticate(self, token: str | None) -> Principal | None:
        """The caller's principal, None when keys are off; 401 otherwise."""
        if not self.static:
            return None
        if not token:
            raise _refused("is missing")
        digest = key_digest(token)
        found = self.static.get(digest)
        if found is not None:
            return found
        if not self.virtual:
            raise _refused("is not a key of this gateway")
        now = self.clock()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            principal = cached[1]
        else:
            principal = await self._load(digest)
            if cached is not None and principal is not None and principal == cached[1]:
                # Unchanged records: keep the same object, so what each stage
                # derived from it (PerPrincipal, keyed by identity) is reused
                # instead of made again, and kept again, every key_cache_seconds.
                principal = cached[1]
            self._remember(digest, principal, now)
        if principal is None or principal.key is None:
            raise _refused("is not a key of this gateway")
        return _usable(principal, now)

    def forget(self, key_hash: str) -> None:
        """Drop a cached key (the admin API calls it on revoke and rotate)."""
        self._cache.pop(key_hash, None)

    def forget_all(self) -> None:
        """Drop every cached key (a team or user changed)."""
        self._cache.clear()

    async def _load(self, digest: str) -> Principal | None:
        records = self.stores.records
        try:
            key = await records.key_by_hash(digest)
            if key is None:
                return None
            team = await records.team(key.team) if key.team else None
            user = await records.user(key.user) if key.user else None
        except StoreUnavailable as exc:
            # Fail closed: a key that cannot be looked up is not let through.
            log.error("a virtual key could not be looked up: %s", exc)
            raise GatewayError(
                "overloaded",
                "The key store is unreachable, so this key cannot be checked; try again shortly.",
                retry_after=1.0,
            ) from None
        return Principal(
            key.name,
            parse_preferences(key.provider) if key.provider is not None else None,
            id=key.id,
            key=key,
            team=team,
            user=user,
            provider_locked=key.provider_locked,
            store_bodies=_store_bodies(key, team),
        )

    def _remember(self, digest: str, principal: Principal | None, now: float) -> None:
        self._cache[digest] = (now + self.ttl, principal)
        self._cache.move_to_end(digest)
        while len(self._cache) > NEGATIVE_ENTRIES:
            self._cache.popitem(last=False)


def _store_bodies(key: KeyRecord, team: TeamRecord | None) -> bool | None:
    """A key's own setting overrides its team's; None inherits the config's."""
    if key.store_bodies is not None:
        return key.store_bodies
    return team.store_bodies if team is not None else None


def _usable(principal: Principal, now: float) -> Principal:
    key: KeyRecord | None = principal.key
    assert key is not None
    if key.revoked_at is not None and key.revoked_at <= now:
        raise _refused("has been revoked", principal)
    if key.expires_at is not None and key.expires_at <= now:
        raise _refused("has expired", principal)
    return principal


class KeyRefused(GatewayError):
    """A 401 at the door. ``principal`` is the key's when it is known (revoked
    or expired), for the request log and the metrics; never the secret."""

    def __init__(self, message: str, principal: Principal | None = None) -> None:
        super().__init__("authentication", message)
        self.principal = principal


def _refused(what: str, principal: Principal | None = None) -> KeyRefused:
    key = principal.key if principal is not None else None
    which = f" ({key.prefix}..., id {key.id})" if key is not None else ""
    return KeyRefused(
        f"The API key{which} {what}. Send a valid key as 'Authorization: Bearer <key>' "
        "(or x-api-key).",
        principal,
    )
