"""The local password: the Argon2id hash in user.json."""

from __future__ import annotations

from typing import Any

from ..core.core import Core
from ..core.user import User


class LocalPasswords:
    name = "local"

    def __init__(self, core: Core) -> None:
        self.core = core

    async def check_password(self, email: str, password: str) -> User | None:
        return await self.core.authenticate(email, password)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "title": "Local passwords"}
