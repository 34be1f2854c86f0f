"""Sign in with OpenID Connect: the authorization-code flow with PKCE, the provider found by
discovery from its issuer URL, and an ID token whose signature, issuer, audience, expiry and
nonce are verified (joserfc) before its email claim names the user."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import logging
import secrets
import ssl
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import aiohttp

from ..config import AuthConfig
from ..core.addresses import is_loopback_host
from ..core.core import Core
from ..core.user import User, normalize_email, valid_email
from ..errors import Forbidden, InvalidInput, Unauthorized

# joserfc is imported when a provider is made (_load_jose), not with this module, which
# web/signin.py imports in every daemon (docs/performance.md).
if TYPE_CHECKING:
    from joserfc.jwk import KeySet

log = logging.getLogger(__name__)

# A sign-in started must come back within this many seconds.
PENDING_TTL = 600
# Discovery and keys are fetched again after this long (or at once for a key id not seen).
CACHE_TTL = 3600
# What the provider may answer: a discovery document, a key set or a token response.
MAX_RESPONSE = 1 << 20
HTTP_TIMEOUT = 10
# Clock skew allowed for exp, nbf and iat.
LEEWAY = 60
# Signature algorithms accepted (never "none", never a symmetric one keyed by a public value).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
# States and nonces used, remembered for PENDING_TTL so neither works twice.
MAX_USED = 10_000


class SignInFailed(Unauthorized):
    """The provider's answer is not one to sign anyone in with (the reason is logged)."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A sign-in on its way: kept in the (encrypted) session cookie until the callback."""

    state: str
    nonce: str
    verifier: str
    started: float

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "nonce": self.nonce, "verifier": self.verifier, "started": self.started}

    @classmethod
    def from_dict(cls, data: object) -> Pending | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(str(data["state"]), str(data["nonce"]), str(data["verifier"]), float(data["started"]))
        except (KeyError, TypeError, ValueError):
            return None


def check_url(url: str, what: str) -> str:
    """https, or http on loopback only (a provider on the same host, and the tests)."""
    parts = urlsplit(url)
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(urlsplit(url).hostname))):
        raise ValueError(f"{what}: {url!r} must be an https:// URL (http:// only on loopback).")
    return url


