"""How much one link preview may cost: time, bytes, redirects, and embeds per user at once."""

from __future__ import annotations

from dataclasses import dataclass

# Embeds of one user that wait for one of their CONVOS_EMBEDS_PER_USER slots; more answer 429.
EMBED_QUEUE = 16
# Threads that parse fetched pages, shared by everyone (each parse is bounded in time).
PARSE_THREADS = 2


@dataclass(frozen=True, slots=True)
class Limits:
    connect: float = 5.0  # to connect, and the longest silence while reading
    total: float = 10.0  # one whole embed: every redirect hop and the oEmbed document
    max_bytes: int = 1024 * 1024  # of a page we read; the rest is never downloaded
    max_oembed_bytes: int = 256 * 1024
    max_redirects: int = 5
    max_image_bytes: int = 5 * 1024 * 1024  # a picture passed on by /api/embed/image
