"""Server settings for admins (spec §4.7, §9 facts 29–33)."""

from __future__ import annotations

import re

from conftest import core_of, register

from convos.store.jsonfile import decode


async def test_defaults_and_disk_usage(client):
    await register(client, "superman@example.com")
    res = await client.get("/api/settings")
    assert res.status == 200
    body = await res.json()
    assert body["contact"] == "mailto:root@localhost"
    assert body["default_connection"] == "irc://irc.libera.chat:6697/%23convos"
    assert body["forced_connection"] is False
    assert body["open_to_public"] is False
    assert body["organization_name"] == "Convos"
    assert body["organization_url"] == "https://convos.chat"
    assert body["video_service"] == "https://meet.jit.si/"
    assert "local_secret" not in body and "session_secrets" not in body
    usage = body["disk_usage"]
    for key in ("dev", "block_size", "blocks_total", "blocks_used", "blocks_free",
                "inodes_total", "inodes_used", "inodes_free"):
        assert key in usage, key
    assert usage["blocks_total"] >= usage["blocks_free"] > 0


async def test_settings_need_admin(client, anon):
    res = await client.get("/api/settings")
    assert (res.status, (await res.json())["errors"][0]["message"]) == (401, "Need to log in first.")
    res = await client.post("/api/settings", json={"contact": "mailto:x@y.z"})
    assert res.status == 401
    await register(client, "superman@example.com")
    core_of(client).settings.open_to_public = True
    lois = await anon(client)
    await register(lois, "lois@example.com")
    # Logged in, but not an admin: 403 (the original answers 401).
    assert (await lois.get("/api/settings")).status == 403
    assert (await lois.post("/api/settings", json={"contact": "mailto:x@y.z"})).status == 403


async def test_update_validates_together(client):
    await register(client, "superman@example.com")
    res = await client.post("/api/settings",
                            json={"default_connection": "localhost:6667", "organization_url": "convos.chat"})
    assert res.status == 400
    errors = (await res.json())["errors"]
    assert errors == [
        {"message": "Connection URL require a scheme and host.", "path": "/default_connection"},
        {"message": "Organization URL require a scheme and host.", "path": "/organization_url"},
    ]


async def test_update_trims_and_ignores_secrets(client, home):
    await register(client, "superman@example.com")
    core = core_of(client)
    secret = core.settings.local_secret
    res = await client.post("/api/settings", json={
        "default_connection": "irc://irc.example.com:6667/%23mojo     ",
        "organization_url": "https://metacpan.org  ",
        "video_service": " https://video.convos.chat/",
        "organization_name": "Metacpan",
        "open_to_public": True,
        "contact": None,
        "local_secret": "hacked",
        "session_secrets": ["hacked"],
    })
    assert res.status == 200
    body = await res.json()
    assert body["default_connection"] == "irc://irc.example.com:6667/%23mojo"
    assert body["organization_url"] == "https://metacpan.org"
    assert body["video_service"] == "https://video.convos.chat/"
    assert body["open_to_public"] is True
    assert body["contact"] == "mailto:root@localhost"
    assert "disk_usage" not in body
    stored = decode((home / "settings.json").read_bytes())
    assert stored["local_secret"] == secret
    assert stored["session_secrets"] != ["hacked"]
    assert stored["organization_name"] == "Metacpan"
    # Empty strings clear a value.
    res = await client.post("/api/settings", json={"organization_url": ""})
    assert (await res.json())["organization_url"] == ""


async def test_settings_schema_errors(client):
    await register(client, "superman@example.com")
    res = await client.post("/api/settings", json={"contact": "ab"})
    assert res.status == 400
    assert (await res.json())["errors"][0]["path"] == "/body/contact"
    res = await client.post("/api/settings", json={"contact": ""})
    assert res.status == 200
    assert (await res.json())["contact"] == ""
    res = await client.post("/api/settings", json={"open_to_public": "maybe"})
    assert res.status == 400
    assert (await res.json())["errors"][0]["path"] == "/body/open_to_public"


async def test_generated_secrets_persist(make_client, home, tmp_path):
    client = await make_client()
    settings = decode((home / "settings.json").read_bytes())
    assert re.match(r"^\w{40}$", settings["local_secret"])
    assert len(settings["session_secrets"]) == 1
    assert re.match(r"^[a-z0-9]{40}$", settings["session_secrets"][0])
    await client.close()
    again = await make_client()
    assert core_of(again).settings.session_secrets == settings["session_secrets"]
    assert core_of(again).settings.local_secret == settings["local_secret"]


async def test_secrets_from_env_only_when_missing(make_client, tmp_path):
    client = await make_client({"CONVOS_SECRETS": "super,duper,secret", "CONVOS_LOCAL_SECRET": "localsecret"},
                               home_dir=tmp_path / "h1")
    core = core_of(client)
    assert core.settings.session_secrets == ["super", "duper", "secret"]
    assert core.settings.local_secret == "localsecret"
    again = await make_client({"CONVOS_SECRETS": "other"}, home_dir=tmp_path / "h1")
    assert core_of(again).settings.session_secrets == ["super", "duper", "secret"]


async def test_legacy_secrets_file(make_client, tmp_path):
    h = tmp_path / "legacy"
    h.mkdir()
    (h / "secrets").write_text("one\u201atwo", encoding="utf-8")
    client = await make_client(home_dir=h)
    assert core_of(client).settings.session_secrets == ["one", "two"]
    assert not (h / "secrets").exists()


async def test_rotated_secret_still_verifies(make_client, tmp_path, anon):
    h = tmp_path / "rotate"
    client = await make_client({"CONVOS_SECRETS": "oldsecret"}, home_dir=h)
    await register(client, "superman@example.com")
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["convos"].value
    await client.close()
    settings = decode((h / "settings.json").read_bytes())
    settings["session_secrets"] = ["newsecret", "oldsecret"]
    (h / "settings.json").write_bytes(__import__("orjson").dumps(settings))
    again = await make_client(home_dir=h)
    res = await again.get("/api/user", cookies={"convos": cookie})
    assert res.status == 200
    # Once the old secret is dropped, the old cookie no longer works.
    await again.close()
    settings["session_secrets"] = ["newsecret"]
    (h / "settings.json").write_bytes(__import__("orjson").dumps(settings))
    third = await make_client(home_dir=h)
    res = await third.get("/api/user", cookies={"convos": cookie})
    assert res.status == 401
