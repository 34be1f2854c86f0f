"""Who sent a line (`nick!user@host`) and the mode prefixes of names in NAMES and WHO: pure helpers
shared by the handlers and the commands, so neither has to import the other's module for them."""

from __future__ import annotations

from ..core.people import People

MODE_PREFIXES = {"~": "q", "&": "a", "@": "o", "%": "h", "+": "v"}


def split_prefix(source: str | None) -> tuple[str, str, str]:
    """`nick!user@host` -> (nick, user, host); a server name has no user part."""
    if not source:
        return "", "", ""
    nick, _, rest = source.partition("!")
    user, _, host = rest.partition("@")
    return nick, user, host


def split_names(text: str) -> list[tuple[str, str, str, str]]:
    """A 353 line's names: (mode letters, nick, user, host) of each `@+nick` or, with
    userhost-in-names, `@+nick!user@host`."""
    out = []
    for item in text.split():
        mode = ""
        while item and item[0] in MODE_PREFIXES:
            mode += MODE_PREFIXES[item[0]]
            item = item[1:]
        if item:
            nick, user, host = split_prefix(item)
            out.append((mode, nick, user, host))
    return out


def note_names(people: People, text: str) -> None:
    """Who the names of a 353 line are, when the network said (userhost-in-names)."""
    if "!" not in text:
        return
    for _mode, nick, user, host in split_names(text):
        if user and host:
            people.seen(nick, user, host)


def note_who(people: People, params: list[str]) -> None:
    """Who a 352 line (`me channel user host server nick flags :hops realname`) says someone is."""
    if len(params) < 8:
        return
    person = people.seen(params[5], params[2], params[3])
    person.note(away=params[6].startswith("G"), realname=params[7].partition(" ")[2])
