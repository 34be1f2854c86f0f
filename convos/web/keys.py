"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ..config import Config
from ..core.core import Core
from .openapi import ApiSpec

if TYPE_CHECKING:
    from .embed import Embedder
    from .events import EventSocket
    from .loginlimit import LoginLimits

CORE = web.AppKey("core", Core)
CONFIG = web.AppKey("config", Config)
SPEC = web.AppKey("spec", ApiSpec)
# The open /events websockets, closed on shutdown.
EVENT_SOCKETS = web.AppKey("event_sockets", set["EventSocket"])
# Failed-login limits per address and account (loginlimit.py).
LOGIN_LIMITS: web.AppKey[LoginLimits] = web.AppKey("login_limits")
# Optional: the link previewer for /api/embed (convos.web.embed.embedder_for makes one when unset).
EMBEDDER: web.AppKey[Embedder] = web.AppKey("embedder")
