"""The conversation tools in headless Chromium: edit the topic where you may, the video-call
button from the server's video_service, and downloading the history as plain text.

Fixtures: `ui_daemon`, `page` (t/browser.py), `ircd`, `irc_client` (t/ircd.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.async_api import expect
from test_ui_chat import log_of, sidebar
from test_ui_trust import registered, say


def header(page: Any) -> Any:
    return page.locator(".conv__header")


async def test_edit_topic_where_allowed(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    await registered(ui_daemon, page)
    # We made #convos, so we are its operator: the topic can be edited from the header.
    edit = header(page).get_by_role("button", name="Edit topic")
    await expect(edit).to_be_visible()
    await edit.click()
    box = header(page).get_by_role("textbox", name="Topic")
    await expect(box).to_be_focused()
    await box.fill("Welcome to \x02the\x02 Planet")
    await box.press("Enter")
    await expect(page.locator(".conv__topic")).to_have_text("Welcome to the Planet")
    await expect(box).to_have_count(0)
    await expect(log_of(page).get_by_text("superman changed the topic to: Welcome to the Planet")).to_be_visible()
    # Escape leaves it as it was.
    await edit.click()
    await header(page).get_by_role("textbox", name="Topic").fill("never sent")
    await header(page).get_by_role("textbox", name="Topic").press("Escape")
    await expect(page.locator(".conv__topic")).to_have_text("Welcome to the Planet")
    await expect(edit).to_be_focused()

    # In someone else's channel with +t we may not; once they drop +t, we may.
    lois = await irc_client("lois")
    await lois.join("#planet")
    await lois.send("MODE #planet +t")
    await page.get_by_role("textbox", name="Message #convos").fill("/join #planet")
    await page.get_by_role("textbox", name="Message #convos").press("Enter")
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23planet$"))
    await expect(page.get_by_role("heading", name="#planet", exact=True)).to_be_visible()
    people = page.get_by_role("complementary", name=re.compile("Participants"))
    await expect(people.get_by_role("button", name=re.compile("^lois"))).to_be_visible()
    await expect(header(page).get_by_role("button", name="Edit topic")).to_be_hidden()
    await lois.send("MODE #planet -t")
    await expect(header(page).get_by_role("button", name="Edit topic")).to_be_visible()
    await header(page).get_by_role("button", name="Edit topic").click()
    await header(page).get_by_role("textbox", name="Topic").fill("open to all")
    await header(page).get_by_role("button", name="Save").click()
    await lois.expect(lambda m: m.command == "TOPIC" and m.params[-1] == "open to all")
    # The server tab has no topic to edit.
    await sidebar(page).get_by_role("link", name=re.compile("^localhost")).click()
    await expect(header(page).get_by_role("button", name="Edit topic")).to_have_count(0)


async def test_video_call_button(ui_daemon: Any, page: Any) -> None:
    d = await registered(ui_daemon, page)
    await page.context.route("https://meet.jit.si/**", lambda route: route.fulfill(body="a video room",
                                                                                   content_type="text/plain"))
    video = header(page).get_by_role("link", name="Video call")
    await expect(video).to_have_attribute("href", "https://meet.jit.si/convos-irc-localhost-convos")
    await expect(video).to_have_attribute("target", "_blank")
    async with page.context.expect_page() as popup:
        await video.click()
    room = await popup.value
    await expect(room).to_have_url("https://meet.jit.si/convos-irc-localhost-convos")
    # The link is in the input box, to send to the others.
    await expect(page.get_by_role("textbox", name="Message #convos")).to_have_value(
        "https://meet.jit.si/convos-irc-localhost-convos ")
    await room.close()

    # The admin's own service, and none at all.
    for service, href in (("https://video.example.com/rooms", "https://video.example.com/rooms/convos-irc-localhost-convos"),
                          ("", None)):
        res = await page.request.post(d.url + "/api/settings", data={"video_service": service},
                                      headers={"Origin": d.url})
        assert res.ok, await res.text()
        await page.reload()
        video = header(page).get_by_role("link", name="Video call")
        if href:
            await expect(video).to_have_attribute("href", href)
        else:
            await expect(page.get_by_role("heading", name="#convos", exact=True)).to_be_visible()
            await expect(video).to_be_hidden()


async def test_download_history(ui_daemon: Any, page: Any) -> None:
    await registered(ui_daemon, page)
    await say(page, "#convos", "first line to keep")
    await say(page, "#convos", "second line to keep")
    await expect(log_of(page).get_by_text("second line to keep")).to_be_visible()
    await header(page).get_by_role("button", name="Download history").click()
    dialog = page.get_by_role("dialog", name="Download history of #convos")
    month = datetime.now(UTC).strftime("%Y-%m")
    await expect(dialog.get_by_label("Month", exact=True)).to_have_value(month)
    async with page.expect_download() as info:
        await dialog.get_by_role("button", name="Download").click()
    download = await info.value
    assert download.suggested_filename == f"irc-localhost-_convos-{month}.txt"
    text = Path(await download.path()).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d <superman> first line to keep", line) for line in lines), lines
    assert lines.index(next(x for x in lines if x.endswith("first line to keep"))) < lines.index(
        next(x for x in lines if x.endswith("second line to keep")))
    await expect(dialog).to_have_count(0)

    # A range the wrong way round: the server's words in the dialog, no download.
    await header(page).get_by_role("button", name="Download history").click()
    dialog = page.get_by_role("dialog", name="Download history of #convos")
    await dialog.get_by_label("From one day to another").check()
    await dialog.get_by_label("From", exact=True).fill("2026-11-02")
    await dialog.get_by_label("To", exact=True).fill("2026-11-01")
    await dialog.get_by_role("button", name="Download").click()
    await expect(dialog.get_by_role("alert")).to_have_text("The end is before the start.")
