"""The JSON of users, connections and conversations, shared by the routes and the websocket `load`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core.user import User
from .keys import CORE


def connections_json(user: User) -> list[dict[str, Any]]:
    return [c.api_dict() for c in user.sorted_connections()]


def conversations_json(user: User, *, by_id: bool) -> list[dict[str, Any]]:
    """Every conversation (not the server pseudo-conversations); optionally sorted globally by id."""
    items = [conv.api_dict() for conn in user.sorted_connections() for conv in conn.sorted_conversations()]
    if by_id:
        items.sort(key=lambda c: (c["conversation_id"], c["connection_id"]))
    return items


def user_json(request: web.Request, user: User) -> dict[str, Any]:
    """The User object with the server-wide extras the browser needs."""
    settings = request.app[CORE].settings
    data = user.api_dict()
    data["default_connection"] = settings.default_connection_safe()
    data["forced_connection"] = settings.forced_connection
    data["video_service"] = settings.video_service
    return data


def user_payload(
    request: web.Request, user: User, *, connections: bool = False, conversations: bool = False
) -> dict[str, Any]:
    """getUser and the websocket `load` reply: the user, optionally with connections and conversations."""
    data = user_json(request, user)
    if connections or conversations:
        data["connections"] = connections_json(user)
    if conversations:
        data["conversations"] = conversations_json(user, by_id=True)
    return data
