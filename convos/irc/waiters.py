"""Commands that wait for the server's answer: match incoming lines to pending requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput
from .client import Message

# A matcher looks at a parsed line and answers None (not mine), or a Step.
Matcher = Callable[[Message], "Step | None"]


@dataclass(slots=True)
class Step:
    """What a matcher decided: resolve with a value, reject with a text, or keep waiting.

    `consume` hides the line from the normal handlers (e.g. a 433 answering our /nick).
    """

    done: bool = False
    value: Any = None
    error: str = ""
    consume: bool = False


def resolve(value: Any = None, *, consume: bool = False) -> Step:
    return Step(done=True, value=value, consume=consume)


def reject(text: str, *, consume: bool = False) -> Step:
    return Step(done=True, error=text, consume=consume)


def keep(*, consume: bool = False) -> Step:
    return Step(consume=consume)


@dataclass(slots=True, eq=False)
class _Waiter:
    matcher: Matcher
    future: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


# How long a line that ends a finished command (see Waiters.ignore_once) is looked for.
IGNORE_TTL = 10.0


class Waiters:
    def __init__(self) -> None:
        self._waiting: list[_Waiter] = []
        self._ignored: list[tuple[Callable[[Message], bool], float]] = []

    def ignore_once(self, predicate: Callable[[Message], bool], ttl: float = IGNORE_TTL) -> None:
        """Hide the next line matching `predicate` within `ttl` seconds: the tail of an answer
        a command already has (a 318 after the 401 that ended a /whois)."""
        self._ignored.append((predicate, time.monotonic() + ttl))

    def _take_ignored(self, message: Message) -> bool:
        now = time.monotonic()
        self._ignored = [(p, until) for p, until in self._ignored if until > now]
        for i, (predicate, _until) in enumerate(self._ignored):
            try:
                hit = predicate(message)
            except Exception:
                hit = False
            if hit:
                del self._ignored[i]
                return True
        return False

    async def wait(self, matcher: Matcher, timeout: float = 60.0) -> Any:
        waiter = _Waiter(matcher)
        self._waiting.append(waiter)
        try:
            return await asyncio.wait_for(waiter.future, timeout)
        except TimeoutError:
            raise InvalidInput("Promise timeout") from None
        finally:
            if waiter in self._waiting:
                self._waiting.remove(waiter)

    def offer(self, message: Message) -> bool:
        """Give a line to every waiter in order; True when one of them consumed it."""
        if self._ignored and self._take_ignored(message):
            return True
        consumed = False
        for waiter in list(self._waiting):
            if waiter.future.done():
                continue
            try:
                step = waiter.matcher(message)
            except Exception as err:
                waiter.future.set_exception(err)
                continue
            if step is None:
                continue
            consumed |= step.consume
            if step.done:
                self._waiting.remove(waiter)
                if step.error:
                    waiter.future.set_exception(InvalidInput(step.error))
                else:
                    waiter.future.set_result(step.value)
            if step.consume:
                break
        return consumed

    def fail_all(self, text: str) -> None:
        for waiter in self._waiting:
            if not waiter.future.done():
                waiter.future.set_exception(InvalidInput(text))
        self._waiting.clear()
        self._ignored.clear()
