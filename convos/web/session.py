"""Encrypted session cookies (rotatable keys) and who is asking: user, admin, local admin."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time

from aiohttp import WSCloseCode, web
from aiohttp_session import Session, get_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet, MultiFernet

from ..core.user import User
from ..errors import Forbidden, InvalidInput, Unauthorized
from .keys import AUTH, CONFIG, CORE, EVENT_SOCKETS
from .middlewares import own_path, remember_base_url

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
    email = session.get("email")
    user = core.get_user(email) if isinstance(email, str) else None
    if email is not None and (user is None or not user.sessions.valid(session.get("gen"), session.get("sid"))):
        # An ended session (logout, new password, log out everywhere, deleted user): the
        # cookie is forgotten and the request is anonymous.
        _forget(session)
        user = None
    # A trusted proxy's header names the user of this request (HTTP and websocket alike); the
    # session follows it, so a proxy that signs in someone else ends the old session here.
    auth = request.app[AUTH]
    named = await auth.identify(request.headers, peer_address(request))
    if named is not None and named is not user:
        await login(request, named, method="header")
        user = named
    if user is not None and _needs_full_session(own_path(request)) and await enrol_only(request, user):
        # Two-factor codes are required and this password session has none yet: it may set
        # them up (and log out), nothing else.
        raise Forbidden("Set up two-factor codes first.", "/two_factor")
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


def _forget(session: Session) -> None:
    csrf = session.get("csrf")
    session.invalidate()
    session["csrf"] = csrf or secrets.token_urlsafe(24)


# What a password session may do before it has set up the two-factor codes the admin requires.
_ENROL_PATHS = frozenset({"/api/user", "/api/user/two-factor", "/api/user/two-factor/confirm", "/api/user/logout"})


async def enrol_only(request: web.Request, user: User) -> bool:
    """Whether this is a password session of a user who must set up two-factor codes first."""
    two_factor = request.app[AUTH].two_factor
    if two_factor is None or not two_factor.must_enrol(user):
        return False
    session = await session_of(request)
    return session.get("method", "password") == "password"


def _needs_full_session(path: str) -> bool:
    path = path.removesuffix(".json").removesuffix(".html")
    return (path.startswith("/api/") or path == "/events") and path not in _ENROL_PATHS and \
        not path.startswith("/api/i18n/")


async def login(request: web.Request, user: User, *, method: str = "password") -> None:
    """A new session for `user`: its own id, and the user's session generation.

    `method` is how it signed in ("password", "header", "oidc"): required two-factor codes
    apply to password sessions."""
    generation, session_id = await request.app[CORE].start_session(user)
    session = await session_of(request)
    _forget(session)
    session["email"] = user.email
    session["gen"] = generation
    session["sid"] = session_id
    session["ts"] = int(time.time())
    session["method"] = method
    request["user"] = user


async def logout(request: web.Request) -> None:
    """End this session: a copy of its cookie is refused from now on; its websockets close."""
    user = await current_user(request)
    session = await get_session(request)
    if user is not None:
        session_id = session["sid"]
        await request.app[CORE].end_session(user, session_id)
        close_sockets(request.app, user.email, session_id)
    await drop_cookie(request)


async def drop_cookie(request: web.Request) -> None:
    """This request's cookie no longer names a user (its session ended some other way)."""
    session = await get_session(request)
    session.invalidate()
    request["user"] = None


async def sessions_renewed(request: web.Request, user: User, *, keep_this: bool) -> None:
    """After user.sessions.renew(): close every websocket of the user. With `keep_this`, the
    session of this request (if it is the user's) logs in again and keeps its websockets."""
    session = await get_session(request)
    own = session.get("sid") if keep_this and request.get("user") is user else None
    if own is None:
        close_sockets(request.app, user.email)
        return
    await login(request, user, method=str(session.get("method", "password")))
    close_sockets(request.app, user.email, rebind=(own, user.sessions.generation, session["sid"]))


def close_sockets(app: web.Application, email: str, session_id: str | None = None,
                  rebind: tuple[str, str, str] | None = None) -> None:
    """Close the /events websockets of the user's ended sessions (all, or the one `session_id`).

    `rebind` = (old id, generation, new id): those sockets belong to a session that logged in
    again, and stay open.
    """
    sockets = app[EVENT_SOCKETS]
    for sock in list(sockets):
        if sock.user.email != email:
            continue
        if rebind and sock.session_id == rebind[0]:
            sock.session_generation, sock.session_id = rebind[1], rebind[2]
        elif session_id is None or sock.session_id == session_id:
            sock.stop(WSCloseCode.POLICY_VIOLATION, "Session ended.")


def session_ids(session: Session) -> tuple[str, str]:
    """(generation, session id) of a logged-in session."""
    return str(session.get("gen", "")), str(session.get("sid", ""))


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
