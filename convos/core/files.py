"""Uploads and pastes (spec §2.2, §2.6, §4.8, §7.1): ids, names, types, paging; bytes live in the store."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
from typing import Any
from urllib.parse import quote

from ..config import Config
from ..errors import InvalidInput, NotFound, PayloadTooLarge
from ..store.base import UploadRecord, UploadSink, UploadStore, UploadStream
from .connection import Connection
from .settings import Settings
from .user import User
from .users import Users

log = logging.getLogger(__name__)

MAX_FILES_PAGE = 60
# An explicit id is one plain file name: word characters and "-", never "." or "/".
EXPLICIT_ID_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}", re.ASCII)
MAX_FILENAME = 255

# Mojolicious::Types as 8.07 ships them, plus xhtml (as the original adds) and a few common media types.
MIME_TYPES = {
    "appcache": "text/cache-manifest",
    "atom": "application/atom+xml",
    "bin": "application/octet-stream",
    "css": "text/css",
    "gif": "image/gif",
    "gz": "application/x-gzip",
    "htm": "text/html",
    "html": "text/html;charset=UTF-8",
    "ico": "image/x-icon",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "js": "application/javascript",
    "json": "application/json",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
    "ogg": "audio/ogg",
    "ogv": "video/ogg",
    "pdf": "application/pdf",
    "png": "image/png",
    "rss": "application/rss+xml",
    "svg": "image/svg+xml",
    "ttf": "font/ttf",
    "txt": "text/plain;charset=UTF-8",
    "webm": "video/webm",
    "woff": "font/woff",
    "woff2": "font/woff2",
    "xml": "application/xml",
    "zip": "application/zip",
    "xhtml": "application/xhtml+xml",
    # Not in Mojolicious, but common in chat: served inline like the other media.
    "webp": "image/webp",
    "m4a": "audio/mp4",
    "opus": "audio/ogg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "mov": "video/quicktime",
}
OCTET_STREAM = "application/octet-stream"
TEXT_PLAIN = "text/plain;charset=UTF-8"
SNIFF_BYTES = 512


def _pack_hex(hex_text: str) -> bytes:
    """Perl's `pack "H*"`: letters map to (ord + 9) & 0xF, everything else to ord & 0xF."""
    nibbles = [((ord(c) + 9) & 0xF) if c.isalpha() else (ord(c) & 0xF) for c in hex_text]
    if len(nibbles) % 2:
        nibbles.append(0)
    return bytes(hi << 4 | lo for hi, lo in zip(nibbles[::2], nibbles[1::2], strict=True))


def short_checksum(text: str) -> str:
    """16 characters from a SHA-1: base64 without `eioEIO+=/`, as the original's Convos::Util."""
    if not re.fullmatch(r"[a-z0-9]{40}", text):
        text = hashlib.sha1(text.encode("utf-8")).hexdigest()
    encoded = base64.b64encode(_pack_hex(text)).decode("ascii")
    return re.sub(r"[eioEIO+=/\n]", "", encoded)[:16]


def file_id_for(md5_hex: str) -> str:
    """A file's id from the hex MD5 of its content (so the SHA-1 is of the MD5 *string*)."""
    return short_checksum(md5_hex)


def ext_of(filename: str) -> str:
    m = re.search(r"\.(\w+)$", filename)
    return m.group(1) if m else "bin"


