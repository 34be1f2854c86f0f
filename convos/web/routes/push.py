"""Web Push (docs/push.md): the VAPID key, my devices, a test, and what is pushed. The work is
done by convos/push, which cli.py puts under the PUSH key; without it these answer 503."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...errors import NotReady
from ..keys import PUSH, PushService
from ..session import require_login
from . import ApiRoutes, Input

routes = ApiRoutes()


def _push(request: web.Request) -> PushService:
    push = request.app.get(PUSH)
    if push is None:
        raise NotReady("Web Push is not available.")
    return push


@routes.get("/push/key")
async def get_push_key(request: web.Request, inp: Input) -> dict[str, Any]:
    await require_login(request)
    return {"public_key": await _push(request).public_key()}


@routes.get("/push/subscriptions")
async def list_push_subscriptions(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return {"devices": await _push(request).devices(user.email)}


@routes.post("/push/subscriptions")
async def add_push_subscription(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    body = inp["body"]
    return await _push(request).subscribe(user.email, body["subscription"], body.get("name") or "",
                                          request.headers.get("User-Agent", ""))


@routes.delete("/push/subscriptions/{id}")
async def remove_push_subscription(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    await _push(request).unsubscribe(user.email, inp["id"])
    return {"message": "Removed."}


@routes.post("/push/test")
async def test_push(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return await _push(request).test(user.email)


@routes.get("/push/settings")
async def get_push_settings(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return await _push(request).settings(user.email)


@routes.post("/push/settings")
async def update_push_settings(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    return await _push(request).update_settings(user.email, inp.get("body") or {})
