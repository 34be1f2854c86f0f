"""The bot: its account, bot.yaml (reload included), actions, and chat with it over a real ngircd."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import bot_of, core_of, register

from convos.bot.action import BotMessage
from convos.bot.calc import CalcError, evaluate
from convos.bot.config import BotConfig, action_key
from convos.bot.github import message_for
from convos.store.base import StoreError
from convos.store.file import FileStore
from convos.store.jsonfile import atomic_write, encode

BOT = "bot@example.com"


def bot_yaml(home: Path, text: str) -> Path:
    path = home / BOT / "bot.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def msg(message: str, conversation_id: str = "jimmy", **kw: Any) -> BotMessage:
    values: dict[str, Any] = dict(connection_id="irc-localhost", conversation_id=conversation_id, from_="jimmy",
                                  message=message, type="private", highlight=False,
                                  is_private=not conversation_id.startswith("#"), my_nick="bot")
    values.update(kw)
    return BotMessage(**values)


async def login(client: Any, email: str, password: str) -> int:
    res = await client.post("/api/user/login", json={"email": email, "password": password})
    return res.status


# --- its files, through the store ---------------------------------------------------------------


async def test_the_bot_files_come_from_the_store(home, tmp_path):
    """bot.yaml and the spool by the bot's email and a file name: the bot never builds a path."""
    store = FileStore(home)
    try:
        assert await store.bot_config_stamp(BOT) is None
        path = bot_yaml(home, "")
        assert await store.bot_config_stamp(BOT) is None  # empty: as good as none
        path.write_text("generic: {}\n")
        assert await store.bot_config_stamp(BOT) == (path.stat().st_mtime_ns, 12)
        assert await store.load_bot_config(BOT, 100) == b"generic: {}\n"
        with pytest.raises(StoreError, match="larger than 5 bytes"):
            await store.load_bot_config(BOT, 5)
        assert store.bot_file_location(BOT) == str(path)

        spool = Path(await store.open_spool(BOT))
        assert spool == home / BOT / "spool" and spool.stat().st_mode & 0o777 == 0o700
        for name in ("b.yaml", "a.json", ".hidden", "c.tmp", "d.failed", "bad\nname"):
            (spool / name).write_text("message: hi\n")
        (spool / "e-dir").mkdir()
        assert await store.list_spool(BOT, 10) == ["a.json", "b.yaml"]
        assert await store.list_spool(BOT, 1) == ["a.json"]
        assert await store.load_spool_file(BOT, "a.json", 100) == b"message: hi\n"
        await store.set_aside_spool_file(BOT, "a.json")
        await store.delete_spool_file(BOT, "b.yaml")
        assert sorted(p.name for p in spool.iterdir() if p.name.endswith(("json", "yaml", "failed"))) == [
            "a.json.failed", "d.failed"]
        for bad in ("../bot.yaml", ".hidden"):
            with pytest.raises(StoreError):
                await store.load_spool_file(BOT, bad, 100)
    finally:
        await store.close()
    # CONVOS_BOT_SPOOL_DIR: the composition root hands the store the directory.
    elsewhere = FileStore(home, spool_dir=tmp_path / "spool")
    try:
        assert await elsewhere.open_spool(BOT) == str(tmp_path / "spool")
        (tmp_path / "spool" / "x.yaml").write_text("message: hi\n")
        assert await elsewhere.list_spool(BOT, 10) == ["x.yaml"]
        assert elsewhere.bot_file_location(BOT, "x.yaml") == str(tmp_path / "spool" / "x.yaml")
    finally:
        await elsewhere.close()


# --- the account --------------------------------------------------------------------------------


async def test_waits_for_a_human_then_registers(make_client, caplog):
    caplog.set_level(logging.INFO, logger="convos.bot")
    client = await make_client({"CONVOS_BOT_EMAIL": BOT})
    core = core_of(client)
    assert core.get_user(BOT) is None  # no bot before a human, so it can never be the first (admin) user
    await register(client, "superman@example.com")
    await bot_of(client).wait_for(lambda b: b.loads >= 1)
    bot = core.get_user(BOT)
    assert bot.roles == ["bot"]
    assert core.get_user("superman@example.com").roles == ["admin"]
    logged = [r.getMessage() for r in caplog.records if "Created bot account" in r.getMessage()]
    password = re.search(r'password "([^"]+)"', logged[0]).group(1)
    assert await login(client, BOT, password) == 200
    # No config file: only the Core action runs.
    assert [a.moniker for a in bot_of(client).enabled_actions()] == ["core"]


