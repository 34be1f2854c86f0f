"""A conversation's log between two times as plain text, a block at a time (for downloads).

Each month file is opened once, the start and end are found by binary search (`LogFile.bisect`),
and the bytes between are read in blocks of at most `BLOCK` bytes: memory stays the same
whatever the size of the log. The generator runs in a scan thread, one block per step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from .format import iter_months, month_of, split_line, to_utc
from .seek import LogFile, epoch_key, lower_bound, month_paths, upper_bound

# Text handed on at a time: what one step of a download holds in memory (plus one line).
BLOCK = 64 * 1024
# IRC formatting: bold, colour (with its numbers), hex colour, reset, monospace, reverse,
# italic, strikethrough, underline. Plain text has none of it.
_FORMATTING = re.compile(r"\x03(?:[0-9]{1,2}(?:,[0-9]{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|"
                         r"[\x02\x0f\x11\x16\x1d\x1e\x1f]")


def plain_line(raw: bytes) -> str | None:
    """`YYYY-MM-DD HH:MM:SS <body>` of a log line, without its flag and IRC formatting; None
    for a line without a timestamp (never written by Convos; readers skip it too)."""
    parts = split_line(raw.decode("utf-8", "replace"))
    if parts is None:
        return None
    ts, _flag, body = parts
    return f"{ts[:10]} {ts[11:19]} {_FORMATTING.sub('', body)}\n"


def export_lines(conn_dir: Path, conversation_id: str, start: datetime, end: datetime,
                 block: int = BLOCK) -> Iterator[bytes]:
    """UTF-8 text of every logged line with `start <= ts < end`, oldest first, in pieces of
    about `block` bytes. Files are read in the month order of their names."""
    first, last = lower_bound(start, True), upper_bound(end, False)
    if last <= first:
        return
    lo, hi = epoch_key(first), epoch_key(last)
    months = list(iter_months(month_of(to_utc(start)), month_of(to_utc(end))))
    for path in month_paths(conn_dir, conversation_id, months):
        log = LogFile.open(path)
        if log is None:
            continue
        try:
            a, b = log.bisect(lo), log.bisect(hi)
            out: list[str] = []
            size = 0
            for data, i, j, base in log.chunks_forward(a):
                stop = min(j, b - base)  # b is a line start: the lines before it are ours
                for raw in data[i:stop].split(b"\n"):
                    text = plain_line(raw) if raw else None
                    if text is None:
                        continue
                    out.append(text)
                    size += len(text)
                    if size >= block:
                        yield "".join(out).encode()
                        out, size = [], 0
                if base + j >= b:
                    break
            if out:
                yield "".join(out).encode()
        finally:
            log.close()
