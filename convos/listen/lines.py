"""IRC lines for native clients: parse what they send, format what they get (IRCv3 tags included)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

_TAG_ESCAPE = str.maketrans({";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"})
_TAG_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


@dataclass(slots=True)
class Line:
    command: str
    params: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def param(self, index: int) -> str:
        return self.params[index] if len(self.params) > index else ""


def _unescape(value: str) -> str:
    out, chars = [], iter(value)
    for ch in chars:
        out.append(_TAG_UNESCAPE.get(next(chars, ""), "") if ch == "\\" else ch)
    return "".join(out)


def parse(text: str) -> Line | None:
    """One line (without CRLF) as a client sent it; None for an empty one."""
    text = text.strip("\r\n\0 ")
    if not text:
        return None
    tags: dict[str, str] = {}
    if text.startswith("@"):
        raw_tags, _, text = text.partition(" ")
        for item in raw_tags[1:].split(";"):
            if item:
                key, _, value = item.partition("=")
                tags[key] = _unescape(value)
        text = text.lstrip(" ")
    source = ""
    if text.startswith(":"):
        source, _, text = text.partition(" ")
        source = source[1:]
        text = text.lstrip(" ")
    head, sep, trailing = text.partition(" :")
    words = head.split()
    if not words:
        return None
    params = words[1:]
    if sep:
        params.append(trailing)
    return Line(words[0].upper(), params, tags, source)


def unescape_tag(value: str) -> str:
    return _unescape(value)


def escape_tag(value: str) -> str:
    return value.translate(_TAG_ESCAPE)


def clean(param: str) -> str:
    """A parameter never smuggles in another line."""
    return param.replace("\r", "").replace("\n", " ").replace("\0", "")


def format_line(command: str, *params: str, source: str = "", tags: dict[str, str] | None = None) -> str:
    """A line to send, without CRLF: the last parameter is trailing when it must be."""
    parts: list[str] = []
    if tags:
        parts.append("@" + ";".join(f"{k}={escape_tag(v)}" if v else k for k, v in tags.items()))
    if source:
        parts.append(":" + clean(source))
    parts.append(command)
    cleaned = [clean(p) for p in params]
    for i, param in enumerate(cleaned):
        last = i == len(cleaned) - 1
        if last and (not param or " " in param or param.startswith(":")):
            parts.append(":" + param)
        else:
            parts.append(param.replace(" ", "") or "*")
    return " ".join(parts)


def server_time(ts: float) -> str:
    """The IRCv3 `time` tag: UTC with milliseconds."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def log_time(ts: str) -> str:
    """The `time` tag of a log timestamp (UTC, whole seconds: `2026-10-16T06:59:58`), without
    parsing it (a history answer has hundreds); another form is parsed, and now if it fails."""
    if len(ts) == 19 and ts[10] == "T" and ts[4] == "-" and ts[13] == ":":
        return ts + ".000Z"
    parsed = parse_time(ts)
    return server_time(time.time() if parsed is None else parsed)


def parse_time(value: str) -> float | None:
    """A `timestamp=` criterion of CHATHISTORY (or a `time` tag) as epoch seconds."""
    text = value.removeprefix("timestamp=").strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp()


def nick_of(source: str) -> str:
    return source.split("!", 1)[0].split("@", 1)[0]
