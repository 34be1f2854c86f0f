"""Highlights: whole-word, case-insensitive matches of the nick or a keyword, bounded per user.

A user's keywords become one pattern when they change, never per line, and never in a cache
shared with other users: what one user configured costs nobody else anything. The pattern is
bounded (MAX_KEYWORDS of at most MAX_KEYWORD_LENGTH characters), so building it takes
milliseconds and matching a line stays linear in the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# The API refuses more (share/convos-api.json, updateUser). Of an older user.json with more,
# the first MAX_KEYWORDS take part in matching, and longer words never match.
MAX_KEYWORDS = 50
MAX_KEYWORD_LENGTH = 64
# Connections whose nick pattern is kept; past this the cache starts again (rebuilding one
# costs microseconds).
MAX_NICKS = 4096


class Matcher:
    """Literal words, matched as whole words in any case (Unicode case folding).

    A word matches where neither the character before nor the one after it is a word
    character (letter, digit, underscore). Words are never patterns.
    """

    __slots__ = ("_re", "key")

    def __init__(self, words: Iterable[str], key: object = None) -> None:
        self.key = key
        folded = dict.fromkeys(w.casefold() for w in words if w and len(w) <= MAX_KEYWORD_LENGTH)
        chosen = list(folded)[:MAX_KEYWORDS]
        self._re = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in chosen) + r")(?!\w)") if chosen else None
        )

    def search(self, text: str) -> bool:
        return self._re is not None and self._re.search(text.casefold()) is not None


class Highlights:
    """The matchers of every user and connection, each rebuilt only when its own words change."""

    def __init__(self) -> None:
        self._keywords: dict[str, Matcher] = {}
        self._nicks: dict[tuple[str, str], Matcher] = {}

    def keywords(self, email: str, words: Sequence[str]) -> Matcher:
        key = tuple(words[:MAX_KEYWORDS])
        matcher = self._keywords.get(email)
        if matcher is None or matcher.key != key:
            matcher = self._keywords[email] = Matcher(key, key)
        return matcher

    def nick(self, email: str, connection_id: str, nick: str) -> Matcher:
        matcher = self._nicks.get((email, connection_id))
        if matcher is None or matcher.key != nick:
            if len(self._nicks) >= MAX_NICKS:
                self._nicks.clear()
            matcher = self._nicks[(email, connection_id)] = Matcher([nick], nick)
        return matcher

    def forget(self, email: str) -> None:
        self._keywords.pop(email, None)
        for key in [k for k in self._nicks if k[0] == email]:
            del self._nicks[key]

    def is_highlight(self, email: str, connection_id: str, nick: str, words: Sequence[str], message: str) -> bool:
        """Whether `message` holds the nick or one of the words (spec §2.3, docs/irc.md)."""
        return self.nick(email, connection_id, nick).search(message) or self.keywords(email, words).search(message)
