"""The settings pages in headless Chromium: password, keywords, theme, language, the connection
editor against a real ngircd.

Fixtures: `ui_daemon`, `page` (t/browser.py), `ircd`, `irc_client` (t/ircd.py).
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from browser import contrast_failures
from playwright.async_api import expect
from test_ui_admin import second_browser
from test_ui_chat import EMAIL, PASSWORD, register_first_user, sidebar


async def register(page: Any, url: str) -> None:
    await register_first_user(page, url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))


def settings_nav(page: Any) -> Any:
    return page.get_by_role("navigation", name="Settings")


async def test_password_and_keywords(ui_daemon: Any, page: Any) -> None:
    d = await ui_daemon()
    await register(page, d.url)
    await sidebar(page).get_by_role("link", name="Settings").click()
    await expect(page).to_have_url(d.url + "/settings/account")
    await expect(page.get_by_role("heading", name="Account settings")).to_be_visible()
    await expect(settings_nav(page).get_by_role("link", name="Account")).to_have_attribute("aria-current", "page")
    # The first user is the admin and sees the admin pages.
    await expect(settings_nav(page).get_by_role("link", name="Users")).to_be_visible()

    # Mistakes are caught before asking the server, next to the field.
    form = page.locator("form").filter(has=page.get_by_label("New password"))
    await form.get_by_label("Current password").fill("not-my-password")
    await form.get_by_label("New password").fill("new-secret-123")
    await form.get_by_label("Repeat password").fill("something else")
    await form.get_by_role("button", name="Change password").click()
    await expect(form.get_by_text("Passwords do not match.")).to_be_visible()
    await expect(form.get_by_label("Repeat password")).to_have_attribute("aria-invalid", "true")

    # The current password is needed, and a wrong one is shown next to its field.
    await form.get_by_label("Repeat password").fill("new-secret-123")
    await form.get_by_role("button", name="Change password").click()
    await expect(form.get_by_text("Invalid current password.")).to_be_visible()
    await expect(form.get_by_label("Current password")).to_have_attribute("aria-invalid", "true")
    await form.get_by_label("Current password").fill(PASSWORD)
    await form.get_by_role("button", name="Change password").click()
    await expect(form.get_by_role("status")).to_have_text("Your password was changed.")
    await expect(form.get_by_label("New password")).to_have_value("")
    await expect(form.get_by_label("Current password")).to_have_value("")
    # This session got a new cookie and is still logged in; its websocket stayed open.
    user = await page.evaluate("fetch('/api/user').then((r) => r.status)")
    assert user == 200
    await expect(page.get_by_text("You are logged out.")).to_be_hidden()

    # Highlight keywords are saved on the server.
    keywords = page.get_by_role("textbox", name="Highlight keywords")
    await keywords.fill("kryptonite, daily planet ,")
    kw_form = page.locator("form").filter(has=keywords)
    await kw_form.get_by_role("button", name="Save").click()
    await expect(kw_form.get_by_role("status")).to_have_text("Saved.")
    user = await page.evaluate("fetch('/api/user').then((r) => r.json())")
    assert user["highlight_keywords"] == ["kryptonite", "daily planet"]

    # Log out, then in with the new password (the old one is refused).
    await sidebar(page).get_by_role("link", name="Log out").click()
    await expect(page).to_have_url(d.url + "/login")
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("Invalid email or password.")
    await page.get_by_label("Password").fill("new-secret-123")
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(re.compile(r"/chat/"))
    await page.goto(d.url + "/settings/account")
    await expect(page.get_by_role("textbox", name="Highlight keywords")).to_have_value("kryptonite, daily planet")


async def test_log_out_everywhere(ui_daemon: Any, page: Any) -> None:
    d = await ui_daemon()
    await register(page, d.url)
    async with second_browser() as other:
        await other.goto(d.url + "/login")
        await other.get_by_label("Email").fill(EMAIL)
        await other.get_by_label("Password").fill(PASSWORD)
        await other.get_by_role("button", name="Log in").click()
        await expect(other).to_have_url(re.compile(r"/chat/"))

        await page.goto(d.url + "/settings/account")
        await page.get_by_role("button", name="Log out everywhere").click()
        dialog = page.get_by_role("alertdialog")
        await expect(dialog).to_contain_text("this one included")
        await dialog.get_by_role("button", name="Log out everywhere").click()
        await expect(page).to_have_url(d.url + "/login")
        await page.goto(d.url + "/settings/account")
        await expect(page).to_have_url(d.url + "/login")
        # The other browser's websocket was closed: it says so and offers to log in again.
        await expect(other.get_by_text("You are logged out.")).to_be_visible()
        status = await other.evaluate("fetch('/api/user').then((r) => r.status)")
        assert status == 401


async def test_theme_and_language(ui_daemon: Any, page: Any) -> None:
    d = await ui_daemon()
    await page.emulate_media(color_scheme="light")
    await register(page, d.url)
    html = page.locator("html")
    await expect(html).to_have_attribute("data-theme", "light")  # auto, and the system is light
    await page.goto(d.url + "/settings/account")
    theme = page.get_by_role("group", name="Theme")
    await expect(theme.get_by_label("Auto")).to_be_checked()

    await theme.get_by_label("Dark").check()
    await expect(html).to_have_attribute("data-theme", "dark")
    bg = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(22, 24, 29)", bg
    await page.reload()
    await expect(html).to_have_attribute("data-theme", "dark")
    await expect(page.get_by_role("group", name="Theme").get_by_label("Dark")).to_be_checked()

    # "Auto" follows the system's scheme, also when it changes.
    await page.get_by_role("group", name="Theme").get_by_label("Auto").check()
    await expect(html).to_have_attribute("data-theme", "light")
    await page.emulate_media(color_scheme="dark")
    await expect(html).to_have_attribute("data-theme", "dark")
    await page.emulate_media(color_scheme="light")
    await page.get_by_role("group", name="Theme").get_by_label("Light").check()

    # The choice is in the convos_js cookie too, for the server.
    cookies = {c["name"]: c for c in await page.context.cookies()}
    data = json.loads(base64.b64decode(cookies["convos_js"]["value"]))
    assert data == {"theme": "convos", "colorScheme": "light"}

    # Language: German labels after the switch, <html lang> from the server (cookie).
    language = page.get_by_label("Language")
    await expect(language.locator("option[value=de]")).to_have_text("Deutsch")
    await language.select_option("de")
    await expect(page.get_by_role("heading", name="Kontoeinstellungen")).to_be_visible()
    await expect(html).to_have_attribute("lang", "de")
    await expect(settings_nav(page)).to_have_count(0)  # its name is German now
    await expect(page.get_by_role("navigation", name="Einstellungen").get_by_role("link", name="Konto")).to_be_visible()
    await expect(page.get_by_label("Sprache")).to_have_value("de")
    cookies = {c["name"]: c for c in await page.context.cookies()}
    data = json.loads(base64.b64decode(cookies["convos_js"]["value"]))
    assert data == {"theme": "convos", "colorScheme": "light", "lang": "de"}

    # Back to the browser's language (en-US here).
    await page.get_by_label("Sprache").select_option("")
    await expect(page.get_by_role("heading", name="Account settings")).to_be_visible()
    await expect(html).to_have_attribute("lang", "en")


async def test_connection_editor(ui_daemon: Any, page: Any, ircd: Any, irc_client: Any) -> None:
    d = await ui_daemon()
    await register(page, d.url)
    await expect(sidebar(page).get_by_role("img", name="Connected")).to_be_visible()

    # Edit the default connection: its URL is split into fields.
    await page.goto(d.url + "/settings/account")
    await page.get_by_role("link", name="Edit connection localhost").click()
    await expect(page).to_have_url(d.url + "/settings/connection?connection_id=irc-localhost")
    await expect(page.get_by_role("heading", name="Edit connection")).to_be_visible()
    await expect(page.get_by_label("Host", exact=True)).to_have_value("127.0.0.1")
    await expect(page.get_by_label("Port")).to_have_value(str(ircd.port))
    await expect(page.get_by_label("Secure connection (TLS)")).not_to_be_checked()
    await expect(page.get_by_label("Nick")).to_have_value("superman")
    await expect(page.get_by_label("Wanted state")).to_have_value("connected")

    # Delete it (after a confirmation), then add one with the editor.
    await page.get_by_role("button", name="Delete connection").click()
    confirm = page.get_by_role("alertdialog", name="Delete connection")
    await expect(confirm).to_contain_text("Are you sure you want to delete localhost?")
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(confirm).to_have_count(0)
    await page.get_by_role("button", name="Delete connection").click()
    await confirm.get_by_role("button", name="Delete").click()
    await expect(page).to_have_url(d.url + "/settings/account")
    await expect(sidebar(page).get_by_role("link", name="#convos")).to_have_count(0)
    await expect(page.get_by_text("No connections yet.").first).to_be_visible()

    await page.get_by_role("link", name="Add connection").click()
    await expect(page).to_have_url(d.url + "/settings/connection/add")
    await expect(page.get_by_role("heading", name="Add connection")).to_be_visible()
    # Prefilled from the default connection.
    await expect(page.get_by_label("Host", exact=True)).to_have_value("127.0.0.1")
    await expect(page.get_by_label("Channel to join")).to_have_value("#convos")
    await page.get_by_label("Host", exact=True).fill("localhost")
    await page.get_by_label("Nick").fill("clark")
    await page.get_by_label("Real name").fill("Clark Kent")
    await page.get_by_label("On-connect commands").fill("/msg NickServ identify x\n\n/mode clark +i")
    await page.get_by_label("Channel to join").fill("#planet")
    await page.get_by_role("button", name="Create connection").click()
    await expect(page).to_have_url(d.url + "/chat/irc-localhost")
    await expect(sidebar(page).get_by_role("img", name="Connected")).to_be_visible()
    await expect(sidebar(page).get_by_role("link", name="#planet")).to_be_visible()

    lois = await irc_client("lois")
    await lois.send("WHOIS clark")
    whois = await lois.expect(lambda m: m.command == "311")
    assert whois.params[1] == "clark"
    assert whois.params[-1].startswith("Clark Kent")
    conn = await page.evaluate("fetch('/api/connections').then((r) => r.json())")
    (saved,) = conn["connections"]
    assert saved["on_connect_commands"] == ["/msg NickServ identify x", "/mode clark +i"]
    assert re.fullmatch(rf"irc://localhost:{ircd.port}/?(%23planet)?\?nick=clark&tls=0&realname=Clark%20Kent", saved["url"]), saved

    # Edit the nick: the form shows it and the server gets NICK.
    await page.goto(d.url + "/settings/connection?connection_id=irc-localhost")
    await expect(page.get_by_label("Nick")).to_have_value("clark")
    await expect(page.get_by_label("Real name")).to_have_value("Clark Kent")
    await expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    await page.get_by_label("Nick").fill("kal_el")
    await page.get_by_role("button", name="Update connection").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Nick: kal_el")).to_be_visible()
    await page.reload()
    await expect(page.get_by_label("Nick")).to_have_value("kal_el")
    await expect(page.get_by_label("On-connect commands")).to_have_value("/msg NickServ identify x\n/mode clark +i")

    # Disconnect through the wanted state.
    await page.get_by_label("Wanted state").select_option("disconnected")
    await page.get_by_role("button", name="Update connection").click()
    await expect(sidebar(page).get_by_role("img", name="Disconnected")).to_be_visible()

    # A name of one's own (what IRC clients attach by); the server's rules show at the field.
    await expect(page.get_by_label("Name", exact=True)).to_have_value("localhost")
    await page.get_by_label("Name", exact=True).fill("Daily Planet")
    await page.get_by_role("button", name="Update connection").click()
    await expect(sidebar(page).get_by_role("link", name=re.compile("^Daily Planet"))).to_be_visible()
    await page.get_by_label("Name", exact=True).fill("a/b")
    await page.get_by_role("button", name="Update connection").click()
    await expect(page.get_by_text("A connection name has no control characters and none of / @ : ,")).to_be_visible()
    await expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")

    # A bad host is refused in the browser; a server error shows next to the form.
    await page.get_by_label("Host", exact=True).fill("bad host")
    await page.get_by_role("button", name="Update connection").click()
    await expect(page.get_by_text("Write a host name, like irc.libera.chat.")).to_be_visible()
    await expect(page.get_by_label("Host", exact=True)).to_have_attribute("aria-invalid", "true")


async def test_connection_url_parts(page: Any, ui_daemon: Any) -> None:
    # The URL <-> fields functions on their own, with the edge cases of docs/irc.md.
    d = await ui_daemon()
    await page.goto(d.url + "/login")
    result = await page.evaluate("""async () => {
        const m = await import("/assets/js/views/settings-connection.js");
        const out = {};
        const p = m.parseIrcUrl("irc://us%40er:p%3Ass@irc.example.com:6697/%23convos%20key?nick=superman&tls=1&forced=1");
        out.parsed = {...p, params: [...p.params]};
        out.fields = m.fieldsFromUrl("ircs://[::1]/?nick=x&sasl=EXTERNAL&tls_verify=0");
        out.fields.params = [...out.fields.params];
        out.rebuilt = m.urlFromFields({...m.fieldsFromUrl(
            "irc://u:p@irc.example.com:6697/%23convos?nick=superman&tls=1&tls_verify=1&local_address=10.0.0.1"),
            nick: "kal el", realname: "Kal-El of Krypton", sasl: "plain"},
            "irc://u:p@irc.example.com:6697/%23convos?nick=superman&tls=1&tls_verify=1&local_address=10.0.0.1");
        out.plain = m.urlFromFields({host: "localhost", port: "6667", tls: false, tlsVerify: true, nick: "a",
            sasl: "none", username: "", password: "", realname: ""});
        out.noVerify = m.urlFromFields({host: "h", port: "", tls: true, tlsVerify: false, nick: "a", sasl: "external",
            username: "", password: "p w", realname: ""});
        return out;
    }""")
    assert result["parsed"] == {
        "scheme": "irc", "username": "us@er", "password": "p:ss", "host": "irc.example.com", "port": "6697",
        "path": "/%23convos%20key", "params": [["nick", "superman"], ["tls", "1"], ["forced", "1"]],
    }
    f = result["fields"]
    assert (f["host"], f["port"], f["tls"], f["tlsVerify"], f["sasl"], f["nick"]) == ("[::1]", "6697", True, False, "external", "x")
    assert result["rebuilt"] == ("irc://u:p@irc.example.com:6697/%23convos?nick=kal%20el&tls=1&tls_verify=1"
                                 "&sasl=plain&realname=Kal-El%20of%20Krypton&local_address=10.0.0.1")
    assert result["plain"] == "irc://localhost:6667?nick=a&tls=0"
    assert result["noVerify"] == "irc://:p%20w@h?nick=a&tls=1&tls_verify=0&sasl=external"


async def test_settings_contrast_and_phone(ui_daemon: Any, page: Any) -> None:
    # Both colour schemes meet WCAG AA on the settings pages, also with errors and links shown,
    # and a 360 px phone needs no sideways scrolling.
    d = await ui_daemon()
    await register(page, d.url)
    await page.goto(d.url + "/settings/connection?connection_id=irc-localhost")
    await page.get_by_label("Host", exact=True).fill("bad host")
    await page.get_by_role("button", name="Update connection").click()
    await expect(page.get_by_text("Write a host name, like irc.libera.chat.")).to_be_visible()
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        assert await contrast_failures(page) == [], scheme
    await page.goto(d.url + "/settings/users")
    await page.get_by_label("Email").fill("lois@example.com")
    await page.get_by_role("button", name="Create invite link").click()
    await expect(page.get_by_role("textbox", name="Invite link")).to_be_visible()
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        assert await contrast_failures(page) == [], scheme

    await page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/settings/account", "/settings/connection?connection_id=irc-localhost", "/settings/users",
                 "/settings/server", "/settings/connection-profiles"):
        await page.goto(d.url + path)
        await expect(page.get_by_role("navigation", name="Settings")).to_be_visible()
        await expect(page.locator(".page__body h2").first).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
    # The menu button opens the sidebar from a settings page too.
    await page.get_by_role("button", name="Show conversations").click()
    await expect(sidebar(page).get_by_role("link", name="#convos")).to_be_in_viewport(ratio=1)


@pytest.mark.skipif(not os.environ.get("CONVOS_UI_SCREENSHOTS"), reason="set CONVOS_UI_SCREENSHOTS=1 to refresh docs/screenshots")
async def test_settings_screenshots(ui_daemon: Any, page: Any) -> None:
    out = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
    d = await ui_daemon()
    await page.emulate_media(color_scheme="light")
    await register(page, d.url)
    await expect(sidebar(page).get_by_role("img", name="Connected")).to_be_visible()
    await page.goto(d.url + "/settings/account")
    await expect(page.get_by_label("Language").locator("option[value=de]")).to_have_count(1)
    await page.screenshot(path=str(out / "settings-light.png"))
    await page.goto(d.url + "/settings/connection?connection_id=irc-localhost")
    await expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    await page.emulate_media(color_scheme="dark")
    await page.screenshot(path=str(out / "connection-editor-dark.png"))
    await page.goto(d.url + "/settings/users")
    await page.get_by_label("Email").fill("lois@example.com")
    await page.get_by_role("button", name="Create invite link").click()
    await expect(page.get_by_role("textbox", name="Invite link")).to_be_visible()
    await page.emulate_media(color_scheme="light")
    await page.screenshot(path=str(out / "admin-users-light.png"))
    await page.set_viewport_size({"width": 360, "height": 740})
    await page.emulate_media(color_scheme="dark")
    await page.goto(d.url + "/settings/account")
    await expect(page.get_by_role("heading", name="Account settings")).to_be_visible()
    await page.screenshot(path=str(out / "phone-settings-dark.png"))


async def test_conversation_link(ui_daemon: Any, page: Any) -> None:
    # /settings/conversation (where /register?uri=irc://... leads) opens a conversation that
    # exists, and offers to add one that does not.
    d = await ui_daemon()
    await register(page, d.url)
    await page.goto(d.url + "/settings/conversation?connection_id=irc-localhost&conversation_id=%23convos")
    await expect(page).to_have_url(d.url + "/chat/irc-localhost/%23convos")
    await page.goto(d.url + "/settings/conversation?connection_id=irc-localhost&conversation_id=%23daily")
    dialog = page.get_by_role("dialog", name="Add conversation")
    await expect(dialog.get_by_label("Channel or nick")).to_have_value("#daily")
    await expect(dialog.get_by_label("Connection")).to_have_value("irc-localhost")
    await dialog.get_by_role("button", name="Add").click()
    await expect(page).to_have_url(d.url + "/chat/irc-localhost/%23daily")
    await expect(sidebar(page).get_by_role("link", name="#daily")).to_be_visible()
