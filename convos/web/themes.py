"""Themes (spec §7.5): the bundled ones in share/public/themes and an admin's in CONVOS_HOME/themes.

A theme is one CSS file. Comments in its first 4 KiB may give `name: X` and `color-scheme: dark`
(or `light`); the name defaults to the file's name. The list is read again at most every
`RESCAN_SECONDS`, in a thread. Files are only ever looked up by a validated name in those two
directories, and served as text/css with nosniff, so the app's Content-Security-Policy holds:
nothing a theme holds runs as script, and it can load nothing from elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ..paths import share_dir
from .keys import CONFIG

RESCAN_SECONDS = 10.0
# A theme's file: letters, digits, `_` and `-`, then `.css`; 64 characters at most.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MAX_THEME_SIZE = 256 * 1024  # bigger files are left out of the list and not served
MAX_THEMES = 200  # per directory
_HEADER = 4096
_NAME_COMMENT = re.compile(r"\bname:\s*([^\n*;]{1,64})")
_SCHEME_COMMENT = re.compile(r"\bcolor-scheme:\s*(dark|light)\b")


@dataclass(frozen=True, slots=True)
class Theme:
    id: str  # the file name without .css
    name: str
    scheme: str  # "light", "dark" or "normal"
    source: str  # "convos" (bundled) or "admin"

    def to_dict(self, base_path: str) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "color_scheme": self.scheme, "source": self.source,
                "url": f"{base_path}/themes/{self.id}.css"}


def bundled_dir() -> Path:
    return share_dir() / "public" / "themes"


def admin_dir(home: Path) -> Path:
    return home / "themes"


def _regular_file(path: Path) -> os.stat_result | None:
    """The file's stat when it is a plain file (no symlink, no directory), else None."""
    try:
        st = path.lstat()
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def read_theme(path: Path, source: str) -> Theme | None:
    st = _regular_file(path)
    if st is None or st.st_size > MAX_THEME_SIZE or not NAME.fullmatch(path.stem):
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEADER).decode("utf-8", "replace")
    except OSError:
        return None
    comments = " ".join(re.findall(r"/\*(.*?)\*/", head, re.S))
    name = _NAME_COMMENT.search(comments)
    scheme = _SCHEME_COMMENT.search(comments)
    return Theme(path.stem, (name[1].strip() if name else "") or path.stem, scheme[1] if scheme else "normal", source)


def scan(home: Path) -> list[Theme]:
    """Every theme, the admin's after the bundled ones; an admin's file may replace a bundled one."""
    found: dict[str, Theme] = {}
    for source, folder in (("convos", bundled_dir()), ("admin", admin_dir(home))):
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".css") and not n.startswith("."))
        except OSError:
            continue
        for name in names[:MAX_THEMES]:
            theme = read_theme(folder / name, source)
            if theme is not None:
                found[theme.id.lower()] = theme
    return sorted(found.values(), key=lambda t: (t.source != "convos", t.name.lower()))


class ThemeList:
    """The scanned list, rescanned at most every RESCAN_SECONDS (the admin may drop a file in)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._themes: list[Theme] = []
        self._at = -RESCAN_SECONDS
        self._lock = asyncio.Lock()

    async def themes(self) -> list[Theme]:
        async with self._lock:
            if time.monotonic() - self._at >= RESCAN_SECONDS:
                self._themes = await asyncio.to_thread(scan, self.home)
                self._at = time.monotonic()
        return self._themes


def theme_path(home: Path, name: str) -> Path | None:
    """Where `<name>.css` is (the admin's directory first), or None."""
    if not NAME.fullmatch(name):
        return None
    for folder in (admin_dir(home), bundled_dir()):
        path = folder / f"{name}.css"
        st = _regular_file(path)
        if st is not None and st.st_size <= MAX_THEME_SIZE:
            return path
    return None


THEME_HEADERS = {"Content-Type": "text/css; charset=utf-8", "X-Content-Type-Options": "nosniff",
                 "Cache-Control": "no-cache"}

page_routes = web.RouteTableDef()


@page_routes.get("/themes/{name}")
async def theme_file(request: web.Request) -> web.StreamResponse:
    """`GET /themes/<name>.css`; anything else, or a missing file, is a 404 in CSS (spec §6)."""
    raw = request.match_info["name"]
    name = raw[:-4] if raw.endswith(".css") else ""
    path = await asyncio.to_thread(theme_path, request.app[CONFIG].home, name) if name else None
    if path is None:
        shown = name if NAME.fullmatch(name) else "theme"
        return web.Response(status=404, text=f"/* {shown}.css not found */\n", headers=THEME_HEADERS)
    return web.FileResponse(path, headers=THEME_HEADERS)
