"""The app's pages outside the API: the shell, /register, /logout, the manifest, the service worker, /assets."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from pathlib import PurePosixPath
from typing import Any

from aiohttp import web

from .. import __version__
from ..errors import Gone, InvalidInput
from ..paths import share_dir
from .keys import CORE
from .middlewares import json_response
from .render import render_page
from .session import check_csrf, current_user, logout, session_of

# The browser app (share/public) is plain JS modules without hashed names, so browsers must
# revalidate (Last-Modified/304) instead of running an old module next to a new one.
_ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png",
                ".json": "application/json", ".webmanifest": "application/manifest+json", ".woff2": "font/woff2",
                ".ico": "image/x-icon", ".txt": "text/plain"}


class PublicFiles(web.StaticResource):
    """`/assets/<path>`: aiohttp's static handler on share/public (never outside it, no index, no
    symlink out of it), which also refuses dot files and dot directories."""

    async def resolve(self, request: web.Request) -> Any:
        if any(part.startswith(".") for part in request.rel_url.path.split("/")):
            return None, set()
        return await super().resolve(request)


async def _asset_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """Our cache and type rules on what the static handler answers (304s included)."""
    match_info = getattr(request, "match_info", None)
    if match_info is None or not isinstance(match_info.route.resource, PublicFiles):
        return
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    ctype = _ASSET_TYPES.get(PurePosixPath(request.path).suffix.lower())
    if ctype and response.status == 200:
        response.headers["Content-Type"] = ctype + ("; charset=utf-8" if ctype.startswith("text/") else "")


async def app_shell(request: web.Request) -> web.Response:
    """The page the browser app boots from; it carries the csrf token for logout."""
    await current_user(request)
    session = await session_of(request)
    return render_page(request, csrf=session["csrf"])


async def register_page(request: web.Request) -> web.Response:
    """`/register?email&exp&token`: 410 for an expired link, 400 for a bad one."""
    core = request.app[CORE]
    q = request.query
    existing = "no"
    if "token" in q and "email" in q and "exp" in q:
        exp = q["exp"]
        if not exp.isdigit() or int(exp) < time.time():
            raise Gone("The invite link has expired.")
        if not core.check_invite(q["email"].strip(), exp, q["token"]):
            raise InvalidInput("Invalid token. You have to ask your Convos admin for a new link.")
        existing = "yes" if core.get_user(q["email"]) else "no"
    session = await session_of(request)
    return render_page(request, csrf=session["csrf"], existing_user=existing)


async def logout_page(request: web.Request) -> web.Response:
    await check_csrf(request, request.query.get("csrf"))
    await logout(request)
    raise web.HTTPFound(request.get("base_path", "") + "/login")


# --- installable app (spec §7.7): the manifest, the service worker and its version --------

_ICONS = [
    {"src": "assets/images/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
    {"src": "assets/images/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
    {"src": "assets/images/icon-maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
]


async def manifest(request: web.Request) -> web.Response:
    """The web app manifest; its URLs follow the base path, so it is rendered per request."""
    base_path = request.get("base_path", "")
    data = {
        "id": f"{base_path}/",
        "name": "Convos",
        "short_name": "Convos",
        "description": "A chat application that runs in your web browser",
        "categories": ["social"],
        "start_url": f"{base_path}/?standalone=true",
        "scope": f"{base_path}/",
        "display": "standalone",
        "theme_color": "#0b5cad",
        "background_color": "#ffffff",
        "icons": [{**icon, "src": f"{base_path}/{icon['src']}"} for icon in _ICONS],
    }
    return web.Response(body=json.dumps(data, indent=2), content_type="application/manifest+json",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


def _public_files() -> tuple[list[str], str]:
    """share/public's files (but the worker itself) and a fingerprint of their sizes and times."""
    root = share_dir() / "public"
    digest = hashlib.sha256()
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or rel == "sw.js" or any(p.startswith(".") for p in PurePosixPath(rel).parts):
            continue
        st = path.stat()
        digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        files.append(rel)
    return files, digest.hexdigest()[:12]


async def service_worker(request: web.Request) -> web.Response:
    """`/sw.js`: share/public/sw.js after a line with this daemon's version, base path and assets.

    The cache name holds the version and a fingerprint of the assets, so the browser installs a
    new worker (which drops the old cache) whenever an asset changes.
    """
    files, fingerprint = await asyncio.to_thread(_public_files)
    base_path = request.get("base_path", "")
    config = {
        "version": __version__,
        "cache": f"convos-{__version__}-{fingerprint}",
        "base": base_path,
        "assets": [f"{base_path}/assets/{rel}" for rel in files],
    }
    source = await asyncio.to_thread((share_dir() / "public" / "sw.js").read_text, "utf-8")
    body = f"self.CONVOS_SW = {json.dumps(config)};\n{source}"
    return web.Response(text=body, content_type="text/javascript", charset="utf-8", headers={
        "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
        "Service-Worker-Allowed": f"{base_path}/",
    })


async def service_worker_info(request: web.Request) -> web.Response:
    """`/sw/info`: the browser compares `version` to find out that Convos was upgraded."""
    return json_response({"mode": "production", "version": __version__}, headers={"Cache-Control": "no-cache"})


def add_page_routes(app: web.Application) -> None:
    r = app.router
    for path in ("/", "/login", "/help", "/search", "/chat", "/settings", "/index.html"):
        r.add_get(path, app_shell)
    r.add_get("/chat/{tail:.*}", app_shell)
    r.add_get("/settings/{tail:.*}", app_shell)
    r.add_get("/register", register_page)
    r.add_get("/logout", logout_page)
    r.add_get("/sw.js", service_worker)
    r.add_get("/sw/info", service_worker_info)
    r.add_get(r"/assets/site{hash:(\.[0-9a-f]+)?}.webmanifest", manifest)  # before the files: it is not one
    r.register_resource(PublicFiles("/assets", share_dir() / "public"))
    app.on_response_prepare.append(_asset_headers)
