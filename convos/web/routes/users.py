"""Accounts: register, login, logout, profile updates, invites and the admin's user list."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ...core.user import User, normalize_email
from ...errors import ErrorItem, Forbidden, InvalidInput, NotFound, Unauthorized, ValidationFailed
from ..keys import AUTH, CONNECTIONS, CORE, LOGIN_LIMITS
from ..payloads import user_json, user_payload
from ..session import (
    admin_check,
    check_csrf,
    close_sockets,
    current_user,
    drop_cookie,
    enrol_only,
    local_admin,
    login,
    logout,
    remote_address,
    require_login,
    sessions_renewed,
)
from ..signin import check_code
from . import ApiRoutes, Input

routes = ApiRoutes()

MIN_PASSWORD = 10


def _text(body: dict[str, Any], key: str) -> str:
    """Trimmed string field; empty strings count as absent."""
    value = body.get(key)
    return value.strip() if isinstance(value, str) else ""


def _password(body: dict[str, Any]) -> str:
    password = _text(body, "password")
    if len(password) < MIN_PASSWORD:
        # The schema checked the raw value; trimming may have made it too short.
        raise ValidationFailed(
            errors=[ErrorItem(f"String is too short: {len(password)}/{MIN_PASSWORD}.", "/body/password")]
        )
    return password


@routes.post("/user/register")
async def register_user(request: web.Request, inp: Input) -> dict[str, Any]:
    core = request.app[CORE]
    body = inp["body"]
    email = _text(body, "email")
    password = _password(body)
    token, exp = _text(body, "token"), _text(body, "exp")

    if core.users:
        if not token:
            if not core.settings.open_to_public:
                raise Unauthorized("Convos registration is not open to public.")
            if core.email_taken(email):
                raise Unauthorized("Email is taken.")
        elif not core.check_invite(email, exp, token):
            raise Unauthorized("Invalid token. You have to ask your Convos admin for a new link.")
        existing = core.get_user(email)
        if token and existing is not None:
            # A recovery link: reset the password (which ends every session) and log in.
            await core.set_password(existing, password)
            await core.save_user(existing)
            await sessions_renewed(request, existing, keep_this=False)
            await login(request, existing)
            return await _login_payload(request, existing)

    user = await core.create_user(email, password, remote_address(request))
    await request.app[CONNECTIONS].initial_connection(user)
    await login(request, user)
    return await _login_payload(request, user)


@routes.post("/user/login")
async def login_user(request: web.Request, inp: Input) -> dict[str, Any]:
    core = request.app[CORE]
    body = inp["body"]
    email = _text(body, "email")
    address = remote_address(request)
    known = core.get_user(email)
    # Failures elsewhere do not lock the owner out of the address the account used last.
    exempt = bool(address) and known is not None and known.remote_address == address
    with request.app[LOGIN_LIMITS].attempt(address, email, account_exempt=exempt) as attempt:
        user = await request.app[AUTH].check_first_factor(email, _text(body, "password"))
        if user is not None:
            attempt.succeeded()
    if user is None:
        err = InvalidInput("Invalid email or password.")
        err.status_in_body = True
        raise err
    two_factor = request.app[AUTH].two_factor
    if two_factor is not None and two_factor.enabled(user):
        await check_code(request, user, _text(body, "code"), "Two-factor code required.")
    await login(request, user)
    return await _login_payload(request, user)


async def _login_payload(request: web.Request, user: User) -> dict[str, Any]:
    payload = user_json(request, user)
    if await enrol_only(request, user):
        payload["two_factor_setup"] = True  # the app shows the setup before anything else
    return payload


@routes.get("/user/logout")
async def logout_user(request: web.Request, inp: Input) -> web.StreamResponse:
    await check_csrf(request, inp.get("csrf"))
    await logout(request)
    raise web.HTTPFound(request.get("base_path", "") + "/login")


@routes.get("/user")
async def get_user(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    if await enrol_only(request, user):
        return await _login_payload(request, user)  # nothing else until the codes are set up
    return user_payload(
        request, user, connections=bool(inp.get("connections")), conversations=bool(inp.get("conversations"))
    )


async def _target(request: web.Request, email: str, action: str) -> tuple[User | None, User | None]:
    """(caller, target) for update/delete: self, or anyone for an admin."""
    core = request.app[CORE]
    caller, is_admin = await admin_check(request)
    if caller is None and not is_admin:
        raise Unauthorized()
    email = normalize_email(email)
    if caller is not None and caller.email == email:
        return caller, caller
    if not is_admin:
        raise Forbidden(f"Only admins can {action} other users.")
    return caller, core.get_user(email)


async def _check_current_password(request: web.Request, user: User, body: dict[str, Any]) -> None:
    """Changing one's own password needs the current one; a wrong one counts as a failed login."""
    current = _text(body, "current_password")
    if not current:
        raise ValidationFailed(errors=[ErrorItem("Missing property.", "/body/current_password")])
    address = remote_address(request)
    with request.app[LOGIN_LIMITS].attempt(address, user.email, account_exempt=False) as attempt:
        if not await request.app[CORE].check_password(user, current):
            raise InvalidInput("Invalid current password.", "/body/current_password")
        attempt.succeeded()


