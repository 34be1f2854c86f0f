"""What a hostile IRC server runs into: the conversation cap and the CTCP reply rate (docs/security.md)."""

from __future__ import annotations

import time

from ..errors import InvalidInput

# CTCP replies (VERSION, PING, TIME) per connection: a burst of 5, then one every 2 s.
CTCP_BURST = 5
CTCP_INTERVAL = 2.0


class TooManyConversations(InvalidInput):
    """A connection keeps at most CONVOS_MAX_CONVERSATIONS conversations."""

    def __init__(self) -> None:
        super().__init__("This connection has too many conversations.")


class TokenBucket:
    """Up to `burst` at once, then one more every `interval` seconds."""

    def __init__(self, burst: int, interval: float) -> None:
        self.burst = burst
        self.interval = interval
        self._tokens = float(burst)
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) / self.interval)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