def clean_filename(raw: str | None) -> str:
    """The last path component, without control characters; the name is only ever shown, never a path."""
    name = re.split(r"[/\\]", raw or "")[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    if name in ("", ".", ".."):
        raise InvalidInput("Unknown filename.", "/file")
    if len(name) > MAX_FILENAME:
        ext = ext_of(name)
        keep = MAX_FILENAME - len(ext) - 1
        name = name[:keep] + "." + ext if 0 < len(ext) < 32 and name.endswith("." + ext) else name[:MAX_FILENAME]
    return name


def upload_filename(raw: str | None, now: float | None = None) -> str:
    """What an upload is stored as: cleaned, and iPhone's `image.jpg` made unique-ish."""
    name = clean_filename(raw)
    if re.fullmatch(r"image\.jpe?g", name, re.IGNORECASE):
        n = int(time.time() if now is None else now) % 10000
        name = f"IMG_{n}.jpg"
    return name


def paste_filename(text: str) -> str:
    """§7.1: the first run of a word character and 4+ more on one line, 28 chars, lower, [A-Za-z-] only."""
    m = re.search(r"\w[^\n]{4,}", text)
    name = re.sub(r"[^A-Za-z-]+", "_", m.group(0)[:28].lower()) if m else ""
    return (name if len(name) >= 5 else "paste") + ".txt"


def looks_like_text(head: bytes) -> bool:
    """Roughly Perl's -T on the first block: no NUL, and UTF-8 or mostly printable."""
    if not head:
        return True
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as err:
        # A multi-byte character cut off at the end of the block is still text.
        if err.start >= len(head) - 3 and err.reason == "unexpected end of data":
            return True
    odd = sum(1 for b in head if (b < 32 and b not in b"\t\n\r\f\b\x1b") or b > 127)
    return odd * 3 < len(head)


def mime_type(filename: str, head: bytes | None = None) -> str:
    """From the stored filename's extension; unknown is octet-stream, or text/plain for text content."""
    m = re.search(r"\.(\w+)$", filename)
    kind = MIME_TYPES.get(m.group(1).lower(), OCTET_STREAM) if m else OCTET_STREAM
    if kind == OCTET_STREAM and head is not None and looks_like_text(head):
        return TEXT_PLAIN
    return kind


def page_files(records: list[UploadRecord], after: str | None, limit: int) -> dict[str, Any]:
    """getFiles paging (§4.8): `after` starts the page, `next` and `prev` are ids to pass as `after`."""
    before: list[str] = []
    files: list[dict[str, Any]] = []
    out: dict[str, Any] = {}
    seen = not after
    for record in records:
        if not seen:
            if record.id == after:
                seen = True
                out["after"] = record.id
            else:
                before.append(record.id)
            continue
        if len(files) >= limit:
            out["next"] = record.id
            break
        files.append({"id": record.id, "name": record.filename or record.id, "saved": record.saved,
                      "size": record.size})
    if not seen:
        return {"files": []}
    if files and len(before) > limit:
        out["prev"] = before[-limit]
    out["files"] = files
    return out


class FilesService:
    """Uploads and pastes of the users."""

    def __init__(self, store: UploadStore, settings: Settings, config: Config, users: Users) -> None:
        self.store = store
        self.settings = settings
        self.config = config
        self.users = users

    def user_by_uid(self, uid: str) -> User | None:
        return self.users.by_uid(uid)

    def file_url(self, uid: str, fid: str, *, base_url: str | None = None, ext: str = "") -> str:
        base = (base_url or self.settings.base_url).rstrip("/")
        return f"{base}/file/{quote(uid, safe='')}/{quote(fid, safe='')}" + (f".{ext}" if ext else "")

    def file_dict(self, record: UploadRecord, base_url: str | None = None) -> dict[str, Any]:
        return {"ext": record.ext, "filename": record.filename, "id": record.id, "saved": record.saved,
                "uid": record.uid, "url": self.file_url(record.uid, record.id, base_url=base_url),
                "write_only": record.write_only}

    async def begin_upload(self, user: User) -> UploadSink:
        return await self.store.begin_upload(user.email)

    async def save_upload(
        self, user: User, sink: UploadSink, filename: str, *, fid: str | None = None,
        write_only: bool = False,
    ) -> UploadRecord:
        """Commit a finished sink: the id is the content checksum unless one was given."""
        try:
            if sink.size > self.config.max_upload_size:
                raise PayloadTooLarge("Maximum message size exceeded", "/file")
            if fid is not None and not EXPLICIT_ID_RE.fullmatch(fid):
                raise InvalidInput("Invalid file id.", "/id")
            md5_hex = await sink.finish()
            meta = {
                "author": user.email, "ext": ext_of(filename), "filename": filename,
                "id": fid or file_id_for(md5_hex), "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "uid": user.uid, "write_only": write_only,
            }
            record = await self.store.commit_upload(user.email, sink, meta)
        except BaseException:
            await sink.discard()
            raise
        log.info("%s saved file %s (%s, %d bytes)", user.email, record.id, record.filename, record.size)
        return record

    async def create_paste(self, conn: Connection, text: str) -> str:
        """Store a long message as the owner's paste and return its absolute URL (§7.1)."""
        user = self.users.get(conn.email)
        if user is None:
            raise InvalidInput("Cannot create a paste without a user.")
        sink = await self.begin_upload(user)
        try:
            await sink.write(text.encode("utf-8"))
        except BaseException:
            await sink.discard()
            raise
        record = await self.save_upload(user, sink, paste_filename(text))
        return self.file_url(user.uid, record.id)

    async def public_file(self, uid: str, fid: str) -> UploadRecord:
        """A file anyone with the link may see: NotFound for an unknown user, id or a write-only file."""
        user = self.user_by_uid(uid)
        record = await self.store.load_upload(user.email, fid, user.uid) if user else None
        if record is None or record.write_only:
            raise NotFound("File not found.")
        return record

    async def open_file(self, record: UploadRecord) -> UploadStream:
        """The bytes of a file, to stream (close the stream when done); NotFound when they are gone."""
        stream = await self.store.open_upload(record)
        if stream is None:
            raise NotFound("File not found.")
        return stream

    async def file_head(self, record: UploadRecord, size: int = SNIFF_BYTES) -> bytes:
        return await self.store.read_upload(record, size)

    async def file_mime_type(self, record: UploadRecord) -> str:
        kind = mime_type(record.filename)
        if kind == OCTET_STREAM:
            kind = mime_type(record.filename, await self.file_head(record))
        return kind

    async def list_files(self, user: User, after: str | None = None, limit: int = MAX_FILES_PAGE
                         ) -> dict[str, Any]:
        if limit < 1:
            raise InvalidInput("Must be at least 1.", "/limit")
        records = await self.store.list_uploads(user.email, user.uid)
        return page_files(records, after, min(limit, MAX_FILES_PAGE))

    async def delete_files(self, user: User, fids: list[str]) -> int:
        """Delete the user's own files; ids that do not exist are not counted."""
        deleted = 0
        for fid in dict.fromkeys(f.strip() for f in fids):
            if fid and EXPLICIT_ID_RE.fullmatch(fid) and await self.store.delete_upload(user.email, fid):
                deleted += 1
        return deleted
