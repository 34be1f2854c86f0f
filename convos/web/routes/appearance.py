"""How the app looks: the theme list, a user's own stylesheet (custom CSS) and their preferences."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...core import appearance
from ..keys import CORE, THEMES
from ..session import require_login
from . import ApiRoutes, Input

routes = ApiRoutes()

# A stylesheet from /api: text/css only, and no-cache so a saved change shows at the next load.
CSS_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"}


@routes.get("/themes")
async def list_themes(request: web.Request, inp: Input) -> dict[str, Any]:
    await require_login(request)
    base_path = request.get("base_path", "")
    return {"themes": [t.to_dict(base_path) for t in await request.app[THEMES].themes()]}


@routes.get("/custom-css")
async def get_custom_css(request: web.Request, inp: Input) -> web.StreamResponse:
    """The user's CSS as a stylesheet: the page links it (style-src 'self'), never inlines it."""
    user = await require_login(request)
    css = await appearance.load_custom_css(request.app[CORE], user)
    return web.Response(text=css, content_type="text/css", charset="utf-8", headers=CSS_HEADERS)


@routes.post("/custom-css")
async def save_custom_css(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    css = inp["body"]["css"]
    await appearance.save_custom_css(request.app[CORE], user, css)
    return {"css": css}


@routes.get("/preferences")
async def get_preferences(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return await appearance.load_preferences(request.app[CORE], user)


@routes.post("/preferences")
async def save_preferences(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return await appearance.save_preferences(request.app[CORE], user, inp["body"])
