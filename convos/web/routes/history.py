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
    await request.app[CHAT].mark_read(user, conn, conv, str((inp.get("body") or {}).get("last_id") or ""))
    return {}


@routes.post("/connection/{connection_id}/read")
async def mark_connection_as_read(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    conn, conv = history.find_conversation(user, inp["connection_id"], "")
    await request.app[CHAT].mark_read(user, conn, conv, str((inp.get("body") or {}).get("last_id") or ""))
    return {}


@routes.post("/conversations/read")
async def mark_all_as_read(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    await request.app[CHAT].mark_all_read(user)
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


@routes.get("/connection/{connection_id}/conversation/{conversation_id}/export")
async def export_conversation(request: web.Request, inp: Input) -> web.StreamResponse:
    """The log of a month or of some days as plain text, streamed from the log files (chunked):
    the whole text is never in memory. It holds one of the user's scan slots while it runs."""
    user = await require_login(request)
    core = request.app[CORE]
    start, end, label = history.export_range(inp)
    blocks = history.export(core, user, inp["connection_id"], inp["conversation_id"], start, end)
    name = history.export_filename(inp["connection_id"], inp["conversation_id"], label)
    async with core.scan_slots.hold(user.email):
        res = web.StreamResponse(headers={
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        })
        res.enable_chunked_encoding()
        try:
            async for block in blocks:
                if not res.prepared:
                    await res.prepare(request)
                await res.write(block)
        finally:
            await blocks.aclose()  # type: ignore[attr-defined]
        if not res.prepared:
            await res.prepare(request)
        await res.write_eof()
    return res
