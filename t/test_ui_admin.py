"""The admin pages in headless Chromium: users and invite links (used from a second browser),
deleting users, server settings, connection profiles; what a user who is not admin sees.

Fixtures: `ui_daemon`, `page` (t/browser.py).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pyotp
from browser import CHROMIUM_ARGS, TIMEOUT_MS, require_chromium
from playwright.async_api import async_playwright, expect
from test_ui_chat import register_first_user


@asynccontextmanager
async def second_browser() -> AsyncIterator[Any]:
    """Another browser with its own cookies, for the person who gets the invite link."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=require_chromium(), headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(locale="en-US", timezone_id="UTC")
            context.set_default_timeout(TIMEOUT_MS)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            yield page
            assert errors == [], errors
        finally:
            await browser.close()


def nav(page: Any) -> Any:
    return page.get_by_role("navigation", name="Settings")


async def test_users_and_invite_links(ui_daemon: Any, page: Any) -> None:
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/"))
    await page.goto(d.url + "/settings/account")
    await nav(page).get_by_role("link", name="Users").click()
    await expect(page).to_have_url(d.url + "/settings/users")
    users = page.get_by_role("table", name="Users")
    await expect(users.get_by_role("row", name=re.compile("superman@example.com"))).to_contain_text("Admin")

    # An invite link for someone new, with a copy button and its expiry.
    await page.get_by_label("Email").fill("lois@example.com")
    await page.get_by_label("Valid for (hours)").fill("2")
    await page.get_by_role("button", name="Create invite link").click()
    link = page.get_by_role("textbox", name="Invite link")
    await expect(link).to_have_value(re.compile(re.escape(d.url + "/register?email=lois%40example.com&exp=")))
    await expect(page.get_by_text("The link is valid until")).to_be_visible()
    await expect(page.get_by_text("Send this link to lois@example.com.")).to_be_visible()
    await expect(page.get_by_role("button", name="Copy")).to_be_visible()
    await expect(page.locator(".invite")).not_to_contain_text("null")
    url = await link.input_value()

    async with second_browser() as lois:
        await lois.goto(url)
        await expect(lois.get_by_label("Email")).to_have_value("lois@example.com")
        await lois.get_by_label("Password").fill("lois-password")
        await lois.get_by_role("button", name="Register").click()
        await expect(lois).to_have_url(re.compile(r"/chat"))

        # Lois is not an admin: no admin pages, and the API says no too.
        await lois.goto(d.url + "/settings/account")
        await expect(lois.get_by_role("heading", name="Account settings")).to_be_visible()
        await expect(nav(lois).get_by_role("link", name="Account")).to_be_visible()
        await expect(nav(lois).get_by_role("link", name="Users")).to_have_count(0)
        await expect(nav(lois).get_by_role("link", name="Server settings")).to_have_count(0)
        for path in ("/settings/users", "/settings/server", "/settings/connection-profiles"):
            await lois.goto(d.url + path)
            await expect(lois.get_by_text("Only an admin of this Convos can see this page.")).to_be_visible()
            await expect(lois.get_by_role("table")).to_have_count(0)
        statuses = await lois.evaluate("""async () => {
            const post = (url, body) => fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                body: JSON.stringify(body)});
            return [(await fetch("/api/users")).status, (await fetch("/api/settings")).status,
                (await post("/api/settings", {organization_name: "Evil"})).status,
                (await post("/api/user/superman@example.com/invite", {})).status,
                (await post("/api/connection-profiles", {url: "irc://evil.example.com"})).status];
        }""")
        assert statuses == [403, 403, 403, 401, 403]

    # A password reset link for an existing user says so.
    await page.reload()
    row = users.get_by_role("row", name=re.compile("lois@example.com"))
    await expect(row).to_contain_text("User")
    await row.get_by_role("button", name="Password reset link for lois@example.com").click()
    await expect(page.get_by_role("textbox", name="Password reset link")).to_have_value(re.compile("email=lois%40example.com"))
    await expect(page.get_by_text("lois@example.com already has an account, so the link resets the password.")).to_be_visible()

    # Deleting asks first.
    await row.get_by_role("button", name="Delete lois@example.com").click()
    confirm = page.get_by_role("alertdialog", name="Delete user")
    await expect(confirm).to_contain_text("Deleting lois@example.com removes all their connections, logs and files.")
    await confirm.get_by_role("button", name="Delete").click()
    await expect(row).to_have_count(0)
    # The last user cannot go: the server's words are shown.
    await users.get_by_role("button", name="Delete superman@example.com").click()
    await expect(confirm).to_contain_text("This is your own account.")
    await confirm.get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("alert")).to_have_text("You are the only user left.")
    await expect(users.get_by_role("row")).to_have_count(2)  # the head and superman
    assert page.seen.dialogs == []


