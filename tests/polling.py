"""Waiting for what happens asynchronously (events, consumers, the index) in the tests."""

import time

import pytest


def eventually(check, timeout: float = 60.0, interval: float = 0.2):
    """Poll ``check`` until it returns something truthy and return that; fail with its last value.

    ``timeout`` bounds a wait that should end much sooner: it is no measure of speed (``bench/`` is).
    """
    deadline, value = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"not true within {timeout}s: last value {value!r}")
