"""Message ids: where a line sits in its month file, as a short opaque string, and as a sort key.

A logged line never moves (the files are append-only), so its month file and its byte offset
name it for good, at no cost on disk. An id packs, in 96 bits:

- the line's timestamp in epoch seconds (34 bits): it names the month file, and puts the id in
  time order;
- the byte offset of the line's first byte in that file (38 bits);
- a 24-bit tag of the conversation (a hash of connection id and conversation id), so that ids
  of different conversations differ even when time and offset are equal.

`(seconds, offset, tag)` is the order of messages everywhere: pages, search and cursors. It is
the time order, and within one second the order of the file, which is arrival order. An id is
encoded as 16 URL-safe base64 characters. See docs/logs.md ("Message ids").
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
from dataclasses import dataclass

from .seek import key_epoch

_EPOCH_BITS, _OFFSET_BITS, _TAG_BITS = 34, 38, 24
MAX_OFFSET = (1 << _OFFSET_BITS) - 1
_ID_LEN = 16
_OFFSET_BYTES = 5  # in sort keys


@dataclass(frozen=True, slots=True, order=True)
class MessagePos:
    """A position in the order of messages: the cursor an id stands for."""

    epoch: int
    offset: int
    tag: int = 0

    @property
    def id(self) -> str:
        return message_id(self.epoch, self.offset, self.tag)


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def message_id(epoch: int, offset: int, tag: int) -> str:
    """`MessagePos(epoch, offset, tag).id`, without building the position (once per line read
    or written: base64.urlsafe_b64encode and the frozen dataclass cost more than the rest)."""
    n = (epoch << (_OFFSET_BITS + _TAG_BITS)) | (offset << _TAG_BITS) | tag
    return binascii.b2a_base64(n.to_bytes(12, "big"), newline=False).translate(_URLSAFE).decode("ascii")


def parse_message_id(text: object) -> MessagePos | None:
    """The position an id names, or None when it is not an id."""
    if not isinstance(text, str) or len(text) != _ID_LEN:
        return None
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if base64.urlsafe_b64encode(raw).decode("ascii") != text:
        return None
    n = int.from_bytes(raw, "big")
    tag = n & ((1 << _TAG_BITS) - 1)
    offset = (n >> _TAG_BITS) & MAX_OFFSET
    return MessagePos(n >> (_OFFSET_BITS + _TAG_BITS), offset, tag)


def conversation_tag(conn_dir: object, conversation_id: str) -> int:
    """The tag of a conversation: its connection directory's name and its id, hashed."""
    return _tag(os.path.basename(os.fspath(conn_dir).rstrip("/")), conversation_id)  # type: ignore[call-overload]


@functools.lru_cache(maxsize=4096)
def _tag(name: str, conversation_id: str) -> int:
    digest = hashlib.blake2s(f"{name}\0{conversation_id}".encode(), digest_size=3).digest()
    return int.from_bytes(digest, "big")


# --- sort keys ------------------------------------------------------------------
# A scan compares lines by key: the 19-byte timestamp (`T` upper-cased) and the offset, as
# bytes, so that `bytes` order is message order and a plain timestamp key sorts before every
# line of its second.


def pos_key(ts_key: bytes, offset: int) -> bytes:
    return ts_key + offset.to_bytes(_OFFSET_BYTES, "big")


def key_offset(key: bytes) -> int:
    return int.from_bytes(key[19:], "big")


def key_id(key: bytes, tag: int) -> str:
    # message_id(key_epoch(key), key_offset(key), tag), inlined: once per message of a page
    n = (key_epoch(key) << (_OFFSET_BITS + _TAG_BITS)) | (int.from_bytes(key[19:], "big") << _TAG_BITS) | tag
    return binascii.b2a_base64(n.to_bytes(12, "big"), newline=False).translate(_URLSAFE).decode("ascii")
