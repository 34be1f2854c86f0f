"""Sign in with OpenID Connect against a small identity provider the test starts (t/oidc_idp.py):
a good login, a wrong audience, an expired token, a bad signature, a replayed state and nonce,
accounts made on first sign-in or not, and no open redirect."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from conftest import core_of, register
from joserfc.jwk import RSAKey
from oidc_idp import Idp

from convos.web.keys import AUTH


async def start(client: Any) -> str:
    """GET /auth/oidc/login: the provider's authorize URL it redirects to."""
    res = await client.get("/auth/oidc/login", allow_redirects=False)
    assert res.status == 302, await res.text()
    return res.headers["Location"]


async def at_idp(url: str) -> str:
    """The browser at the provider: it signs in at once and sends back to the callback."""
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as res:
        assert res.status == 302, await res.text()
        return res.headers["Location"]


async def callback(client: Any, url: str) -> Any:
    parts = urlsplit(url)
    return await client.get(parts.path + "?" + parts.query, allow_redirects=False)


async def sign_in(client: Any) -> Any:
    return await callback(client, await at_idp(await start(client)))


async def test_a_good_sign_in(make_client: Any, idp: Idp) -> None:
    client = await make_client({**idp.env, "CONVOS_AUTH_OIDC_AUTO_CREATE": "1", "CONVOS_ADMIN": "jane@example.com"})
    url = await start(client)
    q = parse_qs(urlsplit(url).query)
    assert url.startswith(idp.url + "/authorize?")
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43
    assert q["redirect_uri"][0].endswith("/auth/oidc/callback")
    assert q["scope"] == ["openid email profile"] and q["state"][0] and q["nonce"][0]
    res = await callback(client, await at_idp(url))
    assert res.status == 302, await res.text()
    assert res.headers["Location"] == "/chat"
    body = await (await client.get("/api/user")).json()
    assert body["email"] == "jane@example.com" and body["roles"] == ["admin"]
    assert core_of(client).get_user("jane@example.com").password == ""
    # The code went back with the PKCE verifier, and the client authenticated.
    assert idp.token_requests[-1]["code_verifier"] and idp.token_requests[-1]["grant_type"] == "authorization_code"
    # The login page offers the button.
    client.session.cookie_jar.clear()
    page = await (await client.get("/login")).text()
    assert '<meta name="convos:oidc_name" content="Example SSO">' in page


@pytest.mark.parametrize(("claims", "why"), [
    ({"aud": "someone-else"}, "audience"),
    ({"aud": ["convos", "other"]}, "authorized party"),
    ({"exp": int(time.time()) - 3600}, "expired"),
    ({"iss": "https://evil.example.com"}, "issuer"),
    ({"nonce": "not-the-nonce"}, "nonce"),
])
async def test_a_token_that_is_not_valid_is_refused(make_client: Any, idp: Idp, claims: dict[str, Any],
                                                    why: str, caplog: pytest.LogCaptureFixture) -> None:
    client = await make_client(idp.env)
    await register(client, "jane@example.com")
    client.session.cookie_jar.clear()
    idp.claims = claims
    res = await sign_in(client)
    assert res.status == 401, why
    assert "The identity provider&#x27;s ID token is not valid." in await res.text()
    assert why in caplog.text.lower() or why in caplog.text
    assert (await client.get("/api/user")).status == 401


async def test_a_bad_signature_is_refused(make_client: Any, idp: Idp) -> None:
    client = await make_client(idp.env)
    await register(client, "jane@example.com")
    client.session.cookie_jar.clear()
    idp.sign_with = RSAKey.generate_key(2048)  # same key id, another key
    res = await sign_in(client)
    assert res.status == 401
    assert (await client.get("/api/user")).status == 401
    idp.sign_with = None
    res = await sign_in(client)
    assert res.status == 302


async def test_a_replayed_state_and_nonce_are_refused(make_client: Any, idp: Idp) -> None:
    client = await make_client(idp.env)
    await register(client, "jane@example.com")
    client.session.cookie_jar.clear()
    url = await start(client)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["convos"].value
    back = await at_idp(url)
    assert (await callback(client, back)).status == 302
    # The same callback again, even with the cookie from before it (which still holds the state).
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"convos": cookie})
    res = await callback(client, back)
    assert res.status == 403
    assert "was used already" in await res.text()
    # A new sign-in whose provider hands out an ID token with a nonce used before.
    client.session.cookie_jar.clear()
    old_nonce = parse_qs(urlsplit(url).query)["nonce"][0]
    idp.claims = {"nonce": old_nonce}
    res = await sign_in(client)
    assert res.status == 401
    # And a callback that was never started here.
    client.session.cookie_jar.clear()
    res = await client.get("/auth/oidc/callback?code=x&state=y", allow_redirects=False)
    assert res.status == 403


