"""Mentions in the browser: the list, its badge, "Mark all as read" in every tab, and desktop
notifications (the Notification API, replaced by a recording fake in the page).

Fixtures: `ui_daemon`, `page`, `chromium` (t/browser.py), `irc_client` (t/ircd.py).
"""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect
from test_ui_chat import log_of, register_first_user, sidebar
from test_ui_search import irc_peer_in_convos

# Before the app loads: a Notification API that records what it is asked, and a switch for
# document.visibilityState (headless pages are always "visible").
FAKE_NOTIFICATIONS = """
window.__notes = [];
window.__asked = 0;
window.__hidden = false;
class FakeNotification {
  constructor(title, options = {}) { window.__notes.push({title, body: options.body, tag: options.tag}); }
  addEventListener() {}
  close() {}
}
FakeNotification.permission = "default";
FakeNotification.requestPermission = async () => {
  window.__asked += 1;
  FakeNotification.permission = "granted";
  return "granted";
};
window.Notification = FakeNotification;
Object.defineProperty(Document.prototype, "visibilityState", {
  configurable: true, get() { return window.__hidden ? "hidden" : "visible"; },
});
"""


def mentions_badge(page: Any) -> Any:
    return sidebar(page).get_by_role("link", name=re.compile("^Notifications")).locator(".badge")


def mentions(page: Any) -> Any:
    return page.get_by_role("list", name="Mentions").get_by_role("listitem")


async def test_mentions_and_mark_all_read_in_two_tabs(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    alice = await irc_peer_in_convos(irc_client)

    await sidebar(page).get_by_role("link", name=re.compile("^Notifications")).click()
    await expect(page).to_have_url(re.compile(r"/chat/notifications$"))
    await expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()
    await expect(page.get_by_text("Nobody has mentioned you yet.")).to_be_visible()
    await expect(mentions_badge(page)).to_have_count(0)

    # A second tab of the same browser, on another page.
    other = await page.context.new_page()
    errors: list[str] = []
    other.on("pageerror", lambda err: errors.append(str(err)))
    await other.goto(d.url + "/search")
    await expect(other.get_by_role("heading", name="Search", exact=True)).to_be_visible()

    # A highlight shows live in the list, and both tabs count it.
    await alice.privmsg("#convos", "superman: are you there? <b>not bold</b>")
    item = mentions(page).filter(has_text="are you there?")
    await expect(item).to_be_visible()
    await expect(item).to_contain_text("<b>not bold</b>")
    await expect(item.locator("b")).to_have_count(0)
    await expect(item.locator(".msg__from")).to_have_text("alice")
    await expect(mentions_badge(page)).to_have_text(re.compile(r"^1\b"))
    await expect(mentions_badge(other)).to_have_text(re.compile(r"^1\b"))
    # Not a mention: no badge change.
    await alice.privmsg("#convos", "just chatting")
    await alice.privmsg("#convos", "Superman, second ping")
    await expect(mentions_badge(other)).to_have_text(re.compile(r"^2\b"))
    await expect(mentions(page)).to_have_count(2)

    # From the API after a reload: newest first, and the count is kept by the server.
    await page.reload()
    await expect(mentions(page)).to_have_count(2)
    await expect(mentions(page).nth(0)).to_contain_text("second ping")
    await expect(mentions(page).nth(1)).to_contain_text("are you there?")
    await expect(mentions_badge(page)).to_have_text(re.compile(r"^2\b"))
    await expect(page.get_by_text("2 unread mentions.")).to_be_visible()

    # "Mark all as read" clears the badge here and in the other tab; the list stays.
    await page.get_by_role("button", name="Mark all as read").click()
    await expect(mentions_badge(page)).to_have_count(0)
    await expect(mentions_badge(other)).to_have_count(0)
    await expect(page.get_by_text("All mentions are read.")).to_be_visible()
    await expect(mentions(page)).to_have_count(2)
    await page.reload()
    await expect(mentions(page)).to_have_count(2)
    await expect(mentions_badge(page)).to_have_count(0)

    # A mention links to its message in the conversation.
    await mentions(page).nth(1).get_by_role("link", name="#convos").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos\?around_id=[\w-]{16}$"))
    await expect(log_of(page).locator(".msg--target")).to_be_visible()
    await expect(log_of(page).locator(".msg--target")).to_contain_text("are you there?")
    await expect(log_of(page).locator(".msg--highlight", has_text="are you there?")).to_be_in_viewport()
    assert errors == []
    assert page.seen.dialogs == []


async def test_desktop_notifications(ui_daemon: Any, chromium: Any, irc_client: Any) -> None:
    await chromium.add_init_script(FAKE_NOTIFICATIONS)
    page = chromium.pages[0] if chromium.pages else await chromium.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    alice = await irc_peer_in_convos(irc_client)

    # Permission is only asked from the button, never on load.
    await page.goto(d.url + "/chat/notifications")
    allow = page.get_by_role("button", name="Allow desktop notifications")
    await expect(allow).to_be_visible()
    assert await page.evaluate("window.__asked") == 0
    # The switch is on when notifications will show: not before the browser allows them.
    switch = page.get_by_role("checkbox", name=re.compile("Show a desktop notification"))
    await expect(switch).not_to_be_checked()
    await allow.click()
    await expect(allow).to_be_hidden()
    await expect(switch).to_be_checked()
    await expect(page.get_by_text("Your browser allows notifications from Convos.")).to_be_visible()
    assert await page.evaluate("window.__asked") == 1

    # While the page is visible: nothing.
    await alice.privmsg("#convos", "superman: visible ping")
    await expect(page.get_by_role("list", name="Mentions").get_by_text("visible ping")).to_be_visible()
    assert await page.evaluate("window.__notes") == []

    # Hidden: a mention in a channel and a private message notify; other lines do not.
    await page.evaluate("window.__hidden = true")
    await alice.privmsg("#convos", "nobody is mentioned here")
    await alice.privmsg("#convos", "superman: \x02hidden\x02 ping")
    await alice.privmsg("superman", "psst, a private word")
    await page.wait_for_function("() => window.__notes.length >= 2")
    notes = await page.evaluate("window.__notes")
    assert [(n["title"], n["body"]) for n in notes] == [
        ("alice in #convos", "superman: hidden ping"),
        ("alice", "psst, a private word"),
    ]

    # The setting turns them off (and is remembered).
    await page.evaluate("window.__hidden = false")
    await switch.uncheck()
    await page.reload()
    await expect(page.get_by_role("checkbox", name=re.compile("Show a desktop notification"))).not_to_be_checked()
    await page.evaluate("window.__hidden = true")
    await alice.privmsg("#convos", "superman: muted ping")
    await page.evaluate("window.__hidden = false")
    await expect(page.get_by_role("list", name="Mentions").get_by_text("muted ping")).to_be_visible()
    assert await page.evaluate("window.__notes") == []
    # The switch is the `desktopNotifications.enabled` of js/notify.js (for the settings page).
    assert await page.evaluate("""async () => {
        const {desktopNotifications} = await import("/assets/js/notify.js");
        const before = desktopNotifications.enabled;
        desktopNotifications.enabled = true;
        return [before, desktopNotifications.enabled, localStorage.getItem("convos.desktopNotifications")];
    }""") == [False, True, "1"]
    assert errors == []
