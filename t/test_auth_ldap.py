"""Passwords checked against a real OpenLDAP slapd (t/slapd.py): a good bind, a bad bind that
falls back to the local password, an injection attempt, StartTLS and ldaps with the certificate
verified, and a server that does not answer."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from conftest import core_of, register
from slapd import Slapd, closed_port

from convos.auth.ldap import LdapPasswords, placeholders
from convos.config import AuthConfig
from convos.web.keys import AUTH


def ldap_env(url: str, **extra: str) -> dict[str, str]:
    return {"CONVOS_AUTH_PROVIDERS": "ldap", "CONVOS_AUTH_LDAP_URL": url, **extra}


async def login(client: Any, email: str, password: str) -> Any:
    client.session.cookie_jar.clear()
    return await client.post("/api/user/login", json={"email": email, "password": password})


async def test_a_good_bind_signs_in_and_registers(make_client: Any, slapd: Slapd) -> None:
    client = await make_client(ldap_env(slapd.url))
    res = await login(client, "Jane@example.com", "jane-ldap-pass")
    body = await res.json()
    assert res.status == 200, body
    assert body["email"] == "jane@example.com"
    user = core_of(client).get_user("jane@example.com")
    # Registered with that password, as the original does: the local fallback knows it.
    assert await core_of(client).check_password(user, "jane-ldap-pass")
    res = await login(client, "jane@example.com", "jane-ldap-pass")
    assert res.status == 200


async def test_a_bad_bind_falls_back_to_the_local_password(
    make_client: Any, slapd: Slapd, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client(ldap_env(slapd.url))
    await register(client, "joe@example.com", "joe-local-password")
    with caplog.at_level(logging.INFO, logger="convos.auth.ldap"):
        res = await login(client, "joe@example.com", "joe-local-password")
    assert res.status == 200, await res.text()
    assert "Login FAIL for joe@example.com (LDAP): invalidCredentials" in caplog.text
    res = await login(client, "joe@example.com", "joe-ldap-pass")
    assert res.status == 200  # the directory's password works too
    res = await login(client, "joe@example.com", "neither-password")
    assert res.status == 400
    # An unknown email with a wrong password: refused, nobody registered.
    res = await login(client, "nobody@example.com", "whatever-password")
    assert res.status == 400
    assert core_of(client).get_user("nobody@example.com") is None


async def test_injection_in_the_dn_and_the_filter(make_client: Any, slapd: Slapd) -> None:
    # A search for the user: "(uid=%uid)" with an unescaped "*" would find every entry.
    env = ldap_env(slapd.url, CONVOS_AUTH_LDAP_BASE="ou=people,dc=example,dc=com",
                   CONVOS_AUTH_LDAP_FILTER="(&(objectClass=inetOrgPerson)(uid=%uid))")
    client = await make_client(env)
    res = await login(client, "jane@example.com", "jane-ldap-pass")
    assert res.status == 200, await res.text()
    for email in ("*@example.com", "ja*@example.com"):
        res = await login(client, email, "jane-ldap-pass")
        assert res.status == 400, email
    # "*)(uid=*" is not an email the API takes; the provider escapes it all the same.
    provider = client.server.app[AUTH].passwords[0]
    assert isinstance(provider, LdapPasswords)
    assert await provider.check_password("*)(uid=*@example.com", "jane-ldap-pass") is None
    assert await provider.check_password("jane@example.com", "") is None  # no unauthenticated bind
    assert not [u for u in core_of(client).users if "*" in u.email]


def test_dn_values_are_escaped() -> None:
    provider = LdapPasswords.__new__(LdapPasswords)
    provider.dn = "uid=%uid,dc=%domain,dc=%tld"
    assert provider.user_dn("jane@example.com") == "uid=jane,dc=example,dc=com"
    assert provider.user_dn("a,b=c+d@example.com") == "uid=a\\,b\\=c\\+d,dc=example,dc=com"
    assert provider.user_dn("*)(uid=*@example.com") == "uid=*)(uid\\=*,dc=example,dc=com"
    assert provider.user_dn("jane@localhost") == "uid=jane,dc=localhost"
    assert placeholders("jane@mail.example.com") == {"%uid": "jane", "%domain": "mail.example", "%tld": "com",
                                                     "%email": "jane@mail.example.com"}


async def test_start_tls_and_ldaps_verify_the_certificate(
    make_client: Any, slapd: Slapd, caplog: pytest.LogCaptureFixture
) -> None:
    for url in (slapd.url + "?start_tls=1", slapd.ldaps_url):
        client = await make_client(ldap_env(url, CONVOS_AUTH_LDAP_CA=str(slapd.ca)))
        res = await login(client, "jane@example.com", "jane-ldap-pass")
        assert res.status == 200, (url, await res.text())
        core_of(client).get_user("jane@example.com")
    # Without our CA the server's certificate is not trusted: no bind, and no password sent.
    for url in (slapd.url + "?start_tls=1", slapd.ldaps_url):
        caplog.clear()
        client = await make_client(ldap_env(url), home_dir=slapd.dir / f"home-{len(url)}")
        with caplog.at_level(logging.WARNING, logger="convos.auth.ldap"):
            res = await login(client, "jane@example.com", "jane-ldap-pass")
        assert res.status == 400, url
        assert "the local password is checked instead" in caplog.text
        assert "certificate verify failed" in caplog.text.lower() or "ssl" in caplog.text.lower()


async def test_an_unreachable_server_falls_back(make_client: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = await make_client(ldap_env(f"ldap://127.0.0.1:{closed_port()}?timeout=3"))
    await register(client, "jane@example.com", "jane-local-password")
    with caplog.at_level(logging.WARNING, logger="convos.auth.ldap"):
        res = await login(client, "jane@example.com", "jane-local-password")
    assert res.status == 200
    assert "the local password is checked instead" in caplog.text
    res = await login(client, "jane@example.com", "jane-ldap-pass")
    assert res.status == 400


def test_bad_settings_stop_the_start() -> None:
    with pytest.raises(ValueError, match="CONVOS_AUTH_LDAP_URL"):
        LdapPasswords(None, AuthConfig(providers=("ldap",), ldap_url="http://x"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="CONVOS_AUTH_LDAP_BASE"):
        LdapPasswords(None, AuthConfig(providers=("ldap",), ldap_filter="(uid=%uid)"))  # type: ignore[arg-type]
    config = AuthConfig.from_env({"CONVOS_PLUGINS": "Convos::Plugin::Auth::LDAP"})
    assert config.providers == ("ldap",) and config.ldap_url == "ldap://localhost:389"
    assert config.ldap_dn == "uid=%uid,dc=%domain,dc=%tld"
