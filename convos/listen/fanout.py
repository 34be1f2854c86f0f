"""One chat line to many attached clients: formatted once for every client that would be sent
the same text (same nick, server name and capabilities), not once per client."""

from __future__ import annotations

from ..core.events import Message
from .relay import ClientView, event_line

# Distinct (event, view) pairs kept; cleared whole past this. Every attached client relays the
# same events within a few loop iterations of each other, so a small window catches them all;
# a client far behind formats its own line, which is only slower.
CACHE_SIZE = 2048


class LineCache:
    """`event_line(view, event)`, shared by the clients of one listener."""

    __slots__ = ("_lines",)

    def __init__(self) -> None:
        # The event is kept with its line: its id() is then never reused for another event.
        self._lines: dict[tuple[int, str, str, frozenset[str]], tuple[Message, str]] = {}

    def event_line(self, view: ClientView, event: Message) -> str:
        key = (id(event), view.nick, view.server, frozenset(view.caps))
        found = self._lines.get(key)
        if found is not None and found[0] is event:
            return found[1]
        line = event_line(view, event)
        if len(self._lines) >= CACHE_SIZE:
            self._lines.clear()
        self._lines[key] = (event, line)
        return line
