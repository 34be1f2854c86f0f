"""How the app looks for a user: their own stylesheet (custom CSS) and their preferences, kept in
their directory beside user.json (custom.css, preferences.json)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


# The app's preferences kept with the account, and their defaults. Only these keys are kept.
PREFERENCES: dict[str, Any] = {"inline_media": True, "joins": "fold"}
# The values a preference may have, where not any value of its type (the API document says the same).
CHOICES: dict[str, tuple[Any, ...]] = {"joins": ("fold", "show", "hide")}


def _valid(key: str, value: Any) -> bool:
    return isinstance(value, type(PREFERENCES[key])) and (key not in CHOICES or value in CHOICES[key])


async def load_preferences(core: Core, user: User) -> dict[str, Any]:
    saved = await core.store.load_preferences(user.email)
    return {key: saved[key] if _valid(key, saved.get(key)) else default for key, default in PREFERENCES.items()}


async def save_preferences(core: Core, user: User, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge `changes` (validated by the API document) into the saved preferences."""
    prefs = await load_preferences(core, user)
    prefs.update({key: value for key, value in changes.items() if key in PREFERENCES})
    await core.store.save_preferences(user.email, prefs)
    return prefs