class _Used:
    """Values seen in the last PENDING_TTL seconds (at most MAX_USED, oldest forgotten)."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()

    def add(self, value: str, now: float) -> bool:
        """False when `value` was used already."""
        while self._seen and next(iter(self._seen.values())) < now - PENDING_TTL:
            self._seen.popitem(last=False)
        if value in self._seen:
            return False
        self._seen[value] = now
        while len(self._seen) > MAX_USED:
            self._seen.popitem(last=False)
        return True


def _load_jose() -> None:
    """Import joserfc (~90 modules, 3 MiB, 0.1-0.4 s): when OpenID Connect is turned on, at
    start-up, so that other daemons never load it and no sign-in waits for it on the loop."""
    for name in ("joserfc.errors", "joserfc.jwk", "joserfc.jws", "joserfc.jwt"):
        importlib.import_module(name)


class OidcProvider:
    name = "oidc"

    def __init__(self, core: Core, config: AuthConfig, *, clock: Any = time.time) -> None:
        if not config.oidc_issuer or not config.oidc_client_id:
            raise ValueError("The oidc provider needs CONVOS_AUTH_OIDC_ISSUER and CONVOS_AUTH_OIDC_CLIENT_ID.")
        _load_jose()
        self.core = core
        self.issuer = check_url(config.oidc_issuer, "CONVOS_AUTH_OIDC_ISSUER")
        self.client_id = config.oidc_client_id
        self.client_secret = config.oidc_client_secret
        self.scopes = config.oidc_scopes if "openid" in config.oidc_scopes.split() else "openid " + config.oidc_scopes
        self.email_claim = config.oidc_email_claim
        self.title = config.oidc_name
        self.auto_create = config.oidc_auto_create
        self.admin = normalize_email(config.admin)
        self.ca = config.oidc_ca
        self.clock = clock
        self._meta: dict[str, Any] = {}
        self._meta_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._used_states = _Used()
        self._used_nonces = _Used()

    # --- the provider's documents ------------------------------------------------------

    def _ssl(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca or None)

    async def _get_json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as http, \
                http.request(method, url, ssl=self._ssl(), allow_redirects=False, **kwargs) as res:
            body = await res.content.read(MAX_RESPONSE + 1)
            if len(body) > MAX_RESPONSE:
                raise SignInFailed("The identity provider's answer is too large.")
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if res.status != 200 or not isinstance(data, dict):
                log.warning("OpenID Connect: %s %s answered %s: %.200r", method, url, res.status, body)
                raise SignInFailed("The identity provider refused the sign-in.")
            return data

    async def metadata(self) -> dict[str, Any]:
        now = self.clock()
        if not self._meta or now - self._meta_at > CACHE_TTL:
            meta = await self._get_json("GET", self.issuer + "/.well-known/openid-configuration")
            if meta.get("issuer") != self.issuer:
                log.warning("OpenID Connect: discovery names issuer %r, not %r.", meta.get("issuer"), self.issuer)
                raise SignInFailed("The identity provider is not the one configured.")
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                try:
                    check_url(str(meta.get(key, "")), key)
                except ValueError as err:
                    log.warning("OpenID Connect: discovery: %s", err)
                    raise SignInFailed("The identity provider's endpoints are not usable.") from None
            self._meta, self._meta_at = meta, now
        return self._meta

    async def keys(self, *, refresh: bool = False) -> KeySet:
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        now = self.clock()
        if self._keys is None or refresh or now - self._keys_at > CACHE_TTL:
            meta = await self.metadata()
            data = await self._get_json("GET", meta["jwks_uri"])
            try:
                self._keys = KeySet.import_key_set(data)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError) as err:
                log.warning("OpenID Connect: bad key set: %s", err)
                raise SignInFailed("The identity provider's keys cannot be read.") from None
            self._keys_at = now
        return self._keys

    # --- the flow ------------------------------------------------------------------------

    async def begin(self, redirect_uri: str) -> tuple[str, Pending]:
        """The URL to send the browser to, and what the callback must match."""
        meta = await self.metadata()
        pending = Pending(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                          verifier=secrets.token_urlsafe(64), started=self.clock())
        challenge = base64.urlsafe_b64encode(hashlib.sha256(pending.verifier.encode()).digest()).rstrip(b"=")
        query = {"response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
                 "scope": self.scopes, "state": pending.state, "nonce": pending.nonce,
                 "code_challenge": challenge.decode(), "code_challenge_method": "S256"}
        endpoint = str(meta["authorization_endpoint"])
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(query), pending

    async def finish(self, query: Mapping[str, str], pending: Pending | None, redirect_uri: str) -> User:
        """The callback: check the state, trade the code for tokens, verify the ID token."""
        now = self.clock()
        state = query.get("state", "")
        if pending is None or not state or not hmac.compare_digest(state, pending.state):
            raise Forbidden("This sign-in was not started here, or was used already. Try again.")
        if now - pending.started > PENDING_TTL:
            raise Forbidden("The sign-in took too long. Try again.")
        if not self._used_states.add(pending.state, now):
            raise Forbidden("This sign-in was not started here, or was used already. Try again.")
        if "error" in query:
            log.info("OpenID Connect: the provider answered %s: %.200s", query["error"],
                     query.get("error_description", ""))
            raise SignInFailed("The identity provider did not sign you in.")
        code = query.get("code", "")
        if not code:
            raise InvalidInput("The identity provider sent no code.", "/code")
        meta = await self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": pending.verifier, "client_id": self.client_id}
        auth = aiohttp.BasicAuth(self.client_id, self.client_secret) if self.client_secret else None
        tokens = await self._get_json("POST", meta["token_endpoint"], data=form, auth=auth)
        claims = await self.verify_id_token(tokens.get("id_token"), pending.nonce)
        return await self._user(claims)

    async def verify_id_token(self, id_token: object, nonce: str) -> dict[str, Any]:
        if not isinstance(id_token, str) or not id_token:
            raise SignInFailed("The identity provider sent no ID token.")
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jws import extract_compact

        try:
            kid = extract_compact(id_token.encode()).headers().get("kid")
            keys = await self.keys()
            if kid is not None and not any(k.kid == kid for k in keys.keys):
                # A key id we do not know yet: the provider may have rotated its keys.
                keys = await self.keys(refresh=True)
            token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
            claims = dict(token.claims)
            registry = jwt.JWTClaimsRegistry(now=int(self.clock()), leeway=LEEWAY,
                                             exp={"essential": True}, sub={"essential": True})
            registry.validate(claims)
        except (JoseError, ValueError) as err:
            log.warning("OpenID Connect: ID token refused: %s", err)
            raise SignInFailed("The identity provider's ID token is not valid.") from None
        self._check(claims, nonce)
        return claims

    def _check(self, claims: dict[str, Any], nonce: str) -> None:
        def refuse(why: str) -> SignInFailed:
            log.warning("OpenID Connect: ID token refused: %s", why)
            return SignInFailed("The identity provider's ID token is not valid.")

        if claims.get("iss") != self.issuer:
            raise refuse(f"issuer {claims.get('iss')!r}")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.client_id not in audiences:
            raise refuse(f"audience {aud!r}")
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise refuse(f"authorized party {claims.get('azp')!r}")
        got = claims.get("nonce")
        if not isinstance(got, str) or not hmac.compare_digest(got, nonce):
            raise refuse("nonce does not match")
        if not self._used_nonces.add(got, self.clock()):
            raise refuse("nonce used already")

    async def _user(self, claims: dict[str, Any]) -> User:
        value = claims.get(self.email_claim)
        email = normalize_email(value) if isinstance(value, str) else ""
        if not valid_email(email):
            log.warning("OpenID Connect: claim %s is not an email: %.100r", self.email_claim, value)
            raise SignInFailed(f"The identity provider sent no email in {self.email_claim}.")
        if self.email_claim == "email" and claims.get("email_verified") is False:
            raise SignInFailed("The identity provider has not verified this email.")
        user = self.core.get_user(email)
        if user is not None:
            log.info("Login SUCCESS for %s (OpenID Connect)", email)
            return user
        if not self.auto_create:
            log.info("OpenID Connect: no account for %s, and accounts are not made on sign-in.", email)
            raise Forbidden("There is no account for this email. Ask your Convos admin.")
        if not self.core.users and email != self.admin:
            raise Forbidden("The first user must be the one CONVOS_ADMIN names.")
        try:
            user = await self.core.create_user(email, None)
        except Unauthorized:
            return self.core.user(email)
        log.info("Registered %s from OpenID Connect.", email)
        await self.core.connections.initial_connection(user)
        return user

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "title": "OpenID Connect", "issuer": self.issuer, "client_id": self.client_id,
                "button": self.title, "email_claim": self.email_claim, "auto_create": self.auto_create}
