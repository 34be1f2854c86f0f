"""What Web Push (convos/push) needs from storage: the server's VAPID key and each user's push.json."""

from __future__ import annotations

from typing import Any, Protocol


class PushFiles(Protocol):
    """The VAPID key (`<home>/vapid.pem`) and a user's devices and push settings (`<home>/<email>/push.json`),
    by email, never a path. Both are written atomically with mode 0600."""

    async def load_vapid_key(self) -> bytes | None:
        """The PEM of the server's VAPID private key, or None before the first start."""
        ...

    async def save_vapid_key(self, pem: bytes) -> None: ...

    async def load_push(self, email: str) -> dict[str, Any] | None:
        """The user's push.json, or None without one; StoreError when it cannot be read."""
        ...

    async def save_push(self, email: str, data: dict[str, Any]) -> None: ...

    def vapid_key_location(self) -> str:
        """Where the VAPID key is, for log lines only."""
        ...
