"""A CONVOS_HOME written by Perl Convos 8.07 is served unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import PERL_HOME, core_of

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