async def test_standalone_bot_is_never_admin(make_client, home):
    bot_yaml(home, "generic: {password: from-the-file}\n")
    client = await make_client({"CONVOS_BOT_EMAIL": BOT, "CONVOS_BOT_ALLOW_STANDALONE": "1"})
    core = core_of(client)
    await bot_of(client).wait_for(lambda b: b.loads >= 1)
    assert core.get_user(BOT).roles == ["bot"]
    assert await login(client, BOT, "from-the-file") == 200
    # Registration is closed once any account exists; an invite makes the first human the admin.
    inv = core.invite("superman@example.com")
    await register(client, "superman@example.com", exp=str(inv.exp), token=inv.token)
    assert core.get_user("superman@example.com").roles == ["admin"]
    await client.close()
    # After a restart, "no admin found" never picks the bot.
    again = await make_client({"CONVOS_BOT_EMAIL": BOT})
    assert core_of(again).get_user(BOT).roles == ["bot"]


async def test_config_reload(make_client, home):
    path = bot_yaml(home, "generic: {password: first-password}\nactions:\n- class: Convos::Plugin::Bot::Action::Core\n")
    client = await make_client({"CONVOS_BOT_EMAIL": BOT, "CONVOS_BOT_ALLOW_STANDALONE": "1",
                                "CONVOS_BOT_LOAD_INTERVAL": "0.02"})
    bot = bot_of(client)
    await bot.wait_for(lambda b: b.loads >= 1)
    assert await login(client, BOT, "first-password") == 200
    assert [a.moniker for a in bot.enabled_actions()] == ["core"]
    # An unchanged file is looked at, not applied again.
    checks = bot.checks
    await bot.wait_for(lambda b: b.checks >= checks + 3)
    assert bot.loads == 1

    path.write_text("""\
generic: {password: second-password, reply_delay: 0.1}
actions:
- class: Convos::Plugin::Bot::Action::Core
- class: Calc
connections:
- url: 'irc://127.0.0.1:6667?tls=0'
  conversations:
    '#convos': {password: key}
""")
    await bot.wait_for(lambda b: b.loads >= 2)
    assert await login(client, BOT, "first-password") == 400
    assert await login(client, BOT, "second-password") == 200
    assert [a.moniker for a in bot.enabled_actions()] == ["core", "calc"]
    assert bot.settings.reply_delay == 0.1
    conn = core_of(client).get_user(BOT).get_connection("irc-localhost")
    assert conn is not None and conn.wanted_state == "connected"
    assert conn.get_conversation("#convos").password == "key"

    path.write_text("actions:\n- {class: Core}\n- {class: Calc, enabled: false}\nconnections:\n"
                    "- url: 'irc://127.0.0.1:6667?tls=0'\n  wanted_state: disconnected\n")
    await bot.wait_for(lambda b: b.loads >= 3)
    assert [a.moniker for a in bot.enabled_actions()] == ["core"]
    assert conn.wanted_state == "disconnected"
    assert bot.reply_for(msg("calc 1+1")) is None

    # A broken file is reported and the last good config stays.
    checks = bot.checks
    path.write_text("actions: [\n")
    await bot.wait_for(lambda b: b.checks >= checks + 2)
    assert bot.loads == 3
    assert [a.moniker for a in bot.enabled_actions()] == ["core"]


# --- actions ------------------------------------------------------------------------------------


@pytest.fixture
async def bot(make_client, home):
    bot_yaml(home, "actions:\n- class: Convos::Plugin::Bot::Action::Core\n- class: Convos::Plugin::Bot::Action::Calc\n"
                   "- class: Convos::Plugin::Bot::Action::Github\n- {class: Spool, enabled: 0}\n")
    client = await make_client({"CONVOS_BOT_EMAIL": BOT, "CONVOS_BOT_ALLOW_STANDALONE": "1"})
    the_bot = bot_of(client)
    await the_bot.wait_for(lambda b: b.loads >= 1)
    return the_bot


