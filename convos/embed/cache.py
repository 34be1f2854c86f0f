"""The answers of recent link previews by URL (CONVOS_MAX_LINK_CACHE_SIZE of them)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


class LinkCache:
    """The newest `size` answers by URL; a hit moves the entry to the young end."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def get(self, key: str) -> dict[str, Any] | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        if self.size <= 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
