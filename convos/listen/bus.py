"""The listener's one view of the core's event bus: the events of one user, bounded."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.core import Core
    from ..core.events import Event


class UserEvents:
    """Every event of one user, in order; None once the subscription ended (closed, or the client
    fell EVENT_QUEUE events behind: `overflowed`)."""

    def __init__(self, core: Core, email: str, maxsize: int) -> None:
        self._sub = core.events.subscribe(email=email, maxsize=maxsize)

    @property
    def overflowed(self) -> bool:
        return self._sub.dropped

    async def get(self) -> Event | None:
        return await self._sub.get()

    def drain(self) -> tuple[list[Event], bool]:
        """The events queued now, without waiting, and whether the subscription ended."""
        return self._sub.drain()

    def close(self) -> None:
        self._sub.close()
