"""Server settings, for admins."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...core.settings import PUBLIC_KEYS, valid_url
from ...errors import ErrorItem, InvalidInput
from ..keys import CORE, IRC_LISTENER, PROFILES
from ..session import require_admin
from . import ApiRoutes, Input

routes = ApiRoutes()

_TRIMMED = ("contact", "default_connection", "organization_url", "video_service")


@routes.get("/settings")
async def get_settings(request: web.Request, inp: Input) -> dict[str, Any]:
    await require_admin(request, forbidden="Only admins can see server settings.")
    core = request.app[CORE]
    data = core.settings.public_dict()
    usage = await core.disk_usage()
    data["disk_usage"] = usage.to_dict() if usage else {}
    listener = request.app.get(IRC_LISTENER)
    if listener is not None:
        data["irc_listener"] = listener.describe()
    return data


@routes.post("/settings")
async def update_settings(request: web.Request, inp: Input) -> dict[str, Any]:
    await require_admin(request, forbidden="Only admins can change server settings.")
    core = request.app[CORE]
    body = inp.get("body") or {}
    # Only the public keys; anything else (secrets included) is ignored. null means "not given".
    given = {key: body[key] for key in PUBLIC_KEYS if body.get(key) is not None}
    for key in _TRIMMED:
        if key in given and isinstance(given[key], str):
            given[key] = given[key].strip()

    errors = []
    contact = given.get("contact")
    if isinstance(contact, str) and 0 < len(contact) < 3:
        # Empty clears it (spec §4.7); otherwise it must look like something (the schema's old minLength).
        errors.append(ErrorItem(f"String is too short: {len(contact)}/3.", "/body/contact"))
    url = given.get("default_connection")
    if url and not valid_url(url, ("irc", "ircs")):
        errors.append(ErrorItem("Connection URL require a scheme and host.", "/default_connection"))
    url = given.get("organization_url")
    if url and not valid_url(url):
        errors.append(ErrorItem("Organization URL require a scheme and host.", "/organization_url"))
    if errors:
        raise InvalidInput(errors=errors)

    for key, value in given.items():
        setattr(core.settings, key, value)
    await core.save_settings()
    await request.app[PROFILES].ensure_default_profile()
    return core.settings.public_dict()