@routes.post("/user/{email}")
async def update_user(request: web.Request, inp: Input) -> dict[str, Any]:
    core = request.app[CORE]
    caller, target = await _target(request, inp["email"], "update")
    if target is None:
        raise NotFound("No such user.")
    body = inp.get("body") or {}
    new_password = _password(body) if body.get("password") is not None else None
    # An admin (or the local admin) sets another user's password without knowing it.
    own = caller is target
    if new_password is not None and own:
        await _check_current_password(request, target, body)
    changed = False
    if "highlight_keywords" in body and body["highlight_keywords"] is not None:
        core.set_highlight_keywords(target, body["highlight_keywords"])
        changed = True
    if "roles" in body and body["roles"] is not None:
        _, is_admin = await admin_check(request)
        if is_admin:  # silently ignored for everyone else, as in the original
            target.roles = sorted({str(r).strip() for r in body["roles"] if str(r).strip()})
            changed = True
    if new_password is not None:
        await core.set_password(target, new_password)
        changed = True
    if changed:
        await core.save_user(target)
    if new_password is not None:
        # Every session of the user ends; the one that changed its own password gets a new cookie.
        await sessions_renewed(request, target, keep_this=own)
    return user_json(request, target)


@routes.delete("/user/{email}")
async def delete_user(request: web.Request, inp: Input) -> dict[str, Any]:
    core = request.app[CORE]
    caller, target = await _target(request, inp["email"], "delete")
    if target is None:
        raise NotFound("No such user.")
    await core.remove_user(target)
    close_sockets(request.app, target.email)
    if caller is not None and caller.email == target.email:
        await logout(request)
    return {"message": "Deleted."}


@routes.delete("/user/sessions")
async def delete_sessions(request: web.Request, inp: Input) -> dict[str, Any]:
    """Log out everywhere: every session of the logged-in user ends, this one included."""
    user = await require_login(request)
    await request.app[CORE].end_all_sessions(user)
    await sessions_renewed(request, user, keep_this=False)
    await drop_cookie(request)
    return {"message": "Logged out everywhere."}


@routes.get("/users")
async def get_users(request: web.Request, inp: Input) -> dict[str, Any]:
    core = request.app[CORE]
    caller, is_admin = await admin_check(request)
    if caller is None and not is_admin:
        raise Unauthorized()
    if not is_admin:
        raise Forbidden("Only admins can list users.")
    users = sorted(core.users, key=lambda u: u.email)
    two_factor = request.app[AUTH].two_factor
    if two_factor is None:
        return {"users": [u.api_dict() for u in users]}
    return {"users": [{**u.api_dict(), "two_factor": two_factor.enabled(u)} for u in users]}


@routes.post("/user/{email}/invite")
async def invite_user(request: web.Request, inp: Input) -> web.StreamResponse | dict[str, Any]:
    core = request.app[CORE]
    local = local_admin(request)
    if local is None:
        user = await current_user(request)
        if user is None or not user.is_admin:
            raise Unauthorized()
    elif not local:
        raise Unauthorized()
    email = str(inp["email"]).strip()
    if email.endswith(".json"):
        email = email[: -len(".json")]
    inv = core.invite(email, inp.get("exp"))
    url = f"{request['base_url']}register?{urlencode(inv.query())}"
    if local:
        text = f"---\nExisting: {int(inv.existing)}\nExpires: {inv.expires}\nURL: {url}\n\n"
        return web.Response(text=text, content_type="text/plain")
    return {"existing": inv.existing, "expires": inv.expires, "url": url}
