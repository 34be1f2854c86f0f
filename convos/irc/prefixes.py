"""Who sent a line (`nick!user@host`) and the mode prefixes of names in NAMES and WHO: pure helpers
shared by the handlers and the commands, so neither has to import the other's module for them."""

from __future__ import annotations

MODE_PREFIXES = {"~": "q", "&": "a", "@": "o", "%": "h", "+": "v"}


def split_prefix(source: str | None) -> tuple[str, str, str]:
    """`nick!user@host` -> (nick, user, host); a server name has no user part."""
    if not source:
        return "", "", ""
    nick, _, rest = source.partition("!")
    user, _, host = rest.partition("@")
    return nick, user, host
