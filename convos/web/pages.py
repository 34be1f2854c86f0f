"""Server-rendered pages: the app shell with its meta tags, and error pages."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import re
import time
from pathlib import PurePosixPath
from string import Template
from urllib.parse import urlsplit

from aiohttp import web

from .. import __version__
from ..errors import Gone, InvalidInput
from .i18n import COOKIE_NAME, cookie_scheme, page_language
from .keys import CORE
from .middlewares import json_response
from .session import check_csrf, current_user, logout, session_of

_templates: dict[str, Template] = {}


def _template(request: web.Request, name: str) -> Template:
    if name not in _templates:
        from ..paths import share_dir

        _templates[name] = Template((share_dir() / "templates" / name).read_text("utf-8"))
    return _templates[name]


def _render(request: web.Request, *, status: int = 200, heading: str = "Convos", message: str = "Loading...",
            actions: str = "", csrf: str = "", start_app: str = "chat", existing_user: str = "no") -> web.Response:
    core = request.app[CORE]
    s = core.settings
    title = "Better group chat - Convos"
    if s.organization_name and s.organization_name != "Convos":
        title = f"Better group chat - Convos for {s.organization_name}"
    if status >= 400:
        title = f"{heading} ({status}) - Convos"
    values = {
        "lang": page_language(request),
        "title": title,
        "organization_name": s.organization_name,
        "organization_url": s.organization_url,
        "base_url": request.get("base_url", s.base_url),
        "contact_b64": base64.b64encode(s.contact.encode()).decode(),
        "existing_user": existing_user,
        "first_user": "no" if core.users else "yes",
        "open_to_public": "yes" if s.open_to_public else "no",
        "start_app": start_app,
        "status": str(status),
        "csrf": csrf,
        "version": __version__,
        "heading": heading,
        "message": message,
    }
    escaped = {k: html.escape(str(v), quote=True) for k, v in values.items()}
    escaped["actions"] = actions
    # The scheme the user chose in the app, so a forced light/dark page never flashes the
    # system's scheme before app.js runs (only two fixed values ever reach the markup).
    scheme = cookie_scheme(request.cookies.get(COOKIE_NAME))
    escaped["theme_attr"] = f' data-theme="{scheme}"' if scheme else ""
    body = _template(request, "app.html").substitute(escaped)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8",
                        headers=_security_headers(request))


def _security_headers(request: web.Request) -> dict[str, str]:
    """A strict CSP for the app shell: no inline script or style, sockets only to our own host."""
    host = urlsplit(request.get("base_url", "")).netloc
    sockets = f" ws://{host} wss://{host}" if re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", host) else ""
    csp = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; "
           f"connect-src 'self'{sockets}; object-src 'none'; base-uri 'self'; form-action 'self'; "
           "frame-ancestors 'self'")
    return {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


# The browser app (share/public) is plain JS modules without hashed names, so browsers must
# revalidate (Last-Modified/304) instead of running an old module next to a new one.
_ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png",
                ".json": "application/json", ".webmanifest": "application/manifest+json", ".woff2": "font/woff2",
                ".ico": "image/x-icon", ".txt": "text/plain"}


async def public_file(request: web.Request) -> web.StreamResponse:
    """`/assets/<path>`: a file of share/public, never outside it, never a dotfile."""
    from ..paths import share_dir

    rel = request.match_info["path"]
    root = (share_dir() / "public").resolve()
    path = (root / rel).resolve()
    if any(part.startswith(".") for part in PurePosixPath(rel).parts) or not path.is_relative_to(root) \
            or not path.is_file():
        raise web.HTTPNotFound()
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    ctype = _ASSET_TYPES.get(path.suffix.lower())
    if ctype:
        headers["Content-Type"] = ctype + ("; charset=utf-8" if ctype.startswith("text/") else "")
    return web.FileResponse(path, headers=headers)


def render_error(request: web.Request, status: int, message: str, *, heading: str = "",
                 link_text: str = "Try again") -> web.Response:
    href = html.escape(request.get("base_path", "") + "/", quote=True)
    return _render(request, status=status, heading=heading or message, message=message, start_app="",
                   actions=f'<a class="btn" href="{href}">{html.escape(link_text)}</a>')


def not_found_page(request: web.Request) -> web.Response:
    """An address nothing answers to (outside /api): a page like the app's, not aiohttp's plain text."""
    return render_error(request, 404, "There is nothing at this address.", heading="Page not found",
                        link_text="Go to Convos")


async def app_shell(request: web.Request) -> web.Response:
    """The page the browser app boots from; it carries the csrf token for logout."""
    await current_user(request)
    session = await session_of(request)
    return _render(request, csrf=session["csrf"])


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
    return _render(request, csrf=session["csrf"], existing_user=existing)


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
    from ..paths import share_dir

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
    from ..paths import share_dir

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
    r.add_get(r"/assets/site{hash:(\.[0-9a-f]+)?}.webmanifest", manifest)
    r.add_get("/assets/{path:.+}", public_file)
