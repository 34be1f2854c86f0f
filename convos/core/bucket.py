"""A token bucket: `burst` at once, then `rate` a second. The IRC core limits its CTCP replies
with it, and the IRC listener the lines of a client."""

from __future__ import annotations

import time


class TokenBucket:
    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, burst: int, rate: float) -> None:
        self.burst = burst
        self.rate = rate
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> bool:
        """Take one if there is one (a reply is sent, or dropped)."""
        self._refill()
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def wait(self) -> float:
        """Take one now and say how long to wait before using it (a line is read later, never
        dropped): 0 within the burst."""
        self._refill()
        self.tokens -= 1  # taken now, paid for by the wait
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate
