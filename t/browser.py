"""Headless Chromium for the UI tests: Debian's chromium driven by Playwright (async API).

Registered in t/conftest.py through `pytest_plugins`. Fixtures:

- `chromium`: a fresh persistent browser context (its own user-data dir in tmp_path), closed
  after the test;
- `page`: a page in it that records uncaught JS errors, console errors and JS dialogs
  (alert/confirm/prompt, dismissed at once); the test fails if a JS error was thrown or the
  Content-Security-Policy refused something;
- `ui_daemon`: `await ui_daemon()` starts a real `convos daemon` whose default connection is
  the test's ngircd (`{"default_connection": "irc://127.0.0.1:<port>/%23convos?tls=0"}` in
  settings.json), with CONVOS_SKIP_CONNECT=0, CONVOS_CONNECT_DELAY=0.1 and
  CONVOS_IRC_ALLOW_PRIVATE=1 (ngircd is on 127.0.0.1);
  `await ui_daemon.start_again(d)` restarts a stopped one on the same port;
- `sub_path_proxy`: a reverse proxy that serves a daemon under `/sub` (X-Request-Base);
- `contrast_failures(page)`: texts below WCAG AA contrast.

Set CONVOS_TEST_CHROMIUM to use another Chromium binary. Without one, the tests skip (or fail
when CI is set, as the ngircd tests do). Playwright's own browser download is never used.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 10_000  # Playwright's auto-waiting gives up after this


def chromium_binary() -> str | None:
    override = os.environ.get("CONVOS_TEST_CHROMIUM")
    if override:
        return override if os.access(override, os.X_OK) else None
    for name in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if name and os.access(name, os.X_OK):
            return name
    return None


def require_chromium() -> str:
    path = chromium_binary()
    msg = None
    if path is None:
        msg = "chromium is not installed: run bin/convos-test as root, or apt-get install chromium"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            msg = "playwright is not installed: pip install -e '.[test]'"
    if msg:
        if os.environ.get("CI"):
            pytest.fail(msg + "; CI is set, so this is an error, not a skip")
        pytest.skip(msg)
    assert path is not None
    return path


@pytest.fixture
async def chromium(tmp_path: Path) -> AsyncIterator[Any]:
    """A persistent context with a fresh user-data dir, so no state leaks between tests."""
    binary = require_chromium()
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT_MS)

    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=binary, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="UTC",
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            await context.close()


class PageErrors:
    """What a page did that a test wants to know about."""

    def __init__(self) -> None:
        self.js_errors: list[str] = []
        self.console_errors: list[str] = []
        self.dialogs: list[str] = []


@pytest.fixture
async def page(chromium: Any) -> AsyncIterator[Any]:
    page = chromium.pages[0] if chromium.pages else await chromium.new_page()
    seen = PageErrors()

    async def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()  # or the page would wait for it forever

    page.on("pageerror", lambda err: seen.js_errors.append(str(err)))
    page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", on_dialog)
    page.seen = seen
    yield page
    assert seen.js_errors == [], f"uncaught JavaScript errors: {seen.js_errors}"
    leaked = await leaked_values(page)
    assert leaked == [], f"JavaScript values shown as text (a null child given to append or replaceChildren?): {leaked}"
    csp = [m for m in seen.console_errors if "Content Security Policy" in m]
    assert csp == [], f"the app broke its own Content-Security-Policy: {csp}"


# Text nodes that are a JavaScript value turned into a string by mistake: `el.append(null)` and
# `el.replaceChildren(x, null)` insert the text "null", unlike the DOM helper h(), which skips it.
LEAKED_VALUES = """() => {
    const bad = new Set(["null", "undefined", "NaN", "[object Object]"]);
    const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
    const found = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (bad.has(node.nodeValue.trim())) found.push(`${node.parentElement.outerHTML.slice(0, 200)}`);
    }
    return found;
}"""


async def leaked_values(page: Any) -> list[str]:
    """What LEAKED_VALUES finds on the page now; nothing when the page is closed or navigating."""
    from playwright.async_api import Error as PlaywrightError

    try:
        found: list[str] = await page.evaluate(LEAKED_VALUES)
    except PlaywrightError:
        return []
    return found


async def until(page: Any, script: str, arg: Any = None, timeout: float = 30) -> None:
    """Wait until `script`, an async function run in the page, returns true.

    `page.wait_for_function` takes the promise an async function returns for a true value, so
    it would not wait at all; this polls every 100 ms and fails after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await page.evaluate(script, arg):
        assert loop.time() < deadline, f"still false after {timeout} s: {script}"
        await asyncio.sleep(0.1)


def write_settings(home: Path, **settings: Any) -> None:
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = home / "settings.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(settings)
    path.write_text(json.dumps(data))
    path.chmod(0o600)


class UiDaemons:
    """`await ui_daemon()` starts a daemon for the UI; `await ui_daemon.start_again(d)` starts a
    stopped one again on the same port, so an open page can reconnect to it."""

    def __init__(self, daemon: Any, ircd: Any, tmp_path: Path) -> None:
        self._daemon = daemon
        self._ircd = ircd
        self._tmp_path = tmp_path
        self.extra: list[Any] = []

    def env(self, env: dict[str, str] | None = None) -> dict[str, str]:
        # ngircd is on 127.0.0.1, a private address users may not reach unless allowed.
        return {"CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_DELAY": "0.1", "CONVOS_IRC_ALLOW_PRIVATE": "1", **(env or {})}

    async def __call__(self, home: Path | None = None, env: dict[str, str] | None = None) -> Any:
        home = home or self._tmp_path / "ui-home"
        if not (home / "settings.json").exists():
            write_settings(home, default_connection=f"irc://127.0.0.1:{self._ircd.port}/%23convos?tls=0")
        return await self._daemon(home, self.env(env))

    async def start_again(self, old: Any) -> Any:
        from conftest import Daemon

        assert old.proc is None or old.proc.returncode is not None, "stop the daemon first"
        d = Daemon(old.home, {k: v for k, v in old.env.items() if k.startswith("CONVOS_")})
        d.port, d.url = old.port, old.url
        self.extra.append(d)
        return await d.start()

    async def close(self) -> None:
        for d in self.extra:
            if d.proc and d.proc.returncode is None:
                await d.stop(9)