async def test_accounts_are_made_only_when_allowed(make_client: Any, idp: Idp) -> None:
    client = await make_client(idp.env)
    await register(client, "boss@example.com")
    client.session.cookie_jar.clear()
    res = await sign_in(client)
    assert res.status == 403
    assert "There is no account for this email." in await res.text()
    assert core_of(client).get_user("jane@example.com") is None

    client = await make_client({**idp.env, "CONVOS_AUTH_OIDC_AUTO_CREATE": "1"})
    res = await sign_in(client)
    assert res.status == 302
    assert core_of(client).get_user("jane@example.com").roles == []


async def test_the_first_account_must_be_the_admin_and_emails_must_be_verified(make_client: Any, idp: Idp) -> None:
    client = await make_client({**idp.env, "CONVOS_AUTH_OIDC_AUTO_CREATE": "1"})
    res = await sign_in(client)
    assert res.status == 403 and not core_of(client).users
    await register(client, "boss@example.com")
    client.session.cookie_jar.clear()
    idp.claims = {"email_verified": False}
    res = await sign_in(client)
    assert res.status == 401
    idp.claims = {"email": "../../etc@x"}
    res = await sign_in(client)
    assert res.status == 401
    assert [u.email for u in core_of(client).users] == ["boss@example.com"]


async def test_no_open_redirect_and_off_without_the_provider(make_client: Any, idp: Idp) -> None:
    client = await make_client(idp.env)
    res = await client.get("/auth/oidc/login?next=https://evil.example.com/", allow_redirects=False)
    assert res.headers["Location"].startswith(idp.url + "/authorize?")
    assert "evil" not in res.headers["Location"]
    plain = await make_client()
    assert (await plain.get("/auth/oidc/login", allow_redirects=False)).status == 404
    page = await (await plain.get("/login")).text()
    assert '<meta name="convos:oidc_name" content="">' in page


async def test_discovery_must_name_the_issuer_configured(make_client: Any, idp: Idp) -> None:
    client = await make_client({**idp.env, "CONVOS_AUTH_OIDC_ISSUER": idp.url.replace("127.0.0.1", "localhost")})
    res = await client.get("/auth/oidc/login", allow_redirects=False)
    assert res.status == 401
    assert client.server.app[AUTH].oidc is not None


def test_the_issuer_must_be_https_off_loopback() -> None:
    from convos.auth.oidc import check_url

    assert check_url("https://sso.example.com/realms/x", "x")
    assert check_url("http://127.0.0.1:8080", "x")
    with pytest.raises(ValueError, match="https"):
        check_url("http://sso.example.com", "CONVOS_AUTH_OIDC_ISSUER")


async def test_an_id_token_works_once(make_client: Any, idp: Idp) -> None:
    client = await make_client(idp.env)
    await register(client, "jane@example.com")
    client.session.cookie_jar.clear()
    assert (await sign_in(client)).status == 302
    oidc = client.server.app[AUTH].oidc
    token = idp.issued[-1]
    from joserfc import jwt

    claims = jwt.decode(token, idp.key).claims
    with pytest.raises(Exception, match="ID token is not valid"):
        await oidc.verify_id_token(token, claims["nonce"])  # the same token (and nonce) again


async def test_an_unreachable_provider_is_a_clear_error(make_client: Any) -> None:
    from slapd import closed_port

    client = await make_client({"CONVOS_AUTH_PROVIDERS": "oidc", "CONVOS_AUTH_OIDC_CLIENT_ID": "convos",
                                "CONVOS_AUTH_OIDC_ISSUER": f"http://127.0.0.1:{closed_port()}"})
    res = await client.get("/auth/oidc/login", allow_redirects=False)
    assert res.status == 502
    assert "The identity provider cannot be reached." in await res.text()


async def test_discovery_with_plain_http_endpoints_elsewhere_is_refused(make_client: Any, idp: Idp) -> None:
    client = await make_client(idp.env)
    oidc = client.server.app[AUTH].oidc
    doc = {"issuer": idp.url, "authorization_endpoint": idp.url + "/authorize",
           "token_endpoint": "http://sso.example.com/token", "jwks_uri": idp.url + "/jwks"}

    async def get_json(method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        return doc

    oidc._get_json = get_json
    res = await client.get("/auth/oidc/login", allow_redirects=False)
    assert res.status == 401
    assert "endpoints are not usable" in await res.text()
