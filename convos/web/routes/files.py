"""Files (spec §4.8, §4.13): upload, list, delete, and serving `/file/<uid>/<fid>` safely."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from ... import __version__
from ...core.files import upload_filename
from ...errors import InvalidInput, NotFound, PayloadTooLarge
from ...store.base import UploadRecord, UploadSink
from ..i18n import COOKIE_NAME, cookie_scheme
from ..keys import CONFIG, CORE, FILES, TEMPLATES
from ..session import require_login
from ..streaming import stream_response
from . import ApiRoutes, Input

routes = ApiRoutes()
# The pages outside the API.
page_routes = web.RouteTableDef()

CHUNK = 64 * 1024
MAX_FIELD = 1024
# The viewer page shows at most this much text, in at most this many lines; the Raw link has the rest.
VIEW_LIMIT = 1024 * 1024
VIEW_LINES = 10_000
CACHE_CONTROL = "max-age=86400"
# Shown in the HTML viewer; everything else is served as it is.
EMBEDDABLE = re.compile(r"^(?:application/javascript|application/(?:json|xhtml|xml)|image/|text/)")
# What a browser may show inline without running anything: everything else is a download.
INLINE_SAFE = re.compile(r"^(?:(?:image/(?:gif|jpeg|png|webp)|text/plain)(?:;|$)|audio/|video/)")
VIEWER_CSP = ("default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'self'")
RAW_CSP = "sandbox"
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
_NAME_RE = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_-]{0,63})(?:\.([\w.]{1,32}))?", re.ASCII)


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge("Maximum message size exceeded", "/file")


# --- upload -------------------------------------------------------------------------


class _Body:
    """Counts the request body as it is read, so a chunked upload cannot go past the limit either."""

    def __init__(self, request: web.Request, limit: int) -> None:
        self.request = request
        self.limit = limit

    def check(self) -> None:
        if self.request.content.total_bytes > self.limit:
            raise _too_large()

    async def field(self, part: BodyPartReader) -> str:
        data = bytearray()
        while chunk := await part.read_chunk(MAX_FIELD):
            self.check()
            data += chunk
            if len(data) > MAX_FIELD:
                raise InvalidInput(f"String is too long: {len(data)}/{MAX_FIELD}.", f"/{part.name}")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("Invalid UTF-8.", f"/{part.name}") from None

    async def drain(self, part: BodyPartReader) -> None:
        while await part.read_chunk(CHUNK):
            self.check()

    async def copy(self, part: BodyPartReader, sink: UploadSink) -> None:
        while chunk := await part.read_chunk(CHUNK):
            self.check()
            await sink.write(chunk)

    async def rest(self) -> None:
        """Whatever follows the closing boundary is body too."""
        while await self.request.content.readany():
            self.check()


def _boolean(value: str, path: str) -> bool:
    low = value.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("", "0", "false", "no", "off"):
        return False
    raise InvalidInput("Expected boolean - got string.", path)


@routes.post("/files")
async def upload_file(request: web.Request, inp: Input) -> dict[str, Any]:
    limit = request.app[CONFIG].max_upload_size
    # Refuse a declared oversized body before reading a byte of it, and before anything else.
    if request.content_length is not None and request.content_length > limit:
        raise _too_large()
    user = await require_login(request)
    if not request.content_type.startswith("multipart/"):
        # A urlencoded `file` (checked by the validator) is a string without a filename.
        raise InvalidInput("Unknown filename.", "/file")
    files = request.app[FILES]
    body = _Body(request, limit)
    fields: dict[str, str] = {}
    sink: UploadSink | None = None
    filename = ""
    try:
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if isinstance(part, MultipartReader):
                    raise InvalidInput("Nested multipart bodies are not supported.", "/body")
                if part.name == "file" and sink is None:
                    if not part.filename:
                        raise InvalidInput("Unknown filename.", "/file")
                    filename = upload_filename(part.filename)
                    sink = await files.begin_upload(user)
                    await body.copy(part, sink)
                elif part.name in ("id", "write_only") and part.filename is None:
                    fields[part.name] = await body.field(part)
                else:
                    await body.drain(part)
            await body.rest()
        except (ValueError, AssertionError, LookupError, HttpProcessingError):
            raise InvalidInput("Invalid multipart body.", "/body") from None
        if sink is None:
            raise InvalidInput("Missing property.", "/file")
        write_only = _boolean(fields.get("write_only", ""), "/write_only")
        fid = fields.get("id", "").strip() or None
        committing, sink = sink, None
        record = await files.save_upload(user, committing, filename, fid=fid, write_only=write_only)
    finally:
        if sink is not None:
            await sink.discard()
    return {"files": [files.file_dict(record, request["base_url"])]}


# --- list and delete ----------------------------------------------------------------


@routes.get("/files")
async def get_files(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    files = request.app[FILES]
    return await files.list_files(user, inp.get("after") or None, inp.get("limit", 60))


@routes.delete("/files/{uid}/{fid}")
async def delete_files(request: web.Request, inp: Input) -> dict[str, Any]:
    user = await require_login(request)
    # Only the user's own files, named by their own uid: another uid names someone else's file,
    # even when the user has one with the same id (the id is a checksum of the content).
    deleted = 0
    if inp["uid"] == user.uid:
        deleted = await request.app[FILES].delete_files(user, inp["fid"].split(","))
    if not deleted:
        raise NotFound("File not found.")
    return {"deleted": deleted}


# --- serving ------------------------------------------------------------------------


@routes.get("/files/{uid}/{fid}")
async def get_file(request: web.Request, inp: Input) -> web.StreamResponse:
    name = inp["fid"]
    if request.path.endswith(f"/{name}.json"):
        name += ".json"  # the API's optional suffix asks for the raw file, as an extension does
    return await serve(request, inp["uid"], name)


@page_routes.get("/file/{uid}/{name}")
async def file_page(request: web.Request) -> web.StreamResponse:
    """`/file/<uid>/<fid>` and `/file/<uid>/<fid>.<ext>`, outside the API."""
    return await serve(request, request.match_info["uid"], request.match_info["name"])


async def serve(request: web.Request, uid: str, name: str) -> web.StreamResponse:
    """The viewer page for text and images without an extension; otherwise the bytes, safely."""
    m = _NAME_RE.fullmatch(name)
    if m is None:
        raise NotFound("File not found.")
    fid, ext = m.group(1), m.group(2)
    files = request.app[FILES]
    record = await files.public_file(uid, fid)
    kind = await files.file_mime_type(record)
    if not ext and EMBEDDABLE.match(kind):
        return await _viewer(request, record, kind)
    return await _raw(request, record, kind)


def content_disposition(disposition: str, filename: str) -> str:
    """RFC 6266: a quoted ASCII fallback, and `filename*` when the real name needs more."""
    fallback = re.sub(r'[^\x20-\x7e]|["\\%]', "_", filename) or "file"
    value = f'{disposition}; filename="{fallback}"'
    if fallback != filename:
        value += "; filename*=UTF-8''" + quote(filename, safe="!#$&+-.^_`|~")
    return value


async def _raw(request: web.Request, record: UploadRecord, kind: str) -> web.StreamResponse:
    headers = {"Content-Type": kind, "Cache-Control": CACHE_CONTROL, "Content-Security-Policy": RAW_CSP}
    if not INLINE_SAFE.match(kind):
        headers["Content-Disposition"] = content_disposition("attachment", record.filename or record.id)
    # Streamed from the store a chunk at a time, with Range requests (206) for media.
    return await stream_response(request, await request.app[FILES].open_file(record), headers)


def _date(saved: str) -> str:
    """`3 December 2026, 14:05 UTC` (the page has no script to show the reader's own time zone)."""
    try:
        dt = datetime.strptime(saved[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return saved
    return f"{dt.day} {MONTHS[dt.month - 1]} {dt.year}, {dt:%H:%M} UTC"


def paste_lines(lines: list[str]) -> str:
    """Numbered lines (the numbers are CSS counters), each one a #L<n> anchor."""
    digits = max(3, len(str(len(lines))))
    cls = "paste" + (f" paste--d{digits}" if digits > 3 else "")
    body = "".join(f'<span id="L{n}">{html.escape(line.removesuffix(chr(13)))}</span>' for n, line in enumerate(lines, 1))
    return f'<pre class="{cls}">{body}</pre>'


def text_lines(text: str, limit: int) -> tuple[list[str], bool]:
    """At most `limit` lines of `text`, and whether there were more."""
    lines = text.split("\n", limit)
    # The line feed that ends the last line starts no new one.
    rest = lines.pop() if len(lines) > limit or (len(lines) > 1 and lines[-1] == "") else ""
    return lines, rest != ""


async def _viewer(request: web.Request, record: UploadRecord, kind: str) -> web.Response:
    core, files = request.app[CORE], request.app[FILES]
    page_url = files.file_url(record.uid, record.id, base_url=request["base_url"])
    raw_url = f"{page_url}.{record.ext}"
    e = html.escape
    if kind.startswith("image/"):
        og_image = f'  <meta property="og:image" content="{e(raw_url)}">'
        content = (f'    <a class="file-page__image" href="{e(raw_url)}"><img src="{e(raw_url)}" '
                   f'alt="{e(record.filename)}"></a>')
    else:
        og_image = ""
        head = await files.file_head(record, VIEW_LIMIT + 1)
        lines, more = text_lines(head[:VIEW_LIMIT].decode("utf-8", "replace"), VIEW_LINES)
        note = ""
        if more or len(head) > VIEW_LIMIT:
            note = (f'\n    <p class="file-page__note cms-meta__truncated">Only the beginning is shown: see '
                    f'<a href="{e(raw_url)}">Raw</a>.</p>')
        content = f'    <div class="le-paste is-expanded without-frame">{paste_lines(lines)}</div>' + note
    name = core.settings.organization_name
    # The scheme chosen in the app, as on the app's pages (only two fixed values reach the markup).
    scheme = cookie_scheme(request.cookies.get(COOKIE_NAME))
    values = {
        "filename": e(record.filename or record.id), "site": e("Convos" if name == "Convos" else f"Convos for {name}"),
        "page_url": e(page_url), "raw_url": e(raw_url), "date": e(_date(record.saved)), "saved": e(record.saved),
        "og_image": og_image, "content": content, "base_url": e(request["base_url"]), "version": e(__version__),
        "theme_attr": f' data-theme="{scheme}"' if scheme else "",
    }
    body = request.app[TEMPLATES]["file.html"].substitute(values)
    # Vary: the page follows the theme cookie, so a cached copy must not outlive a change of theme.
    headers = {"Cache-Control": CACHE_CONTROL, "Content-Security-Policy": VIEWER_CSP, "Vary": "Cookie"}
    return web.Response(text=body, content_type="text/html", charset="utf-8", headers=headers)


async def _nosniff_signal(request: web.BaseRequest, response: web.StreamResponse) -> None:
    # Every answer about a file, errors included: a browser must never guess another type.
    if request.path.startswith(("/file/", "/api/files")):
        response.headers["X-Content-Type-Options"] = "nosniff"


def add_file_pages(app: web.Application) -> None:
    """The file pages (page_routes), and nosniff on every answer about a file."""
    app.add_routes(page_routes)
    app.on_response_prepare.append(_nosniff_signal)
