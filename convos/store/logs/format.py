"""Pure format/parse of chat log lines, notifications.log lines, log paths and `match` queries."""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

FLAG_OFFSET = 48  # chr(48) == "0"
FLAG_HIGHLIGHT = 1
FLAG_PREFORMAT = 2

# Perl's \s on a decoded string. Python's \s (and str.isspace) also match \x1c-\x1f, and
# \x1f is the IRC underline code, so it must not be eaten as whitespace.
WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WS_RUN = re.compile(f"[{WS}]+")
_WS_CHARS = frozenset("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}

TS_FORMAT = "%Y-%m-%dT%H:%M:%S"
_TS = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
# Timestamp, one whitespace, an optional flag digit, optional whitespace, the body (§2.7).
_LINE_RE = re.compile(f"^({_TS})[{WS}]([0-9]?)[{WS}]*(.*)$", re.IGNORECASE)
_NOTIFICATION_RE = re.compile(f"^({_TS}) ([^{WS}]+) ([^{WS}]+) (.*)$")
_PRIVATE_RE = re.compile(f"^<([^{WS}>]+)>[{WS}]")
_NOTICE_RE = re.compile(f"^-([^{WS}>]+)-[{WS}]")
_ACTION_RE = re.compile(f"^\\* ([^{WS}]+)[{WS}]")

NUL_SYMBOL = "\u2400"

# `part`, `kick` and `nick_change` are legacy (not produced by 8.07).
LOGGED_TYPES = frozenset({"action", "kick", "nick_change", "notice", "part", "preformat", "private"})


# --- timestamps ------------------------------------------------------------


def to_utc(ts: float | datetime) -> datetime:
    """Epoch seconds or a datetime (naive means UTC) as an aware UTC datetime."""
    if isinstance(ts, datetime):
        return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return datetime.fromtimestamp(int(ts // 1), UTC)


_last_ts: tuple[int, str] = (-1, "")  # lines come in bursts within one second


def format_ts(ts: float | datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS` in UTC, truncated to the second, without `Z`."""
    if isinstance(ts, datetime):
        return to_utc(ts).strftime(TS_FORMAT)
    global _last_ts
    second = int(ts // 1)
    cached = _last_ts
    if cached[0] == second:
        return cached[1]
    text = time.strftime(TS_FORMAT, time.gmtime(second))
    _last_ts = (second, text)
    return text


# --- log lines -------------------------------------------------------------


def format_body(type: str, from_: str, message: str, *, part: str = "", new_nick: str = "") -> str | None:
    """The formatted message of a log line, or None for types that are not logged (e.g. `error`).

    A line feed would split the record in two (and could forge a line), so it becomes a space;
    NUL becomes U+2400 (␀), which readers show as it is.
    """
    from_, message = from_ or "", message or ""
    if type == "private" or type == "preformat":
        body = f"<{from_}> {message}"
    elif type == "action":
        body = f"* {from_} {message}"
    elif type == "notice":
        body = f"-{from_}- {message}"
    elif type == "part":
        body = f"-!- {from_} parted. {message}"
    elif type == "kick":
        body = f"-!- {from_} kicked {part}. {message}"
    elif type == "nick_change":
        body = f"-!- {from_} changed nick to {new_nick}"
    else:
        return None
    if "\n" in body:
        body = body.replace("\n", " ")
    # NUL makes grep and other tools take the file for binary: stored as the symbol for NUL.
    return body.replace("\0", NUL_SYMBOL) if "\0" in body else body


def flag_char(*, highlight: bool = False, preformat: bool = False) -> str:
    return chr(FLAG_OFFSET + (FLAG_HIGHLIGHT if highlight else 0) + (FLAG_PREFORMAT if preformat else 0))


def format_line(
    ts: float | datetime,
    type: str,
    from_: str,
    message: str,
    *,
    highlight: bool = False,
    is_channel: bool = False,
    part: str = "",
    new_nick: str = "",
) -> str | None:
    """A complete log line ending in `\\n`, or None when the type is not logged.

    The highlight bit is only set for channels, as the original does.
    """
    body = format_body(type, from_, message, part=part, new_nick=new_nick)
    if body is None:
        return None
    flag = flag_char(highlight=highlight and is_channel, preformat=type == "preformat")
    return f"{format_ts(ts)} {flag} {body}\n"


@dataclass(slots=True)
class LogMessage:
    ts: str
    from_: str
    message: str
    type: str
    highlight: bool = False
    id: str | None = None  # where the line is in its file (id.py); set by readers

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "from": self.from_,
            "highlight": self.highlight,
            "message": self.message,
            "ts": self.ts,
            "type": self.type,
        }
        if self.id is not None:
            d["id"] = self.id
        return d


def split_line(line: str) -> tuple[str, int, str] | None:
    """(ts, flag bits, body) of a log line, or None. The body is what `match` is applied to."""
    m = _LINE_RE.match(line[:-1] if line.endswith("\n") else line)
    if m is None:
        return None
    flag = m.group(2)
    return m.group(1), (ord(flag) - FLAG_OFFSET) if flag else 0, m.group(3)


def parse_body(body: str) -> tuple[str, str, str]:
    """(type, from, message) of a formatted body, classified in the original's order."""
    m = _PRIVATE_RE.match(body)
    if m:
        return "private", m.group(1), body[m.end() :]
    m = _NOTICE_RE.match(body)
    if m:
        return "notice", m.group(1), body[m.end() :]
    m = _ACTION_RE.match(body)
    if m:
        return "action", m.group(1), body[m.end() :]
    if body.startswith("-!-") and len(body) > 3 and body[3] in _WS_CHARS:
        return "server", "", body[4:]
    return "server", "", body


def message_from_parts(ts: str, flag: int, body: str) -> LogMessage:
    type, from_, message = parse_body(body)
    if flag & FLAG_PREFORMAT:
        type = "preformat"
    return LogMessage(ts=ts, from_=from_, message=message, type=type, highlight=bool(flag & FLAG_HIGHLIGHT))


def parse_line(line: str | bytes) -> LogMessage | None:
    """A log line (with or without its `\\n`) as a message, or None when it does not parse."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    parts = split_line(line)
    return None if parts is None else message_from_parts(*parts)


# --- notifications.log -----------------------------------------------------


@dataclass(slots=True)
class Notification:
    ts: str
    connection_id: str
    conversation_id: str
    from_: str
    message: str
    type: str
    body: str = ""  # as logged: what the conversation's log line holds after its flag
    id: str | None = None  # the message's id in the conversation's log, when found

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "connection_id": self.connection_id,
            "conversation_id": self.conversation_id,
            "from": self.from_,
            "message": self.message,
            "ts": self.ts,
            "type": self.type,
        }
        if self.id is not None:
            d["id"] = self.id
        return d


def format_notification(ts: float | datetime, connection_id: str, conversation_id: str, body: str) -> str:
    """A notifications.log line; `body` is the formatted log body (see `format_body`)."""
    line = f"{format_ts(ts)} {connection_id} {conversation_id} {body.replace(chr(10), ' ')}\n"
    return line.replace("\0", NUL_SYMBOL) if "\0" in line else line


def parse_notification(line: str | bytes) -> Notification | None:
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    m = _NOTIFICATION_RE.match(line[:-1] if line.endswith("\n") else line)
    if m is None:
        return None
    type, from_, message = parse_body(m.group(4))
    return Notification(m.group(1), m.group(2), m.group(3), from_, message, type, m.group(4))


# --- paths -----------------------------------------------------------------


# The longest file name (in bytes) a conversation keeps as it is: NAME_MAX (255) less ".log".
# Every name Convos 8.07 could write fits, so its files keep their names.
MAX_NAME_BYTES = 251
# An over-long name or one with NUL: its first bytes (at most), `~`, and a hash of the whole name.
NAME_PREFIX_BYTES = 200


def escape_conversation_id(conversation_id: str) -> str:
    """File name part of a conversation (docs/layout.md): `/` is escaped as `%2F`; a name with NUL
    or longer than MAX_NAME_BYTES becomes its first bytes, `~` and 16 hex digits of its SHA-256."""
    name = conversation_id.replace("/", "%2F")
    # (4 bytes at most per character: short names need no encoding to tell; this runs per line)
    if "\0" not in name and (len(name) <= MAX_NAME_BYTES // 4
                              or len(name.encode("utf-8", "surrogateescape")) <= MAX_NAME_BYTES):
        return name
    digest = hashlib.sha256(conversation_id.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    prefix = name.replace("\0", "%00").encode("utf-8", "surrogateescape")[:NAME_PREFIX_BYTES]
    return prefix.decode("utf-8", "ignore") + "~" + digest


def month_of(ts: float | datetime) -> tuple[int, int]:
    t = to_utc(ts)
    return t.year, t.month


def month_relpath(year: int, month: int, conversation_id: str) -> str:
    """`YYYY/MM/<id>.log` for a conversation, `YYYY/MM.log` for the connection itself (id '')."""
    if conversation_id == "":
        return f"{year:04d}/{month:02d}.log"
    return f"{year:04d}/{month:02d}/{escape_conversation_id(conversation_id)}.log"


def log_relpath(ts: float | datetime, conversation_id: str) -> str:
    """Path of the log file for a message, relative to the connection directory."""
    return month_relpath(*month_of(ts), conversation_id)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def prev_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def iter_months(first: tuple[int, int], last: tuple[int, int]) -> Iterator[tuple[int, int]]:
    """Every month from `first` to `last` inclusive, stepping towards `last` (either direction)."""
    cur = first
    step = next_month if first <= last else prev_month
    while True:
        yield cur
        if cur == last:
            return
        cur = step(*cur)


# --- match -----------------------------------------------------------------


def _is_word_char(c: str) -> bool:
    # Perl's \w: letters, digits, marks, connector punctuation (the underscore among them).
    return c.isalnum() or unicodedata.category(c)[0] == "M" or unicodedata.category(c) == "Pc"


def _boundary(text: str, i: int) -> bool:
    before = i > 0 and _is_word_char(text[i - 1])
    after = i < len(text) and _is_word_char(text[i])
    return before != after


def _find_word(text: str, word: str, start: int) -> int:
    """Index of `word` in `text` at or after `start` with a `\\b` on both sides, or -1.

    Where the left boundary fails inside a run of word characters, the search jumps past the
    run, so a long run of them is walked once, not once per position.
    """
    m = len(word)
    starts_word = _is_word_char(word[0])
    i = text.find(word, start)
    while i >= 0:
        left = _boundary(text, i)
        if left and _boundary(text, i + m):
            return i
        if not left and starts_word:
            j = i
            while j < len(text) and _is_word_char(text[j]):
                j += 1
            if j >= len(text):
                return -1
            i = text.find(word, j + 1)
        else:
            i = text.find(word, i + 1)
    return -1


# Non-ASCII characters whose case folding contains ASCII letters: K -> k, ß/ẞ/ſ -> s(s),
# ligatures -> ff fi fl ffi ffl st, and letter + modifier (İ -> i̇, ẖ ẗ ẘ ẙ ẚ ǰ, ŉ -> ʼn).
# A byte prefilter must not rely on letters that may come from them.
_UNSAFE_ASCII = frozenset("skf")
# A match may start inside a ligature ("fl" -> the "l") or U+02BC + "n", and end inside
# a letter + modifier pair ("i" + U+0307): such letters at the ends of a piece are unsafe.
_UNSAFE_FIRST = {"n": "\u02bc", "i": "f", "l": "f", "t": "s"}  # letter -> the char it follows
_UNSAFE_LAST = frozenset("ahijtwy")


def safe_ascii_segment(folded: str) -> str:
    """The longest piece of a case-folded string that must appear byte-for-byte in any
    ASCII-lower-cased UTF-8 line whose case-folded text contains `folded`."""
    best = ""
    n = len(folded)
    i = 0
    while i < n:
        if not folded[i].isascii() or folded[i] in _UNSAFE_ASCII:
            i += 1
            continue
        j = i
        while j < n and folded[j].isascii() and folded[j] not in _UNSAFE_ASCII:
            j += 1
        a, b = i, j
        follows = _UNSAFE_FIRST.get(folded[a])
        if follows is not None and (a == 0 or folded[a - 1] == follows):
            a += 1
        if b > a and folded[b - 1] in _UNSAFE_LAST and (b == n or not folded[b].isascii()):
            b -= 1
        if b - a > len(best):
            best = folded[a:b]
        i = j
    return best


class Matcher:
    """The `match` query (§3.5) without regular expressions.

    Words are split on whitespace and must all appear, in order, without overlapping, in the
    case-folded formatted body; a word in double quotes (`"secret"`) must be a whole word.
    Every step is a `str.find`, so the cost is linear in the text and the query.
    """

    __slots__ = ("prefilter", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self.words: list[tuple[str, bool]] = []
        for word in _WS_RUN.split(text):
            if not word:
                continue
            if len(word) >= 3 and word[0] == '"' and word[-1] == '"':
                self.words.append((word[1:-1].casefold(), True))
            else:
                self.words.append((word.casefold(), False))
        best = max((safe_ascii_segment(w) for w, _ in self.words), key=len, default="")
        # Lower-cased ASCII bytes every matching line contains (after bytes.lower()), or None.
        self.prefilter: bytes | None = best.encode("ascii") if best else None

    def __bool__(self) -> bool:
        return bool(self.words)

    def __repr__(self) -> str:
        return f"Matcher({self.text!r})"

    def search(self, body: str) -> bool:
        text = body.casefold()
        pos = 0
        for word, whole in self.words:
            i = _find_word(text, word, pos) if whole else text.find(word, pos)
            if i < 0:
                return False
            pos = i + len(word)
        return True

    def may_match(self, lowered: bytes) -> bool:
        """Cheap test on ASCII-lower-cased raw bytes; False means the line cannot match."""
        return self.prefilter is None or self.prefilter in lowered
