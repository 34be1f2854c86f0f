"""Monthly log files: the writer, range-seek paging against a naive scan, search, notifications."""

from __future__ import annotations

import calendar
import math
import os
import shutil
import stat
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convos.store.logs import (
    AfterIsLater,
    InvalidLimit,
    LogWriter,
    MessagePage,
    WindowTooLong,
    delete_conversation_logs,
    list_log_months,
    merge_newest_first,
    read_messages,
    read_notifications,
    search_conversation,
)
from convos.store.logs import collect as logcollect
from convos.store.logs import grep as loggrep
from convos.store.logs import scan as logscan
from convos.store.logs import seek as logseek
from convos.store.logs.format import Matcher, format_line, format_ts, month_relpath, parse_line, split_line
from convos.store.logs.id import MessagePos, conversation_tag, parse_message_id

FIXTURE = Path(__file__).resolve().parent / "data" / "perl-8.07-home"
NOW = datetime(2024, 3, 21, 12, 0, 0, tzinfo=UTC)


def ts_of(page_or_list) -> list[str]:
    msgs = page_or_list.messages if hasattr(page_or_list, "messages") else page_or_list
    return [m.message for m in msgs]


# --- the writer --------------------------------------------------------------------


def test_writer_paths_modes_and_rollover(tmp_path):
    conn = tmp_path / "user" / "irc-x"
    with LogWriter() as w:
        line = w.log_message(conn, "#with/slash", datetime(2024, 1, 31, 23, 59, 59), "private", "a", "one")
        w.log_message(conn, "#with/slash", datetime(2024, 2, 1), "action", "a", "two")
        w.log_message(conn, "", datetime(2024, 2, 1), "notice", "irc-x", "server")
        assert w.log_message(conn, "#x", NOW, "error", "a", "not logged") is None
    assert line == "2024-01-31T23:59:59 0 <a> one\n"
    assert (conn / "2024/01/#with%2Fslash.log").read_text() == line
    assert (conn / "2024/02/#with%2Fslash.log").read_text() == "2024-02-01T00:00:00 0 * a two\n"
    assert (conn / "2024/02.log").read_text() == "2024-02-01T00:00:00 0 -irc-x- server\n"
    assert not (conn / "2024/03").exists()
    for d in [tmp_path / "user", conn, conn / "2024", conn / "2024/01"]:
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    assert stat.S_IMODE((conn / "2024/02.log").stat().st_mode) == 0o600
    assert list_log_months(conn, "#with/slash") == [(2024, 1), (2024, 2)]
    assert list_log_months(conn, "") == [(2024, 2)]


def test_writer_rejects_partial_lines(tmp_path):
    with LogWriter() as w:
        for bad in ["no newline", "two\nlines\n", "\n\n"]:
            with pytest.raises(ValueError):
                w.append(tmp_path / "x.log", bad)


def test_torn_last_line_is_ignored_then_cut_before_the_next_append(tmp_path):
    conn = tmp_path / "irc-x"
    path = conn / "2024/03/#c.log"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"2024-03-21T10:00:00 0 <a> whole\n2024-03-21T10:00:01 0 <b> torn \xc3")
    assert ts_of(read_messages(conn, "#c", now=NOW)) == ["whole"]
    with LogWriter() as w:
        w.log_message(conn, "#c", datetime(2024, 3, 21, 10, 0, 2), "private", "c", "after crash")
    assert path.read_bytes() == b"2024-03-21T10:00:00 0 <a> whole\n2024-03-21T10:00:02 0 <c> after crash\n"
    assert ts_of(read_messages(conn, "#c", now=NOW)) == ["whole", "after crash"]
    # a file holding nothing but a fragment
    path.write_bytes(b"2024-03-21T10:00:00 0 <a> frag")
    assert read_messages(conn, "#c", now=NOW).messages == []
    with LogWriter() as w:
        w.log_message(conn, "#c", datetime(2024, 3, 21, 10, 0, 3), "private", "c", "fresh")
    assert path.read_bytes() == b"2024-03-21T10:00:03 0 <c> fresh\n"


def test_writer_handle_cap(tmp_path):
    w = LogWriter(max_open=2)
    try:
        for cid in ["#a", "#b", "#c"]:
            w.log_message(tmp_path, cid, NOW, "private", "n", cid)
        assert [Path(p).name for p in w.open_files] == ["#b.log", "#c.log"]
        w.log_message(tmp_path, "#a", NOW, "private", "n", "again")  # reopened, #b evicted
        assert [Path(p).name for p in w.open_files] == ["#c.log", "#a.log"]
        w.log_message(tmp_path, "#c", NOW, "private", "n", "c2")
        assert [Path(p).name for p in w.open_files] == ["#a.log", "#c.log"]
    finally:
        w.close()
    assert w.open_files == []
    assert ts_of(read_messages(tmp_path, "#a", now=NOW)) == ["#a", "again"]
    assert ts_of(read_messages(tmp_path, "#c", now=NOW)) == ["#c", "c2"]


