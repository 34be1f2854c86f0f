"""A user's own stylesheet (custom CSS in the settings), kept in their directory beside user.json."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InvalidInput
from .user import User

if TYPE_CHECKING:
    from .core import Core

# Bytes of custom CSS a user may keep (UTF-8); the API refuses more (and the schema longer text).
CUSTOM_CSS_MAX = 32 * 1024


async def load_custom_css(core: Core, user: User) -> str:
    return await core.store.load_custom_css(user.email, CUSTOM_CSS_MAX)


async def save_custom_css(core: Core, user: User, css: str) -> None:
    if len(css.encode()) > CUSTOM_CSS_MAX:
        raise InvalidInput(f"At most {CUSTOM_CSS_MAX} bytes of CSS.", "/css")
    if "\x00" in css:
        raise InvalidInput("The CSS holds a NUL character.", "/css")
    await core.store.save_custom_css(user.email, css.replace("\r\n", "\n"))
