"""Typed keys for what the aiohttp application holds: create_app builds each, so every app owns its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from ..auth import Auth
from ..config import Config
from ..core.chat import ChatService
from ..core.connections import ConnectionsService, ProfilesService
from ..core.core import Core
from ..core.files import FilesService
from .openapi import ApiSpec
from .templates import Templates

if TYPE_CHECKING:
    from ..embed import Embedder
    from .events import EventSocket, EventTexts
    from .i18n import Catalog
    from .loginlimit import LoginLimits
    from .themes import ThemeList
    from .updates import UpdateChecker


class WebhookReceiver(Protocol):
    """What handles POST /api/webhook/{provider_name}: the bot (convos/bot), wired by cli.py."""

    async def handle_webhook(self, provider: str, headers: Mapping[str, str], body: bytes,
                             payload: dict[str, Any], remote_address: str) -> dict[str, Any]: ...


class ListenerInfo(Protocol):
    """The IRC listener (convos/listen), wired by cli.py: what the admin settings show of it."""

    def describe(self) -> dict[str, Any]: ...


class PushService(Protocol):
    """What the /api/push operations ask (web/routes/push.py): Web Push (convos/push), wired by cli.py."""

    async def public_key(self) -> str: ...

    async def devices(self, email: str) -> list[dict[str, Any]]: ...

    async def subscribe(self, email: str, subscription: dict[str, Any], name: str, user_agent: str
                        ) -> dict[str, Any]: ...

    async def unsubscribe(self, email: str, device_id: str) -> None: ...

    async def test(self, email: str) -> dict[str, Any]: ...

    async def settings(self, email: str) -> dict[str, Any]: ...

    async def update_settings(self, email: str, changes: dict[str, Any]) -> dict[str, Any]: ...


CORE = web.AppKey("core", Core)
# The core's services (core/core.py), each under its own key: routes use the one they need.
CHAT = web.AppKey("chat", ChatService)
CONNECTIONS = web.AppKey("connections", ConnectionsService)
PROFILES = web.AppKey("profiles", ProfilesService)
FILES = web.AppKey("files", FilesService)
CONFIG = web.AppKey("config", Config)
SPEC = web.AppKey("spec", ApiSpec)
# Sign-in: the active providers (convos/auth), built by create_app from CONVOS_AUTH_*.
AUTH = web.AppKey("auth", Auth)
# The open /events websockets, closed on shutdown.
EVENT_SOCKETS = web.AppKey("event_sockets", set["EventSocket"])
# The JSON text of recent events, shared by the sockets of the app (events.py).
EVENT_TEXTS: web.AppKey[EventTexts] = web.AppKey("event_texts")
# Failed-login limits per address and account (loginlimit.py).
LOGIN_LIMITS: web.AppKey[LoginLimits] = web.AppKey("login_limits")
# The link previewer for /api/embed (convos/embed), made by create_app from the Config; tests may set their own.
EMBEDDER: web.AppKey[Embedder] = web.AppKey("embedder")
# Optional: who takes webhooks (the bot); without one they answer 503.
WEBHOOKS: web.AppKey[WebhookReceiver] = web.AppKey("webhooks")
# Optional: the IRC listener for native clients, when CONVOS_IRC_LISTEN is set.
IRC_LISTENER: web.AppKey[ListenerInfo] = web.AppKey("irc_listener")
# Optional: Web Push; without it /api/push/* answer 503.
PUSH: web.AppKey[PushService] = web.AppKey("push")
# The page templates (share/templates), read when the app is built.
TEMPLATES = web.AppKey("templates", Templates)
# The translations (i18n.py): shipped and local dictionaries, loaded on first use.
CATALOG: web.AppKey[Catalog] = web.AppKey("catalog")
# The newest-release lookup behind checkForUpdates (updates.py), with its cache.
UPDATE_CHECKER: web.AppKey[UpdateChecker] = web.AppKey("update_checker")
# The theme list (themes.py): bundled and the admin's CONVOS_HOME/themes, rescanned every 10 s.
THEMES: web.AppKey[ThemeList] = web.AppKey("themes")
# The request body as sent (request[RAW_BODY]), read by the endpoint within x-convos-max-body.
RAW_BODY = web.RequestKey("raw_body", bytes)