REPLIES = [
    ("help", "Commands: actions, about <action>, help <action>."),
    ("  HELP?", "Commands: actions, about <action>, help <action>."),
    ("about", "Core bot functionality."),
    ("about calc", "Calculate a mathematical expression."),
    ("about Convos::Plugin::Bot::Action::Github", "Send messages based on GitHub and Gitea events."),
    ("help calc", "calc 1 + 2"),
    ("help karma", 'Couldn\'t find action "karma".'),
    ("about nope?", 'Couldn\'t find action "nope".'),
    ("actions", "Available actions: calc, github."),
    ("bot: actions", "Available actions: calc, github."),
    ("calc 1 + 2", "1 + 2 = 3"),
    ("calc 2 ^ 10 / 4", "2 ^ 10 / 4 = 256"),
    ("calc __import__('os')", "Invalid expression."),
    ("hello there", None),
]


async def test_private_replies(bot):
    # One bot for the whole table: making its account (an Argon2 hash) is the slow part.
    got = [(message, bot.reply_for(msg(message))) for message, _ in REPLIES]
    assert got == REPLIES


async def test_core_answers_only_in_private(bot):
    assert bot.reply_for(msg("help", "#convos")) is None
    assert bot.reply_for(msg("bot: calc 3*3", "#convos")) == "3*3 = 9"


async def test_only_core_enabled(make_client, home):
    bot_yaml(home, "actions:\n- class: Core\n- class: Calc\n  enabled: false\n- class: Nope\n")
    client = await make_client({"CONVOS_BOT_EMAIL": BOT, "CONVOS_BOT_ALLOW_STANDALONE": "1"})
    the_bot = bot_of(client)
    await the_bot.wait_for(lambda b: b.loads >= 1)
    assert the_bot.reply_for(msg("actions")) == "Only core action enabled."


def test_calc_refuses_what_is_not_arithmetic():
    assert evaluate("(1 + 2) * 3 - 4 / 8") == 8.5
    assert evaluate("sqrt(16) + abs(-1)") == 5
    for bad in ("9 ** 9 ** 9", "10 ** 400", "1 / 0", "open('x')", "().__class__", "a", "lambda: 1", "1 if 1 else 2"):
        with pytest.raises(CalcError):
            evaluate(bad)


def test_config_parsing():
    config = BotConfig.from_data({
        "generic": {"password": 1234, "reply_delay": "soon"},
        "actions": [{"class": "Convos::Plugin::Bot::Action::Github", "repositories": {}}, {"no": "class"}],
        "connections": [{"url": "irc://x?tls=0", "wanted_state": "maybe", "conversations": {"#a": None, "#b": {"state": "part"}}},
                        {"nourl": 1}],
    })
    assert config.password == "1234"
    assert config.reply_delay == 0.5
    assert [(a.key, a.enabled) for a in config.actions] == [("github", True)]
    assert [(c.name, c.state) for c in config.connections[0].conversations] == [("#a", "join"), ("#b", "part")]
    assert config.connections[0].wanted_state == "connected"
    assert len(config.warnings) == 4
    assert BotConfig.from_data(["a list"]).warnings
    assert action_key("Convos::Plugin::Bot::Action::Calc") == action_key("calc") == "calc"


# --- webhook messages ---------------------------------------------------------------------------

REPO = {"full_name": "convos-chat/convos", "name": "convos", "html_url": "https://github.com/convos-chat/convos"}
SENDER = {"login": "jhthorsen", "html_url": "https://github.com/jhthorsen"}


@pytest.mark.parametrize(("event", "payload", "message"), [
    ("create", {"ref": "v8.07", "ref_type": "tag"},
     "jhthorsen created tag v8.07 in convos - https://github.com/convos-chat/convos/tree/v8.07"),
    ("create", {"ref": "feature", "ref_type": "branch"}, None),
    ("fork", {"forkee": {"name": "convos", "html_url": "https://github.com/me/convos"}},
     "jhthorsen forked convos - https://github.com/me/convos"),
    ("issues", {"action": "closed", "issue": {"number": 7, "title": "A\nmulti-line\ttitle", "html_url": "u"}},
     "jhthorsen closed issue #7 in convos: A multi-line title - u"),
    ("issues", {"action": "labeled", "issue": {"number": 7, "title": "t", "html_url": "u"}}, None),
    ("milestone", {"action": "created", "milestone": {"number": 2, "title": "v9", "html_url": "m"}},
     "jhthorsen created milestone #2 in convos: v9 - m"),
    ("pull_request", {"action": "reopened", "pull_request": {"number": 3, "title": "Fix", "html_url": "p"}},
     "jhthorsen reopened pull request #3 in convos: Fix - p"),
    ("pull_request", {"action": "opened", "pull_request": {"number": 3, "title": "Bump", "html_url": "p"},
                      "sender": {"login": "dependabot[bot]"}}, None),
    ("pull_request", {"action": "opened", "pull_request": {"number": 3, "title": "Bump", "html_url": "p"},
                      "sender": {"login": "renovate[bot]"}}, None),
    ("star", {"action": "created"}, "jhthorsen starred convos - https://github.com/jhthorsen"),
    ("star", {"action": "deleted"}, None),
    ("push", {"ref": "refs/heads/main", "commits": [{}], "compare": "c"}, "jhthorsen pushed 1 commit to main in convos - c"),
    ("push", {"ref": "refs/tags/v1", "commits": [], "compare": "c"}, None),
    ("push", {"ref": "refs/heads/gone", "commits": [], "compare": "c", "deleted": True}, None),
    ("watch", {}, None),
])
def test_github_messages(event, payload, message):
    assert message_for(event, {"repository": REPO, "sender": SENDER, **payload}) == message


