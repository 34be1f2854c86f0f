"""Web Push notifications to phones and desktops (docs/push.md)."""

from .service import Push

__all__ = ["Push"]