def test_delete_conversation_logs(tmp_path):
    with LogWriter() as w:
        for month in (1, 2, 3):
            w.log_message(tmp_path, "#with/slash", datetime(2024, month, 2), "private", "n", "x")
            w.log_message(tmp_path, "#other", datetime(2024, month, 2), "private", "n", "y")
        assert w.delete_conversation_logs(tmp_path, "#with/slash") == 3
        assert not any(p.endswith("#with%2Fslash.log") for p in w.open_files)
        assert read_messages(tmp_path, "#with/slash", now=NOW).to_dict() == {"messages": []}
        w.log_message(tmp_path, "#with/slash", NOW, "private", "n", "new")
    assert ts_of(read_messages(tmp_path, "#with/slash", now=NOW)) == ["new"]
    assert len(read_messages(tmp_path, "#other", now=NOW).messages) == 3
    assert delete_conversation_logs(tmp_path, "#other") == 3
    assert delete_conversation_logs(tmp_path, "#nope") == 0


def test_notifications(tmp_path):
    path = tmp_path / "notifications.log"
    assert read_notifications(path) == []
    with LogWriter() as w:
        for i in range(50):
            w.log_notification(
                tmp_path, NOW + timedelta(seconds=i), "irc-x", "#c", "private", "n", f"{i} ø å"
            )
        assert w.log_notification(tmp_path, NOW, "irc-x", "#c", "error", "n", "x") is None
    with path.open("ab") as fh:
        fh.write(b"2024-03-21T12:00:59 irc-x #c <n> torn")
    found = read_notifications(path)
    assert len(found) == 40 and found[0].message == "10 ø å" and found[-1].message == "49 ø å"
    assert [n.message for n in read_notifications(path, limit=2)] == ["48 ø å", "49 ø å"]
    assert found[-1].to_dict()["conversation_id"] == "#c"


# --- the 8.07 fixture ---------------------------------------------------------------


@pytest.fixture
def perl_home(tmp_path):
    return Path(shutil.copytree(FIXTURE, tmp_path / "home"))


def test_fixture_messages(perl_home):
    conn = perl_home / "superman@example.com" / "irc-localhost"
    now = datetime(2026, 11, 27, tzinfo=UTC)
    page = read_messages(conn, "#convos", now=now)
    assert len(page.messages) == 10 and page.before is None and page.after is None
    assert [m.message for m in page.messages if m.highlight] == [
        "superman: can you help me with the layout?",
        "Careful, there is kryptonite in the basement",
    ]
    assert len(read_messages(conn, "#with/slash", now=now).messages) == 2
    assert read_messages(conn, "", now=now).messages[-1].type == "preformat"
    assert ts_of(read_messages(conn, "jimmy", now=now, limit=1)) == ["Thanks for the private message, jimmy!"]
    lois = perl_home / "lois@example.com" / "irc-localhost"
    assert not any(m.highlight for m in read_messages(lois, "#convos", now=now).messages)
    found = search_conversation(conn, "#convos", match="æøå")
    assert [m.from_ for m in found.messages] == ["superman", "jimmy"] and not found.more
    assert len(read_notifications(perl_home / "superman@example.com" / "notifications.log")) == 2
    # appending to a log written by 8.07
    with LogWriter() as w:
        w.log_message(conn, "#convos", datetime(2026, 11, 26, 21), "private", "superman", "still here")
    assert len(read_messages(conn, "#convos", now=now).messages) == 11


# --- spec §9 facts 44-52 and 55, at the store level ----------------------------------

FACT_T0 = NOW - timedelta(seconds=40 * 81)
FACT_TS = [FACT_T0 + timedelta(seconds=40 * i) for i in range(81)]
SPECIAL = {
    10: ("insect", "10 apple"),
    20: ("insect", "20 ball"),
    30: ("profit", "30 ball"),
    35: ("toad", "35 pot"),
    47: ("bird", "47 potato"),
    52: ("shade", "52 secretary"),
    62: ("profit", "62 toys"),
    65: ("profit", "65 canvas"),
}


@pytest.fixture
def facts(tmp_path):
    nicks, words = ["industry", "toad", "bird", "cloud"], ["bed", "bead", "lamp", "door", "tree"]
    with LogWriter() as w:
        for i, t in enumerate(FACT_TS):
            nick, text = SPECIAL.get(i, (nicks[i % 4], f"{i} {words[i % 5]}"))
            w.log_message(tmp_path, "#convos", t, "private", nick, text, is_channel=True)
    return tmp_path


def n(i: int) -> str:
    return format_ts(FACT_TS[i])


def idx(page) -> list[int]:
    return [int(m.message.split()[0]) for m in page.messages]


def test_facts_44_45_newest_pages(facts):
    page = read_messages(facts, "#convos", now=NOW)
    assert idx(page) == list(range(21, 81)) and page.before == n(21) and page.after is None
    assert page.messages[0].message == "21 bead" and page.messages[-1].message == "80 bed"
    page = read_messages(facts, "#convos", now=NOW, limit=100)
    assert idx(page) == list(range(81)) and page.before is None
    page = read_messages(facts, "#convos", now=NOW, limit=1)
    assert idx(page) == [80] and page.before == n(80)


