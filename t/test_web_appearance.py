"""Themes, custom CSS and preferences over HTTP: listThemes, /themes/<name>.css, getCustomCss,
saveCustomCss, getPreferences, savePreferences."""

from __future__ import annotations

import json
import os
from typing import Any

from test_web_history import build_home

EMAIL = "superman@example.com"


async def login(make_client: Any) -> Any:
    client = await make_client()
    res = await client.post("/api/user/login", json={"email": EMAIL, "password": "longenough"})
    assert res.status == 200
    return client


async def test_themes_bundled_and_the_admins(make_client: Any, home: Any, tmp_path: Any) -> None:
    build_home(home, {})
    themes = home / "themes"
    themes.mkdir()
    (themes / "Sunny.css").write_text("/* name: Sunny Day */\n:root[data-theme] { --bg: #ffffee; }\n")
    (themes / "nord.css").write_text("/* color-scheme: light */ body {}\n")  # replaces the bundled Nord
    (themes / "big.css").write_bytes(b"/* name: Big */" + b" " * (256 * 1024))
    (themes / "bad name.css").write_text("body {}")
    (tmp_path / "secret.css").write_text("/* name: Secret */")
    os.symlink(tmp_path / "secret.css", themes / "linked.css")
    client = await login(make_client)
    listed = {t["id"]: t for t in (await (await client.get("/api/themes")).json())["themes"]}
    assert listed["Sunny"] == {"id": "Sunny", "name": "Sunny Day", "color_scheme": "normal", "source": "admin",
                               "url": "/themes/Sunny.css"}
    assert listed["dracula"]["source"] == "convos" and listed["dracula"]["color_scheme"] == "dark"
    assert listed["nord"] == {"id": "nord", "name": "nord", "color_scheme": "light", "source": "admin",
                              "url": "/themes/nord.css"}
    assert not {"big", "bad name", "linked"} & set(listed)
    res = await client.get("/themes/Sunny.css")
    assert res.status == 200
    assert res.headers["Content-Type"] == "text/css; charset=utf-8"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert "--bg: #ffffee" in await res.text()
    assert "color-scheme: light" in await (await client.get("/themes/nord.css")).text()
    assert "Dracula" in await (await client.get("/themes/dracula.css")).text()
    for name in ("linked.css", "big.css", "nope.css", "bad%20name.css", "..%2F..%2Fsettings.json", "Sunny"):
        res = await client.get("/themes/" + name)
        assert res.status == 404, name
        assert res.headers["Content-Type"] == "text/css; charset=utf-8"
    assert await (await client.get("/themes/nope.css")).text() == "/* nope.css not found */\n"
    anonymous = await make_client()
    assert (await anonymous.get("/api/themes")).status == 401
    assert (await anonymous.get("/themes/Sunny.css")).status == 200  # a stylesheet, public as in 8.07


async def test_custom_css(make_client: Any, home: Any) -> None:
    build_home(home, {})
    client = await login(make_client)
    res = await client.get("/api/custom-css")
    assert (res.status, await res.text()) == (200, "")
    assert res.headers["Content-Type"] == "text/css; charset=utf-8"
    res = await client.post("/api/custom-css", json={"css": "body { color: red; }\r\n"})
    assert res.status == 200
    assert await (await client.get("/api/custom-css")).text() == "body { color: red; }\n"
    assert (home / EMAIL / "custom.css").stat().st_mode & 0o777 == 0o600
    for body, status, message, path in (
        ({"css": "é" * 16385}, 400, "At most 32768 bytes of CSS.", "/css"),  # 32770 bytes in 16385 characters
        ({"css": "x" * 32769}, 400, "String is too long: 32769/32768.", "/body/css"),
        ({"css": "a\x00b"}, 400, "The CSS holds a NUL character.", "/css"),
        ({}, 400, "Missing property.", "/body/css"),
    ):
        res = await client.post("/api/custom-css", data=json.dumps(body, ensure_ascii=False).encode(),
                                headers={"Content-Type": "application/json"})
        assert res.status == status
        assert (await res.json())["errors"] == [{"message": message, "path": path}]
    assert await (await client.post("/api/custom-css", json={"css": ""})).json() == {"css": ""}
    assert not (home / EMAIL / "custom.css").exists()
    anonymous = await make_client()
    assert (await anonymous.get("/api/custom-css")).status == 401


async def test_preferences_are_kept_with_the_account(make_client: Any, home: Any) -> None:
    build_home(home, {})
    client = await login(make_client)
    assert await (await client.get("/api/preferences")).json() == {"inline_media": True, "joins": "fold"}
    res = await client.post("/api/preferences", json={"inline_media": False})
    assert await res.json() == {"inline_media": False, "joins": "fold"}
    assert await (await client.get("/api/preferences")).json() == {"inline_media": False, "joins": "fold"}
    res = await client.post("/api/preferences", json={"joins": "hide"})
    assert await res.json() == {"inline_media": False, "joins": "hide"}
    res = await client.post("/api/preferences", json={"joins": "sometimes"})
    assert res.status == 400
    assert (home / EMAIL / "preferences.json").exists()
    res = await client.post("/api/preferences", json={"theme": "x"})
    assert res.status == 400
    res = await client.post("/api/preferences", json={"inline_media": "maybe"})
    assert res.status == 400
    # What the file holds that is not a preference counts as the default.
    (home / EMAIL / "preferences.json").write_text('{"inline_media": "no", "joins": "sometimes"}')
    other = await login(make_client)
    assert await (await other.get("/api/preferences")).json() == {"inline_media": True, "joins": "fold"}