def test_gitea_messages():
    fork = {"forkee": REPO, "repository": {"full_name": "me/convos", "name": "convos", "html_url": "https://gitea/me/convos"},
            "sender": SENDER}
    assert message_for("fork", fork, "gitea") == "jhthorsen forked convos - https://gitea/me/convos"
    push = {"ref": "refs/heads/dev", "commits": [{}] * 20, "total_commits": 25, "compare_url": "https://gitea/c",
            "repository": REPO, "sender": SENDER}
    assert message_for("push", push, "gitea") == "jhthorsen pushed 25 commits to dev in convos - https://gitea/c"


# --- over IRC -----------------------------------------------------------------------------------


async def test_chat_with_the_bot_over_irc(make_client, home, ircd, irc_client, tmp_path):
    spool = tmp_path / "spool"
    atomic_write(home / "settings.json", encode({"default_connection": f"irc://127.0.0.1:{ircd.port}/%23lobby?tls=0"}))
    bot_yaml(home, f"""\
generic: {{reply_delay: 0.01}}
actions:
- class: Convos::Plugin::Bot::Action::Core
- class: Convos::Plugin::Bot::Action::Calc
- class: Convos::Plugin::Bot::Action::Spool
connections:
- url: 'irc://127.0.0.1:{ircd.port}?tls=0'
  conversations:
    '#convos': {{state: join}}
""")
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")
    client = await make_client({"CONVOS_BOT_EMAIL": BOT, "CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_DELAY": "0.1",
                                "CONVOS_BOT_SPOOL_DIR": str(spool), "CONVOS_BOT_SPOOL_INTERVAL": "0.05"})
    await register(client, "superman@example.com")
    await jimmy.expect(lambda m: m.command == "JOIN" and m.nick == "bot" and m.params[0] == "#convos", timeout=15)

    def from_bot(target: str) -> Any:
        return lambda m: m.command == "PRIVMSG" and m.nick == "bot" and m.params[0] == target

    await jimmy.privmsg("bot", "help")
    assert (await jimmy.expect(from_bot("jimmy"))).params[1] == "Commands: actions, about <action>, help <action>."
    await jimmy.privmsg("bot", "actions")
    assert (await jimmy.expect(from_bot("jimmy"))).params[1] == "Available actions: calc, spool."
    await jimmy.privmsg("bot", "help nope")
    assert (await jimmy.expect(from_bot("jimmy"))).params[1] == 'Couldn\'t find action "nope".'

    # In a channel Core stays quiet, so the first thing the bot says there is the sum.
    await jimmy.privmsg("#convos", "help")
    await jimmy.privmsg("#convos", "bot: calc 6 * 7")
    assert (await jimmy.expect(from_bot("#convos"))).params[1] == "6 * 7 = 42"

    # Spool: files in name order; a bad one is set aside.
    (spool / "a-bad.yaml").write_text("message: [no connection\n")
    (spool / ".b.yaml").write_text("connection_id: irc-localhost\nconversation_id: '#convos'\nmessage: not yet\n")
    (spool / ".b.yaml").rename(spool / "b.yaml")
    assert (await jimmy.expect(from_bot("#convos"))).params[1] == "not yet"
    assert (spool / "a-bad.yaml.failed").exists()
    # Sent, then deleted (a crash in between sends it again rather than never): wait for the delete.
    for _ in range(500):  # up to 10 s
        if not (spool / "b.yaml").exists():
            break
        await asyncio.sleep(0.02)
    assert not (spool / "b.yaml").exists()