def test_facts_46_47_48_before_and_after(facts):
    page = read_messages(facts, "#convos", now=NOW, before=FACT_TS[15])
    assert idx(page) == list(range(15)) and page.before is None and page.after is None
    page = read_messages(facts, "#convos", now=NOW, before=FACT_TS[15], limit=9)
    assert idx(page) == list(range(6, 15)) and page.before == n(6)
    page = read_messages(facts, "#convos", now=NOW, after=FACT_TS[13])
    assert idx(page) == list(range(14, 74)) and page.after == n(73) and page.before is None
    assert idx(read_messages(facts, "#convos", now=NOW, after=FACT_TS[13], limit=29)) == list(range(14, 43))
    page = read_messages(facts, "#convos", now=NOW, after=FACT_TS[13], before=FACT_TS[15])
    assert idx(page) == [14] and page.to_dict().keys() == {"messages"}


def test_facts_49_50_match_and_around(facts):
    assert ts_of(read_messages(facts, "#convos", now=NOW, match="pot")) == ["35 pot", "47 potato"]
    assert ts_of(read_messages(facts, "#convos", now=NOW, match="pot", limit=1)) == ["47 potato"]
    page = read_messages(facts, "#convos", now=NOW, around=FACT_TS[13])
    assert idx(page) == list(range(73)) and page.before is None and page.after == n(72)
    page = read_messages(facts, "#convos", now=NOW, around=FACT_TS[13], limit=10)
    assert idx(page) == list(range(3, 23)) and page.before == n(3) and page.after == n(22)


def test_facts_51_52_empty_and_errors(facts):
    assert read_messages(facts, "#nope", now=NOW).to_dict() == {"messages": []}
    d = read_messages(facts, "#convos", now=NOW).to_dict()
    assert all(len(m["ts"]) == 19 and m["ts"][10] == "T" for m in d["messages"])
    with pytest.raises(WindowTooLong, match=r'Must be less than "/after" - 12 months\.') as e:
        read_messages(facts, "#convos", after=NOW - timedelta(days=366), before=NOW)
    assert e.value.path == "/before" and isinstance(e.value, ValueError)
    with pytest.raises(AfterIsLater, match=r'Must be before "/after"\.'):
        read_messages(facts, "#convos", after=NOW, before=NOW - timedelta(seconds=1))
    read_messages(facts, "#convos", after=NOW - timedelta(days=365), before=NOW)
    for bad in (0, -1):
        with pytest.raises(InvalidLimit) as e:
            read_messages(facts, "#convos", limit=bad)
        assert e.value.path == "/limit"
    assert len(read_messages(facts, "#convos", now=NOW, limit=5000).messages) == 81


def test_fact_55_search(facts):
    assert search_conversation(facts, "#convos", match='"secret"').messages == []
    assert ts_of(search_conversation(facts, "#convos", match="secretary")) == ["52 secretary"]
    found = search_conversation(facts, "#convos", match="sec")  # <insect> is searchable too
    assert [m.from_ for m in found.messages] == ["shade", "insect", "insect"]
    assert ts_of(search_conversation(facts, "#convos", from_="INSECT")) == ["20 ball", "10 apple"]
    assert search_conversation(facts, "#convos", from_="ins").messages == []
    assert ts_of(search_conversation(facts, "#convos", from_="profit", match="6")) == ["65 canvas", "62 toys"]
    assert ts_of(read_messages(facts, "#convos", now=NOW, from_="Profit")) == [
        "30 ball",
        "62 toys",
        "65 canvas",
    ]
    found = search_conversation(facts, "#convos", match="e", limit=3)
    assert len(found.messages) == 3 and found.more and found.messages[0].ts > found.messages[-1].ts
    # after is inclusive, before exclusive
    assert ts_of(
        search_conversation(facts, "#convos", after=FACT_TS[10], before=FACT_TS[20], match="apple")
    ) == ["10 apple"]
    assert (
        search_conversation(facts, "#convos", after=FACT_TS[10], before=FACT_TS[20], match="ball").messages
        == []
    )


def test_deep_pages_read_little(tmp_path, monkeypatch):
    lines = [
        format_line(FACT_T0.timestamp() + i, "private", f"n{i % 7}", f"{i} " + "x" * 60)
        for i in range(60_000)
    ]
    path = tmp_path / month_relpath(FACT_T0.year, FACT_T0.month, "#big")
    path.parent.mkdir(parents=True)
    path.write_text("".join(lines))
    size = path.stat().st_size
    read = []
    real = os.pread
    monkeypatch.setattr(os, "pread", lambda fd, n, off: read.append(n) or real(fd, n, off))
    later = FACT_T0 + timedelta(days=1)
    newest = read_messages(tmp_path, "#big", now=later)
    assert idx(newest) == list(range(59_940, 60_000))
    newest_cost, read[:] = sum(read), []
    before = datetime.fromtimestamp(FACT_T0.timestamp() + 1000, UTC)
    page = read_messages(tmp_path, "#big", before=before, now=later)
    assert idx(page) == list(range(940, 1000)) and page.before == page.messages[0].ts
    # a deep page costs the newest page plus O(log n) small reads, a fraction of the file
    assert sum(read) < newest_cost + 64_000 and newest_cost < size / 10, (sum(read), newest_cost)
    read.clear()
    page = read_messages(tmp_path, "#big", around=before, limit=10, now=later)
    assert idx(page) == list(range(990, 1010)) and sum(read) < 2 * newest_cost + 64_000


