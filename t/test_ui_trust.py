"""Small things that erode trust, in headless Chromium against a real daemon and ngircd: a
message that did not arrive says so where it was sent, own nick changes and topic changes say
who, quit reasons read as written, the "New messages" line sits below the day, the app's own
/whois leaves no noise, the notification switch and counts agree, the address bar forgets
/login and invite tokens, a retrying connection says when, forms line up, 👍 before 👎.

Fixtures: `ui_daemon`, `page`, `chromium` (t/browser.py), `ircd`, `irc_client` (t/ircd.py).
"""

from __future__ import annotations

import re
from typing import Any

from browser import until
from playwright.async_api import expect
from test_ui_admin import second_browser
from test_ui_chat import EMAIL, PASSWORD, log_of, register_first_user, sidebar
from test_ui_notifications import FAKE_NOTIFICATIONS, mentions
from test_ui_search import irc_peer_in_convos


async def registered(ui_daemon: Any, page: Any, env: dict[str, str] | None = None) -> Any:
    d = await ui_daemon(env=env)
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    await expect(sidebar(page).get_by_role("img", name="Connected")).to_be_visible()
    return d


async def say(page: Any, conversation: str, text: str) -> None:
    box = page.get_by_role("textbox", name=f"Message {conversation}")
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("")