async def test_server_settings_and_profiles(ui_daemon: Any, page: Any) -> None:
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/"))
    await page.goto(d.url + "/settings/server")
    await expect(page.get_by_role("heading", name="Server settings", exact=True).first).to_be_visible()
    await expect(page.get_by_label("Default connection", exact=True)).to_have_value(re.compile(r"^irc://127\.0\.0\.1:\d+/%23convos"))
    await expect(page.get_by_text(re.compile(r"^[\d.,]+ [KMGTP]?B of [\d.,]+ [KMGTP]?B used"))).to_be_visible()
    await expect(page.get_by_role("meter", name="Disk usage")).to_be_visible()
    await expect(page.locator(".page__body")).not_to_contain_text("null")

    # No update URL is configured, so nothing is checked: the page must not claim "up to date".
    await page.get_by_role("button", name="Check for updates").click()
    await expect(page.get_by_role("status").filter(has_text="Update checks are off.")).to_be_visible()
    await expect(page.locator(".page__body")).not_to_contain_text("up to date")

    # A bad URL: the server's message next to its field.
    await page.get_by_label("Organization URL", exact=True).fill("not a url")
    await page.get_by_label("Organization name").fill("Daily Planet")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Organization URL require a scheme and host.")).to_be_visible()
    await expect(page.get_by_label("Organization URL", exact=True)).to_have_attribute("aria-invalid", "true")

    await page.get_by_label("Organization URL", exact=True).fill("https://dailyplanet.example.com")
    await page.get_by_label("Registration is open to public").check()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    await expect(page).to_have_title("Server settings - Convos for Daily Planet")
    await page.reload()
    await expect(page).to_have_title("Server settings - Convos for Daily Planet")
    await expect(page.get_by_label("Organization name")).to_have_value("Daily Planet")
    await expect(page.get_by_label("Registration is open to public")).to_be_checked()
    shell = await page.evaluate("fetch('/').then((r) => r.text())")
    assert "<title>Better group chat - Convos for Daily Planet</title>" in shell

    # Connection profiles: the default one is listed; add, edit and delete another.
    await nav(page).get_by_role("link", name="Connection profiles").click()
    profiles = page.get_by_role("table", name="Connection profiles")
    default_row = profiles.get_by_role("row", name=re.compile("irc-localhost"))
    await expect(default_row).to_contain_text("Yes")
    await page.get_by_role("button", name="Add profile").click()
    await page.get_by_label("Connection URL").fill("irc://irc.example.com:6697?tls=1")
    await page.get_by_label("Maximum message length").fill("400")
    await page.get_by_label("Service accounts").fill("chanserv, nickserv, q")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    row = profiles.get_by_role("row", name=re.compile("irc-example"))
    await expect(row).to_contain_text("irc://irc.example.com:6697")
    saved = await page.evaluate("fetch('/api/connection-profiles').then((r) => r.json())")
    example = next(p for p in saved["profiles"] if p["id"] == "irc-example")
    assert example["max_message_length"] == 400
    assert example["service_accounts"] == ["chanserv", "nickserv", "q"]

    await row.get_by_role("button", name="Edit irc-example").click()
    await expect(page.get_by_label("Maximum message length")).to_have_value("400")
    await expect(page.get_by_label("Service accounts")).to_have_value("chanserv, nickserv, q")

    # Shared by default, made by the admin; not shown to users once unchecked.
    shared_cell = row.get_by_role("cell").nth(2)
    await expect(shared_cell).to_have_text("Yes")
    await expect(row.get_by_role("cell").nth(3)).to_have_text("superman@example.com")
    await expect(page.get_by_label("Show to every user")).to_be_checked()
    await page.get_by_label("Show to every user").uncheck()
    await page.get_by_role("button", name="Save").click()
    await expect(shared_cell).to_have_text("No")
    saved = await page.evaluate("fetch('/api/connection-profiles').then((r) => r.json())")
    assert next(p for p in saved["profiles"] if p["id"] == "irc-example")["shared"] is False

    # The default profile cannot be deleted.
    await default_row.get_by_role("button", name="Delete irc-localhost").click()
    await page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("alert")).to_have_text("You cannot delete the default connection.")
    await row.get_by_role("button", name="Delete irc-example").click()
    await page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    await expect(row).to_have_count(0)
    await expect(default_row).to_be_visible()


async def test_turning_off_someone_elses_two_factor_codes(ui_daemon: Any, page: Any) -> None:
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/"))
    res = await page.evaluate("""async () => (await fetch("/api/user/lois@example.com/invite", {method: "POST",
        headers: {"Content-Type": "application/json"}, body: "{}"})).json()""")
    async with second_browser() as lois:
        await lois.goto(res["url"])
        await lois.get_by_label("Password").fill("lois-password")
        await lois.get_by_role("button", name="Register").click()
        await expect(lois).to_have_url(re.compile(r"/chat"))
        secret = await lois.evaluate("""async () => (await (await fetch("/api/user/two-factor", {method: "POST"})).json()).secret""")
        status = await lois.evaluate("""async (code) => (await fetch("/api/user/two-factor/confirm", {method: "POST",
            headers: {"Content-Type": "application/json"}, body: JSON.stringify({code})})).status""",
                                     pyotp.TOTP(secret).now())
        assert status == 200

    await page.goto(d.url + "/settings/users")
    users = page.get_by_role("table", name="Users")
    row = users.get_by_role("row", name=re.compile("lois@example.com"))
    # Only someone with codes on has the button.
    await expect(users.get_by_role("row", name=re.compile("superman@example.com")).get_by_role(
        "button", name=re.compile("Turn off two-factor"))).to_have_count(0)
    await row.get_by_role("button", name="Turn off two-factor codes of lois@example.com").click()
    confirm = page.get_by_role("alertdialog", name="Turn off two-factor codes")
    await expect(confirm).to_contain_text("lois@example.com then signs in with the password alone.")
    await confirm.get_by_role("button", name="Turn off").click()
    await expect(row.get_by_role("button", name=re.compile("Turn off two-factor"))).to_have_count(0)
    users_now = await page.evaluate("""async () => (await (await fetch("/api/users")).json()).users""")
    assert {u["email"]: u["two_factor"] for u in users_now} == {"lois@example.com": False, "superman@example.com": False}
