"""Connections and conversations as lists (creating and changing them comes with the IRC core)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...core.user import User
from ..session import require_login
from . import Input, operation


def connections_json(user: User) -> list[dict[str, Any]]:
    return [c.api_dict() for c in user.sorted_connections()]


def conversations_json(user: User, *, by_id: bool) -> list[dict[str, Any]]:
    """Every conversation (not the server pseudo-conversations); optionally sorted globally by id."""
    items = [conv.api_dict() for conn in user.sorted_connections() for conv in conn.sorted_conversations()]
    if by_id:
        items.sort(key=lambda c: (c["conversation_id"], c["connection_id"]))
    return items


@operation("listConnections")
async def list_connections(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return {"connections": connections_json(user)}


@operation("listConversations")
async def list_conversations(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return {"conversations": conversations_json(user, by_id=False)}
