"""A small OpenID Connect identity provider for tests: aiohttp on 127.0.0.1 with discovery, a
key set, an authorization endpoint that signs in at once, and a token endpoint that checks the
code, the PKCE verifier and the client's secret, then signs an ID token with what a test asks."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "convos"
CLIENT_SECRET = "client-secret"


@dataclass
class Idp:
    url: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True))
    email: str = "jane@example.com"
    # Changes to the ID token's claims for the next sign-ins, and a key to sign with instead.
    claims: dict[str, Any] = field(default_factory=dict)
    sign_with: RSAKey | None = None
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {"CONVOS_AUTH_PROVIDERS": "oidc", "CONVOS_AUTH_OIDC_ISSUER": self.url,
                "CONVOS_AUTH_OIDC_CLIENT_ID": CLIENT_ID, "CONVOS_AUTH_OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "CONVOS_AUTH_OIDC_NAME": "Example SSO"}

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": self.url, "authorization_endpoint": self.url + "/authorize",
            "token_endpoint": self.url + "/token", "jwks_uri": self.url + "/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
        })

    async def jwks(self, request: web.Request) -> web.Response:
        return web.json_response(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        assert q["response_type"] == "code" and q["client_id"] == CLIENT_ID
        assert q["code_challenge_method"] == "S256" and "openid" in q["scope"].split()
        code = secrets.token_urlsafe(16)
        self.codes[code] = dict(q)
        raise web.HTTPFound(q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]}))

    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append(form)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": "invalid_client"}, status=401)
        asked = self.codes.pop(form.get("code", ""), None)
        if asked is None or form.get("redirect_uri") != asked["redirect_uri"]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest()).rstrip(b"=")
        if challenge.decode() != asked["code_challenge"]:
            return web.json_response({"error": "invalid_grant", "error_description": "PKCE"}, status=400)
        now = int(time.time())
        claims = {"iss": self.url, "sub": "user-1", "aud": CLIENT_ID, "exp": now + 300, "iat": now,
                  "nonce": asked["nonce"], "email": self.email, "email_verified": True, **self.claims}
        key = self.sign_with or self.key
        token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key)
        self.issued.append(token)
        return web.json_response({"access_token": "at", "token_type": "Bearer", "id_token": token})


@pytest.fixture
async def idp(aiohttp_server: Any) -> AsyncIterator[Idp]:
    provider = Idp()
    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", provider.discovery)
    app.router.add_get("/jwks", provider.jwks)
    app.router.add_get("/authorize", provider.authorize)
    app.router.add_post("/token", provider.token)
    server = await aiohttp_server(app, host="127.0.0.1")
    provider.url = str(server.make_url("")).rstrip("/")
    yield provider
