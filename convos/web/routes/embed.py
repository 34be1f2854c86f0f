"""Link previews: GET /api/embed[.json|.html]?url=, answered by the app's Embedder (convos/embed)."""

from __future__ import annotations

from aiohttp import web

from ..keys import EMBEDDER
from ..middlewares import json_response
from ..session import require_login
from . import ApiRoutes, Input

routes = ApiRoutes()

MAX_AGE = 600
# The .html answer is our own escaped markup; should anyone open it directly, nothing in it runs.
_HTML_CSP = (
    "default-src 'none'; img-src http: https:; media-src http: https:; style-src 'unsafe-inline'; "
    "frame-src https://www.youtube-nocookie.com https://player.vimeo.com; sandbox allow-popups allow-scripts"
)


@routes.get("/embed")
async def embed(request: web.Request, inp: Input) -> web.StreamResponse:
    # A missing url is a 400 from validation, before this login check (spec §4.9).
    user = await require_login(request)
    doc, cached = await request.app[EMBEDDER].describe(inp["url"], request.headers.get("User-Agent"),
                                                       owner=user.email)
    headers = {"Cache-Control": f"max-age={MAX_AGE}"}
    if cached:
        headers["X-Cached"] = "1"
    if request.path.endswith(".html"):
        headers["Content-Security-Policy"] = _HTML_CSP
        headers["X-Content-Type-Options"] = "nosniff"
        return web.Response(text=doc["html"], content_type="text/html", charset="utf-8", headers=headers)
    return json_response(doc, headers=headers)


# A picture passed on from another site: shown by the app only, never run, and kept by the
# browser for a day (private: it was asked for by a logged-in user).
IMAGE_HEADERS = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff",
                 "Content-Security-Policy": "default-src 'none'; sandbox", "Content-Disposition": "inline",
                 "Referrer-Policy": "no-referrer"}


@routes.get("/embed/image")
async def embed_image(request: web.Request, inp: Input) -> web.StreamResponse:
    """A picture from another site, through the server (the SSRF guard, the preview limits), so
    that the browser asks no third party: the app's CSP allows images only from its own origin."""
    user = await require_login(request)
    body, ctype = await request.app[EMBEDDER].image(inp["url"], request.headers.get("User-Agent"), owner=user.email)
    return web.Response(body=body, content_type=ctype, headers=IMAGE_HEADERS)
