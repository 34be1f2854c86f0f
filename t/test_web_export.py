"""Downloading a conversation's history as plain text (exportConversation): output and streaming."""

from __future__ import annotations

import gc
import tracemalloc

from test_web_history import build_home

EXPORT = "/api/connection/irc-localhost/conversation/%23convos/export"


async def login(make_client):
    client = await make_client()
    res = await client.post("/api/user/login", json={"email": "superman@example.com", "password": "longenough"})
    assert res.status == 200
    return client


async def test_month_and_range_as_plain_text(make_client, home):
    build_home(home, {
        "2026/10/#convos.log": ["2026-10-31T23:59:59 0 <alice> october"],
        "2026/11/#convos.log": [
            "2026-11-01T00:00:00 0 <alice> first of \x02november\x02",
            "2026-11-02T08:00:00 1 <bob> \x0304,01red\x03 and \x1funderlined\x1f superman",
            "2026-11-02T08:00:01 0 * bob waves",
            "2026-11-02T08:00:02 0 -NickServ- a notice",
            "2026-11-03T12:00:00 0 -!- carol joined",
            "2026-11-30T23:59:59 2 <alice>   preformatted",
        ],
        "2026/12/#convos.log": ["2026-12-01T00:00:00 0 <alice> december"],
    })
    client = await login(make_client)
    res = await client.get(EXPORT, params={"month": "2026-11"})
    assert res.status == 200, await res.text()
    assert res.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert res.headers["Content-Disposition"] == 'attachment; filename="irc-localhost-_convos-2026-11.txt"'
    assert await res.text() == (
        "2026-11-01 00:00:00 <alice> first of november\n"
        "2026-11-02 08:00:00 <bob> red and underlined superman\n"
        "2026-11-02 08:00:01 * bob waves\n"
        "2026-11-02 08:00:02 -NickServ- a notice\n"
        "2026-11-03 12:00:00 -!- carol joined\n"
        "2026-11-30 23:59:59 <alice>   preformatted\n")
    # days are whole and both included; the range crosses months
    res = await client.get(EXPORT, params={"from": "2026-10-31", "to": "2026-11-02"})
    assert res.headers["Content-Disposition"].endswith('-2026-10-31_2026-11-02.txt"')
    assert [line[20:] for line in (await res.text()).splitlines()] == [
        "<alice> october", "<alice> first of november", "<bob> red and underlined superman", "* bob waves",
        "-NickServ- a notice"]
    res = await client.get(EXPORT, params={"from": "2026-12-01", "to": "2026-12-01"})
    assert await res.text() == "2026-12-01 00:00:00 <alice> december\n"
    # nothing logged: an empty file, not an error
    res = await client.get(EXPORT, params={"month": "2020-01"})
    assert res.status == 200
    assert await res.text() == ""


async def test_bad_input(make_client, home, anon):
    build_home(home, {})
    client = await login(make_client)
    cases = [
        ({"month": "2026-13"}, "/month", "Expected a month: YYYY-MM."),
        ({"month": "2026-11", "from": "2026-11-01"}, "/month", "Give either a month or a date range."),
        ({}, "/month", "Missing property."),
        ({"from": "2026-11-01"}, "/to", "Missing property."),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "/from", "Expected a date: YYYY-MM-DD."),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "/to", "The end is before the start."),
        ({"from": "2024-01-01", "to": "2025-01-01"}, "/to", "At most 366 days at a time."),
        ({"month": "2026-11-01"}, "/month", "String is too long: 10/7."),
    ]
    for params, path, message in cases:
        res = await client.get(EXPORT, params=params)
        assert res.status == 400, params
        assert (await res.json())["errors"] == [{"message": message, "path": path}], params
    res = await client.get("/api/connection/irc-localhost/conversation/%23nope/export", params={"month": "2026-11"})
    assert res.status == 404
    other = await make_client()
    res = await other.get(EXPORT, params={"month": "2026-11"})
    assert res.status == 401


async def test_streams_a_big_log_in_bounded_memory(make_client, home):
    """A 24 MiB month goes out chunked, and the process never holds more than a few blocks."""
    line = "2026-11-{day:02d}T{h:02d}:{m:02d}:{s:02d} 0 <alice> " + "x" * 180
    lines = []
    for i in range(120_000):
        day, rest = divmod(i, 4320)  # 4320 lines a day, 20 s apart
        lines.append(line.format(day=day + 1, h=rest * 20 // 3600, m=rest * 20 // 60 % 60, s=rest * 20 % 60))
    build_home(home, {"2026/11/#convos.log": lines})
    size = (home / "superman@example.com/irc-localhost/2026/11/#convos.log").stat().st_size
    assert size > 24 << 20
    client = await login(make_client)
    gc.collect()
    tracemalloc.start()
    try:
        res = await client.get(EXPORT, params={"month": "2026-11"})
        assert res.status == 200
        assert res.headers.get("Transfer-Encoding") == "chunked"
        assert "Content-Length" not in res.headers
        total = lines_seen = 0
        tail = b""
        async for chunk in res.content.iter_chunked(64 * 1024):
            total += len(chunk)
            lines_seen += chunk.count(b"\n")
            tail = (tail + chunk)[-300:]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines_seen == 120_000
    assert tail.endswith(b"2026-11-28 18:39:40 <alice> " + b"x" * 180 + b"\n")
    assert total > 23 << 20
    print(f"\nexport: {size} bytes of log, {total} bytes sent, peak traced memory {peak} bytes")
    assert peak < 4 << 20, peak

