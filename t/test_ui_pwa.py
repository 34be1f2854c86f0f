"""The installable app (spec §7.7): the manifest, the icons, /sw/info and the service worker,
also under a sub path; in Chromium the worker registers, controls the page and serves the
app shell when the daemon is gone.

Fixtures: `daemon`, `ui_daemon`, `page`, `sub_path_proxy` (t/browser.py, t/conftest.py).
"""

from __future__ import annotations

import json
import re
import struct
from typing import Any

import aiohttp
from browser import write_settings
from playwright.async_api import expect
from test_ui_chat import register_first_user

from convos import __version__


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


async def test_manifest_icons_and_worker_script(daemon: Any, sub_path_proxy: Any, tmp_path: Any) -> None:
    home = tmp_path / "home"
    write_settings(home, default_connection="irc://localhost:6667/%23convos?tls=0")
    d = await daemon(home, {"CONVOS_REVERSE_PROXY": "1"})
    proxy = await sub_path_proxy(d.url)
    async with aiohttp.ClientSession() as http:
        async with http.get(d.url + "/sw/info") as res:
            assert res.status == 200
            assert await res.json() == {"mode": "production", "version": __version__}

        async with http.get(d.url + "/") as res:
            shell = await res.text()
        assert f'<link rel="manifest" href="{d.url}/assets/site.webmanifest">' in shell

        async with http.get(d.url + "/assets/site.webmanifest") as res:
            assert res.status == 200
            assert res.headers["Content-Type"].startswith("application/manifest+json")
            manifest = json.loads(await res.text())
        assert manifest["name"] == "Convos"
        assert manifest["start_url"] == "/?standalone=true"
        assert manifest["scope"] == "/"
        assert manifest["display"] == "standalone"
        assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
        sizes = set()
        for icon in manifest["icons"]:
            async with http.get(d.url + icon["src"]) as res:
                assert res.status == 200, icon
                assert res.headers["Content-Type"] == "image/png"
                w, h = png_size(await res.read())
            assert icon["sizes"] == f"{w}x{h}"
            sizes.add((w, icon["purpose"]))
        assert {(192, "any"), (512, "any"), (512, "maskable")} <= sizes

        async with http.get(d.url + "/sw.js") as res:
            assert res.status == 200
            assert res.headers["Content-Type"].startswith("text/javascript")
            assert res.headers["Cache-Control"] == "no-cache"
            first, source = (await res.text()).split("\n", 1)
        config = json.loads(re.fullmatch(r"self\.CONVOS_SW = (.*);", first).group(1))  # type: ignore[union-attr]
        assert config["version"] == __version__
        assert re.fullmatch(rf"convos-{re.escape(__version__)}-[0-9a-f]{{12}}", config["cache"])
        assert config["base"] == ""
        assert "/assets/js/app.js" in config["assets"]
        assert "/assets/images/icon-192.png" in config["assets"]
        assert "/assets/sw.js" not in config["assets"]
        assert "addEventListener(\"fetch\"" in source

        # Under a sub path everything follows the base path.
        async with http.get(proxy.url + "/assets/site.webmanifest") as res:
            manifest = json.loads(await res.text())
        assert manifest["start_url"] == "/sub/?standalone=true"
        assert manifest["scope"] == "/sub/"
        assert all(icon["src"].startswith("/sub/assets/images/") for icon in manifest["icons"])
        async with http.get(proxy.url + "/sw.js") as res:
            assert res.headers["Service-Worker-Allowed"] == "/sub/"
            first = (await res.text()).split("\n", 1)[0]
        config = json.loads(first[len("self.CONVOS_SW = "):-1])
        assert config["base"] == "/sub"
        assert "/sub/assets/js/app.js" in config["assets"]
        async with http.get(proxy.url + "/sw/info") as res:
            assert (await res.json())["version"] == __version__


async def test_service_worker_in_the_browser(ui_daemon: Any, page: Any) -> None:
    d = await ui_daemon()
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    # http://127.0.0.1 counts as a secure context, so the worker registers.
    script = await page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.scriptURL)")
    assert script == d.url + "/sw.js"
    await page.reload()
    await expect(page.get_by_role("heading", name="#convos", exact=True)).to_be_visible()
    assert await page.evaluate("navigator.serviceWorker.controller && navigator.serviceWorker.controller.scriptURL") \
        == d.url + "/sw.js"

    # The worker answers /sw/info itself and has the app in its cache, named after the version.
    info = await page.evaluate("fetch('/sw/info').then((r) => r.json())")
    assert info == {"mode": "production", "version": __version__}
    cached = await page.evaluate("""async () => {
        const names = await caches.keys();
        const cache = await caches.open(names.find((n) => n.startsWith("convos-")));
        return {names, urls: (await cache.keys()).map((r) => new URL(r.url).pathname)};
    }""")
    assert [n for n in cached["names"] if n.startswith("convos-")] == [n for n in cached["names"]]
    assert len(cached["names"]) == 1 and cached["names"][0].startswith(f"convos-{__version__}-")
    assert {"/", "/assets/js/app.js", "/assets/css/convos.css", "/assets/js/views/settings.js"} <= set(cached["urls"])
    # The API is never cached.
    assert not any(u.startswith("/api/") and not u.startswith("/api/i18n/") for u in cached["urls"])

    # Without the daemon, the page still loads from the cache and says what is wrong.
    await d.stop()
    await page.goto(d.url + "/chat/irc-localhost/%23convos")
    await expect(page.get_by_role("heading", name="Convos could not start")).to_be_visible()
    await expect(page.get_by_text("Could not reach Convos. Check your network connection.")).to_be_visible()