async def test_messages_that_do_not_arrive(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    await registered(ui_daemon, page)

    # /msg to a nick nobody has, from #convos: the conversation is not added silently (a red
    # badge), and the server's answer is in it, after the line.
    await say(page, "#convos", "/msg nosuchnick hi there")
    link = sidebar(page).get_by_role("link", name=re.compile("^nosuchnick"))
    await expect(link.locator(".badge--mention")).to_be_visible()
    await link.click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/nosuchnick$"))
    lines = log_of(page).locator(".msg")
    await expect(lines.filter(has_text="hi there")).to_have_count(1)
    error = lines.filter(has_text="No such nick or channel name")
    await expect(error).to_have_class(re.compile(r"\bmsg--error\b"))
    texts = await lines.locator(".msg__text").all_inner_texts()
    assert texts.index("No such nick or channel name") > texts.index("hi there"), texts
    # Opening it asked /whois (the header says the nick is gone) without noise in the server tab.
    await expect(page.locator(".conv__frozen")).to_have_text("No such nick or channel name")
    await sidebar(page).get_by_role("link", name=re.compile("^localhost")).click()
    await expect(log_of(page)).to_contain_text("Connected to 127.0.0.1.")
    await expect(log_of(page)).not_to_contain_text("End of WHOIS list")
    await expect(log_of(page)).not_to_contain_text("nosuchnick")

    # A private conversation with someone who changed nick meanwhile: the error shows at once.
    jimmy = await irc_client("jimmy")
    await jimmy.privmsg("superman", "psst")
    await sidebar(page).get_by_role("link", name=re.compile("^jimmy")).click()
    await expect(log_of(page).get_by_text("psst")).to_be_visible()
    await jimmy.send("NICK jimbo")
    jimmy.nick = "jimbo"
    await jimmy.join("#elsewhere")  # answered after the NICK
    await say(page, "jimmy", "are you still there?")
    await expect(log_of(page).locator(".msg--error", has_text="No such nick or channel name")).to_be_visible()


async def test_nick_topic_and_quit_lines(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    await registered(ui_daemon, page)
    alice = await irc_peer_in_convos(irc_client)
    log = log_of(page)

    # Who changed the topic.
    await alice.send("TOPIC #convos :The Daily Planet")
    await expect(log.get_by_text("alice changed the topic to: The Daily Planet")).to_be_visible()
    await expect(page.locator(".conv__topic")).to_have_text("The Daily Planet")

    # Our own nick change shows, and our earlier lines stay ours.
    await say(page, "#convos", "before the change")
    await expect(log.locator(".msg--own", has_text="before the change")).to_be_visible()
    await say(page, "#convos", "/nick superduper")
    await expect(log.get_by_text("You are now known as superduper.")).to_be_visible()
    people = page.get_by_role("complementary", name=re.compile("Participants"))
    await expect(people.get_by_role("button", name=re.compile("^superduper"))).to_be_visible()
    await expect(people.get_by_role("button", name=re.compile("^superman"))).to_have_count(0)
    await say(page, "#convos", "after the change")
    await expect(log.locator(".msg--own", has_text="after the change")).to_be_visible()

    # A quit reason as alice wrote it (ngircd quotes it).
    await alice.send("QUIT :https://convos.chat")
    await expect(log.get_by_text("alice quit. (https://convos.chat)")).to_be_visible()
    # Drawn again (another conversation and back, then a reload): still ours.
    await sidebar(page).get_by_role("link", name=re.compile("^localhost")).click()
    await expect(log_of(page).get_by_text("You are now known as superduper.")).to_be_visible()
    await sidebar(page).get_by_role("link", name="#convos").click()
    await expect(log_of(page).locator(".msg--own", has_text="before the change")).to_be_visible()
    await page.reload()
    await expect(log_of(page).locator(".msg--own", has_text="before the change")).to_be_visible()
    await expect(log_of(page).locator(".msg--own", has_text="after the change")).to_be_visible()

    # Our own disconnect: the server's goodbye is no error.
    await sidebar(page).get_by_role("link", name=re.compile("^localhost")).click()
    await page.get_by_role("button", name="Disconnect").click()
    await expect(log_of(page).get_by_text("Disconnected.", exact=True)).to_be_visible()
    await expect(log_of(page).locator(".msg--error")).to_have_count(0)
    await expect(log_of(page)).not_to_contain_text('"https://convos.chat"')


async def test_new_messages_line_below_the_day(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    await registered(ui_daemon, page)
    alice = await irc_peer_in_convos(irc_client)
    box = page.get_by_role("textbox", name="Message #convos")
    await box.fill("/join #other")
    await box.press("Enter")
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23other$"))
    await alice.privmsg("#convos", "first of the day")
    await alice.privmsg("#convos", "second of the day")
    badge = sidebar(page).get_by_role("link", name=re.compile("^#convos")).locator(".badge")
    await expect(badge).to_have_text(re.compile(r"^2\b"))
    await sidebar(page).get_by_role("link", name=re.compile("^#convos")).click()
    marker = log_of(page).get_by_role("separator").filter(has_text="New messages")
    day = log_of(page).get_by_role("separator").filter(has_text="Today")
    await expect(marker).to_be_visible()
    await expect(day).to_have_count(1)
    await expect(log_of(page).locator(".unread-marker + .msg")).to_contain_text("first of the day")
    # Top to bottom: the day, then "New messages", then the first new line.
    first = log_of(page).locator(".msg__text", has_text="first of the day")
    boxes = [await el.bounding_box() for el in (day, marker, first)]
    assert all(boxes), boxes
    tops = [b["y"] for b in boxes if b]
    assert tops == sorted(tops) and len(set(tops)) == 3, tops


async def test_notifications_page_and_switch_agree(ui_daemon: Any, chromium: Any, irc_client: Any) -> None:
    await chromium.add_init_script(FAKE_NOTIFICATIONS)
    page = chromium.pages[0] if chromium.pages else await chromium.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    d = await registered(ui_daemon, page)
    alice = await irc_peer_in_convos(irc_client)

    # Three mentions read as they came (#convos is open): the page lists them and does not
    # say "No unread mentions." above them.
    for n in (1, 2, 3):
        await alice.privmsg("#convos", f"superman: ping {n}")
    await expect(log_of(page).get_by_text("superman: ping 3")).to_be_visible()
    await sidebar(page).get_by_role("link", name=re.compile("^Notifications")).click()
    await expect(mentions(page)).to_have_count(3)
    await expect(page.get_by_text("All mentions are read.")).to_be_visible()
    await expect(page.get_by_text("No unread mentions.")).to_have_count(0)
    # ...and the server agrees, though the conversation was left at once (it was read).
    await until(page, """async () => {
        const {conversations} = await (await fetch("/api/conversations")).json();
        return conversations.find((c) => c.conversation_id === "#convos").notifications === 0;
    }""")

    # One unread mention elsewhere: screen readers hear "1 mention", not "1 mentions".
    await page.goto(d.url + "/chat/irc-localhost")
    await alice.privmsg("#convos", "superman: one more")
    convos_link = sidebar(page).get_by_role("link", name=re.compile("^#convos"))
    await expect(convos_link).to_have_accessible_name("#convos 1 unread, 1 mention")
    await expect(sidebar(page).get_by_role("link", name=re.compile("^Notifications"))).to_have_accessible_name(
        "Notifications 1 unread mention")

    # The desktop switch: off on both pages while the browser has not allowed notifications,
    # on both once it has, and turning it off on one page turns it off on the other. (Moving
    # through the app's links: the fake Notification API lives as long as the page.)
    switch = page.get_by_role("checkbox", name=re.compile("Show a desktop notification"))
    settings_switch = page.get_by_role("checkbox", name="Desktop notifications")
    notifications_link = sidebar(page).get_by_role("link", name=re.compile("^Notifications"))
    settings_link = sidebar(page).get_by_role("link", name="Settings")
    await notifications_link.click()
    await expect(switch).not_to_be_checked()
    await settings_link.click()
    await expect(settings_switch).not_to_be_checked()
    await notifications_link.click()
    await page.get_by_role("button", name="Allow desktop notifications").click()
    await expect(switch).to_be_checked()
    await settings_link.click()
    await expect(settings_switch).to_be_checked()
    await settings_switch.uncheck()
    await notifications_link.click()
    await expect(switch).not_to_be_checked()
    await switch.check()
    await settings_link.click()
    await expect(settings_switch).to_be_checked()
    assert errors == []


async def test_the_address_bar_forgets_login_and_tokens(ui_daemon: Any, page: Any) -> None:
    await registered(ui_daemon, page)
    invite = await page.evaluate("""async () => {
        const res = await fetch("/api/user/lois%40example.com/invite", {method: "POST", headers: {Accept: "application/json"}});
        return await res.json();
    }""")
    assert "token=" in invite["url"]

    # Logging in replaces /login: Back does not return to it.
    await sidebar(page).get_by_role("link", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    before = await page.evaluate("history.length")
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    assert await page.evaluate("history.length") == before

    # Registering from an invite link: the token leaves the address and the history.
    async with second_browser() as lois:
        await lois.goto(invite["url"])
        await lois.get_by_label("Password").fill("lois-password")
        await lois.get_by_role("button", name="Register").click()
        await expect(lois).to_have_url(re.compile(r"/chat"))
        assert "token=" not in lois.url
        assert await lois.evaluate("history.length") == 2  # the blank page, and the chat
        await lois.go_back()
        assert "token=" not in lois.url


async def test_a_retrying_connection_says_when(ui_daemon: Any, page: Any, ircd: Any) -> None:
    await registered(ui_daemon, page, env={"CONVOS_CONNECT_DELAY": "3"})
    await sidebar(page).get_by_role("link", name=re.compile("^localhost")).click()
    header = page.locator(".conv__header")
    await expect(header).to_contain_text("Connected")
    await ircd.stop()
    await expect(header).to_contain_text(re.compile(r"Reconnecting in \d+ s"))
    await expect(header).not_to_contain_text("Disconnected")
    await expect(sidebar(page).get_by_role("img", name="Reconnecting")).to_be_visible()
    now = page.get_by_role("button", name="Reconnect now")
    await expect(now).to_be_visible()
    await expect(page.get_by_role("button", name="Connect", exact=True)).to_have_count(0)
    await ircd.start()
    await now.click()
    await expect(sidebar(page).get_by_role("img", name="Connected")).to_be_visible()
    await expect(header).not_to_contain_text("Reconnecting")


WIDTHS_JS = """(selectors) => selectors.map((s) => {
    const el = document.querySelector(s);
    return el ? Math.round(el.getBoundingClientRect().width) : null;
})"""


async def test_settings_forms_line_up(ui_daemon: Any, page: Any) -> None:
    d = await registered(ui_daemon, page)

    # The invite form: labels on one line; the link no wider than the form.
    await page.goto(d.url + "/settings/users")
    await page.get_by_label("Email").fill("lois@example.com")
    await page.get_by_role("button", name="Create invite link").click()
    await expect(page.get_by_role("textbox", name="Invite link")).to_be_visible()
    heights = await page.evaluate("""() => [...document.querySelectorAll(".settings-form label, .invite label")]
        .map((l) => [l.textContent, Math.round(l.getBoundingClientRect().height)])""")
    assert len({h for _, h in heights}) == 1, heights
    form, link = await page.evaluate(WIDTHS_JS, [".settings-form", ".invite .form__field"])
    assert link <= form, (link, form)

    # The account page: theme and language as wide as the other fields.
    await page.goto(d.url + "/settings/account")
    await expect(page.get_by_label("Language")).to_be_visible()
    password, language, theme = await page.evaluate(
        WIDTHS_JS, ["input[name=password]", "select[name=lang]", "fieldset"])
    assert language == password and theme == password, (password, language, theme)

    # The connection editor: the certificate fingerprint as wide as the fields above it.
    await page.goto(d.url + "/settings/connection?connection_id=irc-localhost")
    await expect(page.get_by_label("Nick", exact=True)).to_be_visible()
    # A fingerprint put in the store, drawn and measured in one go: an info update from the server
    # (the connection may still be registering) would put the real info, without one, back.
    nick, fingerprint, row, label = await page.evaluate("""() => {
        const store = window.convos.store;
        const conn = store.connection("irc-localhost");
        conn.info = {...conn.info, certificate: {fingerprint: "ab".repeat(64)}};
        store.emit("sidebar");
        const box = document.querySelector("input[readonly].copy__value");
        const width = (el) => el ? Math.round(el.getBoundingClientRect().width) : null;
        return [width(document.querySelector("input[name=nick]")), width(box),
            width(box && box.closest(".form__field")), box && box.labels[0].textContent];
    }""")
    assert label == "Certificate fingerprint", label
    assert row <= nick and fingerprint < nick, (nick, fingerprint, row)


async def test_thumbs_up_first(ui_daemon: Any, page: Any) -> None:
    await registered(ui_daemon, page)
    box = page.get_by_role("textbox", name="Message #convos")
    await box.press_sequentially(":thu")
    await box.press("Tab")
    await expect(box).to_have_value("👍")
    await box.press("Tab")
    await expect(box).to_have_value("👎")
