"""What a hostile IRC server runs into: the conversation cap and the CTCP reply rate (docs/security.md)."""

from __future__ import annotations

from ..errors import InvalidInput

# CTCP replies (VERSION, PING, TIME) per connection: a burst of 5, then one every 2 s.
CTCP_BURST = 5
CTCP_INTERVAL = 2.0


class TooManyConversations(InvalidInput):
    """A connection keeps at most CONVOS_MAX_CONVERSATIONS conversations."""

    def __init__(self) -> None:
        super().__init__("This connection has too many conversations.")
