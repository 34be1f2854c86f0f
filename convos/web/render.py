"""The app's HTML pages: the shell the browser app boots from, and error pages in the same dress.

A leaf of the web layer: the error middleware renders its pages with it, and pages.py its shell.
"""

from __future__ import annotations

import base64
import html
import re
from urllib.parse import urlsplit

from aiohttp import web

from .. import __version__
from .i18n import COOKIE_NAME, cookie_scheme, page_language, read_cookie
from .keys import CORE, TEMPLATES
from .themes import NAME as THEME_NAME


def render_page(request: web.Request, *, status: int = 200, heading: str = "Convos", message: str = "Loading...",
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
    escaped["theme_link"] = theme_link(request, escaped["base_url"])
    body = request.app[TEMPLATES]["app.html"].substitute(escaped)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8",
                        headers=security_headers(request))


def theme_link(request: web.Request, base_url: str) -> str:
    """The stylesheet of the theme chosen in the app (the cookie's `theme`), so the page has its
    colours before app.js runs; a name that is no file name, or the default, gets none."""
    theme = read_cookie(request.cookies.get(COOKIE_NAME)).get("theme")
    if not isinstance(theme, str) or theme in ("convos", "auto", "light", "dark") or not THEME_NAME.fullmatch(theme):
        return ""
    return f'<link rel="stylesheet" id="theme_primary" href="{base_url}themes/{theme}.css">'


def security_headers(request: web.Request) -> dict[str, str]:
    """A strict CSP for the app shell: no inline script or style, sockets only to our own host, and
    images only from our own origin: another site's pictures come through /api/embed/image, so
    the browser never asks a third party for anything."""
    host = urlsplit(request.get("base_url", "")).netloc
    sockets = f" ws://{host} wss://{host}" if re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", host) else ""
    csp = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           f"connect-src 'self'{sockets}; object-src 'none'; base-uri 'self'; form-action 'self'; "
           "frame-ancestors 'self'")
    return {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def render_error(request: web.Request, status: int, message: str, *, heading: str = "",
                 link_text: str = "Try again") -> web.Response:
    href = html.escape(request.get("base_path", "") + "/", quote=True)
    return render_page(request, status=status, heading=heading or message, message=message, start_app="",
                   actions=f'<a class="btn" href="{href}">{html.escape(link_text)}</a>')


def not_found_page(request: web.Request) -> web.Response:
    """An address nothing answers to (outside /api): a page like the app's, not aiohttp's plain text."""
    return render_error(request, 404, "There is nothing at this address.", heading="Page not found",
                        link_text="Go to Convos")