@pytest.fixture
async def ui_daemon(daemon: Any, ircd: Any, tmp_path: Path) -> AsyncIterator[UiDaemons]:
    """A real daemon whose default connection is the test's ngircd; see UiDaemons."""
    daemons = UiDaemons(daemon, ircd, tmp_path)
    yield daemons
    await daemons.close()


# WCAG 2 contrast of every visible text against the first opaque background behind it.
# IRC colour codes (irc-fg-*, irc-bg-*) are what people chose, so they are left out.
CONTRAST_JS = """(minimum) => {
    const parse = (c) => {
        const m = /rgba?\\(([^)]+)\\)/.exec(c);
        if (!m) return null;
        const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
        return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
    };
    const lum = ({r, g, b}) => {
        const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
        for (let e = el; e; e = e.parentElement) {
            const c = parse(getComputedStyle(e).backgroundColor);
            if (c && c.a > 0.5) return c;
        }
        return parse(getComputedStyle(document.documentElement).backgroundColor) || {r: 255, g: 255, b: 255};
    };
    const failures = [];
    let checked = 0;
    for (const el of document.querySelectorAll("body *")) {
        if (el.closest("[class*='irc-fg-'], [class*='irc-bg-'], .irc-reverse, .sr-only, [hidden], :disabled")) continue;
        if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
        const style = getComputedStyle(el);
        const box = el.getBoundingClientRect();
        if (style.visibility === "hidden" || !box.width || !box.height) continue;
        const fg = parse(style.color), bg = background(el);
        const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
        const ratio = (hi + 0.05) / (lo + 0.05);
        checked += 1;
        if (ratio < minimum) failures.push(`${el.tagName}.${el.className} ${style.color} on ` +
            `rgb(${bg.r}, ${bg.g}, ${bg.b}): ${ratio.toFixed(2)} "${el.textContent.trim().slice(0, 40)}"`);
    }
    return {checked, failures};
}"""


async def contrast_failures(page: Any, minimum: float = 4.5) -> list[str]:
    """Texts on the page below `minimum` contrast (WCAG AA: 4.5); asserts something was checked."""
    result = await page.evaluate(CONTRAST_JS, minimum)
    assert result["checked"] > 10, result
    return list(result["failures"])


class SubPathProxy:
    """A reverse proxy in front of a daemon that serves it under `prefix`, as nginx would
    (docs/getting-started.md): strips the prefix, sends X-Request-Base, passes websockets.
    The daemon needs CONVOS_REVERSE_PROXY=1."""

    def __init__(self, upstream: str, prefix: str = "/sub") -> None:
        self.upstream = upstream.rstrip("/")
        self.prefix = prefix
        self.url = ""
        self.paths: list[str] = []  # every path the browser asked for
        self._runner: Any = None
        self._session: Any = None

    async def start(self) -> SubPathProxy:
        import aiohttp
        from aiohttp import web

        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}{self.prefix}"
        return self

    async def close(self) -> None:
        if self._runner:
            await self._runner.cleanup()
        if self._session:
            await self._session.close()

    async def _handle(self, request: Any) -> Any:
        import aiohttp
        from aiohttp import web

        self.paths.append(request.path)
        if not (request.path == self.prefix or request.path.startswith(self.prefix + "/")):
            return web.Response(status=404, text="outside the sub path")
        path = request.raw_path[len(self.prefix):] or "/"
        headers = {k: v for k, v in request.headers.items() if k.lower() in
                   ("accept", "accept-language", "content-type", "cookie", "origin", "if-modified-since")}
        headers["X-Request-Base"] = self.url + "/"
        if request.headers.get("Upgrade", "").lower() == "websocket":
            client = web.WebSocketResponse()
            await client.prepare(request)
            async with self._session.ws_connect(self.upstream.replace("http", "ws", 1) + path, headers=headers) as up:
                async def pump(src: Any, dst: Any) -> None:
                    async for msg in src:
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            await dst.send_str(msg.data)
                    await dst.close()

                await asyncio.gather(pump(client, up), pump(up, client), return_exceptions=True)
            return client
        async with self._session.request(request.method, self.upstream + path, headers=headers,
                                         data=await request.read(), allow_redirects=False) as res:
            body = await res.read()
            out = web.Response(status=res.status, body=body)
            for key, value in res.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                    out.headers.add(key, value)
            return out


@pytest.fixture
async def sub_path_proxy() -> AsyncIterator[Any]:
    """`await sub_path_proxy(daemon.url)` -> a SubPathProxy serving it under /sub."""
    proxies: list[SubPathProxy] = []

    async def make(upstream: str, prefix: str = "/sub") -> SubPathProxy:
        proxy = SubPathProxy(upstream, prefix)
        proxies.append(proxy)
        return await proxy.start()

    yield make
    for proxy in proxies:
        await proxy.close()
