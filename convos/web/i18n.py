"""Translations: .po dictionaries from share/i18n and CONVOS_HOME/i18n, and language negotiation."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web

from .. import __version__
from ..config import Config
from ..paths import share_dir
from .keys import CATALOG
from .po import parse_po

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"
COOKIE_NAME = "convos_js"
MAX_FILE_SIZE = 4_000_000  # bytes; a translation file is a few dozen KiB
MAX_HEADER_CHARS = 2048  # of Accept-Language (or any language list) that is looked at
MAX_CANDIDATES = 32  # language tags taken from one list
MAX_COOKIE_CHARS = 4096

_TAG_RE = re.compile(r"[a-z]{1,8}(?:-[a-z0-9]{1,8})*", re.ASCII)
_FILE_LANG_RE = re.compile(r"[a-z]{2,8}(?:-[a-z0-9]{1,8})*", re.ASCII)
_Q_RE = re.compile(r"0(?:\.\d{0,3})?|1(?:\.0{0,3})?", re.ASCII)


@dataclass(frozen=True, slots=True)
class Dictionaries:
    """Every language: its meta (from the .po header plus defaults) and its msgid -> msgstr."""

    meta: dict[str, dict[str, str]]
    messages: dict[str, dict[str, str]]

    def response(self, lang: str) -> dict[str, Any]:
        """The getDictionary body: chosen meta, every language's meta, the chosen dictionary."""
        if lang not in self.meta:
            lang = DEFAULT_LANGUAGE
        return {**self.meta[lang], "available_languages": self.meta, "dictionary": self.messages[lang]}


def language_of_file(path: Path) -> str | None:
    """`pt_BR.po` -> "pt-br"; None for names that are not a language tag."""
    lang = path.stem.lower().replace("_", "-")
    return lang if _FILE_LANG_RE.fullmatch(lang) else None


def default_meta(lang: str, now: str) -> dict[str, str]:
    return {
        "content_type": "text/plain; charset=UTF-8",
        "language": lang,
        "language_team": f"{lang} <{lang}@convos.chat>",
        "mime_version": "1.0",
        "po_revision_date": now,
        "pot_creation_date": now,
        "project_id_version": __version__,
        "report_msgid_bugs_to": "https://github.com/convos-chat/convos/issues",
    }


def po_files(dirs: Sequence[Path]) -> list[tuple[str, Path]]:
    """(language, file) in load order: directory by directory, names sorted. Missing dirs are fine."""
    found: list[tuple[str, Path]] = []
    for directory in dirs:
        try:
            paths = sorted(p for p in directory.iterdir() if p.suffix == ".po")
        except OSError as err:
            if not isinstance(err, FileNotFoundError):
                log.warning("Cannot list translations in %s: %s", directory, err)
            continue
        for path in paths:
            lang = language_of_file(path)
            if lang is None:
                log.warning("Ignoring %s: the file name is not a language tag.", path)
            else:
                found.append((lang, path))
    return found


def load_dictionaries(dirs: Sequence[Path]) -> Dictionaries:
    """Read every .po file; later directories override earlier ones key by key. Blocking: use a thread."""
    now = time.strftime("%Y-%m-%dT%H:%M%z")
    meta: dict[str, dict[str, str]] = {DEFAULT_LANGUAGE: {}}
    messages: dict[str, dict[str, str]] = {DEFAULT_LANGUAGE: {}}
    for lang, path in po_files(dirs):
        text = _read(path)
        if text is None:
            continue
        parsed = parse_po(text, str(path))
        if parsed.problem_count:
            more = parsed.problem_count - len(parsed.problems)
            log.warning("Skipped bad entries in %s:\n  %s%s", path, "\n  ".join(parsed.problems),
                        f"\n  ...and {more} more" if more > 0 else "")
        meta.setdefault(lang, {}).update(parsed.meta)
        messages.setdefault(lang, {}).update(parsed.messages)
    for lang, values in meta.items():
        meta[lang] = {**default_meta(lang, now), **values}
    return Dictionaries(meta=meta, messages=messages)


def _read(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_SIZE + 1)
    except OSError as err:
        log.warning("Cannot read %s: %s", path, err)
        return None
    if len(data) > MAX_FILE_SIZE:
        log.warning("Ignoring %s: larger than %s bytes.", path, MAX_FILE_SIZE)
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        log.warning("%s is not UTF-8 (%s); broken characters are replaced.", path, err)
        return data.decode("utf-8", "replace")


