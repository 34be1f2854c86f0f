"""Chat history: message pages, search, notifications and mark-as-read."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...core import history
from ..keys import CHAT, CORE
from ..session import require_login
from . import ApiRoutes, Input

routes = ApiRoutes()


@routes.get("/connection/{connection_id}/conversation/{conversation_id}/messages")
async def conversation_messages(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return await history.messages(request.app[CORE], user, inp["connection_id"], inp["conversation_id"], inp)


@routes.get("/connection/{connection_id}/messages")
async def connection_messages(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return await history.messages(request.app[CORE], user, inp["connection_id"], "", inp)


@routes.post("/connection/{connection_id}/conversation/{conversation_id}/read")
async def mark_conversation_as_read(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    conn, conv = history.find_conversation(user, inp["connection_id"], inp["conversation_id"])
    await request.app[CHAT].mark_read(user, conn, conv)
    return {}


@routes.post("/connection/{connection_id}/read")
async def mark_connection_as_read(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    conn, conv = history.find_conversation(user, inp["connection_id"], "")
    await request.app[CHAT].mark_read(user, conn, conv)
    return {}


@routes.get("/search")
async def search_messages(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return await history.search(request.app[CORE], user, inp)


@routes.get("/notifications")
async def notification_messages(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return await history.notifications(request.app[CORE], user, inp)


@routes.post("/notifications/read")
async def mark_notifications_as_read(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    await request.app[CHAT].mark_notifications_read(user)
    return {}
