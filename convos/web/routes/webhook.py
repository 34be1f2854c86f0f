"""POST /api/webhook/{provider_name}: payloads from GitHub or Gitea, handed to the bot."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...errors import NotReady
from ..keys import RAW_BODY, WEBHOOKS
from ..session import remote_address
from . import ApiRoutes, Input

routes = ApiRoutes()


@routes.post("/webhook/{provider_name}")
async def webhook(request: web.Request, inp: Input) -> dict[str, Any]:
    receiver = request.app.get(WEBHOOKS)
    if receiver is None:
        raise NotReady("Unable to accept webhook request.")
    # The body was read for validation (within the operation's x-convos-max-body); signatures are
    # over these exact bytes.
    body = request.get(RAW_BODY, b"")
    return await receiver.handle_webhook(inp["provider_name"], request.headers, body, inp["body"],
                                         remote_address(request))