def test_merge_newest_first():
    def s(*ts):
        return list(ts)

    assert merge_newest_first([(s("5", "3"), False), (s("4"), False)], 10, str) == (["5", "4", "3"], None)
    # a truncated conversation: nothing older than its oldest returned item
    assert merge_newest_first([(s("9", "5"), True), (s("8", "4"), False)], 10, str) == (["9", "8", "5"], "5")
    assert merge_newest_first([(s("5", "4", "3"), False)], 2, str) == (["5", "4"], "4")
    # never cut inside a second
    assert merge_newest_first([(s("5", "4"), False), (s("4", "3"), False)], 2, str) == (["5", "4", "4"], "4")
    assert merge_newest_first([(s("4", "4"), False), (s("4"), False)], 2, str) == (["4", "4", "4"], None)
    assert merge_newest_first([], 2, str) == ([], None)


# --- property tests against a naive linear scan -----------------------------------------

TINY = {
    "_PAGE_BLOCK": 48,
    "_PAGE_MAX_BLOCK": 300,
    "_SEARCH_BLOCK": 64,
    "_SEARCH_MAX_BLOCK": 500,
    "_BISECT_LINEAR": 40,
}
WORDS = ["pot", "Potato", "æble", "ÆØÅ", "straße", "kryptonite", "x"]
NICKS = ["jimmy", "Supergirl", "Æsop", "a-b"]


def epoch(t: datetime) -> float:
    return t.timestamp()


def months_add(t: datetime, months: int) -> datetime:
    y, m = divmod(t.month - 1 + months, 12)
    year, month = t.year + y, m + 1
    return t.replace(year=year, month=month, day=min(t.day, calendar.monthrange(year, month)[1]))


class Naive:
    """Every complete, parsable line of every file, in message order: time, then place in the file.

    Each message carries its id (month file + offset); bounds are timestamps or positions
    (epoch, offset) as message ids name them.
    """

    def __init__(self, conn: Path, cid: str) -> None:
        found = []
        tag = conversation_tag(conn, cid)
        for y, m in list_log_months(conn, cid):
            data = (conn / month_relpath(y, m, cid)).read_bytes()
            offset = 0
            for line in data[: data.rfind(b"\n") + 1].split(b"\n")[:-1]:
                msg = parse_line(line)
                if msg is not None:
                    e = calendar.timegm(datetime.strptime(msg.ts.upper(), "%Y-%m-%dT%H:%M:%S").timetuple())
                    msg.id = MessagePos(e, offset, tag).id
                    found.append(((e, offset), msg, split_line(line.decode())[2]))
                offset += len(line) + 1
        self.msgs = sorted(found, key=lambda x: x[0])

    @staticmethod
    def _place(bound, incl_ts: bool, upper: bool):
        """A bound as a position: ids are exact (and exclusive); timestamps cover whole seconds."""
        if isinstance(bound, MessagePos):
            return (bound.epoch, bound.offset)
        e = epoch(bound)
        if upper:
            sec = math.floor(e) if incl_ts else math.ceil(e) - 1  # last accepted second
            return (sec, math.inf)
        sec = math.ceil(e) if incl_ts else math.floor(e) + 1  # first accepted second
        return (sec, -1)

    def select(self, lo, hi, lo_incl, hi_incl, match, from_):
        m = Matcher(match) if match else None
        lo_p = None if lo is None else self._place(lo, lo_incl, False)
        hi_p = None if hi is None else self._place(hi, hi_incl, True)
        out = []
        for place, msg, body in self.msgs:
            if lo_p is not None and not (place >= lo_p if lo_incl or not isinstance(lo, MessagePos) else place > lo_p):
                continue
            if hi_p is not None and not (place <= hi_p if not isinstance(hi, MessagePos) else place < hi_p):
                continue
            if from_ and msg.from_.lower() != from_.lower():
                continue
            if m is not None and not m.search(body):
                continue
            out.append((place[0], msg))
        return out

    @staticmethod
    def page(found, limit, forward, widen=True):
        """(page, more, split): widened to the boundary second, or exactly `limit`."""
        if len(found) <= limit:
            return [m for _, m in found], False, False
        if not widen:
            page, rest = (found[:limit], found[limit:]) if forward else (found[-limit:], found[:-limit])
            edge = page[-1 if forward else 0][0]
            return [m for _, m in page], True, any(e == edge for e, _ in rest)
        t = found[limit - 1][0] if forward else found[-limit][0]
        page = [m for e, m in found if (e <= t if forward else e >= t)]
        return page, len(page) < len(found), False

    def read(self, after, before, around, limit, match, from_, now, after_id=None, before_id=None, around_id=None):
        by_id = after_id is not None or before_id is not None or around_id is not None
        widen = not by_id and (after is not None or before is not None or around is not None)
        both = (after is not None or after_id is not None) and (before is not None or before_id is not None)
        limit = min(limit or (200 if both else 60), 200)
        future = months_add(now, 1)
        lo = after_id or after
        hi = before_id or before
        mid = around_id or around
        mid_t = around if around_id is None else datetime.fromtimestamp(around_id.epoch, UTC)
        after_t = after if after_id is None else datetime.fromtimestamp(after_id.epoch, UTC)
        before_t = before if before_id is None else datetime.fromtimestamp(before_id.epoch, UTC)
        out = MessagePage([])

        def older(msgs, split):
            out.before_id = msgs[0].id
            out.before = shift(msgs[0].ts, 1) if split else msgs[0].ts

        def newer(msgs, split):
            out.after_id = msgs[-1].id
            out.after = shift(msgs[-1].ts, -1) if split else msgs[-1].ts

        if mid is not None:
            lo_a = lo if lo is not None else months_add(mid_t, -12)
            old, more_o, split_o = self.page(self.select(lo_a, mid, False, False, match, from_), limit, False, widen)
            hi_b = hi if hi is not None else min(months_add(mid_t, 12), future)
            new, more_n, split_n = self.page(self.select(mid, hi_b, True, True, match, from_), limit, True, widen)
            out.messages = old + new
            if more_o:
                older(old, split_o)
            if more_n:
                newer(new, split_n)
            return out
        if lo is not None:
            hi_f = hi if hi is not None else min(months_add(after_t, 12), future)
            msgs, more, split = self.page(self.select(lo, hi_f, False, False, match, from_), limit, True, widen)
            out.messages = msgs
            if more:
                newer(msgs, split)
            return out
        hi_t = before_t if before_t is not None else now + timedelta(seconds=10)
        msgs, more, split = self.page(
            self.select(months_add(hi_t, -12), hi if hi is not None else hi_t, False, False, match, from_),
            limit, False, widen,
        )
        out.messages = msgs
        if more:
            older(msgs, split)
        return out


