"""Link previews, the pure half: read a fetched page and build the oEmbed-like document and its HTML."""

from __future__ import annotations

import codecs
import html
import re
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from yarl import URL

VERSION = "1.0"
CACHE_AGE = 600
MAX_TITLE = 300
MAX_DESCRIPTION = 1000
MAX_URL = 2048
# How much of a text/plain document is shown as a paste.
MAX_PASTE_CHARS = 64 * 1024
# Characters the HTML parser takes at a time; a cancelled parse stops after the piece it is in.
PARSE_PIECE = 16 * 1024
# Longest a page's head is parsed (html.parser needs seconds for a megabyte of tag soup).
PARSE_SECONDS = 2.0

_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "youtube-nocookie.com",
                  "www.youtube-nocookie.com"}
_VIMEO_PATH = re.compile(r"/(?:video/)?(\d{1,12})/?")
_VIDEO_EXT = (".mp4", ".m4v", ".webm", ".ogv", ".mov")
# Players we build ourselves from a video id; never an upstream <iframe>.
_SANDBOX = "allow-scripts allow-same-origin allow-presentation allow-popups"
_ALLOW = "fullscreen; picture-in-picture; encrypted-media"


def safe_url(value: object, base: str | None = None) -> str | None:
    """An absolute http(s) URL fit for an HTML attribute, or None (javascript:, data:, garbage)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > MAX_URL or _CONTROL.search(value.replace(" ", "")):
        return None
    try:
        url = URL(urljoin(base, value) if base else value)
    except (ValueError, TypeError):
        return None
    if url.scheme not in ("http", "https") or not url.host or url.user or url.password:
        return None
    text = str(url)
    return text if len(text) <= MAX_URL else None


def clean_text(value: object, limit: int) -> str:
    """Whitespace collapsed and cut to `limit` characters; anything but a string gives ''."""
    if not isinstance(value, str):
        return ""
    text = " ".join(value.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def decode(body: bytes, charset: str | None) -> str:
    """Bytes to text: the header's charset, else a <meta charset>, else UTF-8; bad bytes replaced."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace")
    candidates = [charset] if charset else []
    match = _META_CHARSET.search(body[:4096])
    if match:
        candidates.append(match.group(1).decode("ascii"))
    for name in candidates:
        try:
            return body.decode(codecs.lookup(name).name, "replace")
        except LookupError:
            continue
    return body.decode("utf-8", "replace")


class _Stop(Exception):
    """Raised inside the parser once the head is over: the rest of the page tells us nothing."""


