"""The login page with OpenID Connect in Chromium: the "Sign in with ..." button goes through the
identity provider the test starts (t/oidc_idp.py) and lands in the app, signed in."""

from __future__ import annotations

import re
from typing import Any

from browser import write_settings
from oidc_idp import Idp
from playwright.async_api import expect


async def test_sign_in_with_the_button(daemon: Any, page: Any, tmp_path: Any, idp: Idp) -> None:
    home = tmp_path / "home"
    write_settings(home, default_connection="irc://localhost:6667/%23convos?tls=0")
    d = await daemon(home, env={**idp.env, "CONVOS_AUTH_OIDC_AUTO_CREATE": "1", "CONVOS_ADMIN": "boss@example.com"})
    # The first account (the admin) registers with a password; jane comes from the provider.
    await page.goto(d.url + "/register")
    await page.get_by_label("Email").fill("boss@example.com")
    await page.get_by_label("Password").fill("s3cret-enough")
    await page.get_by_role("button", name="Register").click()
    await expect(page).to_have_url(re.compile(r"/chat/"))
    # The admin sees which sign-in providers are on.
    await page.goto(d.url + "/settings/server")
    providers = page.get_by_role("region", name="Sign-in providers").get_by_role("listitem")
    await expect(providers).to_have_count(3)
    await expect(providers.nth(1)).to_contain_text(f"OpenID Connect · {idp.url}")
    await expect(providers.nth(2)).to_contain_text("Two-factor codes (TOTP) · optional")
    await page.context.clear_cookies()

    await page.goto(d.url + "/login")
    button = page.get_by_role("link", name="Sign in with Example SSO")
    await expect(button).to_be_visible()
    await button.click()
    await expect(page).to_have_url(re.compile(r"/chat"))
    await expect(page.get_by_role("navigation", name="Conversations")).to_contain_text("jane@example.com")
    assert idp.issued, "the provider issued no ID token"

    # A sign-in the provider sends back with a token for another client is refused, on a page
    # that says why and leads back to the login.
    await page.context.clear_cookies()
    idp.claims = {"aud": "another-client"}
    await page.goto(d.url + "/login")
    await page.get_by_role("link", name="Sign in with Example SSO").click()
    await expect(page.get_by_role("heading", name="The identity provider's ID token is not valid.")).to_be_visible()
    await page.get_by_role("link", name="Log in").click()
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.seen.dialogs == []
