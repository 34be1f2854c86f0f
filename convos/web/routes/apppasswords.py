"""App passwords of the logged-in user: one per device, for the IRC listener (docs/irc-listener.md)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...core import apppasswords
from ..keys import CORE
from ..session import require_login
from . import ApiRoutes, Input

routes = ApiRoutes()


@routes.get("/user/app-passwords")
async def list_app_passwords(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return {"app_passwords": [item.api_dict() for item in apppasswords.app_passwords(user)]}


@routes.post("/user/app-passwords")
async def create_app_password(request: web.Request, inp: Input) -> dict[str, Any]:
    """A new app password; the password itself is in this answer only."""
    user = await require_login(request)
    body = inp.get("body") or {}
    record, plain = await apppasswords.create(user, str(body.get("name") or ""))
    await request.app[CORE].save_user(user)
    return {**record.api_dict(), "password": plain}


@routes.delete("/user/app-passwords/{id}")
async def revoke_app_password(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    apppasswords.revoke(user, str(inp["id"]))
    await request.app[CORE].save_user(user)
    return {"message": "Revoked."}
