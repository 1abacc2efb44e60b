"""The identity provider's keys (gateway/auth.py, KeySet): once the cache is stale, requests go on with
the cached keys while one background thread refetches them; an outage of the provider never makes
requests queue or fail."""

import threading

import pytest

from casewire.errors import Unavailable
from gateway.auth import InvalidToken, KeySet


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Provider:
    """A JWKS endpoint: answers its keys, fails while ``down``, and can be held mid-fetch."""

    def __init__(self):
        self.keys, self.down, self.fetches = {"k1": "key one"}, False, 0
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()

    def __call__(self):
        self.fetches += 1
        self.started.set()
        self.release.wait(10)
        if self.down:
            raise Unavailable("the identity provider is down")
        return dict(self.keys)


def settle(keys: KeySet):
    """Wait for a background refetch to finish (it holds ``_refreshing`` while it runs)."""
    with keys._refreshing:
        pass


def test_stale_keys_keep_serving_while_a_slow_provider_is_refetched():
    provider, clock = Provider(), Clock()
    keys = KeySet(provider, lifespan=300, cooldown=30, clock=clock)
    assert keys.get("k1") == "key one"
    clock.now = 301
    provider.release.clear()
    provider.started.clear()
    assert keys.get("k1") == "key one"  # answered while the refetch hangs
    assert provider.started.wait(5) and provider.fetches == 2
    assert keys.get("k1") == "key one"  # one refetch at a time, nobody waits for it
    provider.keys = {"k2": "key two"}
    provider.release.set()
    settle(keys)
    with pytest.raises(InvalidToken):  # removed by the provider: gone once a refetch succeeded
        keys.get("k1")


def test_an_outage_of_the_provider_never_fails_a_request_with_a_cached_key():
    provider, clock = Provider(), Clock()
    keys = KeySet(provider, lifespan=300, cooldown=30, clock=clock)
    keys.get("k1")
    provider.down = True
    for step in range(1, 5):
        clock.now = 300 * step
        assert keys.get("k1") == "key one"
        settle(keys)
    assert provider.fetches == 5  # one attempt per stale period, none per request


def test_an_unknown_kid_refetches_at_once_but_at_most_once_per_cooldown():
    provider, clock = Provider(), Clock()
    keys = KeySet(provider, lifespan=300, cooldown=30, clock=clock)
    keys.get("k1")
    clock.now = 31
    provider.keys["k2"] = "key two"
    assert keys.get("k2") == "key two" and provider.fetches == 2
    for forged in ("x1", "x2", "x3"):
        with pytest.raises(InvalidToken):
            keys.get(forged)
    assert provider.fetches == 2


def test_without_any_key_fetched_an_unreachable_provider_is_unavailable():
    provider = Provider()
    provider.down = True
    keys = KeySet(provider, lifespan=300, cooldown=30, clock=Clock())
    for _ in range(3):
        with pytest.raises(Unavailable):
            keys.get("k1")
    assert provider.fetches == 1  # the next attempt waits for the cooldown
