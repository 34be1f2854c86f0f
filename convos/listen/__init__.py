"""The IRC listener (docs/irc-listener.md): native IRC clients attach to the users' connections."""

from .server import ListenAddress, Listener, parse_address

__all__ = ["ListenAddress", "Listener", "parse_address"]
