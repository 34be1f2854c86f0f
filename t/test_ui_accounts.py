"""Accounts in the browser (invite links, taken emails), and how the app is served: static
files, the Content-Security-Policy, the base path and error pages."""

from __future__ import annotations

import re
from typing import Any

from browser import write_settings
from playwright.async_api import expect

EMAIL = "superman@example.com"
PASSWORD = "s3cret-enough"


async def test_register_errors_and_invite_link(daemon: Any, page: Any, tmp_path: Any) -> None:
    home = tmp_path / "home"
    write_settings(home, default_connection="irc://localhost:6667/%23convos?tls=0")
    d = await daemon(home)
    await page.goto(d.url + "/login")
    # No user yet: the login page sends the first user to the setup.
    await expect(page).to_have_url(re.compile(r"/register$"))
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Register").click()
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))

    # As the admin: open registration, and make an invite link for someone new.
    invite = await page.evaluate("""async () => {
        const post = (url, body) => fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify(body)}).then((r) => r.json());
        await post("/api/settings", {open_to_public: true});
        return post("/api/user/lois@example.com/invite", {});
    }""")
    assert invite["url"].startswith(d.url + "/register?"), invite

    await page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.get_by_role("link", name="Register").click()
    await expect(page.get_by_role("heading", name="Register")).to_be_visible()
    await page.get_by_label("Email").fill(EMAIL.upper())
    await page.get_by_label("Password").fill("another password")
    await page.get_by_role("button", name="Register").click()
    await expect(page.get_by_role("alert")).to_have_text("Email is taken.")

    # The invite link: the email is filled in and cannot be changed.
    await page.goto(invite["url"])
    email = page.get_by_label("Email")
    await expect(email).to_have_value("lois@example.com")
    await expect(email).to_have_attribute("readonly", "")
    await page.get_by_label("Password").fill("lois-password")
    await page.get_by_role("button", name="Register").click()
    await expect(page).to_have_url(re.compile(r"/chat/"))
    await expect(page.get_by_role("navigation", name="Conversations")).to_contain_text("lois@example.com")

    # An expired link is an error page from the server, with its message and a way back.
    await page.goto(d.url + "/register?email=x%40example.com&exp=1&token=abc")
    await expect(page.get_by_role("heading", name="The invite link has expired.")).to_be_visible()
    await expect(page.get_by_role("link", name="Try again")).to_be_visible()
    assert page.seen.dialogs == []


async def test_assets_and_security_headers(client: Any) -> None:
    res = await client.get("/assets/js/app.js")
    assert res.status == 200
    assert res.headers["Content-Type"].startswith("text/javascript")
    assert res.headers["Cache-Control"] == "no-cache"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    res = await client.get("/assets/css/convos.css", headers={"If-Modified-Since": res.headers["Last-Modified"]})
    assert res.status in (200, 304)
    for bad in ("/assets/../convos-api.json", "/assets/%2e%2e/convos-api.json", "/assets/js/.hidden", "/assets/nope.js"):
        res = await client.get(bad)
        assert res.status == 404, bad

    res = await client.get("/")
    html = await res.text()
    csp = res.headers["Content-Security-Policy"]
    host = f"{client.server.host}:{client.server.port}"
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert f"connect-src 'self' ws://{host} wss://{host};" in csp
    assert "img-src 'self' data:;" in csp  # other sites' pictures come through /api/embed/image
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    # No inline script: every <script> has a src.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert f'src="http://{host}/assets/js/app.js' in html
    assert '<meta name="csrf" content="' in html


async def test_base_path_in_the_shell(make_client: Any) -> None:
    # Under a sub path (behind a reverse proxy) the app loads its files from there too.
    client = await make_client({"CONVOS_REVERSE_PROXY": "1"})
    res = await client.get("/login", headers={"X-Request-Base": "https://chat.example.com/sub/"})
    html = await res.text()
    assert '<meta name="convos:base_url" content="https://chat.example.com/sub/">' in html
    assert 'href="https://chat.example.com/sub/assets/css/convos.css' in html
    assert 'src="https://chat.example.com/sub/assets/js/app.js' in html
    assert "connect-src 'self' ws://chat.example.com wss://chat.example.com;" in res.headers["Content-Security-Policy"]


async def test_under_a_sub_path(daemon: Any, sub_path_proxy: Any, page: Any, tmp_path: Any) -> None:
    # Behind a reverse proxy at /sub: every request of the app, the websocket included, stays under it.
    home = tmp_path / "home"
    write_settings(home, default_connection="irc://localhost:6667/%23convos?tls=0")
    d = await daemon(home, {"CONVOS_REVERSE_PROXY": "1"})
    proxy = await sub_path_proxy(d.url)
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    await page.goto(proxy.url + "/")
    await expect(page).to_have_url(proxy.url + "/register")
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Register").click()
    await expect(page).to_have_url(proxy.url + "/chat/irc-localhost/%23convos")
    # A command goes over the websocket and its answer comes back ("Not connected." here).
    box = page.get_by_role("textbox", name="Message #convos")
    await box.fill("/topic")
    await box.press("Enter")
    await expect(page.get_by_role("log").locator(".msg--error")).to_have_text(re.compile("Not connected."))
    await page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Help").click()
    await expect(page).to_have_url(proxy.url + "/help")
    assert sockets == [proxy.url.replace("http", "ws", 1) + "/events"]
    outside = [p for p in proxy.paths if not p.startswith("/sub/")]
    assert outside == [], outside
    await page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Log out").click()
    await expect(page).to_have_url(proxy.url + "/login")