def shift(ts: str, seconds: int) -> str:
    return (datetime.fromisoformat(ts.upper()) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


START = datetime(2023, 1, 30, 22, 0, tzinfo=UTC)


@st.composite
def log_entries(draw, max_step=86400 * 40, jitter=300, skewed=False):  # half the documented slack
    count = draw(st.integers(0, 70))
    t = START + timedelta(seconds=draw(st.integers(0, 86400 * 3)))
    entries = []
    for _ in range(count):
        t += timedelta(seconds=draw(st.sampled_from([0, 0, 0, 1, 1, 2, 30, 3600, max_step])))
        skews = [-jitter, jitter, jitter // 2, -jitter // 3] + ([] if skewed else [0, 0, 0, 0, 0])
        skew = draw(st.sampled_from(skews))
        kind = draw(
            st.sampled_from(["private"] * 4 + ["action", "notice", "preformat", "legacy", "garbage", "lower"])
        )
        text = draw(st.sampled_from([*WORDS, "", " ", "plain"])) + " " + draw(st.text(max_size=6).map(_no_nl))
        entries.append(
            (t + timedelta(seconds=skew), kind, draw(st.sampled_from(NICKS)), text, draw(st.booleans()))
        )
    return entries, draw(st.booleans())


def _no_nl(s: str) -> str:
    return s.replace("\n", " ")


def write_entries(conn: Path, cid: str, entries, torn: bool) -> None:
    last = None
    for t, kind, nick, text, hl in entries:
        if kind == "garbage":
            line = f"garbage {text}\n"
        elif kind == "legacy":
            line = f"{format_ts(t)} <{nick}> {text}\n"
        else:
            line = format_line(
                t, "private" if kind == "lower" else kind, nick, text, highlight=hl, is_channel=True
            )
            if kind == "lower":
                line = line[:10] + "t" + line[11:]
        path = conn / month_relpath(t.year, t.month, cid)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line)
        last = path
    if torn and last is not None:
        with last.open("ab") as fh:
            fh.write(f"{format_ts(entries[-1][0])} 0 <torn> æ".encode()[:-1])


def maybe_tiny(stack: ExitStack, tiny: bool) -> None:
    if tiny:
        stack.enter_context(mock.patch.multiple(logseek, **TINY))


# How a scan with a prefilter reads: all in Python (no grep), everything through grep,
# or Python for the newest bytes and grep for the rest (region boundaries mid-file).
ENGINES = ["python", "grep", "mixed"]


def use_engine(stack: ExitStack, engine: str) -> None:
    if engine == "python":
        stack.enter_context(mock.patch.object(loggrep, "_grep", None))
    elif engine == "grep":
        stack.enter_context(mock.patch.object(logscan, "PYTHON_BUDGET", 0))
    elif engine == "mixed":
        stack.enter_context(mock.patch.object(logscan, "PYTHON_BUDGET", 150))
        stack.enter_context(mock.patch.object(logscan.Scan, "prefers_python", lambda self: False))


times = st.integers(-86400 * 2, 86400 * 400).map(lambda s: START + timedelta(seconds=s, microseconds=0))
queries = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(["none", "before", "after", "both", "around", "around+after",
                                 "before_id", "after_id", "both_id", "around_id", "around_id+after", "after_id+before"]),
        "pick": st.integers(0, 1000),
        "pick2": st.integers(0, 1000),
        "jiggle": st.sampled_from([0, 0, 0, 1, -1, 7]),
        "a": times,
        "b": st.integers(0, 86400 * 200),
        "frac": st.sampled_from([0, 0, 500_000]),
        "limit": st.sampled_from([None, 1, 2, 3, 5, 17]),
        "match": st.sampled_from([None, None, "pot", "æ", '"x"', "POTATO plain", "<jimmy>"]),
        "from_": st.sampled_from([None, None, "JIMMY", "æsop"]),
        "now": st.integers(0, 86400 * 500),
    }
)


