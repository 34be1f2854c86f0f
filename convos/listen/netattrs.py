"""The network attributes of soju.im/bouncer-networks: a connection as attributes, attributes as
a connection URL, and the FAIL BOUNCER answers."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from ..errors import ConvosError
from .lines import escape_tag, format_line, unescape_tag

SERVER_NAME = "convos"
# What a client may set (ADDNETWORK, CHANGENETWORK); `state` it may only read. `pass` is never told.
WRITABLE = ("name", "host", "port", "tls", "nickname", "username", "realname", "pass")
READ_ONLY = ("state",)
_STATES = {"connected": "connected", "connecting": "connecting", "queued": "connecting"}


class BouncerError(Exception):
    """A `FAIL BOUNCER <code> <subcommand> [context...] :<text>` answer."""

    def __init__(self, code: str, subcommand: str, *context: str, text: str) -> None:
        super().__init__(text)
        self.code, self.subcommand, self.context, self.text = code, subcommand, context, text

    def line(self) -> str:
        return format_line("FAIL", "BOUNCER", self.code, self.subcommand, *self.context, self.text,
                           source=SERVER_NAME)


# --- attributes -------------------------------------------------------------------------------


def state_of(state: str) -> str:
    """The core's state (connected, connecting, queued, disconnecting, disconnected) as the spec's."""
    return _STATES.get(state, "disconnected")


def attributes(api: Mapping[str, Any]) -> dict[str, str]:
    """A connection as the API shows it (`Connection.api_dict`, or the one an event carries) as
    the spec's network attributes."""
    url = str(api.get("url") or "")
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    try:
        port = parts.port
    except ValueError:
        port = None
    info = api.get("info")
    nick = query.get("nick") or (str(info.get("nick") or "") if isinstance(info, Mapping) else "")
    # Without `tls` Convos tries TLS first (and keeps tls=0 when the server does not speak it).
    tls = parts.scheme == "ircs" or query.get("tls", "1") not in ("0", "")
    attrs = {"name": str(api.get("name") or api.get("connection_id") or ""), "state": state_of(str(api.get("state"))),
             "host": parts.hostname or "", "port": str(port or 6667), "tls": "1" if tls else "0"}
    for key, value in (("nickname", nick), ("username", unquote(parts.username or "")),
                       ("realname", query.get("realname", ""))):
        if value:
            attrs[key] = value
    return attrs


def format_attributes(attrs: Mapping[str, str]) -> str:
    """`name=Libera\\sChat;state=connected`: the message-tag format; "" (a removed one) as `key`."""
    return ";".join(f"{k}={escape_tag(v)}" if v else k for k, v in attrs.items())


def parse_attributes(text: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for item in text.split(";"):
        if item:
            key, _, value = item.partition("=")
            attrs[key.strip().lower()] = unescape_tag(value)
    return attrs


def _host(value: str, subcommand: str, netid: str) -> str:
    """A host name or address literal for a URL's netloc (IPv6 in brackets)."""
    host = value.strip().strip("[]")
    if not host or any(ch in host for ch in "/@?#[] \t") or not host.isprintable():
        raise BouncerError("INVALID_ATTRIBUTE", subcommand, netid, "host", text="Invalid attribute value")
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]"
    except ValueError:
        pass
    return host


def url_with(attrs: Mapping[str, str], base: str = "", *, subcommand: str = "ADDNETWORK", netid: str = "*") -> str:
    """The connection URL with the attributes given (all but `name`): a new one (`base` empty:
    `host` needed, TLS and port 6697 unless said otherwise) or `base` changed."""
    for key in attrs:
        if key in READ_ONLY:
            raise BouncerError("READ_ONLY_ATTRIBUTE", subcommand, netid, key, text="Read-only attribute")
        if key not in WRITABLE:
            raise BouncerError("UNKNOWN_ATTRIBUTE", subcommand, netid, key, text="Unknown attribute")
    if not base and not attrs.get("host"):
        raise BouncerError("NEED_ATTRIBUTE", subcommand, "host", text="Missing required attribute")
    parts = urlsplit(base or "irc://")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    tls = attrs.get("tls") or ("" if base else "1")  # empty: as it was, or the default
    if tls not in ("", "0", "1"):
        raise BouncerError("INVALID_ATTRIBUTE", subcommand, netid, "tls", text="Invalid attribute value")
    port_text = attrs.get("port", "")
    if port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536):
        raise BouncerError("INVALID_ATTRIBUTE", subcommand, netid, "port", text="Invalid attribute value")
    try:
        old_port = parts.port
    except ValueError:
        old_port = None
    if "host" in attrs:
        host = _host(attrs["host"], subcommand, netid)
    else:
        host = parts.netloc.rpartition("@")[2]
        if old_port is not None:
            host = host.rsplit(":", 1)[0]
    port = int(port_text) if port_text else old_port or (None if base else 6697 if tls == "1" else 6667)
    scheme = parts.scheme or "irc"
    if tls:
        query["tls"] = tls
        if tls == "0" and scheme == "ircs":
            scheme = "irc"
    username = attrs["username"] if "username" in attrs else unquote(parts.username or "")
    # Never told, so a client that sends back an empty one (Goguma sends every field) keeps it.
    password = attrs.get("pass") or unquote(parts.password or "")
    for attr, key in (("nickname", "nick"), ("realname", "realname")):
        if attrs.get(attr):
            query[key] = attrs[attr]
        elif attr in attrs:
            query.pop(key, None)
    userinfo = quote(username, safe="") + (":" + quote(password, safe="") if password else "")
    netloc = (f"{userinfo}@" if userinfo else "") + host + (f":{port}" if port else "")
    return urlunsplit((scheme, netloc, parts.path, urlencode(query), ""))


def fail_from(err: ConvosError, subcommand: str, netid: str) -> BouncerError:
    """What the core refused (the API's message), said about the attribute it concerns."""
    first = err.errors[0] if err.errors else None
    path = first.path if first else ""
    attribute = {"/name": "name", "/wanted_state": "state"}.get(path, "host")
    return BouncerError("INVALID_ATTRIBUTE", subcommand, netid, attribute,
                        text=first.message if first else str(err))
