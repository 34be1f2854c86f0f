"""Message pages, search, notifications and unread counters over HTTP (spec §3, §9 facts 44–58)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import core_of

from convos.core.passwords import hash_password
from convos.store.jsonfile import atomic_write, decode, encode
from convos.store.logs.id import MessagePos, conversation_tag

CONV = "/api/connection/irc-localhost/conversation/%23convos/messages"
NICKS = ["insect", "shade", "profit", "toad", "industry"]
WORDS = {35: "pot", 47: "potato", 52: "secretary"}
PASSWORD_HASH = hash_password("longenough")


def ts_of(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def build_home(home: Path, lines: dict[str, list[str]], *, email: str = "superman@example.com",
               conversations: tuple[str, ...] = ("#convos",)) -> None:
    """A home with one user, one connection and the given raw log lines per relative path."""
    atomic_write(home / email / "user.json", encode({
        "email": email, "password": PASSWORD_HASH, "registered": "2020-01-01T00:00:00Z", "roles": ["admin"],
        "uid": "1", "highlight_keywords": [], "remote_address": "", "unread": 0}))
    atomic_write(home / email / "irc-localhost" / "connection.json", encode({
        "connection_id": "irc-localhost", "name": "localhost", "url": "irc://localhost:6667", "wanted_state":
        "disconnected", "conversations": [{"conversation_id": c, "name": c, "unread": 5, "notifications": 1}
                                          for c in conversations]}))
    for rel, content in lines.items():
        path = home / email / "irc-localhost" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.writelines(line + "\n" for line in content)


def eighty_one(start: float) -> list[tuple[str, str, str]]:
    """81 messages 40 s apart: (ts, nick, text)."""
    out = []
    for i in range(81):
        word = WORDS.get(i, f"word{i}")
        out.append((ts_of(start + i * 40), NICKS[i % len(NICKS)], f"{i} {word}"))
    return out


@pytest.fixture
async def history(make_client, home):
    start = (int(time.time()) // 60) * 60 - 81 * 40 - 3600
    msgs = eighty_one(start)
    by_month: dict[str, list[str]] = {}
    for ts, nick, text in msgs:
        rel = f"{ts[:4]}/{ts[5:7]}/#convos.log"
        by_month.setdefault(rel, []).append(f"{ts} 0 <{nick}> {text}")
    build_home(home, by_month)
    client = await make_client()
    res = await client.post("/api/user/login", json={"email": "superman@example.com", "password": "longenough"})
    assert res.status == 200
    return client, msgs


def texts(body: dict) -> list[str]:
    return [m["message"] for m in body["messages"]]


async def test_default_page_and_limit(history):
    client, msgs = history
    body = await (await client.get(CONV)).json()
    assert len(body["messages"]) == 60
    assert body["messages"][0]["message"] == "21 word21"
    assert body["messages"][-1]["message"] == "80 word80"
    assert body["before"] == msgs[21][0]
    assert "after" not in body
    assert set(body["messages"][0]) == {"from", "highlight", "id", "message", "ts", "type"}
    body = await (await client.get(CONV, params={"limit": 100})).json()
    assert len(body["messages"]) == 81 and "before" not in body
    body = await (await client.get(CONV, params={"limit": 1})).json()
    assert texts(body) == ["80 word80"] and body["before"] == msgs[80][0]


async def test_before_after_and_both(history):
    client, msgs = history
    body = await (await client.get(CONV, params={"before": msgs[15][0]})).json()
    assert texts(body) == [m[2] for m in msgs[:15]]
    assert "before" not in body and "after" not in body
    body = await (await client.get(CONV, params={"before": msgs[15][0], "limit": 9})).json()
    assert texts(body) == [m[2] for m in msgs[6:15]] and body["before"] == msgs[6][0]
    body = await (await client.get(CONV, params={"after": msgs[13][0]})).json()
    assert texts(body) == [m[2] for m in msgs[14:74]] and body["after"] == msgs[73][0]
    body = await (await client.get(CONV, params={"after": msgs[13][0], "limit": 29})).json()
    assert texts(body) == [m[2] for m in msgs[14:43]]
    body = await (await client.get(CONV, params={"after": msgs[13][0], "before": msgs[15][0]})).json()
    assert texts(body) == ["14 word14"]


async def test_paging_back_to_the_start(history):
    client, msgs = history
    seen: list[str] = []
    params: dict[str, object] = {"limit": 7}
    while True:
        body = await (await client.get(CONV, params=params)).json()
        seen = texts(body) + seen
        if "before" not in body:
            break
        params["before"] = body["before"]
    assert seen == [m[2] for m in msgs]


async def test_match_and_around(history):
    client, msgs = history
    body = await (await client.get(CONV, params={"match": "pot"})).json()
    assert texts(body) == ["35 pot", "47 potato"]
    body = await (await client.get(CONV, params={"match": "pot", "limit": 1})).json()
    assert texts(body) == ["47 potato"]
    body = await (await client.get(CONV, params={"match": '"pot"'})).json()
    assert texts(body) == ["35 pot"]
    body = await (await client.get(CONV, params={"around": msgs[13][0]})).json()
    assert texts(body) == [m[2] for m in msgs[0:73]]
    assert "before" not in body and body["after"] == msgs[72][0]
    body = await (await client.get(CONV, params={"around": msgs[13][0], "limit": 10})).json()
    assert texts(body) == [m[2] for m in msgs[3:23]]
    assert body["before"] == msgs[3][0] and body["after"] == msgs[22][0]


async def test_huge_match_answers(history):
    client, _ = history
    res = await client.get(CONV, params={"match": "a" * 256})  # the longest the schema takes
    assert res.status == 200
    assert (await res.json())["messages"] == []
    res = await client.get(CONV, params={"match": " ".join(["a"] * 128)[:256]})
    assert res.status == 200
    res = await client.get(CONV, params={"match": "a" * 10_000})
    assert (res.status, (await res.json())["errors"]) == (400, [
        {"message": "String is too long: 10000/256.", "path": "/match"}])


async def test_bad_input(history):
    client, msgs = history
    cases = [
        ({"before": "yesterday"}, "/before"),
        ({"after": "2026-13-01T00:00:00"}, "/after"),
        ({"around": "2026-02-30T00:00:00"}, "/around"),
        ({"limit": 0}, "/limit"),
        ({"limit": -1}, "/limit"),
        ({"limit": "abc"}, "/limit"),
    ]
    for params, path in cases:
        res = await client.get(CONV, params=params)
        assert res.status == 400, params
        assert (await res.json())["errors"][0]["path"] == path, params
    res = await client.get(CONV, params={"after": msgs[15][0], "before": msgs[13][0]})
    assert res.status == 400
    assert (await res.json())["errors"] == [{"message": 'Must be before "/after".', "path": "/before"}]
    res = await client.get(CONV, params={"after": "2024-01-01T00:00:00", "before": "2025-06-01T00:00:00"})
    assert res.status == 400
    assert (await res.json())["errors"] == [{"message": 'Must be less than "/after" - 12 months.', "path": "/before"}]


async def test_unknown_and_foreign_conversations(history, anon):
    client, _ = history
    for path in ["/api/connection/irc-nope/conversation/%23convos/messages",
                 "/api/connection/irc-localhost/conversation/%23nope/messages",
                 "/api/connection/irc-nope/messages"]:
        res = await client.get(path)
        assert res.status == 404, path
        assert (await res.json())["errors"][0]["message"] == "Conversation not found."
    res = await client.post("/api/connection/irc-localhost/conversation/%23nope/read")
    assert res.status == 404
    # Another user sees none of superman's data, whatever ids are sent.
    core = core_of(client)
    core.settings.open_to_public = True
    lois = await anon(client)
    res = await lois.post("/api/user/register", json={"email": "lois@example.com", "password": "longenough"})
    assert res.status == 200
    for path in [CONV, "/api/connection/irc-localhost/messages"]:
        assert (await lois.get(path)).status == 404
    res = await lois.get("/api/search", params={"match": "pot"})
    assert (await res.json())["messages"] == []
    res = await lois.get("/api/search", params={"match": "pot", "connection_id": "irc-localhost"})
    assert res.status == 404
    assert (await lois.get("/api/connections")).status == 200
    ids = [c["connection_id"] for c in (await (await lois.get("/api/connections")).json())["connections"]]
    assert ids == ["irc-libera"]  # her own default connection, not superman's
    assert (await lois.get(CONV)).status == 404
    assert (await (await anon(client)).get(CONV)).status == 401


async def test_search(history):
    client, msgs = history
    res = await client.get("/api/search")
    assert await res.json() == {"messages": [], "end": True}
    body = await (await client.get("/api/search", params={"match": '"secret"'})).json()
    assert body["messages"] == [] and body["end"] is True
    body = await (await client.get("/api/search", params={"match": "secretary"})).json()
    assert [(m["from"], m["message"]) for m in body["messages"]] == [(msgs[52][1], "52 secretary")]
    assert body["messages"][0]["connection_id"] == "irc-localhost"
    assert body["messages"][0]["conversation_id"] == "#convos"
    body = await (await client.get("/api/search", params={"match": "sec #convos"})).json()
    expected = [m for m in msgs if "sec" in f"<{m[1]}> {m[2]}"]
    assert [m["message"] for m in body["messages"]] == [m[2] for m in reversed(expected)]  # newest first
    assert {m["from"] for m in body["messages"]} == {"insect", msgs[52][1]}
    body = await (await client.get("/api/search", params={"match": "sec #foo"})).json()
    assert body == {"messages": [], "end": True}
    body = await (await client.get("/api/search", params={"match": "@INSECT"})).json()
    assert {m["from"] for m in body["messages"]} == {"insect"}
    assert len(body["messages"]) == len([m for m in msgs if m[1] == "insect"])
    body = await (await client.get("/api/search", params={"match": "@ins"})).json()
    assert body["messages"] == []
    body = await (await client.get("/api/search", params={"from": "profit", "match": "6"})).json()
    expected = [m[2] for m in reversed(msgs) if m[1] == "profit" and "6" in m[2]]
    assert [m["message"] for m in body["messages"]] == expected and expected


async def test_search_pages_newest_first(history):
    client, msgs = history
    seen: list[str] = []
    params: dict[str, object] = {"match": "word", "limit": 10}
    for _ in range(20):
        body = await (await client.get("/api/search", params=params)).json()
        seen.extend(texts(body))
        if body["end"]:
            break
        params["before"] = body["before"]
    expected = [m[2] for m in reversed(msgs) if "word" in m[2]]
    assert seen == expected


async def test_fixture_home_history(make_client, perl_home, anon):
    client = await make_client(home_dir=perl_home)
    superman, lois = await anon(client), await anon(client)
    for http, email, pw in [(superman, "superman@example.com", "supersecret1"), (lois, "lois@example.com", "loissecret1")]:
        assert (await http.post("/api/user/login", json={"email": email, "password": pw})).status == 200
    body = await (await superman.get(CONV)).json()
    assert len(body["messages"]) == 10 and "before" not in body
    assert [m["highlight"] for m in body["messages"]].count(True) == 2
    assert body["messages"][2]["message"] == "superman: can you help me with the layout?"
    log = perl_home / "superman@example.com/irc-localhost/2026/11/#convos.log"
    waves = log.read_bytes().index(b"2026-11-26T20:11:18 0 * jimmy waves\n")
    expected_id = MessagePos(int(datetime(2026, 11, 26, 20, 11, 18, tzinfo=UTC).timestamp()), waves,
                             conversation_tag(log.parent.parent.parent, "#convos")).id
    assert body["messages"][4] == {"from": "jimmy", "highlight": False, "id": expected_id, "message": "waves",
                                   "ts": "2026-11-26T20:11:18", "type": "action"}
    assert body["messages"][5]["type"] == "notice"
    assert body["messages"][7]["message"] == "Colours: \x0304red\x03 and \x02bold\x02 and \x0303,01green on black\x03 done"
    body = await (await lois.get(CONV)).json()
    assert len(body["messages"]) == 10 and not any(m["highlight"] for m in body["messages"])
    body = await (await superman.get("/api/connection/irc-localhost/conversation/%23with%2Fslash/messages.json")).json()
    assert texts(body) == ["Hello from #with/slash", "Second line in #with/slash, æøå"]
    body = await (await superman.get("/api/connection/irc-localhost/conversation/jimmy/messages")).json()
    assert len(body["messages"]) == 3
    body = await (await superman.get("/api/connection/irc-localhost/messages")).json()
    assert body["messages"][0].pop("id")
    assert body["messages"][0] == {"from": "irc-localhost", "highlight": False, "message": "Connecting to 127.0.0.1.",
                                   "ts": "2026-11-26T20:11:15", "type": "notice"}
    assert any(m["type"] == "preformat" for m in body["messages"])
    body = await (await superman.get("/api/notifications")).json()
    assert body["end"] is None
    assert [(n["from"], n["conversation_id"], n["connection_id"]) for n in body["messages"]] == [
        ("jimmy", "#convos", "irc-localhost"), ("jimmy", "#convos", "irc-localhost")]
    assert "highlight" not in body["messages"][0]
    assert (await (await lois.get("/api/notifications")).json()) == {"messages": [], "end": None}
    body = await (await superman.get("/api/search", params={"match": "æøå"})).json()
    assert [m["conversation_id"] for m in body["messages"]] == ["#convos", "#with/slash", "#convos"]


async def test_counters_and_mark_read(make_client, perl_home, anon):
    client = await make_client(home_dir=perl_home)
    http = await anon(client)
    await http.post("/api/user/login", json={"email": "superman@example.com", "password": "supersecret1"})
    body = await (await http.get("/api/user", params={"connections": "true", "conversations": "true"})).json()
    assert [c["connection_id"] for c in body["connections"]] == ["irc-localhost"]
    assert body["connections"][0]["state"] == "disconnected"
    assert body["connections"][0]["url"] == "irc://127.0.0.1:26667/%23convos?tls=0&nick=superman"
    convs = {c["conversation_id"]: c for c in body["conversations"]}
    assert [c["conversation_id"] for c in body["conversations"]] == ["#convos", "#with/slash", "jimmy"]
    assert (convs["#with/slash"]["unread"], convs["jimmy"]["unread"], convs["#convos"]["unread"]) == (2, 2, 0)
    assert convs["#convos"]["topic"] == "Welcome to the Convos 8.07 fixture channel"
    assert "password" not in convs["#convos"]
    res = await http.post("/api/connection/irc-localhost/conversation/%23with%2Fslash/read")
    assert (res.status, await res.json()) == (200, {})
    stored = decode((perl_home / "superman@example.com" / "irc-localhost" / "connection.json").read_bytes())
    assert {c["conversation_id"]: c["unread"] for c in stored["conversations"]} == {
        "#convos": 0, "#with/slash": 0, "jimmy": 2}
    assert (await http.post("/api/connection/irc-localhost/read")).status == 200
    assert (await http.post("/api/notifications/read")).status == 200
    # The counters are right after a restart.
    again = await make_client(home_dir=perl_home)
    user = core_of(again).get_user("superman@example.com")
    conv = user.get_connection("irc-localhost").get_conversation("jimmy")
    assert conv.unread == 2


async def test_legacy_last_read_counts_without_cap(make_client, home):
    now = int(time.time())
    lines = [f"{ts_of(now - 500 + i)} 0 <x> line {i}" for i in range(100)]
    build_home(home, {f"{ts_of(now)[:4]}/{ts_of(now)[5:7]}/#convos.log": lines})
    path = home / "superman@example.com" / "irc-localhost" / "connection.json"
    data = decode(path.read_bytes())
    data["conversations"][0]["last_read"] = ts_of(now - 500 + 9)
    del data["conversations"][0]["unread"]
    atomic_write(path, encode(data))
    client = await make_client()
    conv = core_of(client).get_user("superman@example.com").get_connection("irc-localhost").get_conversation("#convos")
    assert conv.unread == 90  # the original caps this at 61
    assert "last_read" not in decode(path.read_bytes())["conversations"][0]


async def test_read_up_to_the_newest_line_shown(client):
    """markConversationAsRead's `last_id`: the file store's ids, and the counters browsers get."""
    from conftest import register

    await register(client, "superman@example.com")
    res = await client.post("/api/connections", json={"url": "irc://irc.example.com/%23planet",
                                                      "wanted_state": "disconnected"})
    assert res.status == 200
    core = core_of(client)
    user = core.get_user("superman@example.com")
    conn = user.get_connection("irc-example")
    conv = conn.get_conversation("#planet")
    for text in ("one", "two", "three"):
        await core.chat.ingest(conn, conv, type="private", from_="lois", message=text)
    await core.store.flush_logs()
    page = await (await client.get("/api/connection/irc-example/conversation/%23planet/messages")).json()
    ids = [m["id"] for m in page["messages"]]
    url = "/api/connection/irc-example/conversation/%23planet/read"
    res = await client.post(url, json={"last_id": ids[0]})
    assert res.status == 200
    conversations = (await (await client.get("/api/conversations")).json())["conversations"]
    planet = next(c for c in conversations if c["conversation_id"] == "#planet")
    assert (planet["unread"], planet["first_unread_id"]) == (2, ids[1])
    res = await client.post(url, json={"last_id": 42})
    assert res.status == 400 and (await res.json())["errors"][0]["path"] == "/body/last_id"
    res = await client.post(url, json={"last_id": ids[2]})
    assert res.status == 200 and conv.unread == 0