def pick_id(model: Naive | None, pick: int, jiggle: int, fallback: datetime) -> MessagePos:
    """A message's position (or one next to it, which names no message: still a valid cursor)."""
    if model is None or not model.msgs:
        return MessagePos(int(epoch(fallback)), max(0, jiggle))
    e, offset = model.msgs[pick % len(model.msgs)][0]
    return MessagePos(e, max(0, offset + jiggle), 0)


def query_args(q, model: Naive | None = None) -> dict:
    a = q["a"] + timedelta(microseconds=q["frac"])
    args = {
        "limit": q["limit"],
        "match": q["match"],
        "from_": q["from_"],
        "now": START + timedelta(seconds=q["now"]),
    }
    mode = q["mode"]
    if mode in ("before", "both", "after_id+before"):
        args["before"] = a + timedelta(seconds=q["b"]) if mode != "before" else a
    if mode in ("after", "both", "around+after", "around_id+after"):
        args["after"] = a
    if mode in ("around", "around+after"):
        args["around"] = a + timedelta(seconds=q["b"])
    first = pick_id(model, q["pick"], q["jiggle"], a)
    if mode in ("before_id", "both_id"):
        args["before_id"] = first
    if mode in ("after_id", "after_id+before"):
        args["after_id"] = first
    if mode == "both_id":
        second = pick_id(model, q["pick2"], 0, a)
        args["after_id"], args["before_id"] = min(first, second), max(first, second)
        if args["before_id"].epoch - args["after_id"].epoch > 360 * 86400:
            del args["after_id"]
    if mode.startswith("around_id"):
        args["around_id"] = first
        if "after" in args and args["after"] > datetime.fromtimestamp(first.epoch, UTC):
            del args["after"]
    if "after_id" in args and "before" in args:
        after_t = datetime.fromtimestamp(args["after_id"].epoch, UTC)
        if not after_t <= args["before"] <= after_t + timedelta(days=360):
            del args["before"]
    return args


def naive_read(model: Naive, args) -> MessagePage:
    return model.read(
        args.get("after"),
        args.get("before"),
        args.get("around"),
        args["limit"],
        args["match"],
        args["from_"],
        args["now"],
        after_id=args.get("after_id"),
        before_id=args.get("before_id"),
        around_id=args.get("around_id"),
    )