class PageParser(HTMLParser):
    """Collects <title>, <meta> name/property -> content (first wins) and the oEmbed discovery link."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.oembed_href: str | None = None
        self._title: list[str] = []
        self._title_length = 0
        self._in_title = False
        self._title_done = False

    @property
    def title(self) -> str:
        return "".join(self._title)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            raise _Stop
        a = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").strip().lower()
            if key and "content" in a and key not in self.meta:
                self.meta[key] = a["content"]
        elif tag == "title" and not self._title_done:
            self._in_title = True
        elif tag == "link" and self.oembed_href is None:
            rels = a.get("rel", "").lower().split()
            if "alternate" in rels and a.get("type", "").strip().lower() == "application/json+oembed":
                self.oembed_href = a.get("href") or None

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self._title_done = True
        elif tag == "head":
            raise _Stop

    def handle_data(self, data: str) -> None:
        if self._in_title and self._title_length < 4 * MAX_TITLE:
            self._title.append(data)
            self._title_length += len(data)


class Cancelled(Exception):
    """The caller stopped waiting for the parse."""


def parse_page(text: str, cancel: threading.Event | None = None, seconds: float = PARSE_SECONDS) -> PageParser:
    """Parse the page's head, a piece at a time: `cancel` stops it between two pieces (Cancelled),
    and after `seconds` what was found so far is the answer."""
    parser = PageParser()
    deadline = time.monotonic() + seconds
    try:
        for start in range(0, len(text), PARSE_PIECE):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            if time.monotonic() > deadline:
                return parser
            parser.feed(text[start : start + PARSE_PIECE])
        parser.close()
    except _Stop:
        pass
    return parser


@dataclass(slots=True)
class Link:
    """What we know about a URL; `to_dict` turns it into the oEmbed-like answer."""

    url: str
    type: str = "link"
    title: str = ""
    description: str = ""
    thumbnail_url: str = ""
    provider_name: str = ""
    provider_url: str = ""
    author_name: str = ""
    author_url: str = ""
    html: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": self.type,
            "version": VERSION,
            "url": self.url,
            "title": self.title,
            "description": self.description,
            "thumbnail_url": self.thumbnail_url,
            "provider_name": self.provider_name,
            "provider_url": self.provider_url,
            "author_name": self.author_name,
            "author_url": self.author_url,
            "html": self.html,
            "cache_age": CACHE_AGE,
        }
        doc.update(self.extra)
        return doc


def new_link(url: str) -> Link:
    u = URL(url)
    host = u.host or ""
    return Link(url=url, provider_name=host.removeprefix("www."), provider_url=f"{u.origin()}/")


def file_name(url: str) -> str:
    name = URL(url).name
    return clean_text(name, MAX_TITLE) or clean_text(URL(url).host, MAX_TITLE)


# ---- HTML we hand out: built here, every value escaped, every URL checked by safe_url ----

def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _a(href: str, inner: str, cls: str = "") -> str:
    cls_attr = f' class="{_e(cls)}"' if cls else ""
    return f'<a{cls_attr} href="{_e(href)}" target="_blank" rel="noopener noreferrer">{inner}</a>'


def _img(src: str, alt: str) -> str:
    return f'<img src="{_e(src)}" alt="{_e(alt)}" loading="lazy" referrerpolicy="no-referrer">'


def photo_html(link: Link, src: str) -> str:
    return f'<div class="le-photo">{_a(link.url, _img(src, link.title))}</div>'


def media_html(kind: str, src: str, poster: str = "") -> str:
    poster_attr = f' poster="{_e(poster)}"' if poster else ""
    return (f'<{kind} class="le-{kind}" src="{_e(src)}" controls preload="metadata"{poster_attr}>'
            f"{_a(src, _e(src))}</{kind}>")


def paste_html(text: str) -> str:
    return f'<div class="le-paste"><pre class="paste">{_e(text)}</pre></div>'


def plain_html(link: Link) -> str:
    return _a(link.url, _e(link.title or link.url), "le-link")


def card_html(link: Link) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", link.provider_name.lower()).strip("-")
    parts = [f'<div class="le-card le-rich le-provider-{_e(slug)}">']
    if link.thumbnail_url:
        parts.append(_a(link.url, _img(link.thumbnail_url, link.title), "le-thumbnail"))
    parts.append('<div class="le-meta">')
    parts.append(f'<h3 class="le-title">{_a(link.url, _e(link.title or link.url))}</h3>')
    if link.description:
        parts.append(f'<p class="le-description">{_e(link.description)}</p>')
    if link.author_name:
        parts.append(f'<p class="le-author">{_e(link.author_name)}</p>')
    parts.append(f'<div class="le-provider">{_a(link.provider_url, _e(link.provider_name))}</div>')
    parts.append("</div></div>")
    return "".join(parts)


def player_url(url: str) -> str | None:
    """An embeddable player URL for a few well-known video sites, built from the video id alone."""
    u = URL(url)
    host = (u.host or "").lower()
    video_id = ""
    if host in _YOUTUBE_HOSTS:
        if u.path == "/watch":
            video_id = u.query.get("v", "")
        elif u.path.startswith(("/embed/", "/shorts/", "/live/")):
            video_id = u.path.split("/")[2]
    elif host == "youtu.be":
        video_id = u.path.lstrip("/").split("/")[0]
    if video_id:
        return f"https://www.youtube-nocookie.com/embed/{video_id}" if _YOUTUBE_ID.fullmatch(video_id) else None
    if host in ("vimeo.com", "www.vimeo.com", "player.vimeo.com"):
        match = _VIMEO_PATH.fullmatch(u.path)
        return f"https://player.vimeo.com/video/{match.group(1)}" if match else None
    return None


def iframe_html(src: str, title: str) -> str:
    return (f'<iframe class="le-video" src="{_e(src)}" width="560" height="315" title="{_e(title)}"'
            f' sandbox="{_SANDBOX}" allow="{_ALLOW}" referrerpolicy="strict-origin-when-cross-origin"'
            ' loading="lazy" frameborder="0" allowfullscreen></iframe>')


# ---- putting it together ----

def describe_page(link: Link, page: PageParser, oembed: dict[str, Any] | None) -> Link:
    """Fill `link` from the page's oEmbed document, OpenGraph, Twitter card and <title>, in that order."""
    m, o = page.meta, oembed or {}
    base = link.url

    def first_text(limit: int, *values: object) -> str:
        for value in values:
            text = clean_text(value, limit)
            if text:
                return text
        return ""

    def first_url(*values: object) -> str:
        for value in values:
            url = safe_url(value, base)
            if url:
                return url
        return ""

    link.title = first_text(MAX_TITLE, o.get("title"), m.get("og:title"), m.get("twitter:title"), page.title)
    link.description = first_text(MAX_DESCRIPTION, m.get("og:description"), m.get("twitter:description"),
                                  m.get("description"))
    link.thumbnail_url = first_url(o.get("thumbnail_url"), m.get("og:image:secure_url"), m.get("og:image"),
                                   m.get("og:image:url"), m.get("twitter:image"), m.get("twitter:image:src"))
    link.provider_name = first_text(MAX_TITLE, o.get("provider_name"), m.get("og:site_name"), link.provider_name)
    link.provider_url = first_url(o.get("provider_url")) or link.provider_url
    link.author_name = first_text(MAX_TITLE, o.get("author_name"), m.get("author"))
    link.author_url = first_url(o.get("author_url"))

    player = player_url(link.url)
    video = first_url(m.get("og:video:secure_url"), m.get("og:video:url"), m.get("og:video"))
    video_type = m.get("og:video:type", "").strip().lower()
    oembed_photo = first_url(o.get("url")) if o.get("type") == "photo" else ""
    if player:
        link.type, link.html = "video", iframe_html(player, link.title or link.url)
    elif video and (video_type.startswith("video/") or (not video_type and video.lower().endswith(_VIDEO_EXT))):
        link.type, link.html = "video", media_html("video", video, link.thumbnail_url)
    elif oembed_photo:
        link.type, link.html = "photo", photo_html(link, oembed_photo)
    elif link.title or link.description or link.thumbnail_url:
        # Also for oEmbed "rich" and "video" from other providers: their html is never passed on.
        link.type, link.html = "rich", card_html(link)
    else:
        link.type, link.html = "link", plain_html(link)
    for key in ("width", "height", "thumbnail_width", "thumbnail_height"):
        if isinstance(o.get(key), int) and not isinstance(o.get(key), bool) and 0 < o[key] < 100_000:
            link.extra[key] = o[key]
    return link


def describe_media(link: Link, content_type: str) -> Link:
    """A direct link to an image, a video or a sound file: shown as such, never downloaded by us."""
    link.title = file_name(link.url)
    kind = content_type.split("/", 1)[0]
    if kind == "image":
        link.type, link.html, link.thumbnail_url = "photo", photo_html(link, link.url), link.url
    else:
        link.type, link.html = ("video" if kind == "video" else "rich"), media_html(kind, link.url)
    return link


def describe_text(link: Link, text: str, truncated: bool) -> Link:
    """text/plain becomes a paste."""
    link.title = file_name(link.url)
    shown = text[:MAX_PASTE_CHARS]
    if truncated or len(text) > MAX_PASTE_CHARS:
        shown += "\n…"
    link.type, link.html = "rich", paste_html(shown)
    return link


def describe_other(link: Link) -> Link:
    link.title = file_name(link.url)
    link.type, link.html = "link", plain_html(link)
    return link
