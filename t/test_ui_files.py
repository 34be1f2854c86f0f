"""Files in the browser: upload by button, paste and drop, the link in the input box and on
IRC, errors (413), and the files page (/settings/files) with paging and delete.

Fixtures: `ui_daemon`, `page` (t/browser.py), `irc_client` (t/ircd.py).
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from playwright.async_api import expect
from test_ui_chat import register_first_user, sidebar
from test_ui_search import irc_peer_in_convos

MAX_UPLOAD = 4000  # CONVOS_MAX_UPLOAD_SIZE for these tests: the whole multipart body
FILE_URL = r"http://127\.0\.0\.1:\d+/file/\w+/[\w-]+"

# A file in the input box's clipboard (paste) or dropped on the conversation.
PASTE_JS = """(el) => {
    const dt = new DataTransfer();
    dt.items.add(new File(["pasted bytes"], "pasted.txt", {type: "text/plain"}));
    el.dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true}));
}"""
DROP_JS = """(el) => {
    const dt = new DataTransfer();
    dt.items.add(new File(["dropped bytes"], "dropped.txt", {type: "text/plain"}));
    for (const type of ["dragenter", "dragover", "drop"]) {
        el.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
    }
}"""


def rows(page: Any) -> Any:
    return page.get_by_role("table").locator("tbody tr")


async def test_upload_send_list_delete(ui_daemon: Any, page: Any, irc_client: Any) -> None:
    d = await ui_daemon(env={"CONVOS_MAX_UPLOAD_SIZE": str(MAX_UPLOAD)})
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    alice = await irc_peer_in_convos(irc_client)
    composer = page.get_by_role("textbox", name="Message #convos")

    # The button: the link goes in at the caret, and can be sent.
    await composer.fill("my notes:")
    async with page.expect_file_chooser() as chooser:
        await page.get_by_role("button", name="Upload a file").click()
    await (await chooser.value).set_files(files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello files"}])
    await expect(composer).to_have_value(re.compile(rf"^my notes: {FILE_URL}$"))
    link = (await composer.input_value()).split()[-1]
    await expect(composer).to_be_focused()
    await composer.press("Enter")
    got = await alice.expect(lambda m: m.command == "PRIVMSG" and link in m.params[-1])
    assert got.params[-1] == f"my notes: {link}"
    async with aiohttp.ClientSession() as http, http.get(link + ".txt") as res:
        assert res.status == 200
        assert await res.text() == "hello files"

    # Pasting a file and dropping one on the conversation upload them too.
    await composer.evaluate(PASTE_JS)
    await expect(composer).to_have_value(re.compile(rf"^{FILE_URL}$"))
    await page.locator(".conv").evaluate(DROP_JS)
    await expect(composer).to_have_value(re.compile(rf"^{FILE_URL} {FILE_URL}$"))
    await expect(page.locator(".conv--drop")).to_have_count(0)
    await composer.fill("")

    # Too big: the API's message, and nothing is inserted.
    async with page.expect_file_chooser() as chooser:
        await page.get_by_role("button", name="Upload a file").click()
    await (await chooser.value).set_files(files=[{"name": "big.bin", "mimeType": "application/octet-stream",
                                                  "buffer": b"x" * (MAX_UPLOAD * 2)}])
    alert = page.get_by_role("alert").filter(has_text="Could not upload big.bin")
    await expect(alert).to_contain_text("Maximum message size exceeded")
    await expect(composer).to_have_value("")
    await alert.get_by_role("button", name="Dismiss").click()
    await expect(alert).to_have_count(0)

    # The files page lists them (newest first; these came in the same second, so by id).
    await sidebar(page).get_by_role("link", name="Files", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/settings/files$"))
    await expect(page.get_by_role("heading", name="Files", exact=True)).to_be_visible()
    await expect(rows(page)).to_have_count(3)
    names = page.get_by_role("table").locator(".files__name")
    assert sorted(await names.all_text_contents()) == ["dropped.txt", "notes.txt", "pasted.txt"]
    await expect(page.get_by_role("link", name="notes.txt")).to_have_attribute("href", re.compile(r"/file/\w+/[\w-]+$"))
    assert link.endswith(await page.get_by_role("link", name="notes.txt").get_attribute("href"))
    await expect(rows(page).filter(has_text="notes.txt")).to_contain_text("11 bytes")

    # Delete asks first; Cancel keeps the file.
    await page.get_by_role("button", name="Delete notes.txt").click()
    dialog = page.get_by_role("alertdialog", name="Delete notes.txt?")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_have_count(0)
    await expect(rows(page)).to_have_count(3)
    await page.get_by_role("button", name="Delete notes.txt").click()
    await page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("status").filter(has_text="Deleted 1 file.")).to_be_visible()
    await expect(rows(page)).to_have_count(2)
    await expect(page.get_by_role("link", name="notes.txt")).to_have_count(0)
    async with aiohttp.ClientSession() as http, http.get(link) as res:
        assert res.status == 404

    # Several at once, with the checkboxes.
    await page.get_by_role("checkbox", name="Select all files").check()
    await page.get_by_role("button", name="Delete selected (2)").click()
    await page.get_by_role("alertdialog", name="Delete 2 files?").get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("status").filter(has_text="Deleted 2 files.")).to_be_visible()
    await expect(page.get_by_role("table")).to_be_hidden()

    # Deleted meanwhile (in another tab): the API answers 404, the page says so and shows what is left.
    fid = await page.evaluate("""async () => {
        const body = new FormData();
        body.append("file", new File(["gone soon"], "gone.txt"));
        const res = await fetch("/api/files", {method: "POST", body});
        return (await res.json()).files[0].id;
    }""")
    await page.reload()
    await expect(rows(page)).to_have_count(1)
    status = await page.evaluate("async (id) => (await fetch(`/api/files/1/${id}`, {method: 'DELETE'})).status", fid)
    assert status == 200
    await page.get_by_role("button", name="Delete gone.txt").click()
    await page.get_by_role("alertdialog", name="Delete gone.txt?").get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("status").filter(has_text="File not found.")).to_be_visible()
    await expect(page.get_by_role("table")).to_be_hidden()
    assert page.seen.dialogs == []


async def test_files_page_pages(ui_daemon: Any, page: Any) -> None:
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/"))
    # 125 files (60 a page), uploaded with the API.
    count = await page.evaluate("""async () => {
        for (let i = 0; i < 125; i++) {
            const body = new FormData();
            body.append("file", new File([`file number ${i}`], `file-${String(i).padStart(3, "0")}.txt`));
            const res = await fetch("/api/files", {method: "POST", body});
            if (!res.ok) throw new Error(await res.text());
        }
        return (await (await fetch("/api/files")).json()).files.length;
    }""")
    assert count == 60
    await page.goto(d.url + "/settings/files")
    pages = page.get_by_role("navigation", name="Pages")
    newer = pages.get_by_role("link", name="Newer files")
    older = pages.get_by_role("link", name="Older files")
    names = page.get_by_role("table").locator(".files__name")
    seen = []
    for expected in (60, 60, 5):
        await expect(rows(page)).to_have_count(expected)
        if seen:
            await expect(newer).to_be_visible()
        else:
            await expect(newer).to_be_hidden()
        seen.append(await names.all_text_contents())
        if expected == 5:
            await expect(older).to_be_hidden()
        else:
            await older.click()
            await expect(page).to_have_url(re.compile(r"/settings/files\?after=[\w-]+$"))
            await expect(names.first).not_to_have_text(seen[-1][0])
    # Every file once, none skipped.
    assert sorted(name for page_names in seen for name in page_names) == [f"file-{i:03d}.txt" for i in range(125)]
    # And back: the same pages again.
    await newer.click()
    await expect(rows(page)).to_have_count(60)
    assert await names.all_text_contents() == seen[1]
    await newer.click()
    await expect(page).to_have_url(re.compile(r"/settings/files$"))
    await expect(names.first).to_have_text(seen[0][0])
    assert await names.all_text_contents() == seen[0]