class Catalog:
    """The dictionaries of one app: loaded once, or on every use when `reload` is on."""

    def __init__(self, dirs: Sequence[Path], *, reload: bool = False) -> None:
        self.dirs = tuple(dirs)
        self.reload = reload
        self._loaded: Dictionaries | None = None
        self._languages: frozenset[str] | None = None
        self._lock = asyncio.Lock()

    async def dictionaries(self) -> Dictionaries:
        if self.reload:
            return await asyncio.to_thread(load_dictionaries, self.dirs)
        async with self._lock:  # concurrent first requests share one load
            if self._loaded is None:
                self._loaded = await asyncio.to_thread(load_dictionaries, self.dirs)
                self._languages = frozenset(self._loaded.meta)
            return self._loaded

    def languages(self) -> frozenset[str]:
        """Available language codes, for pages. Only lists directories (cheap), never parses."""
        if self._languages is None or self.reload:
            langs = frozenset({DEFAULT_LANGUAGE, *(lang for lang, _ in po_files(self.dirs))})
            if self.reload:
                return langs
            self._languages = langs
        return self._languages


def make_catalog(config: Config) -> Catalog:
    """The app's catalog (create_app keeps it under CATALOG): shipped dictionaries first, then
    CONVOS_HOME/i18n, which overrides them. Nothing is read until the first request needs it."""
    return Catalog([share_dir() / "i18n", config.home / "i18n"], reload=config.reload_dictionaries)


def parse_language_list(value: str) -> list[str]:
    """An Accept-Language style list -> lower-case tags, best first. Cheap on hostile input."""
    items: list[tuple[float, int, str]] = []
    parts = value[:MAX_HEADER_CHARS].split(",")
    for index, part in enumerate(parts):
        tag, _, params = part.partition(";")
        tag = tag.strip().lower().replace("_", "-")
        if not _TAG_RE.fullmatch(tag):
            continue  # "*" and junk say nothing about which of our languages to pick
        q = 1.0
        for param in params.split(";"):
            name, _, raw = param.partition("=")
            if name.strip().lower() == "q":
                raw = raw.strip()
                q = float(raw) if _Q_RE.fullmatch(raw) else 0.0
        if q > 0:
            items.append((-q, index, tag))
            if len(items) >= MAX_CANDIDATES:
                break
    return [tag for _, _, tag in sorted(items)]


def choose_language(candidates: Iterable[str], available: Collection[str]) -> str:
    """For each candidate in order: the full tag, then the part before "-"; else English."""
    for tag in candidates:
        if tag in available:
            return tag
        prefix = tag.split("-", 1)[0]
        if prefix in available:
            return prefix
    return DEFAULT_LANGUAGE


def read_cookie(raw: str | None) -> dict[str, Any]:
    """The browser app's `convos_js` cookie (base64 of JSON) as a dict; {} for anything odd."""
    if not raw or len(raw) > MAX_COOKIE_CHARS:
        return {}
    text = unquote(raw).strip()
    if text.startswith("{"):
        candidates = [text.encode()]
    else:
        padded = text + "=" * (-len(text) % 4)
        candidates = []
        for altchars in (None, b"-_"):
            try:
                candidates.append(base64.b64decode(padded, altchars=altchars, validate=True))
            except (binascii.Error, ValueError):
                continue
    for blob in candidates:
        try:
            data = orjson.loads(blob)
        except orjson.JSONDecodeError:
            continue
        return data if isinstance(data, dict) else {}
    return {}


def cookie_language(raw: str | None) -> str | None:
    """`lang` from the `convos_js` cookie; None for anything odd."""
    lang = read_cookie(raw).get("lang")
    return lang if isinstance(lang, str) and lang.strip() else None


def cookie_scheme(raw: str | None) -> str:
    """`light` or `dark` when the user chose one in the app (spec §7.5); '' for auto or nothing."""
    scheme = read_cookie(raw).get("colorScheme")
    return scheme if scheme in ("light", "dark") else ""


def request_languages(request: web.Request, explicit: str | None = None) -> list[str]:
    """The first source that says something: `explicit` (path or ?lang=), the cookie, Accept-Language."""
    if explicit is not None:
        return parse_language_list(explicit)
    from_cookie = cookie_language(request.cookies.get(COOKIE_NAME))
    if from_cookie is not None:
        return parse_language_list(from_cookie)
    return parse_language_list(request.headers.get("Accept-Language", ""))


def page_language(request: web.Request) -> str:
    """`<html lang>` of a page: ?lang=, the cookie, then Accept-Language. Never raises."""
    try:
        available = request.app[CATALOG].languages()
        return choose_language(request_languages(request, request.query.get("lang") or None), available)
    except Exception:  # a page must render even if the translations are broken
        log.exception("Language negotiation failed")
        return DEFAULT_LANGUAGE
