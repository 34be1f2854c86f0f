"""What the network said about the people a connection sees: user@host, account, realname and
away state by nick (from JOIN, NAMES, WHO, AWAY, ACCOUNT, CHGHOST and SETNAME), so native IRC
clients get them (convos/listen). Kept in memory only, bounded per connection."""

from __future__ import annotations

from dataclasses import dataclass

# Nicks remembered per connection; the least recently seen are forgotten first (a NAMES of a
# big channel fills it; a forgotten nick is shown without user@host until it is seen again).
MAX_PEOPLE = 4096


@dataclass(slots=True)
class Person:
    nick: str
    user: str = ""
    host: str = ""
    account: str = ""  # "" when not logged in, or not known
    realname: str = ""
    away: bool = False

    @property
    def mask(self) -> str:
        """`nick!user@host`, or the bare nick while user and host are not known."""
        return f"{self.nick}!{self.user}@{self.host}" if self.user and self.host else self.nick


class People:
    """Person by nick (case-insensitive), at most `limit` of them."""

    __slots__ = ("_by_nick", "limit")

    def __init__(self, limit: int = MAX_PEOPLE) -> None:
        self.limit = limit
        self._by_nick: dict[str, Person] = {}

    def __len__(self) -> int:
        return len(self._by_nick)

    def get(self, nick: str) -> Person | None:
        return self._by_nick.get(nick.lower())

    def mask(self, nick: str) -> str:
        found = self._by_nick.get(nick.lower())
        return found.mask if found is not None else nick

    def seen(self, nick: str, user: str = "", host: str = "") -> Person:
        """The person of `nick` (made when new, the oldest forgotten past the limit), with the
        user and host given, when given."""
        key = nick.lower()
        found = self._by_nick.pop(key, None)
        if found is None:
            found = Person(nick)
            if len(self._by_nick) >= self.limit:
                del self._by_nick[next(iter(self._by_nick))]
        self._by_nick[key] = found  # the most recently seen last
        found.nick = nick
        if user and host:
            found.user, found.host = user, host
        return found

    def rename(self, old: str, new: str) -> None:
        found = self._by_nick.pop(old.lower(), None)
        if found is not None:
            self._by_nick.pop(new.lower(), None)
            found.nick = new
            self._by_nick[new.lower()] = found

    def forget(self, nick: str) -> None:
        self._by_nick.pop(nick.lower(), None)

    def clear(self) -> None:
        self._by_nick.clear()
