"""Server-rendered pages: the app shell with its meta tags, and error pages."""

from __future__ import annotations

import base64
import html
import time
from string import Template

from aiohttp import web

from .. import __version__
from ..errors import Gone, InvalidInput
from .i18n import page_language
from .keys import CORE
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
    body = _template(request, "app.html").substitute(escaped)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def render_error(request: web.Request, status: int, message: str) -> web.Response:
    href = html.escape(request.get("base_path", "") + "/", quote=True)
    return _render(request, status=status, heading=message, message=message, start_app="",
                   actions=f'<a class="btn" href="{href}">Try again</a>')


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


def add_page_routes(app: web.Application) -> None:
    r = app.router
    for path in ("/", "/login", "/help", "/search", "/chat", "/settings", "/index.html"):
        r.add_get(path, app_shell)
    r.add_get("/chat/{tail:.*}", app_shell)
    r.add_get("/settings/{tail:.*}", app_shell)
    r.add_get("/register", register_page)
    r.add_get("/logout", logout_page)
