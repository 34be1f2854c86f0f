"""Connections managed from a native IRC client (soju.im/bouncer-networks, the `*convos` service)
show in the browser at once: a real daemon, its listener and Chromium.

Fixtures: `ui_daemon`, `page` (t/browser.py).
"""

from __future__ import annotations

import re
from typing import Any

from conftest import free_port
from listen_client import Native
from playwright.async_api import expect
from test_ui_chat import EMAIL, PASSWORD, register_first_user, sidebar


async def test_networks_added_renamed_and_deleted_from_an_irc_client_show_in_the_browser(
        ui_daemon: Any, page: Any) -> None:
    port = free_port()
    d = await ui_daemon(env={"CONVOS_IRC_LISTEN": f"irc://127.0.0.1:{port}"})
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    links = sidebar(page)

    goguma = Native(port)
    try:
        welcome = await goguma.register("goguma", sasl=(EMAIL, PASSWORD),
                                        caps=("batch", "soju.im/bouncer-networks"))
        assert welcome.command == "001"
        await goguma.send("BOUNCER ADDNETWORK host=irc.example.net;name=planet")
        await goguma.expect(lambda m: m.command == "BOUNCER" and m.params[:2] == ("ADDNETWORK", "irc-example"))
        await expect(links.get_by_role("link", name=re.compile(r"^planet"))).to_be_visible()

        await goguma.send("BOUNCER CHANGENETWORK irc-example name=Daily\\sPlanet")
        await goguma.expect(lambda m: m.command == "BOUNCER" and m.params[0] == "CHANGENETWORK")
        await expect(links.get_by_role("link", name=re.compile(r"^Daily Planet"))).to_be_visible()
        await expect(links.get_by_role("link", name=re.compile(r"^planet"))).to_have_count(0)

        await goguma.send("PRIVMSG *convos :network delete irc-example")
        await goguma.expect(lambda m: m.nick == "*convos" and m.text.startswith("Deleted"))
        await expect(links.get_by_role("link", name=re.compile(r"^Daily Planet"))).to_have_count(0)
        await expect(links.get_by_role("link", name="#convos")).to_be_visible()
    finally:
        await goguma.close()
