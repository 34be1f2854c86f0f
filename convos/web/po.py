"""A small, forgiving GNU gettext .po parser: msgid -> msgstr plus the header as meta."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_PROBLEMS = 20  # a binary file must not turn into thousands of log lines

_KEYWORD_RE = re.compile(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s*(.*)", re.ASCII)
# One quoted string and nothing after it but blanks; the unrolled loop keeps it linear.
_STRING_RE = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"\s*', re.DOTALL)
_ESCAPE_RE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f",
            "v": "\v", "'": "'", "?": "?"}


@dataclass(slots=True)
class PoFile:
    """What one file says: `meta` from the header entry, `messages` with every non-empty msgstr."""

    meta: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def problem(self, source: str, lineno: int, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{source}:{lineno}: {text}")


@dataclass(slots=True)
class _Entry:
    start: int = 0
    ctx: str | None = None
    msgid: str | None = None
    plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False
    bad: bool = False
    field_name: str | None = None  # where a continuation line goes
    index: int = 0

    @property
    def empty(self) -> bool:
        return self.ctx is None and self.msgid is None and not self.msgstr and not self.bad


def unescape(text: str) -> str:
    """C-style escapes as gettext writes them; an unknown escape keeps its character."""

    def one(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return chr(int(m.group(1), 8))
        if m.group(2) is not None:
            return chr(int(m.group(2), 16))
        return _ESCAPES.get(m.group(3), m.group(3))

    return _ESCAPE_RE.sub(one, text) if "\\" in text else text


def parse_string(text: str) -> str | None:
    """The value of one `"..."` literal, or None when the line is not exactly one literal."""
    m = _STRING_RE.fullmatch(text)
    return unescape(m.group(1)) if m else None


def parse_header(text: str) -> dict[str, str]:
    """`Key-Name: value;` lines -> {"key_name": "value"}; dates get a "T" between date and time."""
    meta: dict[str, str] = {}
    for line in text.split("\n"):
        key, sep, value = line.partition(":")
        key = key.strip().lower().replace("-", "_")
        if not sep or not key:
            continue
        value = value.strip()
        if value.endswith(";"):
            value = value[:-1].rstrip()
        if key.endswith("_date"):
            value = value.replace(" ", "T", 1)
        meta[key] = value
    return meta


def parse_po(text: str, source: str = "<po>") -> PoFile:
    """Parse .po text. Bad entries are skipped and reported in `problems`; this never raises."""
    out = PoFile()
    with_context: dict[str, str] = {}
    seen_header = False
    entry = _Entry()
    fuzzy_next = False

    def flush() -> None:
        nonlocal entry, seen_header
        e, entry = entry, _Entry()
        if e.empty or e.bad:
            return
        if e.msgid is None:
            out.problem(source, e.start, "msgstr without msgid")
            return
        if not e.msgstr:
            out.problem(source, e.start, "msgid without msgstr")
            return
        translation = e.msgstr.get(0, "")
        if e.msgid == "" and e.ctx is None:
            if seen_header:
                out.problem(source, e.start, "a second header entry")
            else:
                seen_header = True
                out.meta = parse_header(translation)
            return
        if e.fuzzy or translation == "":
            return  # like msgfmt: fuzzy and untranslated entries are not used
        if e.ctx is not None:
            with_context.setdefault(e.msgid, translation)
        elif e.msgid in out.messages:
            out.problem(source, e.start, f"duplicate msgid {e.msgid[:60]!r}")
        else:
            out.messages[e.msgid] = translation

    def fail(lineno: int, text: str) -> None:
        if not entry.bad:  # one report per entry
            out.problem(source, lineno, text)
        entry.bad = True
        entry.field_name = None

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            if entry.msgstr or entry.bad:
                flush()  # comments belong to the next entry
            if line.startswith("#,") and "fuzzy" in (f.strip() for f in line[2:].split(",")):
                fuzzy_next = True
            continue
        if line.startswith('"'):
            value = parse_string(line)
            if entry.bad:
                continue
            if value is None:
                fail(lineno, "malformed string")
            elif entry.field_name is None:
                fail(lineno, "string outside an entry")
            else:
                _append(entry, value)
            continue
        m = _KEYWORD_RE.fullmatch(line)
        if m is None:
            if entry.msgstr and not entry.bad:
                flush()  # stray text after a complete entry does not spoil that entry
            fail(lineno, "unexpected text")
            continue
        keyword, index, rest = m.group(1), m.group(2), m.group(3)
        if keyword in ("msgctxt", "msgid") and (entry.msgid is not None or entry.msgstr or entry.bad
                                                 or (keyword == "msgctxt" and entry.ctx is not None)):
            flush()
        if entry.empty:
            entry.start = lineno
            entry.fuzzy, fuzzy_next = fuzzy_next, False
        if entry.bad:
            continue
        value = parse_string(rest)
        if value is None:
            fail(lineno, f"{keyword} needs one quoted string")
            continue
        if index is not None and keyword != "msgstr":
            fail(lineno, f"{keyword} cannot have an index")
        elif keyword in ("msgid_plural", "msgstr") and entry.msgid is None:
            fail(lineno, f"{keyword} without msgid")
        elif keyword == "msgid_plural" and entry.msgstr:
            fail(lineno, "msgid_plural after msgstr")
        elif keyword == "msgstr" and int(index or 0) in entry.msgstr:
            fail(lineno, "msgstr given twice")
        else:
            entry.index = int(index or 0)
            entry.field_name = keyword
            if keyword == "msgctxt":
                entry.ctx = value
            elif keyword == "msgid":
                entry.msgid = value
            elif keyword == "msgid_plural":
                entry.plural = value
            else:
                entry.msgstr[entry.index] = value
    flush()
    for msgid, translation in with_context.items():
        out.messages.setdefault(msgid, translation)
    return out


def _append(entry: _Entry, value: str) -> None:
    if entry.field_name == "msgctxt":
        entry.ctx = (entry.ctx or "") + value
    elif entry.field_name == "msgid":
        entry.msgid = (entry.msgid or "") + value
    elif entry.field_name == "msgid_plural":
        entry.plural = (entry.plural or "") + value
    else:
        entry.msgstr[entry.index] = entry.msgstr.get(entry.index, "") + value
