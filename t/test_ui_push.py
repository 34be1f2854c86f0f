"""Web Push in Chromium: a push delivered to the service worker through the DevTools protocol
(ServiceWorker.deliverPushMessage) shows a notification, and opening it goes to the
conversation at the message; the settings page lists the devices, tests and removes them;
a tab that shows a conversation stops pushes about it.

Headless Chromium shows no system notifications and has no way to click one: the test reads
the notifications the worker showed (registration.getNotifications()) and runs the worker's
click handler on one (self.convosOpenFromNotification, what the notificationclick listener calls).
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
from browser import until
from playwright.async_api import expect
from push_stub import PushStub
from test_ui_chat import EMAIL, PASSWORD, register_first_user


async def worker_registration(page: Any, chromium: Any) -> tuple[Any, str]:
    """The DevTools session and the id of the page's service worker registration."""
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    cdp = await chromium.new_cdp_session(page)
    found: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def updated(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if not registration.get("isDeleted") and not found.done():
                found.set_result(registration["registrationId"])

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    await cdp.send("ServiceWorker.enable")
    return cdp, await asyncio.wait_for(found, 10)


async def test_a_push_shows_a_notification_that_opens_the_message(ui_daemon: Any, page: Any, chromium: Any,
                                                                   irc_client: Any) -> None:
    d = await ui_daemon()
    await chromium.grant_permissions(["notifications"], origin=d.url)
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    await jimmy.privmsg("#convos", "superman: look at this")
    log = page.get_by_role("log")
    await expect(log.get_by_text("superman: look at this")).to_be_visible()
    ids = await page.evaluate("""fetch('/api/connection/irc-localhost/conversation/%23convos/messages')
        .then((r) => r.json()).then((b) => b.messages.filter((m) => m.from === 'jimmy').map((m) => m.id))""")
    await page.goto(d.url + "/settings/account")
    await expect(page.get_by_role("heading", name="Push notifications")).to_be_visible()

    cdp, registration = await worker_registration(page, chromium)
    payload = {"title": "jimmy in #convos", "body": "superman: look at this", "count": 1, "kind": "message",
               "connection_id": "irc-localhost", "conversation_id": "#convos", "message_id": ids[0],
               "tag": "irc-localhost/#convos", "path": f"/chat/irc-localhost/%23convos?around_id={ids[0]}"}
    await cdp.send("ServiceWorker.deliverPushMessage",
                   {"origin": d.url, "registrationId": registration, "data": json.dumps(payload)})
    [worker] = chromium.service_workers
    shown = """self.registration.getNotifications().then((ns) => ns.map((n) => (
        {title: n.title, body: n.body, tag: n.tag, data: n.data})))"""
    for _ in range(100):
        notes = await worker.evaluate(shown)
        if notes:
            break
        await asyncio.sleep(0.1)
    assert notes == [{"title": "jimmy in #convos", "body": "superman: look at this", "tag": "irc-localhost/#convos",
                      "data": {"path": payload["path"], "kind": "message", "message_id": ids[0]}}]

    # A newer push of the same conversation replaces it (the tag), with its count.
    await cdp.send("ServiceWorker.deliverPushMessage", {"origin": d.url, "registrationId": registration,
                                                         "data": json.dumps({**payload, "title": "#convos (2)",
                                                                             "count": 2})})
    for _ in range(100):
        notes = await worker.evaluate(shown)
        if notes and notes[0]["title"] == "#convos (2)":
            break
        await asyncio.sleep(0.1)
    assert [n["title"] for n in notes] == ["#convos (2)"]

    # Opening it sends the open window to the conversation at that message.
    await worker.evaluate("self.registration.getNotifications().then(([n]) => self.convosOpenFromNotification(n))"
                          ".then(() => true)")
    await expect(page).to_have_url(d.url + payload["path"])
    await expect(page.get_by_role("heading", name="#convos", exact=True)).to_be_visible()
    await expect(page.get_by_role("log").get_by_text("superman: look at this")).to_be_visible()

    # A path that leaves the site is never followed.
    await cdp.send("ServiceWorker.deliverPushMessage", {"origin": d.url, "registrationId": registration,
                                                         "data": json.dumps({**payload, "path": "//evil.example/x",
                                                                             "tag": "evil"})})
    for _ in range(100):
        notes = await worker.evaluate(shown)
        if any(n["tag"] == "evil" for n in notes):
            break
        await asyncio.sleep(0.1)
    assert [n["data"]["path"] for n in notes if n["tag"] == "evil"] == ["/chat"]


async def test_devices_in_the_settings_and_no_push_while_looking(ui_daemon: Any, page: Any, stub: PushStub,
                                                                  tmp_path: Path, irc_client: Any) -> None:
    ca = tmp_path / "test-ca.pem"
    ca.write_bytes(stub.ca.ca_pem)
    # The daemon trusts the test CA (OpenSSL reads SSL_CERT_FILE) and may reach 127.0.0.1.
    d = await ui_daemon(env={"CONVOS_PUSH_ALLOW_PRIVATE": "1", "SSL_CERT_FILE": str(ca)})
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        res = await http.post(d.url + "/api/user/login", json={"email": EMAIL, "password": PASSWORD})
        assert res.status == 200
        stub.vapid_key = (await (await http.get(d.url + "/api/push/key")).json())["public_key"]
        res = await http.post(d.url + "/api/push/subscriptions",
                              json={"subscription": stub.device("phone").subscription(), "name": "My phone"})
        assert res.status == 200, await res.text()

    # The page shows #convos, visible and focused: a mention there is not pushed; a private message is.
    await until(page, "() => document.visibilityState === 'visible' && document.hasFocus()")
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    await jimmy.privmsg("#convos", "superman: you are looking")
    await expect(page.get_by_role("log").get_by_text("superman: you are looking")).to_be_visible()
    await jimmy.privmsg("superman", "private word")
    [got] = await stub.wait(1)
    assert got.payload["body"] == "private word"

    await page.goto(d.url + "/settings/account")
    section = page.get_by_role("region", name="Push notifications")
    device = section.locator("[data-device]")
    await expect(device).to_contain_text("My phone")
    await expect(device).to_contain_text("Last used")
    await section.get_by_role("button", name="Send a test notification").click()
    await expect(section.get_by_text("Sent to 1 devices.")).to_be_visible()
    got = (await stub.wait(2))[-1]
    assert got.payload["body"] == "Notifications work on this device."

    # Away from #convos (on the settings page), mentions there are pushed again.
    await jimmy.privmsg("#convos", "superman: now you are not")
    got = (await stub.wait(3))[-1]
    assert got.payload["body"] == "superman: now you are not"

    await section.get_by_label("Send message text").uncheck()
    await expect(section.get_by_text("Saved.")).to_be_visible()
    await section.get_by_label("Conversation").select_option(label="#convos (localhost)")
    await section.get_by_label("Push", exact=True).select_option("nothing")
    await expect(section.get_by_label("Push", exact=True)).to_have_value("nothing")
    settings = await page.evaluate("fetch('/api/push/settings').then((r) => r.json())")
    assert settings["content"] is False
    assert settings["conversations"] == [{"connection_id": "irc-localhost", "conversation_id": "#convos",
                                          "policy": "nothing"}]

    await section.get_by_role("button", name="Remove device My phone").click()
    await expect(section.get_by_text("No devices get notifications yet.")).to_be_visible()
    await expect(section.get_by_role("button", name="Send a test notification")).to_be_disabled()
    assert stub.problems == []
