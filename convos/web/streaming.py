"""Answering with an upload's bytes from the store's stream: ranges, validators, chunks.

What aiohttp's FileResponse does for a file on disk, for any `UploadStream`: `Accept-Ranges`,
one byte range (`206`, or `416` with the length when it cannot be met), `If-Range`, an `ETag`
and `Last-Modified`, and `304` for a client whose copy is current. The bytes go out a chunk
at a time, so a 40 MB file never sits in memory.
"""

from __future__ import annotations

from aiohttp import hdrs, web

from ..store.base import UploadStream

# Bytes read and written at a time: big enough that a 40 MB file costs the loop few turns,
# small enough that a download never holds much of it in memory.
CHUNK = 1 << 20


def _etag(stream: UploadStream) -> str:
    return f"{int(stream.mtime * 1e9):x}-{stream.size:x}"


def _not_modified(request: web.Request, etag: str, mtime: float) -> bool:
    if_none_match = request.if_none_match
    if if_none_match is not None:
        return any(e.value == etag or e.value == "*" for e in if_none_match)
    since = request.if_modified_since
    return since is not None and int(mtime) <= since.timestamp()


def _range(request: web.Request, stream: UploadStream) -> tuple[int, int] | bool | None:
    """(start, stop) of the part asked for; None for the whole; False when it cannot be met."""
    if_range = request.if_range
    if if_range is not None and stream.mtime > if_range.timestamp():
        return None  # the client's copy is older: the whole file
    try:
        rng = request.http_range
    except ValueError:
        return False
    start, stop = rng.start, rng.stop
    if start is None:
        return None
    size = stream.size
    if start < 0 and stop is None:  # the last bytes
        start = max(0, start + size)
        stop = size
    else:
        stop = min(stop if stop is not None else size, size)
    if start >= size:
        return False
    return start, stop


async def stream_response(request: web.Request, stream: UploadStream, headers: dict[str, str]) -> web.StreamResponse:
    """The upload's bytes (or the part a `Range` asks for), with `headers`; closes the stream."""
    async with stream:
        response = web.StreamResponse(headers=headers)
        etag = _etag(stream)
        response.etag = etag
        response.last_modified = stream.mtime
        response.headers[hdrs.ACCEPT_RANGES] = "bytes"
        if _not_modified(request, etag, stream.mtime):
            response.set_status(304)
            for name in (hdrs.CONTENT_TYPE, hdrs.CONTENT_DISPOSITION):
                response.headers.pop(name, None)
            await response.prepare(request)
            return response
        part = _range(request, stream)
        if part is False:
            response.set_status(416)
            response.headers[hdrs.CONTENT_RANGE] = f"bytes */{stream.size}"
            response.content_length = 0
            await response.prepare(request)
            return response
        start, stop = part if isinstance(part, tuple) else (0, stream.size)
        if isinstance(part, tuple):
            response.set_status(206)
            response.headers[hdrs.CONTENT_RANGE] = f"bytes {start}-{stop - 1}/{stream.size}"
        response.content_length = stop - start
        await response.prepare(request)
        if request.method != hdrs.METH_HEAD:
            async for chunk in stream.chunks(start, stop, CHUNK):
                await response.write(chunk)
        await response.write_eof()
        return response
