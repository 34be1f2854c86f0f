"""Which conversation each browser tab of a user shows while it is visible and focused.

The websocket's `focus` method sets it (docs/websocket.md); Web Push asks it, so that nothing is
pushed about a conversation the user is looking at.
"""

from __future__ import annotations


class Focus:
    def __init__(self) -> None:
        # email -> tab (any object, one per websocket) -> (connection_id, conversation_id)
        self._tabs: dict[str, dict[object, tuple[str, str]]] = {}

    def set(self, email: str, tab: object, connection_id: str, conversation_id: str = "") -> None:
        """The tab shows this conversation and is visible and focused; an empty `connection_id`
        means it shows none of them (hidden, blurred, or on another page)."""
        if not connection_id:
            self.clear(email, tab)
            return
        self._tabs.setdefault(email, {})[tab] = (connection_id, conversation_id.lower())

    def clear(self, email: str, tab: object) -> None:
        tabs = self._tabs.get(email)
        if tabs is not None:
            tabs.pop(tab, None)
            if not tabs:
                del self._tabs[email]

    def watching(self, email: str, connection_id: str, conversation_id: str) -> bool:
        """Is a tab of the user visible and focused on this conversation?"""
        target = (connection_id, conversation_id.lower())
        return any(where == target for where in self._tabs.get(email, {}).values())
