"""Guarding the admin part of the app: the password check, a wait after wrong tries, and idle time-outs."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable

MAX_WAIT = 300.0  # seconds: the longest wait after many wrong tries
FORGET_AFTER = 3600.0  # a key with no wrong try for this long starts afresh


def password_matches(given: str, expected: str) -> bool:
    """Compare in constant time: equal-length digests, so neither the content nor the length leaks."""
    digest = lambda text: hashlib.sha256(text.encode("utf-8")).digest()  # noqa: E731
    return bool(expected) and hmac.compare_digest(digest(given), digest(expected))


class LoginThrottle:
    """Wrong admin passwords per key (a session, a client address): each one doubles the wait before the
    next try is even checked (`delay`, 2 x `delay`, 4 x … up to MAX_WAIT). Shared by all sessions."""

    def __init__(self, delay: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._delay = delay
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (wrong tries, last one at)

    def wait(self, *keys: str) -> float:
        """Seconds until a try from these keys is checked again (0: now)."""
        now = self._clock()
        with self._lock:
            return max((self._until(k) - now for k in keys if k in self._failures), default=0.0) if keys else 0.0

    def failed(self, *keys: str) -> float:
        """Count a wrong try for every key; returns the wait it earns."""
        now = self._clock()
        with self._lock:
            for key, (count, last) in list(self._failures.items()):  # forget keys that have been quiet
                if now - last > FORGET_AFTER:
                    del self._failures[key]
            for key in keys:
                count, _ = self._failures.get(key, (0, now))
                self._failures[key] = (count + 1, now)
            return max(self._until(k) for k in keys) - now

    def succeeded(self, key: str) -> None:
        """A right password clears that key (a session), not the others (its address may hold an attacker)."""
        with self._lock:
            self._failures.pop(key, None)

    def _until(self, key: str) -> float:
        count, last = self._failures[key]
        return last + min(MAX_WAIT, self._delay * 2 ** (count - 1))


def session_expired(last_active: float | None, timeout_minutes: float, now: float | None = None) -> bool:
    """Whether an admin session idle since `last_active` has timed out."""
    if last_active is None:
        return False
    now = time.monotonic() if now is None else now
    return now - last_active > timeout_minutes * 60
