"""Link previews: fetch a page through the address guard, within time and size limits, and describe it."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import orjson
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from .. import __version__
from ..config import Config
from ..core.addresses import AddressCheck, any_address, is_public_address, parse_address
from ..core.slots import UserSlots
from ..errors import ConvosError, InvalidInput
from . import page
from .cache import LinkCache
from .limits import EMBED_QUEUE, PARSE_THREADS, Limits
from .resolver import BlockedAddress, GuardedResolver

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_USER_AGENT = f"Mozilla/5.0 (compatible; Convos/{__version__}; +https://convos.chat)"
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Bodies we read (the start of); images, video and the rest are described from their headers alone.
_READ_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
# Pictures passed on by image(): raster formats only (no SVG: it is a document that can hold
# script), each recognised by its first bytes as well as by its Content-Type.
IMAGE_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}

# A DNS name as yarl gives it (IDNA already applied): dot-separated labels of at most 63 characters.
_HOSTNAME = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?:\.(?!-)[A-Za-z0-9_-]{1,63})*\.?", re.ASCII)


class UpstreamError(ConvosError):
    """The site could not be reached, or answered with an error."""

    status = 502


class UpstreamTimeout(ConvosError):
    status = 504


class UnsupportedImage(ConvosError):
    """/api/embed/image: what the site sent is no picture we pass on (or too big)."""

    status = 415


@dataclass(slots=True)
class Fetched:
    url: str  # after redirects
    content_type: str
    charset: str | None
    body: bytes
    truncated: bool


def check_url(raw: str) -> URL:
    """The URL a user asked about: absolute http or https, or 400."""
    text = raw.strip()
    if len(text) > page.MAX_URL:
        raise InvalidInput("The URL is too long.", "/url")
    try:
        url = URL(text)
        host = url.raw_host or ""
        scheme_ok = url.scheme in ("http", "https") and bool(url.host)
    except (ValueError, TypeError, UnicodeError):
        raise InvalidInput("Invalid URL.", "/url") from None
    if not scheme_ok:
        raise InvalidInput("Only http and https URLs can be embedded.", "/url")
    if parse_address(host) is None and (len(host) > 253 or not _HOSTNAME.fullmatch(host)):
        raise InvalidInput("Invalid URL.", "/url")
    return url


class Embedder:
    """Fetches a link (through the address guard) and describes it; answers are cached by URL."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        cache_size: int = 100,
        limits: Limits | None = None,
        allowed: AddressCheck | None = None,
        lookup: Callable[[], AbstractResolver] = ThreadedResolver,
        per_user: int = 4,
    ) -> None:
        self.allowed = allowed or (any_address if allow_private else is_public_address)
        self.cache = LinkCache(cache_size)
        self.limits = limits or Limits()
        self._lookup = lookup
        # Embeds in progress per user (CONVOS_EMBEDS_PER_USER), more waiting, then 429.
        self.slots = UserSlots(per_user, EMBED_QUEUE)
        self._parsers: ThreadPoolExecutor | None = None

    @classmethod
    def from_config(cls, config: Config) -> Embedder:
        return cls(allow_private=config.embed_allow_private, cache_size=config.max_link_cache_size,
                   per_user=config.embeds_per_user)

    async def describe(self, raw_url: str, user_agent: str | None = None, owner: str = ""
                       ) -> tuple[dict[str, Any], bool]:
        """(oEmbed-like document, came from the cache). Raises InvalidInput, UpstreamError, UpstreamTimeout,
        and TooManyRequests when `owner` has too many in progress."""
        url = check_url(raw_url)
        key = str(url)
        cached = self.cache.get(key)
        if cached is not None:
            return cached, True
        async with self.slots.hold(owner):
            cached = self.cache.get(key)  # described while this one waited its turn
            if cached is not None:
                return cached, True
            doc = await self._fetch_and_describe(url, user_agent)
        self.cache.put(key, doc)
        return doc, False

    async def image(self, raw_url: str, user_agent: str | None = None, owner: str = "") -> tuple[bytes, str]:
        """(bytes, content type) of a picture, fetched by the server so that the browser never
        asks a third party (docs/embed.md). Within the same address rules, time limits and
        per-user slots as a preview; at most `limits.max_image_bytes`; PNG, JPEG, GIF or WebP."""
        url = check_url(raw_url)
        async with self.slots.hold(owner):
            got = await self._guarded(url, user_agent, self._image)
        return got

    async def _image(self, session: aiohttp.ClientSession, url: URL) -> tuple[bytes, str]:
        got = await self.fetch(session, url, self.limits.max_image_bytes, read_types=tuple(IMAGE_MAGIC))
        if got.content_type not in IMAGE_MAGIC:
            raise UnsupportedImage(f"Not a picture: {got.content_type or 'no type'}.", "/url")
        if got.truncated:
            raise UnsupportedImage(f"The picture is larger than {self.limits.max_image_bytes} bytes.", "/url")
        if not got.body.startswith(IMAGE_MAGIC[got.content_type]) or (
                got.content_type == "image/webp" and got.body[8:12] != b"WEBP"):
            raise UnsupportedImage(f"Not a picture: {got.content_type} that is something else.", "/url")
        return got.body, got.content_type

    async def _fetch_and_describe(self, url: URL, user_agent: str | None) -> dict[str, Any]:
        return await self._guarded(url, user_agent, self._describe)

    async def _guarded(self, url: URL, user_agent: str | None,
                       work: Callable[[aiohttp.ClientSession, URL], Awaitable[T]]) -> T:
        """Run `work` with a session through the address guard, within the total time limit,
        and turn what can go wrong into our errors."""
        try:
            async with asyncio.timeout(self.limits.total), self._session(user_agent) as session:
                doc = await work(session, url)
        except TimeoutError:
            raise UpstreamTimeout(f"Timed out fetching {url.host}.", "/url") from None
        except BlockedAddress as err:
            raise InvalidInput(str(err), "/url") from None
        except aiohttp.InvalidURL:
            raise InvalidInput("Invalid URL.", "/url") from None
        except aiohttp.ClientConnectorDNSError:
            raise UpstreamError(f"Could not resolve {url.host}.", "/url") from None
        except aiohttp.ClientConnectorError as err:
            raise UpstreamError(f"Could not connect to {err.host}: {err.strerror or 'refused'}.", "/url") from None
        except (aiohttp.ClientError, UnicodeError, ValueError) as err:
            raise UpstreamError(f"Could not fetch {url.host}: {type(err).__name__}.", "/url") from None
        return doc

    def _session(self, user_agent: str | None) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(self.allowed, self._lookup()), use_dns_cache=False, force_close=True, limit=4
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": (user_agent or DEFAULT_USER_AGENT)[:512], "Accept": ACCEPT},
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.limits.connect,
                                          connect=self.limits.connect, sock_read=self.limits.connect),
            trust_env=False,
        )

    async def _describe(self, session: aiohttp.ClientSession, url: URL) -> dict[str, Any]:
        got = await self.fetch(session, url, self.limits.max_bytes)
        link = page.new_link(got.url)
        if got.content_type in ("text/html", "application/xhtml+xml"):
            parsed = await self._parse(got.body, got.charset)
            oembed = await self._oembed(session, parsed.oembed_href, got.url)
            page.describe_page(link, parsed, oembed)
        elif got.content_type.startswith(("image/", "video/", "audio/")):
            page.describe_media(link, got.content_type)
        elif got.content_type == "text/plain":
            page.describe_text(link, page.decode(got.body, got.charset), got.truncated)
        else:
            page.describe_other(link)
        return link.to_dict()

    async def _oembed(self, session: aiohttp.ClientSession, href: str | None, base: str) -> dict[str, Any] | None:
        """The page's oEmbed document, through the same guard; any trouble means "no oEmbed"."""
        target = page.safe_url(href, base) if href else None
        if target is None:
            return None
        try:
            async with asyncio.timeout(self.limits.connect):
                got = await self.fetch(session, URL(target, encoded=True), self.limits.max_oembed_bytes, as_json=True)
            doc = orjson.loads(got.body)
        except (TimeoutError, aiohttp.ClientError, BlockedAddress, ConvosError, ValueError, UnicodeError) as err:
            log.debug("No oEmbed from %s: %s", target, err)
            return None
        return doc if isinstance(doc, dict) and not got.truncated else None

    async def fetch(self, session: aiohttp.ClientSession, url: URL, max_bytes: int, *, as_json: bool = False,
                    read_types: tuple[str, ...] = _READ_TYPES) -> Fetched:
        """GET with redirects followed by hand, so each hop's scheme and address are checked."""
        for _hop in range(self.limits.max_redirects + 1):
            if url.scheme not in ("http", "https") or not url.host:
                raise UpstreamError("Redirected to a URL that is not http or https.", "/url")
            literal = parse_address(url.host)
            if literal is not None and not self.allowed(literal):
                raise BlockedAddress(url.host, str(literal))
            headers = {"Accept": "application/json"} if as_json else None
            async with session.get(url, allow_redirects=False, headers=headers) as res:
                if res.status in REDIRECTS:
                    url = _redirect_target(res)
                    continue
                if not 200 <= res.status < 300:
                    raise UpstreamError(f"{res.url.host} answered {res.status} {res.reason or ''}".rstrip() + ".",
                                        "/url")
                ctype = res.content_type.lower()
                wanted = as_json or ctype in read_types
                body, truncated = await _read_some(res, max_bytes) if wanted else (b"", False)
                if truncated or not wanted:
                    res.close()  # drop the connection: the rest of the body is never downloaded
                return Fetched(str(res.url), ctype, res.charset, body, truncated)
        raise UpstreamError(f"More than {self.limits.max_redirects} redirects.", "/url")

    def close(self) -> None:
        """Stop the parse threads (the application's cleanup); a parse still running gives up."""
        parsers, self._parsers = self._parsers, None
        if parsers is not None:
            parsers.shutdown(wait=False, cancel_futures=True)

    async def _parse(self, body: bytes, charset: str | None) -> page.PageParser:
        """Up to 1 MiB of tag soup takes html.parser seconds: in a thread of our own, never on the loop,
        and stopped when the request gives up (the 504 of the total limit), not left running."""
        if self._parsers is None:
            self._parsers = ThreadPoolExecutor(max_workers=PARSE_THREADS, thread_name_prefix="convos-embed")
        cancel = threading.Event()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._parsers, _parse_html, body, charset, cancel)
        except asyncio.CancelledError:
            cancel.set()
            raise


def _parse_html(body: bytes, charset: str | None, cancel: threading.Event | None = None) -> page.PageParser:
    try:
        return page.parse_page(page.decode(body, charset), cancel)
    except page.Cancelled:
        return page.PageParser()  # nobody waits for it any more


def _redirect_target(res: aiohttp.ClientResponse) -> URL:
    location = res.headers.get("Location", "").strip()
    try:
        target = res.url.join(URL(location)) if location else None
    except ValueError:
        target = None
    if target is None or not target.scheme:
        raise UpstreamError(f"{res.url.host} sent a redirect without a valid Location.", "/url")
    return target


async def _read_some(res: aiohttp.ClientResponse, max_bytes: int) -> tuple[bytes, bool]:
    """At most `max_bytes` of the body, and whether there was more."""
    chunks: list[bytes] = []
    size = 0
    while size < max_bytes:
        chunk = await res.content.read(min(64 * 1024, max_bytes - size))
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), not res.content.at_eof()
