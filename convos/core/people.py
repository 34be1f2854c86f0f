"""What the network said about the people a connection sees: user@host, account, realname and
away state by nick (from JOIN, NAMES, WHO, AWAY, ACCOUNT, CHGHOST and SETNAME), so native IRC
clients get them (convos/listen). Kept in memory only, bounded per connection."""

from __future__ import annotations

from dataclasses import dataclass

# Nicks remembered per connection; the least recently seen are forgotten first (a NAMES of a
# big channel fills it; a forgotten nick is shown without user@host until it is seen again).
MAX_PEOPLE = 4096
# What is kept of each value, in characters (IRC servers keep them far shorter: a hostile one
# that does not still costs at most about 3 MB a connection).
MAX_NAME = 64  # nick, user and account
MAX_TEXT = 256  # host and realname


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

    def note(self, *, user: str = "", host: str = "", account: str | None = None, realname: str | None = None,
             away: bool | None = None) -> Person:
        """Keep what the network said (user and host together, when both are given), bounded."""
        if user and host:
            self.user, self.host = user[:MAX_NAME], host[:MAX_TEXT]
        if account is not None:
            self.account = account[:MAX_NAME]
        if realname is not None:
            self.realname = realname[:MAX_TEXT]
        if away is not None:
            self.away = away
        return self


class People:
    """Person by nick (case-insensitive), at most `limit` of them."""

    __slots__ = ("_by_nick", "limit")

    def __init__(self, limit: int = MAX_PEOPLE) -> None:
        self.limit = limit
        self._by_nick: dict[str, Person] = {}

    def __len__(self) -> int:
        return len(self._by_nick)

    def get(self, nick: str) -> Person | None:
        return self._by_nick.get(nick[:MAX_NAME].lower())

    def mask(self, nick: str) -> str:
        found = self._by_nick.get(nick[:MAX_NAME].lower())
        return found.mask if found is not None else nick

    def seen(self, nick: str, user: str = "", host: str = "") -> Person:
        """The person of `nick` (made when new, the oldest forgotten past the limit), with the
        user and host given, when given."""
        nick = nick[:MAX_NAME]
        key = nick.lower()
        found = self._by_nick.pop(key, None)
        if found is None:
            found = Person(nick)
            if len(self._by_nick) >= self.limit:
                del self._by_nick[next(iter(self._by_nick))]
        self._by_nick[key] = found  # the most recently seen last
        found.nick = nick
        return found.note(user=user, host=host)

    def rename(self, old: str, new: str) -> None:
        found = self._by_nick.pop(old[:MAX_NAME].lower(), None)
        if found is not None:
            new = new[:MAX_NAME]
            self._by_nick.pop(new.lower(), None)
            found.nick = new
            self._by_nick[new.lower()] = found

    def forget(self, nick: str) -> None:
        self._by_nick.pop(nick[:MAX_NAME].lower(), None)

    def clear(self) -> None:
        self._by_nick.clear()
