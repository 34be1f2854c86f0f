"""Connections, their profiles and conversation lists; state changes answer before the network is done."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...core.connection import Connection
from ...core.user import User
from ...errors import NotFound
from ..keys import CHAT, CONNECTIONS, PROFILES
from ..payloads import connections_json, conversations_json
from ..session import admin_check, require_admin, require_login
from . import ApiRoutes, Input

routes = ApiRoutes()


@routes.get("/connections")
async def list_connections(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return {"connections": connections_json(user)}


@routes.get("/conversations")
async def list_conversations(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return {"conversations": conversations_json(user, by_id=False)}


def _connection(user: User, connection_id: str) -> Connection:
    conn = user.get_connection(connection_id)
    if conn is None:
        raise NotFound("Connection not found.")
    return conn


@routes.post("/connections")
async def create_connection(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    body = inp["body"]
    conn = await request.app[CONNECTIONS].create_connection(
        user,
        str(body.get("url") or ""),
        conversation_id=body.get("conversation_id") or None,
        on_connect_commands=body.get("on_connect_commands"),
        wanted_state=body.get("wanted_state"),
        name=body.get("name"),
    )
    return conn.api_dict()


@routes.post("/connection/{connection_id}")
async def update_connection(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    conn = _connection(user, inp["connection_id"])
    body = inp.get("body") or {}
    conn = await request.app[CONNECTIONS].update_connection(
        user, conn, url=body.get("url"), wanted_state=body.get("wanted_state"),
        on_connect_commands=body.get("on_connect_commands"), name=body.get("name"),
    )
    return conn.api_dict()


@routes.post("/connection/{connection_id}/conversation/{conversation_id}")
async def update_conversation(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    conn = _connection(user, inp["connection_id"])
    conv = conn.get_conversation(inp["conversation_id"])
    if conv is None or not conv.conversation_id:
        raise NotFound("Conversation not found.")
    body = inp.get("body") or {}
    if "muted" in body:
        await request.app[CHAT].set_muted(user, conn, conv, body["muted"])
    return conv.api_dict()


@routes.delete("/connection/{connection_id}")
async def remove_connection(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    # Not there (or someone else's): 404, so a client can tell that nothing was deleted.
    conn = _connection(user, inp["connection_id"])
    await request.app[CONNECTIONS].remove_connection(user, conn)
    return {}


@routes.get("/connection-profiles")
async def list_connection_profiles(request: web.Request, inp: Input) -> dict[str, Any]:
    await require_login(request)
    profiles = request.app[PROFILES]
    _, admin = await admin_check(request)
    # Users see the shared profiles only: a profile made for someone's connection names their host.
    return {"profiles": [profiles.profile_json(p, admin) for p in await profiles.list_profiles(admin)]}


@routes.post("/connection-profiles")
async def save_connection_profile(request: web.Request, inp: Input) -> dict[str, Any]:
    admin = await require_admin(request, forbidden="Only admins can save connection profiles.")
    profiles = request.app[PROFILES]
    profile = await profiles.save_profile(inp.get("body") or {}, admin.email if admin else "")
    return profiles.profile_json(profile, True)


@routes.delete("/connection-profiles/{id}")
async def remove_connection_profile(request: web.Request, inp: Input) -> dict[str, Any]:
    await require_admin(request, forbidden="Only admins can delete connection profiles.")
    await request.app[PROFILES].remove_profile(inp["id"])
    return {"message": "Deleted."}
