"""aiohttp's server log, quieter: a malformed request is one line, and a flood of them a few."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger(__name__)

# Malformed requests logged per INTERVAL seconds; the rest are counted in the next line.
BURST = 5
INTERVAL = 60.0


class ServerLog:
    """Stands in for the `logger` of aiohttp's request handler (Application handler_args).

    A request aiohttp cannot parse was logged at error level with a full traceback, one per
    request: anyone could fill the log. Now it is one warning line with the peer and the
    parser's reason, at most BURST per INTERVAL seconds. Everything else goes to aiohttp's
    logger unchanged."""

    def __init__(self, target: logging.Logger | None = None, *, burst: int = BURST, interval: float = INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.target = target or logging.getLogger("aiohttp.server")
        self.burst = burst
        self.interval = interval
        self.clock = clock
        self._window = -interval
        self._logged = 0
        self._dropped = 0

    def exception(self, msg: object, *args: Any, exc_info: Any = None, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            self._malformed(args[0] if args else "?", exc_info)
        else:
            self.target.exception(msg, *args, exc_info=exc_info if exc_info is not None else True, **kwargs)

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.target.debug(msg, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)

    def _malformed(self, remote: object, err: HttpProcessingError) -> None:
        now = self.clock()
        if now - self._window >= self.interval:
            self._window, self._logged = now, 0
        if self._logged >= self.burst:
            self._dropped += 1
            return
        self._logged += 1
        reason = " ".join(str(err.message or type(err).__name__).split())[:200]
        more = f" ({self._dropped} more not logged)" if self._dropped else ""
        self._dropped = 0
        log.warning("Malformed HTTP request from %s: %r%s", remote, reason, more)
