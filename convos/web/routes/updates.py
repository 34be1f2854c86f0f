"""checkForUpdates: the running version next to the newest release."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..keys import CONFIG, UPDATE_CHECKER
from ..session import require_login
from ..updates import check_for_updates
from . import ApiRoutes, Input

routes = ApiRoutes()


@routes.get("/check-for-updates")
async def check_updates(request: web.Request, inp: Input) -> dict[str, Any]:
    await require_login(request)
    return await check_for_updates(request.app[UPDATE_CHECKER], request.app[CONFIG].update_url)
