"""The newest release, looked up from CONVOS_UPDATE_URL with a short timeout and cached; never raises."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from yarl import URL

from .. import __version__

log = logging.getLogger(__name__)

TIMEOUT = 3.0  # seconds for the whole lookup: DNS, connect, redirects and body
SUCCESS_TTL = 6 * 3600.0
FAILURE_TTL = 600.0
MAX_BODY = 8_000_000  # PyPI's JSON lists every release; a small project stays far below this
MAX_REDIRECTS = 3

Version = tuple[int, int, int]
# "1", "1.2", "1.2.3", "v1.2.3"; post releases and build tags count as the release itself.
# Anything else (pre-releases, dev builds, garbage) is not a release to tell users about.
_VERSION_RE = re.compile(r"v?(\d{1,6})(?:\.(\d{1,6}))?(?:\.(\d{1,6}))?(?:[.-]?post\d*|\+[0-9A-Za-z.]+)?")


def parse_version(text: object) -> Version | None:
    if not isinstance(text, str):
        return None
    m = _VERSION_RE.fullmatch(text.strip())
    if m is None:
        return None
    return (int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0))


def version_number(version: Version) -> float:
    """major + minor/100 + patch/10000: "8.07" is 8.07 as in Convos 8, "0.1.0" is 0.01, "1.2.3" is 1.0203.

    The API's `running` and `available` are numbers; this keeps their order as long as minor
    and patch stay below 100. The exact versions are in `running_version`/`available_version`.
    """
    major, minor, patch = version
    return round(major + minor / 100 + patch / 10000, 4)


@dataclass(slots=True)
class _Cached:
    expires: float
    version: str | None  # None: the lookup failed


class UpdateChecker:
    """One per app: a cache per URL, and one lookup at a time per URL."""

    def __init__(self, *, timeout: float = TIMEOUT, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.clock = clock
        self._cache: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def latest(self, url: str) -> str | None:
        """The newest released version at `url`, or None when unknown."""
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            cached = self._cache.get(url)
            if cached is not None and cached.expires > self.clock():
                return cached.version
            version = await self._lookup(url)
            ttl = SUCCESS_TTL if version is not None else FAILURE_TTL
            self._cache[url] = _Cached(self.clock() + ttl, version)
            return version

    async def _lookup(self, url: str) -> str | None:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._fetch(url)
        except TimeoutError:
            log.info("Update check at %s: no answer within %ss.", url, self.timeout)
        except Exception as err:  # any failure means "unknown", never an error for the user
            log.info("Update check at %s failed: %s", url, err or type(err).__name__)
        return None

    async def _fetch(self, url: str) -> str | None:
        target = URL(url)
        if target.scheme not in ("http", "https") or not target.host:
            log.warning("CONVOS_UPDATE_URL=%s is not an http(s) URL; not checking for updates.", url)
            return None
        headers = {
            "Accept": "application/json",
            "User-Agent": f"Convos/{__version__} (update check)",
            "X-Convos-Version": __version__,
        }
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with (aiohttp.ClientSession(timeout=timeout, headers=headers) as session,
                    session.get(target, max_redirects=MAX_REDIRECTS) as res):
                if res.status != 200:
                    log.info("Update check at %s: HTTP %s.", url, res.status)
                    return None
                if (res.content_length or 0) > MAX_BODY:
                    log.info("Update check at %s: answer too large.", url)
                    return None
                chunks: list[bytes] = []
                size = 0
                async for chunk in res.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > MAX_BODY:
                        log.info("Update check at %s: answer too large.", url)
                        return None
                    chunks.append(chunk)
        body = b"".join(chunks)
        version = _version_in(orjson.loads(body))
        if version is None:
            log.info("Update check at %s: no usable info.version in the answer.", url)
        return version


def _version_in(doc: Any) -> str | None:
    """`info.version` (PyPI's JSON API and OpenAPI documents), else a top-level `version`."""
    if not isinstance(doc, dict):
        return None
    info = doc.get("info")
    candidate = info.get("version") if isinstance(info, dict) else doc.get("version")
    if not isinstance(candidate, str) or parse_version(candidate) is None:
        return None
    return candidate.strip()


async def check_for_updates(checker: UpdateChecker, url: str) -> dict[str, Any]:
    """`running` always; `available` (never lower than `running`) only when the lookup worked.

    `check` says what happened: "off" (no update URL configured), "failed" or "done", so that a
    client never reads a missing `available` as "up to date".
    """
    running = parse_version(__version__) or (0, 0, 0)
    answer: dict[str, Any] = {"running": version_number(running), "running_version": __version__}
    if not url:
        answer["check"] = "off"
        return answer
    latest = await checker.latest(url)
    newest = parse_version(latest)
    answer["check"] = "failed"
    if latest is not None and newest is not None:
        answer["check"] = "done"
        if newest > running:
            answer.update(available=version_number(newest), available_version=latest)
        else:
            answer.update(available=answer["running"], available_version=__version__)
    return answer
