"""The IRC listener with a real daemon and Chromium: an app password made in the account settings
signs a native client in over TLS with SASL, it talks in the same #convos as the browser, the
admin settings show the certificate to pin, and the revoked app password no longer signs in.

Fixtures: `ui_daemon`, `page` (t/browser.py), `irc_client` (t/ircd.py).
"""

from __future__ import annotations

import hashlib
import re
import ssl
from typing import Any

from conftest import free_port
from listen_client import Native
from playwright.async_api import expect
from test_ui_chat import EMAIL, PASSWORD, log_of, register_first_user


async def test_admin_sees_the_fingerprint_and_a_native_client_talks_with_the_browser(
        ui_daemon: Any, page: Any, irc_client: Any, tmp_path: Any) -> None:
    port = free_port()
    d = await ui_daemon(env={"CONVOS_IRC_LISTEN": f"ircs://127.0.0.1:{port}"})
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))

    # An app password for the terminal, made in the account settings.
    await page.goto(d.url + "/settings/account")
    passwords = page.get_by_role("region", name="App passwords")
    await expect(passwords.get_by_text("No app passwords yet.")).to_be_visible()
    await passwords.get_by_label("Device name").fill("terminal")
    await passwords.get_by_role("button", name="Make app password").click()
    value = passwords.get_by_label("New app password for terminal")
    await expect(value).to_have_value(re.compile(r"^ap-"))
    app_password = await value.input_value()
    await expect(passwords.get_by_role("button", name="Revoke terminal")).to_be_visible()
    await page.goto(d.url + "/chat/irc-localhost/%23convos")

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    native = Native(port, tls=context)
    try:
        welcome = await native.register(sasl=(f"{EMAIL}/irc-localhost", app_password),
                                        caps=("server-time", "message-tags"))
        assert welcome.command == "001"
        await native.expect(lambda m: m.command == "366" and m.params[1] == "#convos", 20)
        assert native.writer is not None
        der = native.writer.get_extra_info("ssl_object").getpeercert(binary_form=True)

        # The native client's line, in the browser.
        await native.send("PRIVMSG #convos :typed in a terminal")
        line = log_of(page).locator(".msg", has_text="typed in a terminal")
        await expect(line).to_be_visible()
        await expect(line.locator(".msg__from")).to_have_text("superman")

        # The browser's line, on the native client.
        composer = page.get_by_role("textbox", name="Message #convos")
        await composer.fill("typed in the browser")
        await composer.press("Enter")
        got = await native.expect(lambda m: m.command == "PRIVMSG" and m.text == "typed in the browser")
        assert got.nick == "superman" and got.tags.get("msgid")
    finally:
        await native.close()

    await page.goto(d.url + "/settings/server")
    listener = page.get_by_role("region", name="IRC listener")
    await expect(listener).to_contain_text(f"Native IRC clients attach at ircs://127.0.0.1:{port}.")
    await expect(listener.locator("code")).to_have_text(hashlib.sha256(der).hexdigest())

    # Revoked in the settings: the terminal can no longer sign in with it; the main password can.
    await page.goto(d.url + "/settings/account")
    passwords = page.get_by_role("region", name="App passwords")
    await passwords.get_by_role("button", name="Revoke terminal").click()
    await page.get_by_role("alertdialog").get_by_role("button", name="Revoke").click()
    await expect(passwords.get_by_text("No app passwords yet.")).to_be_visible()
    again = Native(port, tls=context)
    try:
        refused = await again.register(sasl=(f"{EMAIL}/irc-localhost", app_password))
        assert refused.command == "904"
    finally:
        await again.close()
    main = Native(port, tls=context)
    try:
        assert (await main.register(sasl=(f"{EMAIL}/irc-localhost", PASSWORD))).command == "001"
    finally:
        await main.close()
