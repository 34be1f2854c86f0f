"""Encrypted session cookies (rotatable keys) and who is asking: user, admin, local admin."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time

from aiohttp import web
from aiohttp_session import Session, get_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet, MultiFernet

from ..core.user import User
from ..errors import Forbidden, InvalidInput, Unauthorized
from .keys import CONFIG, CORE
from .middlewares import remember_base_url

log = logging.getLogger(__name__)

COOKIE_NAME = "convos"
# Re-issue the cookie this often so an active session keeps sliding forward.
REFRESH_AFTER = 3600


def _fernet_key(secret: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(b"convos-session\0" + secret.encode()).digest())


class SessionStorage(EncryptedCookieStorage):
    """Encrypts with the first session secret and accepts every configured one."""

    def __init__(self, secrets_: list[str], *, max_age: int, secure: bool) -> None:
        keys = [Fernet(_fernet_key(s)) for s in secrets_]
        super().__init__(
            keys[0], cookie_name=COOKIE_NAME, max_age=max_age, httponly=True, samesite="Lax", path="/"
        )
        self._fernet = MultiFernet(keys)  # type: ignore[assignment]
        self._always_secure = secure

    async def save_session(self, request: web.Request, response: web.StreamResponse, session: Session) -> None:
        # The Secure flag depends on the request: forced by config, or when served over https.
        base = request.get("base_url", "")
        self._cookie_params["secure"] = self._always_secure or base.startswith("https:") or None
        self._cookie_params["path"] = (request.get("base_path") or "") + "/"
        await super().save_session(request, response, session)


async def session_of(request: web.Request) -> Session:
    session = await get_session(request)
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session


def peer_address(request: web.Request) -> str:
    """The raw TCP peer: proxies are not trusted for local-admin checks."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return ""


def remote_address(request: web.Request) -> str:
    if request.app[CONFIG].reverse_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return peer_address(request)


async def current_user(request: web.Request) -> User | None:
    if "user" in request:
        return request["user"]
    core = request.app[CORE]
    session = await session_of(request)
    user = core.get_user(session["email"]) if isinstance(session.get("email"), str) else None
    if user is not None:
        now = int(time.time())
        if now - int(session.get("ts", 0)) > REFRESH_AFTER:
            session["ts"] = now
        if user.is_admin:
            await remember_base_url(request)
        addr = remote_address(request)
        if addr and addr != user.remote_address:
            user.remote_address = addr
            await core.save_user(user)
    request["user"] = user
    return user


async def login(request: web.Request, user: User) -> None:
    session = await session_of(request)
    csrf = session.get("csrf")
    session.invalidate()
    new = await session_of(request)
    new["email"] = user.email
    new["csrf"] = csrf or secrets.token_urlsafe(24)
    new["ts"] = int(time.time())
    request["user"] = user


async def logout(request: web.Request) -> None:
    session = await get_session(request)
    session.invalidate()
    request["user"] = None


async def require_login(request: web.Request) -> User:
    user = await current_user(request)
    if user is None:
        raise Unauthorized()
    return user


def local_admin(request: web.Request) -> bool | None:
    """None when no X-Local-Secret was sent; else whether it is valid from an allowed peer."""
    given = request.headers.get("X-Local-Secret")
    if given is None:
        return None
    core, config = request.app[CORE], request.app[CONFIG]
    ok = bool(core.settings.local_secret) and hmac.compare_digest(given, core.settings.local_secret)
    ok = ok and peer_address(request) in config.local_admin_remote_addr
    # Behind a reverse proxy on the same host every peer is 127.0.0.1: a forwarded request
    # comes from somewhere else, so it is never a local admin.
    ok = ok and not (config.reverse_proxy and "X-Forwarded-For" in request.headers)
    log.warning("Local admin request from %s: %s", peer_address(request), "accepted" if ok else "refused")
    return ok


async def admin_check(request: web.Request) -> tuple[User | None, bool]:
    """(session user, is admin). A bad X-Local-Secret makes nobody admin."""
    user = await current_user(request)
    local = local_admin(request)
    if local is not None:
        return user, local
    return user, bool(user and user.is_admin)


async def require_admin(
    request: web.Request, *, forbidden: str | None = None, anon_forbidden: bool = False
) -> User | None:
    """Admin or local admin. Anonymous gets 401, a non-admin 403 with `forbidden` (or 401 without it)."""
    user, ok = await admin_check(request)
    if ok:
        return user
    if forbidden and (user is not None or anon_forbidden):
        raise Forbidden(forbidden)
    raise Unauthorized()


async def check_csrf(request: web.Request, given: object) -> None:
    session = await session_of(request)
    expected = str(session.get("csrf", ""))
    if not isinstance(given, str) or not expected or not hmac.compare_digest(given, expected):
        # The original answers 500 here; a bad token is the client's mistake.
        raise InvalidInput("Invalid csrf token.", "/csrf")