def read_page(conn: Path, cid: str, args) -> MessagePage:
    """read_messages, with the id cursors' tags set as the API would get them from a message."""
    tag = conversation_tag(conn, cid)
    args = {k: (MessagePos(v.epoch, v.offset, tag) if isinstance(v, MessagePos) else v) for k, v in args.items()}
    return read_messages(conn, cid, **args)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=log_entries(),
    qs=st.lists(queries, min_size=1, max_size=6),
    tiny=st.booleans(),
    engine=st.sampled_from(ENGINES),
)
def test_pages_equal_a_naive_scan(log, qs, tiny, engine):
    entries, torn = log
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        maybe_tiny(stack, tiny)
        use_engine(stack, engine)
        conn = Path(tmp)
        write_entries(conn, "#c/x", entries, torn)
        model = Naive(conn, "#c/x")
        for q in qs:
            args = query_args(q, model)
            assert read_page(conn, "#c/x", args) == naive_read(model, args), args


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=log_entries(max_step=60, skewed=True),
    qs=st.lists(st.tuples(queries, st.integers(0, 69), st.integers(-3, 3)), min_size=1, max_size=6),
    engine=st.sampled_from(ENGINES),
)
def test_out_of_order_lines_page_like_a_naive_scan(log, qs, engine):
    """Lines off by up to half the slack: pages still equal the sorted naive scan."""
    entries, torn = log
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        maybe_tiny(stack, True)
        use_engine(stack, engine)
        conn = Path(tmp)
        write_entries(conn, "#c", entries, torn)
        model = Naive(conn, "#c")
        for q, i, offset in qs:
            if entries:  # query times next to the lines, where the disorder is
                q = {**q, "a": entries[i % len(entries)][0] + timedelta(seconds=offset), "b": q["b"] % 120}
            args = query_args(q, model)
            assert read_page(conn, "#c", args) == naive_read(model, args), args


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=log_entries(max_step=86400 * 9),
    limit=st.sampled_from([1, 2, 3, 7]),
    match=st.sampled_from([None, "pot", "æ"]),
    tiny=st.booleans(),
    engine=st.sampled_from(ENGINES),
)
def test_paging_with_cursors_returns_every_message_once(log, limit, match, tiny, engine):
    entries, torn = log
    now = START + timedelta(days=200)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        maybe_tiny(stack, tiny)
        use_engine(stack, engine)
        conn = Path(tmp)
        write_entries(conn, "", entries, torn)
        model = Naive(conn, "")
        everything = [m for _, m in model.select(None, None, False, False, match, None)]

        def read(**kw):
            page = read_messages(conn, "", limit=limit, match=match, now=now, **kw)
            assert len(page.messages) <= limit or "before" in kw or "after" in kw
            return page

        # By id, backwards from the newest page and forwards from the start: exactly once each.
        seen, page = [], read()
        while True:
            assert len(page.messages) <= limit
            seen[:0] = page.messages
            if page.before_id is None:
                break
            page = read(before_id=parse_message_id(page.before_id))
        assert seen == everything
        seen, page = [], read(after=START - timedelta(days=1))
        page = read(after_id=parse_message_id(everything[0].id)) if everything else page
        seen = everything[:1]
        while True:
            seen.extend(page.messages)
            if page.after_id is None:
                break
            page = read(after_id=parse_message_id(page.after_id))
        assert seen == everything

        # By timestamp (clients of the original): nothing lost; a line seen twice only where
        # an exact page ended in the middle of a second.
        def ts(text):
            return datetime.strptime(text.upper(), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)

        seen, page = [], read()
        while True:
            seen[:0] = [m for m in page.messages if m not in seen]
            if page.before is None:
                break
            page = read(before=ts(page.before))
        assert sorted(seen, key=lambda m: parse_message_id(m.id)) == everything
        seen, page = [], read(after=START - timedelta(days=1))
        while True:
            seen.extend(m for m in page.messages if m not in seen)
            if page.after is None:
                break
            page = read(after=ts(page.after))
        assert seen == everything


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=log_entries(),
    match=st.sampled_from([None, "pot", "æ", "POTATO", '"x"', "kryptonite", "<Supergirl>"]),
    from_=st.sampled_from([None, "jimmy"]),
    after=st.one_of(st.none(), times),
    span=st.one_of(st.none(), st.integers(0, 86400 * 300)),
    limit=st.sampled_from([1, 2, 5, 60]),
    pick=st.one_of(st.none(), st.integers(0, 1000)),
    tiny=st.booleans(),
    engine=st.sampled_from(ENGINES),
)
def test_search_equals_a_naive_scan(log, match, from_, after, span, limit, pick, tiny, engine):
    entries, torn = log
    before = None if span is None else (after or START) + timedelta(seconds=span)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        maybe_tiny(stack, tiny)
        use_engine(stack, engine)
        conn = Path(tmp)
        write_entries(conn, "#c", entries, torn)
        model = Naive(conn, "#c")
        before_id = None
        if pick is not None:  # an exact cursor: the id of a message
            p = pick_id(model, pick, 0, START)
            before_id = MessagePos(p.epoch, p.offset, conversation_tag(conn, "#c"))
        found = model.select(after, before_id or before, True, False, match, from_)
        # a timestamp cursor widens the result to its boundary second; no cursor or an id does not
        expected, more, _ = model.page(found, limit, False, widen=before is not None and before_id is None)
        result = search_conversation(
            conn, "#c", match=match, from_=from_, after=after, before=before, before_id=before_id, limit=limit
        )
        assert result.messages == expected[::-1] and result.more == more


