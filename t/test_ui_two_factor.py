"""Two-factor codes in Chromium: set them up in the account settings (QR code, secret, a code),
then the login page asks for a code after the password; required-for-all shows the setup first."""

from __future__ import annotations

import re
from typing import Any

import pyotp
from browser import write_settings
from playwright.async_api import expect

EMAIL = "superman@example.com"
PASSWORD = "s3cret-enough"


async def _register(page: Any, url: str) -> None:
    await page.goto(url + "/register")
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Register").click()
    await expect(page).to_have_url(re.compile(r"/chat/"))


async def _log_in(page: Any, url: str) -> None:
    await page.goto(url + "/login")
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()


async def _set_up(page: Any) -> list[str]:
    qr = page.get_by_role("img", name="QR code of the two-factor secret")
    await expect(qr).to_be_visible()
    assert (await qr.get_attribute("src") or "").startswith("data:image/svg+xml;base64,")
    secret = await page.locator(".two-factor__secret").inner_text()
    await page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Turn on").click()
    await expect(page.get_by_text("Two-factor codes are on.", exact=True)).to_be_visible()
    codes = await page.locator(".two-factor__recovery li").all_inner_texts()
    assert len(codes) == 10
    await page.get_by_role("button", name="I have saved them").click()
    return codes


async def test_set_up_in_settings_then_log_in_with_a_code(daemon: Any, page: Any, tmp_path: Any) -> None:
    home = tmp_path / "home"
    write_settings(home, default_connection="irc://localhost:6667/%23convos?tls=0")
    d = await daemon(home)
    await _register(page, d.url)
    await page.goto(d.url + "/settings/account")
    await page.get_by_role("button", name="Set up two-factor codes").click()
    codes = await _set_up(page)
    await expect(page.get_by_text("Two-factor codes are on. 10 recovery codes left.")).to_be_visible()

    await page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    code = page.get_by_label("Two-factor code")
    await expect(code).to_be_hidden()
    await _log_in(page, d.url)
    # The password was right: now the code.
    await expect(page.get_by_role("alert")).to_have_text("Two-factor code required.")
    await expect(code).to_be_focused()
    await code.fill("not-a-code")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("Invalid two-factor code.")
    await code.fill(codes[0])
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(re.compile(r"/chat/"))
    assert page.seen.dialogs == []


async def test_required_for_everyone_shows_the_setup_after_the_password(daemon: Any, page: Any, tmp_path: Any) -> None:
    home = tmp_path / "home"
    write_settings(home, default_connection="irc://localhost:6667/%23convos?tls=0")
    d = await daemon(home, env={"CONVOS_AUTH_TOTP_REQUIRED": "1"})
    # Registration asks for the setup too; logging in again does while it is not done.
    await page.goto(d.url + "/register")
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Register").click()
    await expect(page.get_by_role("heading", name="Set up two-factor codes")).to_be_visible()
    # A reload does not get around it: the app starts on the setup again.
    await page.reload()
    await expect(page.get_by_role("heading", name="Set up two-factor codes")).to_be_visible()
    await expect(page.get_by_role("img", name="QR code of the two-factor secret")).to_be_visible()
    await page.context.clear_cookies()
    await _log_in(page, d.url)
    await expect(page.get_by_role("heading", name="Set up two-factor codes")).to_be_visible()
    await _set_up(page)
    await expect(page).to_have_url(re.compile(r"/chat/"))
    await expect(page.get_by_role("navigation", name="Conversations")).to_contain_text(EMAIL)
