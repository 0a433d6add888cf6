"""Sticky routing: conversation keys, the cache-read condition, idle TTL, LRU bound."""

from __future__ import annotations

from junction.catalog import Price
from junction.routing import StickyRoutes, cache_pays, conversation_key

CACHED = Price(input=3.0, output=15.0, cache_read=0.3)


def test_session_id_wins_over_messages() -> None:
    by_session = conversation_key(model="m", session_id="s1", first_system="sys", first_user="hi")
    assert by_session == conversation_key(model="m", session_id="s1", first_user="other")
    assert by_session != conversation_key(model="m", first_system="sys", first_user="hi")


def test_messages_key_the_conversation() -> None:
    key = conversation_key(model="m", first_system="You are terse.", first_user="Hello")
    assert key == conversation_key(model="m", first_system="You are terse.", first_user="Hello")
    assert key != conversation_key(model="m", first_system="You are terse.", first_user="Hello!")
    assert key != conversation_key(model="m2", first_system="You are terse.", first_user="Hello")
    assert key != conversation_key(
        model="m", account="k2", first_system="You are terse.", first_user="Hello"
    )
    # the two messages are not simply concatenated
    assert conversation_key(model="m", first_system="ab", first_user="c") != conversation_key(
        model="m", first_system="a", first_user="bc"
    )
    assert conversation_key(model="m") is None


def test_session_ids_are_cut_at_256_characters() -> None:
    long = "x" * 256
    assert conversation_key(model="m", session_id=long + "tail") == conversation_key(
        model="m", session_id=long
    )


def test_remember_only_after_a_cache_read_that_pays() -> None:
    sticky = StickyRoutes()
    assert not sticky.remember("k", "m@a", 0.0, cached_tokens=0, price=CACHED)
    assert not sticky.remember("k", "m@a", 0.0, cached_tokens=100, price=None)
    no_discount = Price(input=1.0, output=2.0, cache_read=1.0)
    assert not sticky.remember("k", "m@a", 0.0, cached_tokens=100, price=no_discount)
    assert not sticky.remember("k", "m@a", 0.0, cached_tokens=100, price=Price(input=1.0))
    assert sticky.lookup("k", 0.0) is None
    assert sticky.remember("k", "m@a", 0.0, cached_tokens=100, price=CACHED)
    assert sticky.lookup("k", 1.0) == "m@a"
    assert cache_pays(CACHED)
    assert not cache_pays(no_discount)


def test_ten_minutes_idle_forgets() -> None:
    sticky = StickyRoutes()
    sticky.remember("k", "m@a", 0.0, cached_tokens=10, price=CACHED)
    assert sticky.lookup("k", 599.0) == "m@a"  # a hit restarts the idle clock
    assert sticky.lookup("k", 1198.0) == "m@a"
    assert sticky.lookup("k", 1798.0) is None
    assert len(sticky) == 0
    assert sticky.lookup(None, 0.0) is None


def test_a_later_cache_read_elsewhere_moves_the_key() -> None:
    sticky = StickyRoutes()
    sticky.remember("k", "m@a", 0.0, cached_tokens=10, price=CACHED)
    sticky.remember("k", "m@b", 5.0, cached_tokens=10, price=CACHED)
    assert sticky.lookup("k", 6.0) == "m@b"
    sticky.forget("k")
    assert sticky.lookup("k", 6.0) is None


def test_least_recently_used_keys_go_first() -> None:
    sticky = StickyRoutes(max_keys=2)
    sticky.remember("k1", "m@a", 0.0, cached_tokens=1, price=CACHED)
    sticky.remember("k2", "m@a", 1.0, cached_tokens=1, price=CACHED)
    assert sticky.lookup("k1", 2.0) == "m@a"  # k1 is now the most recent
    sticky.remember("k3", "m@a", 3.0, cached_tokens=1, price=CACHED)
    assert len(sticky) == 2
    assert sticky.lookup("k2", 4.0) is None
    assert sticky.lookup("k1", 4.0) == "m@a"
    assert sticky.lookup("k3", 4.0) == "m@a"
