"""A CONVOS_HOME written by Perl Convos 8.07 is served unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import PERL_HOME, core_of
from yarl import URL

from convos.core.connection import Conversation
from convos.store.jsonfile import decode


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


async def test_users_log_in_with_their_8_07_passwords(make_client, perl_home, anon):
    client = await make_client(home_dir=perl_home)
    core = core_of(client)
    # Both registered in the same second, so the email breaks the tie (spec §1.4).
    assert [u.email for u in core.users] == ["lois@example.com", "superman@example.com"]
    assert core.get_user("lois@example.com").roles == []
    for email, password, roles, uid in [("superman@example.com", "supersecret1", ["admin"], "1"),
                                        ("lois@example.com", "loissecret1", [], "2")]:
        http = await anon(client)
        res = await http.post("/api/user/login", json={"email": email, "password": password})
        assert res.status == 200, email
        body = await res.json()
        assert body["roles"] == roles
        assert body["uid"] == uid
        res = await http.get("/api/user")
        assert (await res.json())["email"] == email
    http = await anon(client)
    res = await http.post("/api/user/login", json={"email": "lois@example.com", "password": "supersecret1"})
    assert res.status == 400


async def test_settings_and_users_read_as_written(make_client, perl_home):
    before = decode((perl_home / "settings.json").read_bytes())
    client = await make_client(home_dir=perl_home)
    core = core_of(client)
    assert core.settings.organization_name == "Fixture Org"
    assert core.settings.contact == "mailto:root@example.com"
    assert core.settings.default_connection == "irc://127.0.0.1:26667/%23convos?tls=0"
    assert core.settings.session_secrets == before["session_secrets"]
    assert core.settings.local_secret == before["local_secret"]
    superman = core.get_user("superman@example.com")
    assert superman.highlight_keywords == ["kryptonite"]
    assert superman.registered == "2026-11-26T20:11:15Z"
    # The start-up re-save of settings.json is byte-identical to what 8.07 wrote.
    assert (perl_home / "settings.json").read_bytes() == (PERL_HOME / "settings.json").read_bytes()


async def test_loading_changes_no_file(make_client, perl_home):
    before = _digests(perl_home)
    client = await make_client(home_dir=perl_home)
    res = await client.get("/api/user")
    assert res.status == 401
    assert _digests(perl_home) == before


async def test_invite_token_of_8_07_secrets(make_client, perl_home):
    """A recovery link made with the stored secret and hash verifies (HMAC-SHA1 as in 8.07)."""
    import hmac

    settings = decode((perl_home / "settings.json").read_bytes())
    user = decode((perl_home / "lois@example.com" / "user.json").read_bytes())
    exp = "4102444800"  # 2100-01-01
    msg = f"email:lois@example.com:exp:{exp}:password:{user['password']}"
    token = hmac.new(settings["session_secrets"][0].encode(), msg.encode(), "sha1").hexdigest()
    client = await make_client(home_dir=perl_home)
    res = await client.post("/api/user/register", json={
        "email": "lois@example.com", "password": "a-new-password", "exp": exp, "token": token})
    assert res.status == 200
    assert (await res.json())["email"] == "lois@example.com"


async def test_conversation_id_encoded_twice_in_the_path(make_client, perl_home):
    """Clients written for 8.07 encode a conversation id twice in the path: `#with/slash` is also `%23with%252Fslash`."""
    client = await make_client(home_dir=perl_home)
    res = await client.post("/api/user/login", json={"email": "superman@example.com", "password": "supersecret1"})
    assert res.status == 200
    base = "/api/connection/irc-localhost/conversation"

    async def get(raw: str) -> tuple[int, dict]:
        res = await client.get(URL(f"{base}/{raw}/messages", encoded=True))
        assert res.url.raw_path == f"{base}/{raw}/messages"  # sent exactly as written
        return res.status, await res.json()

    once = await get("%23with%2Fslash")
    assert once[0] == 200
    assert [m["message"] for m in once[1]["messages"]] == [
        "Hello from #with/slash", "Second line in #with/slash, æøå"]
    assert await get("%23with%252Fslash") == once
    res = await client.get(URL(f"{base}/%23with%252Fslash/messages.json", encoded=True))
    assert (res.status, await res.json()) == once
    # Decoded once more, never twice more: a third encoding names nothing.
    status, body = await get("%2523with%25252Fslash")
    assert (status, body["errors"][0]["message"]) == (404, "Conversation not found.")

    conn = core_of(client).get_user("superman@example.com").get_connection("irc-localhost")
    conn.get_conversation("#with/slash").unread = 3
    res = await client.post(URL(f"{base}/%23with%252Fslash/read", encoded=True))
    assert res.status == 200
    assert conn.get_conversation("#with/slash").unread == 0

    # A conversation whose id holds `%2F` itself is what the once-decoded path names.
    conn.conversations["#a%2fb"] = Conversation("irc-localhost", "#a%2fb", "#a%2Fb", unread=2)
    conn.conversations["#a/b"] = Conversation("irc-localhost", "#a/b", "#a/b", unread=5)
    res = await client.post(URL(f"{base}/%23a%252Fb/read", encoded=True))
    assert res.status == 200
    assert (conn.get_conversation("#a%2fb").unread, conn.get_conversation("#a/b").unread) == (0, 5)
