"""Message ids over HTTP: exact pages by id through floods, search by id, notification ids, bad ids."""

from __future__ import annotations

import time
from typing import Any

from test_web_history import CONV, build_home, texts, ts_of

FLOOD = 2000


async def login(make_client: Any) -> Any:
    client = await make_client()
    res = await client.post("/api/user/login", json={"email": "superman@example.com", "password": "longenough"})
    assert res.status == 200
    return client


def flood_lines(start: int, flood: int = FLOOD) -> tuple[dict[str, list[str]], list[str]]:
    """10 lines, a burst of `flood` lines in one second, 10 more; and the texts in order."""
    lines, order = [], []
    for i in range(10):
        lines.append(f"{ts_of(start + i)} 0 <a> before {i}")
    for i in range(flood):
        lines.append(f"{ts_of(start + 20)} 0 <b> flood {i}")
    for i in range(10):
        lines.append(f"{ts_of(start + 40 + i)} 0 <a> after {i}")
    for line in lines:
        order.append(line.split("> ", 1)[1])
    by_month: dict[str, list[str]] = {}
    for line in lines:
        by_month.setdefault(f"{line[:4]}/{line[5:7]}/#convos.log", []).append(line)
    return by_month, order


async def get(client: Any, path: str, **params: Any) -> dict[str, Any]:
    res = await client.get(path, params=params)
    assert res.status == 200, await res.text()
    return await res.json()  # type: ignore[no-any-return]


async def test_paging_by_id_through_a_flood_in_one_second(make_client, home):
    start = int(time.time()) - 3600
    by_month, order = flood_lines(start)
    build_home(home, by_month)
    client = await login(make_client)

    # Backwards by id: every page holds exactly `limit` messages, none skipped or repeated.
    seen: list[str] = []
    body = await get(client, CONV, limit=60)
    sizes = []
    while True:
        sizes.append(len(body["messages"]))
        seen[:0] = texts(body)
        if "before_id" not in body:
            break
        assert body["before_id"] == body["messages"][0]["id"]
        body = await get(client, CONV, limit=60, before_id=body["before_id"])
    assert seen == order
    assert sizes == [60] * (len(order) // 60) + [len(order) % 60]
    ids = [m["id"] for m in (await get(client, CONV, limit=200))["messages"]]
    assert len(set(ids)) == 200 and all(len(i) == 16 for i in ids)

    # Forwards by id from the first message.
    first = (await get(client, CONV, limit=1, after=ts_of(start - 60)))["messages"][0]
    seen, cursor = [first["message"]], first["id"]
    while cursor:
        body = await get(client, CONV, limit=60, after_id=cursor)
        assert len(body["messages"]) <= 60
        seen += texts(body)
        cursor = body.get("after_id")
    assert seen == order

    # Around a message in the middle of the flood: the 5 before it, it, and the 4 after.
    middle = (await get(client, CONV, limit=200, before_id=ids[100]))["messages"][-1]
    i = order.index(middle["message"])
    body = await get(client, CONV, limit=5, around_id=middle["id"])
    assert texts(body) == order[i - 5 : i + 5]
    assert body["before_id"] == body["messages"][0]["id"] and body["after_id"] == body["messages"][-1]["id"]


async def test_timestamp_cursors_lose_nothing_in_a_flood(make_client, home):
    """Clients of the original page by timestamp: they may see part of a flood twice, but lose
    none of it (up to logcollect.MAX_WIDEN lines in one second: a timestamp cursor cannot go further)."""
    start = int(time.time()) - 3600
    by_month, order = flood_lines(start, 900)
    build_home(home, by_month)
    client = await login(make_client)
    seen: list[str] = []
    body = await get(client, CONV, limit=60)
    assert len(body["messages"]) == 60
    assert body["before"] == ts_of(start + 21)  # the page ends inside the flood's second: the next one covers it
    while True:
        seen[:0] = [t for t in texts(body) if t not in seen]
        if "before" not in body:
            break
        body = await get(client, CONV, limit=60, before=body["before"])
    assert seen == order


async def test_bad_ids_are_refused(make_client, home):
    build_home(home, {})
    client = await login(make_client)
    for name in ("before_id", "after_id", "around_id"):
        for value in ["abc", "!" * 16, "A" * 17, "AAAAAAAAAAAAAAA="]:
            res = await client.get(CONV, params={name: value})
            assert res.status == 400, (name, value)
            assert (await res.json())["errors"][0]["path"] == f"/{name}"
    res = await client.get("/api/search", params={"match": "x", "before_id": "nope"})
    assert res.status == 400 and (await res.json())["errors"][0]["path"] == "/before_id"
    # A well-formed id that names no message is still a place in time: an empty page, not an error.
    assert (await get(client, CONV, before_id="AAAAAAAAAAAAAAAA")) == {"messages": []}


async def test_search_pages_by_id_across_conversations(make_client, home):
    """Two conversations with the same lines at the same seconds (so the same offsets): each
    match comes back exactly once, paging one at a time."""
    start = int(time.time()) - 3600
    lines = [f"{ts_of(start + i // 3)} 0 <a> needle {i}" for i in range(12)]
    rel = f"{lines[0][:4]}/{lines[0][5:7]}"
    build_home(home, {f"{rel}/#convos.log": lines, f"{rel}/#other.log": lines},
               conversations=("#convos", "#other"))
    client = await login(make_client)
    seen, params = [], {"match": "needle", "limit": 1}
    for _ in range(30):
        body = await get(client, "/api/search", **params)
        assert len(body["messages"]) <= 1
        seen += [(m["conversation_id"], m["message"], m["id"]) for m in body["messages"]]
        if body["end"]:
            break
        params["before_id"] = body["before_id"]
    assert len(seen) == 24 and len({s[2] for s in seen}) == 24
    assert {(c, t) for c, t, _ in seen} == {(c, f"needle {i}") for c in ("#convos", "#other") for i in range(12)}
    # newest first: the messages' order by time never goes up
    times = [int(t.split()[1]) // 3 for _, t, _ in seen]
    assert times == sorted(times, reverse=True)
    # The ids are the ones the conversation pages give.
    page = await get(client, CONV, limit=200)
    assert {m["id"] for m in page["messages"]} == {x for c, _, x in seen if c == "#convos"}


async def test_notifications_carry_the_message_id(make_client, perl_home):
    client = await make_client(home_dir=perl_home)
    res = await client.post("/api/user/login", json={"email": "superman@example.com", "password": "supersecret1"})
    assert res.status == 200
    page = await get(client, CONV)
    by_text = {(m["ts"], m["message"]): m["id"] for m in page["messages"]}
    notes = (await get(client, "/api/notifications"))["messages"]
    assert notes and all(n["id"] == by_text[(n["ts"], n["message"])] for n in notes)
    # The browser jumps to the exact message: around_id puts it first in the newer half.
    body = await get(client, CONV, around_id=notes[0]["id"], limit=1)
    assert body["messages"][-1]["id"] == notes[0]["id"]
