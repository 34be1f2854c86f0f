"""Log search through grep: same results as the Python scan, fallbacks, odd needles, cancelling."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convos.store.logs import Cancelled, read_messages, search_conversation, search_conversations
from convos.store.logs import collect as logcollect
from convos.store.logs import grep as loggrep
from convos.store.logs import scan as logscan
from convos.store.logs.format import format_line, format_ts, month_relpath

pytestmark = pytest.mark.skipif(loggrep.grep_executable() is None, reason="needs GNU grep")

T0 = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2024, 7, 1, tzinfo=UTC)
WORDS = ["alpha", "Beta", "gamma", "Straße", "æble", "naïve", "--verbose", "-e", "x"]
NICKS = ["jimmy", "Supergirl", "Æsop", "-dash"]


@pytest.fixture
def grep_calls(monkeypatch):
    """Counts grep runs; the scan reads everything through grep (no Python budget)."""
    calls = []
    real = loggrep.grep_files

    def counted(fds, needle, cancel=None):
        calls.append(needle)
        return real(fds, needle, cancel)

    monkeypatch.setattr(loggrep, "grep_files", counted)
    monkeypatch.setattr(logscan, "PYTHON_BUDGET", 0)
    return calls


def write_log(conn: Path, cid: str, rng: random.Random, n: int, *, torn: bool = False, t0=T0) -> None:
    """Lines over a few months: legacy ones without a flag, garbage, floods in one second,
    lines a little out of order, unicode, and (optionally) a torn last line."""
    t = t0
    for _ in range(n):
        t += timedelta(seconds=rng.choice([0, 0, 1, 2, 60, 3600, 86400 * 5]))
        ts = t + timedelta(seconds=rng.choice([0, 0, 0, -200, 250]))
        nick = rng.choice(NICKS)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        kind = rng.random()
        if kind < 0.05:
            line = f"garbage {text}\n"
        elif kind < 0.12:
            line = f"{format_ts(ts)} <{nick}> {text}\n"
        else:
            line = format_line(ts, rng.choice(["private", "action", "notice"]), nick, text)
        path = conn / month_relpath(ts.year, ts.month, cid)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line)
    if torn:
        path = conn / month_relpath(t.year, t.month, cid)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as fh:
            fh.write(f"{format_ts(t)} 0 <torn> alpha beta æ".encode()[:-1])


def python_only(fn, *args, **kwargs):
    saved = loggrep._grep
    loggrep._grep = None
    try:
        return fn(*args, **kwargs)
    finally:
        loggrep._grep = saved


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(0, 400),
    torn=st.booleans(),
    match=st.sampled_from(["alpha", "BETA gamma", '"x"', "straße", "-e", "--verbose", "lph", "ÆBLE alpha"]),
    from_=st.sampled_from([None, None, "jimmy", "-DASH"]),
    limit=st.sampled_from([1, 3, 60]),
    window=st.sampled_from([None, (10, 60), (0, 20), (50, 200)]),
)
def test_grep_search_equals_python_search(tmp_path_factory, grep_calls, seed, n, torn, match, from_, limit, window):
    grep_calls.clear()
    conn = tmp_path_factory.mktemp("conn")
    write_log(conn, "#c", random.Random(seed), n, torn=torn)
    after = before = None
    if window is not None:
        after, before = T0 + timedelta(days=window[0]), T0 + timedelta(days=window[1])
    args = dict(match=match, from_=from_, after=after, before=before, limit=limit)
    assert search_conversation(conn, "#c", **args) == python_only(search_conversation, conn, "#c", **args)
    page = dict(match=match, from_=from_, limit=limit, now=NOW)
    if window is not None:
        page.update(before=before)
    assert read_messages(conn, "#c", **page) == python_only(read_messages, conn, "#c", **page)
    forward = dict(match=match, limit=limit, now=NOW, after=after or T0 - timedelta(days=1))
    assert read_messages(conn, "#c", **forward) == python_only(read_messages, conn, "#c", **forward)
    if n:
        assert grep_calls  # the files did go through grep


def test_many_matches_in_one_file_are_pruned_to_the_same_page(tmp_path, monkeypatch, grep_calls):
    """More hits than the buffer holds, with floods in one second and lines out of order."""
    monkeypatch.setattr(logcollect, "MAX_WIDEN", 7)
    pruned = []
    real_prune = logscan._prune
    monkeypatch.setattr(logscan, "_prune", lambda *a: pruned.append(len(a[0])) or real_prune(*a))
    rng = random.Random(5)
    lines, t = [], T0
    for i in range(12_000):
        t += timedelta(seconds=rng.choice([0, 0, 0, 1, 3]))
        skew = timedelta(seconds=rng.choice([0, 0, 0, -100, 120]))
        lines.append(format_line(t + skew, "private", "n", f"alpha {i}"))
    path = tmp_path / month_relpath(T0.year, T0.month, "#c")
    path.parent.mkdir(parents=True)
    path.write_text("".join(lines))
    for limit in (1, 5, 60):
        for before in (None, T0 + timedelta(hours=3), T0 + timedelta(hours=5)):
            args = dict(match="ALPHA", limit=limit, before=before)
            got = search_conversation(tmp_path, "#c", **args)
            assert got == python_only(search_conversation, tmp_path, "#c", **args)
            assert got.more and len(got.messages) >= limit
    assert len(grep_calls) == 9 and len(pruned) >= 9


def test_one_grep_for_many_conversations(tmp_path, grep_calls):
    rng = random.Random(1)
    cids = ["#a", "#b/slash", "bob", ""]
    for cid in cids:
        write_log(tmp_path, cid, rng, 200)
    targets = [(tmp_path, cid) for cid in cids]
    got = search_conversations(targets, match="gamma", limit=5)
    assert got == python_only(search_conversations, targets, match="gamma", limit=5)
    assert len(grep_calls) == 1 and all(r.messages for r in got)


def test_a_common_word_is_found_without_grep(tmp_path, grep_calls, monkeypatch):
    monkeypatch.setattr(logscan, "PYTHON_BUDGET", 256 << 10)
    write_log(tmp_path, "#c", random.Random(2), 5000)
    assert len(search_conversation(tmp_path, "#c", match="alpha", limit=60).messages) >= 60
    assert grep_calls == []


def test_a_needle_that_looks_like_an_option(tmp_path, grep_calls):
    path = tmp_path / month_relpath(T0.year, T0.month, "#c")
    path.parent.mkdir(parents=True)
    path.write_text(
        format_line(T0, "private", "a", "run it with --version please")
        + format_line(T0 + timedelta(seconds=1), "private", "a", "nothing here")
        + format_line(T0 + timedelta(seconds=2), "private", "-e", "-e is a nick")
    )
    assert [m.message for m in search_conversation(tmp_path, "#c", match="--version").messages] == [
        "run it with --version please"
    ]
    assert [m.message for m in search_conversation(tmp_path, "#c", from_="-E").messages] == ["-e is a nick"]
    assert [m.message for m in search_conversation(tmp_path, "#c", match="-e").messages] == ["-e is a nick"]
    assert [m.message for m in search_conversation(tmp_path, "#c", match="--").messages] == [
        "run it with --version please"
    ]
    assert grep_calls == [b"--ver", b"-e", b"-e", b"--"]  # "s" is left out: "ſ" folds to it


@pytest.fixture
def fake_grep(tmp_path, monkeypatch):
    """A `grep` first in PATH: GNU grep's --version, then whatever the test writes."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real = shutil.which("grep")

    def install(body: str) -> None:
        script = bin_dir / "grep"
        script.write_text(
            f'#!/bin/sh\nif [ "$1" = --version ]; then exec {real} --version; fi\nREAL={real}\n{body}\n'
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        loggrep.reset()

    yield install
    loggrep.reset()


@pytest.mark.parametrize(
    "body",
    [
        "exit 2",  # fails at once
        'exec "$REAL" "$@" | head -c 700; exit 2',  # dies half-way, maybe inside a line
        "echo 'nonsense'; exit 0",  # output that is not grep's
    ],
)
def test_a_failing_grep_falls_back_to_python(tmp_path, monkeypatch, fake_grep, body):
    monkeypatch.setattr(logscan, "PYTHON_BUDGET", 0)
    fake_grep(body)
    write_log(tmp_path, "#c", random.Random(3), 600, torn=True)
    expected = python_only(search_conversation, tmp_path, "#c", match="beta", limit=7)
    assert loggrep.grep_executable() is not None
    assert search_conversation(tmp_path, "#c", match="beta", limit=7) == expected
    page = dict(match="beta", limit=7, after=T0, now=NOW)
    assert read_messages(tmp_path, "#c", **page) == python_only(read_messages, tmp_path, "#c", **page)


def test_no_grep_means_python(tmp_path, monkeypatch):
    monkeypatch.setattr(logscan, "PYTHON_BUDGET", 0)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    loggrep.reset()
    try:
        assert loggrep.grep_executable() is None
        write_log(tmp_path, "#c", random.Random(4), 300)
        assert search_conversation(tmp_path, "#c", match="gamma", limit=3).messages
    finally:
        loggrep.reset()


def test_not_gnu_grep_is_not_used(fake_grep, monkeypatch):
    fake_grep("exit 0")
    monkeypatch.setattr(loggrep, "_env", lambda: {"PATH": os.environ["PATH"]})
    script = Path(shutil.which("grep"))
    script.write_text("#!/bin/sh\necho 'grep (BSD grep) 2.6.0-FreeBSD'\n")
    loggrep.reset()
    assert loggrep.grep_executable() is None


def test_cancel_stops_the_scan_and_grep(tmp_path, grep_calls):
    write_log(tmp_path, "#c", random.Random(6), 300)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        search_conversation(tmp_path, "#c", match="gamma", cancel=cancel)
    # grep itself stops when asked, and closing its output early kills it
    fds = [os.open(p, os.O_RDONLY) for p in sorted(tmp_path.glob("*/*/#c.log"))]
    try:
        lines = loggrep.grep_files(fds, b"gamma")
        assert next(lines)[1] >= 0
        lines.close()
        stop = threading.Event()
        stop.set()
        with pytest.raises(loggrep.Cancelled):
            list(loggrep.grep_files(fds, b"gamma", stop))
    finally:
        for fd in fds:
            os.close(fd)


def test_grep_reports_each_file_and_offsets(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"one Alpha\ntwo\nthree ALPHA\n")
    b.write_bytes(b"no\n\xff\x00 alpha bin\ntorn alpha")
    fds = [os.open(a, os.O_RDONLY), os.open(b, os.O_RDONLY)]
    try:
        got = list(loggrep.grep_files(fds, b"alpha"))
    finally:
        for fd in fds:
            os.close(fd)
    assert got == [
        (0, 0, b"one Alpha"),
        (0, 14, b"three ALPHA"),
        (0, -1, b""),
        (1, 3, b"\xff\x00 alpha bin"),
        (1, 16, b"torn alpha"),
        (1, -1, b""),
    ]
    assert not loggrep.usable_needle(b"a\nb") and not loggrep.usable_needle(b"") and loggrep.usable_needle(b"-e")


async def test_a_cancelled_request_stops_its_scan():
    from concurrent.futures import ThreadPoolExecutor

    from convos.store.file import _cancellable

    started, finished, seen = threading.Event(), threading.Event(), []

    def scan(*, cancel: threading.Event) -> None:
        started.set()
        seen.append(cancel.wait(10))
        finished.set()

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        task = asyncio.create_task(_cancellable(pool, scan))
        assert await asyncio.to_thread(started.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(finished.wait, 10) and seen == [True]
    finally:
        pool.shutdown(wait=True)