def test_lines_out_of_order_within_the_slack(tmp_path):
    base = NOW - timedelta(hours=1)
    order = [0, 1, 2, 3, 300, 4, 5, 6, 500, 7, 8]  # server-time lines written late
    lines = [format_line(base + timedelta(seconds=s), "private", "n", f"{s}") for s in sorted(order)]
    skewed = [
        format_line(base + timedelta(seconds=s), "private", "n", f"{s}")
        for s in [0, 1, 300, 2, 3, 500, 4, 5, 6, 7, 8]
    ]
    assert sorted(lines) == sorted(skewed)
    path = tmp_path / month_relpath(base.year, base.month, "#c")
    path.parent.mkdir(parents=True)
    path.write_text("".join(skewed))
    assert ts_of(read_messages(tmp_path, "#c", now=NOW)) == [str(s) for s in sorted(order)]
    seen, before = [], None
    while True:
        page = read_messages(tmp_path, "#c", now=NOW, before=before, limit=2)
        seen[:0] = ts_of(page)
        if page.before is None:
            break
        before = datetime.strptime(page.before, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    assert seen == [str(s) for s in sorted(order)]


def test_a_flood_in_one_second_widens_a_page_only_so_far(tmp_path, monkeypatch):
    monkeypatch.setattr(logcollect, "MAX_WIDEN", 5)
    base = NOW - timedelta(minutes=30)
    with LogWriter() as w:
        for i in range(3):
            w.log_message(tmp_path, "#c", base + timedelta(seconds=i), "private", "n", f"old {i}")
        for i in range(20):
            w.log_message(tmp_path, "#c", base + timedelta(seconds=10), "private", "n", f"flood {i}")
    # Without a cursor (or with an id) a page is exact; its timestamp cursor moves to the next
    # second, so a client of the original sees the rest of the flood (again) instead of losing it.
    page = read_messages(tmp_path, "#c", now=NOW, limit=2)
    assert ts_of(page) == ["flood 18", "flood 19"] and page.before == format_ts(base + timedelta(seconds=11))
    assert page.before_id == page.messages[0].id
    # A timestamp cursor widens the page to its boundary second, but only so far.
    page = read_messages(tmp_path, "#c", now=NOW, limit=2, before=base + timedelta(seconds=11))
    assert ts_of(page) == [f"flood {i}" for i in range(13, 20)] and page.before == format_ts(
        base + timedelta(seconds=10)
    )
    before = base + timedelta(seconds=10)
    assert ts_of(read_messages(tmp_path, "#c", now=NOW, before=before)) == ["old 0", "old 1", "old 2"]


def test_count_messages(facts):
    from convos.store.logs import count_messages

    assert count_messages(facts, "#convos", after=FACT_TS[70]) == 10
    assert count_messages(facts, "#convos", after=FACT_TS[0] - timedelta(days=400)) == 81
    assert count_messages(facts, "#convos", after=FACT_TS[10], before=FACT_TS[20]) == 9
    assert count_messages(facts, "#convos", after=NOW) == 0
    assert count_messages(facts, "#nope", after=FACT_TS[0]) == 0


def test_lower_case_t_lines_on_the_bound_day(tmp_path):
    """`2024-03-21t10:00:00` sorts after `2024-03-21T11:00:00` as bytes: it must still be found."""
    path = tmp_path / month_relpath(2024, 3, "#c")
    path.parent.mkdir(parents=True)
    path.write_text(
        "2024-03-20t23:00:00 0 <a> day before\n"
        "2024-03-21t10:00:00 0 <a> lower\n"
        "2024-03-21T10:30:00 0 <a> upper\n"
        "2024-03-21t11:30:00 0 <a> after the bound\n"
    )
    before = datetime(2024, 3, 21, 11, tzinfo=UTC)
    assert ts_of(read_messages(tmp_path, "#c", before=before, now=NOW)) == ["day before", "lower", "upper"]
    after = datetime(2024, 3, 21, 10, 15, tzinfo=UTC)
    assert ts_of(read_messages(tmp_path, "#c", after=after, before=before, now=NOW)) == ["upper"]
    assert ts_of(read_messages(tmp_path, "#c", after=after, now=NOW)) == ["upper", "after the bound"]
    # a page widened to its boundary second: a lower-case line of that second belongs to it,
    # also when it comes (out of order) after the page was known to be full
    later = "".join(f"2024-03-21T10:00:{i:02d} 0 <a> later\n" for i in range(1, 20))  # a few blocks
    path.write_text(f"2024-03-21T10:00:00 0 <a> one\n{later}2024-03-21t10:00:00 0 <a> two\n")
    with mock.patch.multiple(logseek, **TINY):
        page = read_messages(tmp_path, "#c", after=datetime(2024, 3, 21, tzinfo=UTC), limit=1, now=NOW)
    assert ts_of(page) == ["one", "two"] and page.after == "2024-03-21t10:00:00"


@st.composite
def bursts(draw):
    """Lines in bursts of up to 5,000 in one second, some written late (out of order)."""
    lines = []
    t = START
    for _ in range(draw(st.integers(1, 4))):
        t += timedelta(seconds=draw(st.sampled_from([0, 1, 2, 59, 3600])))
        count = draw(st.sampled_from([1, 3, 250, 1200, 5000]))
        late = draw(st.sampled_from([0, 0, 1, 120, 290]))  # seconds behind, within half the slack
        lines.extend((t - timedelta(seconds=late if i % 97 == 5 else 0), i) for i in range(count))
    return lines


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(log=bursts(), limit=st.sampled_from([13, 60, 200]), pick=st.integers(0, 10**6), tiny=st.booleans())
def test_paging_by_id_through_floods_returns_every_line_once_in_order(log, limit, pick, tiny):
    now = START + timedelta(days=2)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        maybe_tiny(stack, tiny)
        conn = Path(tmp)
        with LogWriter() as w:
            for t, i in log:
                w.log_message(conn, "#flood", t, "private", "n", f"line {i}")
        everything = Naive(conn, "#flood").select(None, None, False, False, None, None)
        everything = [m for _, m in everything]
        assert len(everything) == len(log)

        def read(**kw):
            page = read_messages(conn, "#flood", limit=limit, now=now, **kw)
            if "after" not in kw:  # a timestamp cursor widens its page; ids never do
                assert 0 < len(page.messages) <= (2 * limit if "around_id" in kw else limit)
            return page

        seen, page = [], read()
        while True:
            seen[:0] = page.messages
            if page.before_id is None:
                break
            page = read(before_id=parse_message_id(page.before_id))
        assert seen == everything
        page = read(after=START - timedelta(days=1))  # a timestamp cursor to start from
        seen, page = page.messages, read(after_id=parse_message_id(page.messages[-1].id)) if page.after_id else None
        while page is not None:
            seen = seen + page.messages
            page = read(after_id=parse_message_id(page.after_id)) if page.after_id else None
        assert seen == everything
        # around a message: the `limit` messages before it, then it and the `limit - 1` after
        i = pick % len(everything)
        page = read(around_id=parse_message_id(everything[i].id))
        assert page.messages == everything[max(0, i - limit) : i + limit]
