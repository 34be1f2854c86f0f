"""Uploads, file pages and pastes (spec §2.2, §2.6, §4.8, §4.13, §7.1; §9 facts 59–67)."""

from __future__ import annotations

import hashlib
import html
import os
import re
import stat
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import PERL_HOME, core_of, register
from events_helper import Events, is_state

from convos.core.files import (
    clean_filename,
    ext_of,
    looks_like_text,
    mime_type,
    paste_filename,
    short_checksum,
    upload_filename,
)
from convos.errors import InvalidInput
from convos.store.jsonfile import atomic_write, decode, encode
from convos.web.routes.files import content_disposition

BOUNDARY = "convos-test-boundary"
SUPERMAN = "superman@example.com"

def paste(text: str) -> str:
    """The viewer's markup for a text: one numbered line each (the last line feed ends a line)."""
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    spans = "".join(f'<span id="L{n}">{html.escape(line)}</span>' for n, line in enumerate(lines, 1))
    return f'<pre class="paste">{spans}</pre>'


def multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    """A multipart/form-data body with a known layout: (name, filename or None, content) per part."""
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


HEADERS = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


async def upload(client: Any, filename: str | None, content: bytes, **fields: str) -> Any:
    parts = [("file", filename, content), *((k, None, v.encode()) for k, v in fields.items())]
    return await client.post("/api/files", data=multipart(*parts), headers=HEADERS)


async def upload_ok(client: Any, filename: str, content: bytes, **fields: str) -> dict[str, Any]:
    res = await upload(client, filename, content, **fields)
    body = await res.json()
    assert res.status == 200, body
    return body["files"][0]


def md5_id(content: bytes) -> str:
    return short_checksum(hashlib.md5(content).hexdigest())


def upload_dir(home: Path, email: str = SUPERMAN) -> Path:
    return home / email / "upload"


# --- pure rules --------------------------------------------------------------------------


def test_short_checksum_known_vectors():
    assert short_checksum(hashlib.sha1(b"3").hexdigest()) == "d952uzY7q7tY7bH4"
    assert short_checksum("jhthorsen@cpan.org") == "gNQ981Q2TztxSsRL"
    # The fixture's uploads were named by 8.07 from their content.
    for fid in ("5ab6PRU4un60r3zH", "Pw3Y1adQsuv8Pzfb"):
        data = (PERL_HOME / SUPERMAN / "upload" / f"{fid}.data").read_bytes()
        assert md5_id(data) == fid
    assert md5_id(b"a\nb\nc\nd\ne\nf\ng") == "uL1Qca5fcqt7S1aU"


def test_names_and_types():
    test_message = "".join(chr(c) for c in range(126, 19, -1))
    assert paste_filename(re.sub(r"[\x00-\x09\x0b-\x1f]", "", test_message)) == "zyxwvutsrqponmlkjihgfedcba_.txt"
    assert paste_filename("a\nb\nc\nd") == "paste.txt"
    assert paste_filename("Hello World! Ünïcode and more") == "hello_world_n_code_and_mor.txt"
    assert ext_of("web-files.t") == "t" and ext_of("README") == "bin" and ext_of("a.tar.gz") == "gz"
    assert re.fullmatch(r"IMG_\d{1,4}\.jpg", upload_filename("image.JPEG"))
    assert upload_filename("image.jpg.exe") == "image.jpg.exe"
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("..\\..\\boot.ini") == "boot.ini"
    assert clean_filename("a\x00b\nc.txt") == "abc.txt"
    for bad in ("", "..", "../", "dir/", "\x00"):
        with pytest.raises(InvalidInput):
            clean_filename(bad)
    assert mime_type("x.PNG") == "image/png"
    assert mime_type("x.xhtml") == "application/xhtml+xml"
    assert mime_type("x.unknown", b"plain words\n") == "text/plain;charset=UTF-8"
    assert mime_type("x.unknown", b"\x89PNG\x00\x01") == "application/octet-stream"
    assert looks_like_text("æøå".encode()[:-1])  # a character cut at the end of the block
    assert not looks_like_text(bytes(range(128, 256)))


def test_content_disposition_is_rfc6266_safe():
    assert content_disposition("attachment", "binary.bin") == 'attachment; filename="binary.bin"'
    value = content_disposition("attachment", 'æ"x\\y%.html')
    assert value == "attachment; filename=\"__x_y_.html\"; filename*=UTF-8''%C3%A6%22x%5Cy%25.html"
    assert "\r" not in content_disposition("attachment", "a\r\nSet-Cookie: x")


# --- upload and serve ----------------------------------------------------------------------


async def test_upload_text_file(client, home):
    await register(client, SUPERMAN)
    content = "# A test file\nuse strict; <b>bold</b> & æøå\n".encode()
    f = await upload_ok(client, "web-files.t", content)
    assert f["id"] == md5_id(content)
    assert {k: f[k] for k in ("ext", "filename", "uid", "write_only")} == {
        "ext": "t", "filename": "web-files.t", "uid": "1", "write_only": False}
    assert re.fullmatch(r"\w{14,16}", f["id"])
    assert f["url"] == f"http://127.0.0.1:{client.port}/file/1/{f['id']}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", f["saved"])

    # On disk exactly as 8.07 keeps it.
    data, meta = upload_dir(home) / f"{f['id']}.data", upload_dir(home) / f"{f['id']}.json"
    assert data.read_bytes() == content
    assert decode(meta.read_bytes()) == {"author": SUPERMAN, "ext": "t", "filename": "web-files.t", "id": f["id"],
                                         "saved": f["saved"], "uid": "1", "write_only": False}
    assert meta.read_bytes().startswith(b'{"author":"superman@example.com","ext":"t",')
    assert stat.S_IMODE(data.stat().st_mode) == 0o600
    assert stat.S_IMODE(meta.stat().st_mode) == 0o600
    assert [p.name for p in upload_dir(home).iterdir() if p.name.startswith(".")] == []

    # The page: a viewer with the escaped text.
    res = await client.get(f"/file/1/{f['id']}")
    assert res.status == 200
    assert res.headers["Content-Type"].startswith("text/html")
    assert res.headers["Cache-Control"] == "max-age=86400"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in res.headers["Content-Security-Policy"]
    page = await res.text()
    assert "<h1>web-files.t</h1>" in page
    escaped = html.escape(content.decode())
    assert ('<div class="le-paste is-expanded without-frame"><pre class="paste">'
            '<span id="L1"># A test file</span>'
            '<span id="L2">use strict; &lt;b&gt;bold&lt;/b&gt; &amp; æøå</span></pre></div>') in page
    assert escaped.splitlines()[1] in page
    assert "<b>bold</b>" not in page
    assert '<meta property="og:description" content="web-files.t">' in page
    day = time.strptime(f["saved"], "%Y-%m-%dT%H:%M:%SZ")
    assert (f'<time datetime="{f["saved"]}">{day.tm_mday} {time.strftime("%B", day)} {day.tm_year}, '
            f'{time.strftime("%H:%M", day)} UTC</time>') in page
    assert f'<a class="btn btn--small btn--quiet cms-meta__raw" href="{f["url"]}.t">Raw</a>' in page

    # Raw: the bytes, as text/plain (unknown extension, text content), inline.
    res = await client.get(f"/file/1/{f['id']}.t")
    assert res.status == 200
    assert await res.read() == content
    assert res.headers["Content-Type"] == "text/plain;charset=UTF-8"
    assert res.headers["Cache-Control"] == "max-age=86400"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in res.headers

    # The API route serves the same.
    assert "<h1>web-files.t</h1>" in await (await client.get(f"/api/files/1/{f['id']}")).text()
    assert await (await client.get(f"/api/files/1/{f['id']}.t")).read() == content

    # Same content again: same id, new name wins.
    again = await upload_ok(client, "other.txt", content)
    assert again["id"] == f["id"]
    assert decode(meta.read_bytes())["filename"] == "other.txt"


async def test_unknown_files_are_404(client):
    await register(client, SUPERMAN)
    f = await upload_ok(client, "a.txt", b"hello")
    for path in ["/file/1/nope", "/file/1/nope.txt", "/file/2/" + f["id"], "/file/x/" + f["id"],
                 "/file/1/..%2Fuser.json", "/file/1/%2E%2E", "/file/1/" + f["id"] + "%00"]:
        res = await client.get(path)
        assert res.status == 404, path
        assert res.headers["X-Content-Type-Options"] == "nosniff"
    res = await client.get("/api/files/1/nope")
    assert res.status == 404
    assert (await res.json())["errors"][0]["message"] == "File not found."
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert (await client.get(f"/file/1/{f['id']}")).status == 200


async def test_iphone_image_name_and_image_page(client):
    await register(client, SUPERMAN)
    png = (PERL_HOME / SUPERMAN / "upload" / "Pw3Y1adQsuv8Pzfb.data").read_bytes()
    f = await upload_ok(client, "image.jpg", png)
    assert re.fullmatch(r"IMG_\d{1,4}\.jpg", f["filename"])
    assert f["ext"] == "jpg"
    page = await (await client.get(f"/file/1/{f['id']}")).text()
    raw = f"{f['url']}.jpg"
    assert f'<meta property="og:image" content="{raw}">' in page
    assert f'<a class="file-page__image" href="{raw}"><img src="{raw}" alt="{f["filename"]}"></a>' in page
    res = await client.get(f"/file/1/{f['id']}.jpg")
    assert res.headers["Content-Type"] == "image/jpeg"
    assert "Content-Disposition" not in res.headers
    assert await res.read() == png


@pytest.mark.parametrize(("filename", "content", "mime"), [
    ("markup.html", b"<html><script>alert(1)</script></html>", "text/html;charset=UTF-8"),
    ("page.xhtml", b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>',
     "application/xhtml+xml"),
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
    ("code.js", b"alert(document.cookie)", "application/javascript"),
    ("data.xml", b"<?xml version='1.0'?><a/>", "application/xml"),
    ("binary.bin", bytes(range(256)), "application/octet-stream"),
])
async def test_active_content_is_an_attachment(client, filename, content, mime):
    await register(client, SUPERMAN)
    f = await upload_ok(client, filename, content)
    res = await client.get(f"/file/1/{f['id']}.{f['ext']}")
    assert res.status == 200
    assert res.headers["Content-Type"] == mime
    assert res.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert res.headers["Content-Security-Policy"] == "sandbox"
    assert await res.read() == content
    # Without an extension: never the active content itself.
    res = await client.get(f"/file/1/{f['id']}")
    text = await res.read()
    if mime == "application/octet-stream":
        assert res.headers["Content-Disposition"] == 'attachment; filename="binary.bin"'
        assert text == content
    else:
        assert res.headers["Content-Type"] == "text/html; charset=utf-8"
        assert b"<script>" not in text
        if mime == "image/svg+xml":
            assert b'<img src="' in text  # an SVG in <img> runs no script
        else:
            assert paste(content.decode()).encode() in text


async def test_write_only_and_explicit_id(client, home):
    await register(client, SUPERMAN)
    f = await upload_ok(client, "key.pem", b"-----BEGIN PRIVATE KEY-----\n", id="irc-localhost-key", write_only="true")
    assert (f["id"], f["write_only"]) == ("irc-localhost-key", True)
    assert (upload_dir(home) / "irc-localhost-key.data").read_bytes() == b"-----BEGIN PRIVATE KEY-----\n"
    for path in ["/file/1/irc-localhost-key", "/file/1/irc-localhost-key.pem", "/api/files/1/irc-localhost-key"]:
        assert (await client.get(path)).status == 404, path
    plain = await upload_ok(client, "a.txt", b"x", id="my_id", write_only="0")
    assert (plain["id"], plain["write_only"]) == ("my_id", False)
    for bad in ["../escape", "a.b", "a/b", "-x", "x" * 65, "..", "æøå"]:
        res = await upload(client, "a.txt", b"y", id=bad)
        assert res.status == 400, bad
        assert (await res.json())["errors"] == [{"message": "Invalid file id.", "path": "/id"}], bad
    res = await upload(client, "a.txt", b"y", write_only="maybe")
    assert (await res.json())["errors"][0]["path"] == "/write_only"
    names = sorted(p.name for p in upload_dir(home).iterdir())
    assert names == ["irc-localhost-key.data", "irc-localhost-key.json", "my_id.data", "my_id.json"]
    assert not (home / SUPERMAN / "escape.data").exists()


async def test_upload_bad_input(client, home):
    res = await upload(client, "a.txt", b"x")
    assert res.status == 401
    assert not (home / SUPERMAN).exists()
    await register(client, SUPERMAN)
    cases = [
        (multipart(("id", None, b"abc")), {"message": "Missing property.", "path": "/file"}),
        (multipart(("file", None, b"no filename")), {"message": "Unknown filename.", "path": "/file"}),
        (multipart(("file", "", b"empty filename")), {"message": "Unknown filename.", "path": "/file"}),
        (multipart(("file", "../", b"only a path")), {"message": "Unknown filename.", "path": "/file"}),
    ]
    for body, error in cases:
        res = await client.post("/api/files", data=body, headers=HEADERS)
        assert res.status == 400, body
        assert (await res.json())["errors"] == [error], body
    res = await client.post("/api/files", json={"file": "x"})
    assert res.status == 400
    assert (await res.json())["errors"][0]["path"] == "/file"
    res = await client.post("/api/files", data={"file": "x"})
    assert (res.status, (await res.json())["errors"]) == (400, [{"message": "Unknown filename.", "path": "/file"}])
    for body in [b"--" + BOUNDARY.encode() + b"\r\ngarbage", b"not multipart at all"]:
        res = await client.post("/api/files", data=body, headers=HEADERS)
        assert res.status == 400, body
        assert "errors" in await res.json()
    assert not upload_dir(home).exists() or [p.name for p in upload_dir(home).iterdir()] == []


async def test_dot_dot_filename_is_stored_safely(client, home):
    await register(client, SUPERMAN)
    evil = b'{"evil":true}'
    f = await upload_ok(client, "../../../settings.json", evil)
    assert f["filename"] == "settings.json"
    assert decode((home / "settings.json").read_bytes()).get("evil") is None
    f = await upload_ok(client, "..\\\\..\\\\user.json", b"x")  # quoted-string escapes: ..\..\user.json
    assert f["filename"] == "user.json"
    assert decode((home / SUPERMAN / "user.json").read_bytes())["email"] == SUPERMAN
    stored = sorted(f"{md5_id(c)}.{e}" for c in (evil, b"x") for e in ("data", "json"))
    assert sorted(p.name for p in upload_dir(home).iterdir()) == stored
    # A filename with quotes and non-ASCII is still a safe header.
    f = await upload_ok(client, 'æ"quote.html', b"<p>")
    res = await client.get(f"/file/1/{f['id']}.html")
    assert res.headers["Content-Disposition"] == (
        "attachment; filename=\"__quote.html\"; filename*=UTF-8''%C3%A6%22quote.html")


async def test_size_limit_is_on_the_request_body(make_client, home):
    limit = 2000
    client = await make_client({"CONVOS_MAX_UPLOAD_SIZE": str(limit)})
    await register(client, SUPERMAN)
    overhead = len(multipart(("file", "exact.bin", b"")))
    exact = os.urandom(limit - overhead)
    body = multipart(("file", "exact.bin", exact))
    assert len(body) == limit
    res = await client.post("/api/files", data=body, headers=HEADERS)
    assert res.status == 200, await res.text()
    fid = (await res.json())["files"][0]["id"]
    assert (upload_dir(home) / f"{fid}.data").read_bytes() == exact

    over = multipart(("file", "extra.bin", exact + b"!"))
    assert len(over) == limit + 1
    # A declared oversized body is refused before anything else, even the login check.
    client.session.cookie_jar.clear()
    res = await client.post("/api/files", data=over, headers=HEADERS)
    assert (res.status, await res.json()) == (413, {"errors": [{"message": "Maximum message size exceeded",
                                                                "path": "/file"}]})
    await client.post("/api/user/login", json={"email": SUPERMAN, "password": "longenough"})
    res = await client.post("/api/files", data=over, headers=HEADERS)
    assert res.status == 413
    assert await res.json() == {"errors": [{"message": "Maximum message size exceeded", "path": "/file"}]}

    # Without a Content-Length the limit holds while streaming, and nothing is left behind.
    async def chunked():
        for i in range(0, len(over), 100):
            yield over[i:i + 100]

    res = await client.post("/api/files", data=chunked(), headers=HEADERS)
    assert res.status == 413
    assert (await res.json())["errors"][0]["message"] == "Maximum message size exceeded"
    assert sorted(p.name for p in upload_dir(home).iterdir()) == [f"{fid}.data", f"{fid}.json"]

    async def chunked_exact():
        for i in range(0, len(body), 100):
            yield body[i:i + 100]

    res = await client.post("/api/files", data=chunked_exact(), headers=HEADERS)
    assert res.status == 200


async def test_big_upload_and_range_requests(make_client, home):
    client = await make_client({"CONVOS_MAX_UPLOAD_SIZE": str(3_000_000)})
    await register(client, SUPERMAN)
    video = os.urandom(2_500_000)
    f = await upload_ok(client, "clip.mp4", video)
    assert (upload_dir(home) / f"{f['id']}.data").stat().st_size == len(video)
    res = await client.get(f"/file/1/{f['id']}.mp4", headers={"Range": "bytes=1000-1999"})
    assert res.status == 206
    assert res.headers["Content-Range"] == f"bytes 1000-1999/{len(video)}"
    assert res.headers["Content-Type"] == "video/mp4"
    assert "Content-Disposition" not in res.headers
    assert await res.read() == video[1000:2000]
    res = await client.get(f"/file/1/{f['id']}", headers={"Range": f"bytes={len(video) - 10}-"})
    assert res.status == 206
    assert await res.read() == video[-10:]
    res = await client.get(f"/file/1/{f['id']}.mp4")
    assert res.headers["Accept-Ranges"] == "bytes"
    assert await res.read() == video


async def test_served_bytes_come_from_the_store_stream_with_validators(make_client, home):
    """The route streams from the store (no file path): 416 with the length, 304 for a current
    copy (ETag or date), HEAD without a body, If-Range with an old date gets the whole file."""
    client = await make_client()
    await register(client, SUPERMAN)
    data = os.urandom(300_000)
    f = await upload_ok(client, "clip.mp4", data)
    url = f"/file/1/{f['id']}.mp4"
    res = await client.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert res.status == 416 and res.headers["Content-Range"] == f"bytes */{len(data)}"
    res = await client.get(url)
    assert res.status == 200 and await res.read() == data
    etag, modified = res.headers["ETag"], res.headers["Last-Modified"]
    res = await client.get(url, headers={"If-None-Match": etag})
    assert res.status == 304 and await res.read() == b""
    res = await client.get(url, headers={"If-Modified-Since": modified})
    assert res.status == 304
    res = await client.head(url)
    assert res.status == 200 and res.headers["Content-Length"] == str(len(data)) and await res.read() == b""
    res = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert res.status == 200 and await res.read() == data
    res = await client.get(url, headers={"Range": "bytes=-5", "If-Range": modified})
    assert res.status == 206 and await res.read() == data[-5:]
    assert res.headers["X-Content-Type-Options"] == "nosniff" and res.headers["Content-Security-Policy"] == "sandbox"


async def test_text_viewer_is_capped(make_client):
    client = await make_client({"CONVOS_MAX_UPLOAD_SIZE": str(3_000_000)})
    await register(client, SUPERMAN)
    text = ("line of text\n" * 100_000).encode()  # 1.3 MB
    f = await upload_ok(client, "big.txt", text)
    page = await (await client.get(f"/file/1/{f['id']}")).text()
    assert "Only the beginning is shown" in page
    assert len(page) < 1_100_000
    # At most 10,000 numbered lines: the page stays light however short the lines are.
    assert '<span id="L10000">line of text</span></pre>' in page
    assert 'id="L10001"' not in page
    assert await (await client.get(f"/file/1/{f['id']}.txt")).read() == text


# --- the 8.07 home -------------------------------------------------------------------------


async def test_uploads_of_the_8_07_home(make_client, perl_home, anon):
    client = await make_client(home_dir=perl_home)
    notes = (PERL_HOME / SUPERMAN / "upload" / "5ab6PRU4un60r3zH.data").read_bytes()
    pixel = (PERL_HOME / SUPERMAN / "upload" / "Pw3Y1adQsuv8Pzfb.data").read_bytes()

    # Public links work without a session.
    res = await client.get("/file/1/5ab6PRU4un60r3zH.txt")
    assert (res.status, res.headers["Content-Type"]) == (200, "text/plain;charset=UTF-8")
    assert await res.read() == notes == "Fixture notes\nLine two: æøå\n".encode()
    res = await client.get("/file/1/Pw3Y1adQsuv8Pzfb.png")
    assert (res.status, res.headers["Content-Type"]) == (200, "image/png")
    assert await res.read() == pixel
    page = await (await client.get("/file/1/5ab6PRU4un60r3zH")).text()
    assert "<h1>notes.txt</h1>" in page
    assert paste("Fixture notes\nLine two: æøå\n") in page
    assert re.search(r'<time datetime="2026-11-26T\d\d:\d\d:\d\dZ">26 November 2026, \d\d:\d\d UTC</time>', page)
    page = await (await client.get("/file/1/Pw3Y1adQsuv8Pzfb")).text()
    assert re.search(r'<meta property="og:image" content="http://[^"]+/file/1/Pw3Y1adQsuv8Pzfb\.png">', page)
    assert (await client.get("/file/2/5ab6PRU4un60r3zH")).status == 404

    res = await client.post("/api/user/login", json={"email": SUPERMAN, "password": "supersecret1"})
    assert res.status == 200
    listing = await (await client.get("/api/files")).json()
    assert listing == {"files": [
        {"id": "5ab6PRU4un60r3zH", "name": "notes.txt", "saved": "2026-11-26T20:11:23Z", "size": 31},
        {"id": "Pw3Y1adQsuv8Pzfb", "name": "pixel.png", "saved": "2026-11-26T20:11:23Z", "size": 73},
    ]}
    # Our checksum of the same bytes is 8.07's id.
    assert (await upload_ok(client, "notes.txt", notes))["id"] == "5ab6PRU4un60r3zH"

    lois = await anon(client)
    res = await lois.post("/api/user/login", json={"email": "lois@example.com", "password": "loissecret1"})
    assert res.status == 200
    assert await (await lois.get("/api/files")).json() == {"files": []}
    res = await lois.delete("/api/files/1/5ab6PRU4un60r3zH,Pw3Y1adQsuv8Pzfb")
    assert (res.status, await res.json()) == (404, {"errors": [{"message": "File not found.", "path": "/"}]})
    assert (perl_home / SUPERMAN / "upload" / "5ab6PRU4un60r3zH.data").read_bytes() == notes
    assert (await lois.get("/file/1/5ab6PRU4un60r3zH.txt")).status == 200  # public, as links are


async def test_legacy_paste_is_migrated(make_client, perl_home):
    legacy = perl_home / SUPERMAN / "upload" / "149207640230660"
    atomic_write(legacy, encode({"author": SUPERMAN, "content": "old paste\nwith lines", "created_at": 1492076402.3066}))
    client = await make_client(home_dir=perl_home)
    page = await (await client.get("/file/1/149207640230660")).text()
    assert "<h1>paste.txt</h1>" in page
    assert paste("old paste\nwith lines") in page
    assert re.search(r'cms-meta__raw" href="http://[^"]+/file/1/149207640230660\.txt"', page)
    assert not legacy.exists()
    meta = decode(legacy.with_name("149207640230660.json").read_bytes())
    assert meta == {"author": SUPERMAN, "ext": "txt", "filename": "paste.txt", "id": "149207640230660",
                    "saved": "2017-04-13T09:40:02Z", "uid": "1", "write_only": False}
    assert legacy.with_name("149207640230660.data").read_bytes() == b"old paste\nwith lines"
    res = await client.get("/file/1/149207640230660.txt")
    assert await res.read() == b"old paste\nwith lines"

    # Listing migrates too.
    other = perl_home / SUPERMAN / "upload" / "149207640230661"
    atomic_write(other, encode({"content": "second", "created_at": "1492076403"}))
    res = await client.post("/api/user/login", json={"email": SUPERMAN, "password": "supersecret1"})
    files = (await (await client.get("/api/files")).json())["files"]
    assert "149207640230661" in [f["id"] for f in files]
    assert not other.exists()


# --- listing and deleting ------------------------------------------------------------------


async def test_paging(client, home):
    await register(client, SUPERMAN)
    ids = []
    now = int(time.time())
    for i in range(17):
        f = await upload_ok(client, f"file{i}.txt", f"content {i}".encode())
        ids.append(f["id"])
    # Newest first by the .data mtime (seconds): make the order ids[0], ids[1], ...
    for i, fid in enumerate(ids):
        os.utime(upload_dir(home) / f"{fid}.data", (now - i, now - i))

    async def page(query: str) -> dict[str, Any]:
        res = await client.get(f"/api/files?{query}")
        assert res.status == 200
        return await res.json()

    body = await page("limit=2")
    assert [f["id"] for f in body["files"]] == ids[:2]
    assert body["next"] == ids[2] and "prev" not in body and "after" not in body
    assert body["files"][0] == {"id": ids[0], "name": "file0.txt", "saved": body["files"][0]["saved"], "size": 9}
    body = await page(f"limit=3&after={ids[5]}")
    assert [f["id"] for f in body["files"]] == ids[6:9]
    assert (body["after"], body["next"], body["prev"]) == (ids[5], ids[9], ids[2])
    body = await page(f"after={ids[2]}&limit=3")
    assert [f["id"] for f in body["files"]] == ids[3:6]
    assert body["next"] == ids[6] and "prev" not in body
    assert await page("after=unknown") == {"files": []}
    body = await page("")
    assert [f["id"] for f in body["files"]] == ids and "next" not in body
    body = await page("limit=1000")
    assert len(body["files"]) == 17
    body = await page(f"after={ids[16]}")
    assert body == {"after": ids[16], "files": []}
    for bad in ("limit=0", "limit=-1", "limit=x"):
        res = await client.get(f"/api/files?{bad}")
        assert res.status == 400, bad
        assert (await res.json())["errors"][0]["path"] == "/limit"
    client.session.cookie_jar.clear()
    assert (await client.get("/api/files")).status == 401


async def test_delete(client, home, anon):
    await register(client, SUPERMAN)
    core_of(client).settings.open_to_public = True
    ids = [(await upload_ok(client, f"f{i}.txt", f"delete me {i}".encode()))["id"] for i in range(3)]
    res = await client.delete("/api/files/1/not_found")
    assert (res.status, await res.json()) == (404, {"errors": [{"message": "File not found.", "path": "/"}]})
    res = await client.delete(f"/api/files/1/{ids[0]}")
    assert (res.status, await res.json()) == (200, {"deleted": 1})
    assert not (upload_dir(home) / f"{ids[0]}.data").exists()
    assert not (upload_dir(home) / f"{ids[0]}.json").exists()
    assert (await client.get(f"/file/1/{ids[0]}")).status == 404
    res = await client.delete(f"/api/files/1/{ids[0]}")  # twice: nothing left to delete
    assert (res.status, (await res.json())["errors"][0]["message"]) == (404, "File not found.")

    # Another user can neither list nor delete them, whatever uid the path names.
    lois = await anon(client)
    await register(lois, "lois@example.com")
    assert await (await lois.get("/api/files")).json() == {"files": []}
    for path in [f"/api/files/1/{ids[1]}", f"/api/files/2/{ids[1]}", f"/api/files/1/{ids[1]},{ids[2]}.json"]:
        res = await lois.delete(path)
        assert res.status == 404, path
        assert await res.json() == {"errors": [{"message": "File not found.", "path": "/"}]}, path
    assert (upload_dir(home) / f"{ids[1]}.data").exists()
    lois_file = await upload_ok(lois, "lois.txt", b"lois")
    assert lois_file["uid"] == "2"
    res = await client.delete(f"/api/files/2/{lois_file['id']}")
    assert res.status == 404
    assert (await client.get(f"/file/2/{lois_file['id']}.txt")).status == 200
    # The same bytes have the same id: lois' uid in the path never names superman's copy.
    same = await upload_ok(client, "lois.txt", b"lois")
    assert same["id"] == lois_file["id"]
    assert (await client.delete(f"/api/files/2/{same['id']}")).status == 404
    assert (await client.get(f"/file/1/{same['id']}.txt")).status == 200
    assert (await client.delete(f"/api/files/1/{same['id']}")).status == 200
    assert (await lois.get(f"/file/2/{lois_file['id']}.txt")).status == 200

    res = await client.delete(f"/api/files/1/..%2F..%2Fuser.json,..,{ids[1]}.data,%2E%2E")
    assert res.status == 404
    res = await client.delete(f"/api/files/1/{ids[1]},{ids[2]},x,y")
    assert (res.status, await res.json()) == (200, {"deleted": 2})
    assert sorted(upload_dir(home).iterdir()) == []
    assert (home / SUPERMAN / "user.json").is_file()
    client.session.cookie_jar.clear()
    assert (await client.delete("/api/files/1/x")).status == 401


# --- pastes --------------------------------------------------------------------------------


@pytest.fixture
async def convos_irc(make_client, home, ircd):
    atomic_write(home / "settings.json", encode({"default_connection": f"irc://127.0.0.1:{ircd.port}/%23convos?tls=0"}))
    # Not connected at registration: the connection starts once the websocket listens, so the
    # join is never over before the socket subscribed (the event was missed so, now and then).
    client = await make_client({"CONVOS_SKIP_CONNECT": "1", "CONVOS_CONNECT_DELAY": "0.1",
                                "CONVOS_MAX_BULK_MESSAGE_SIZE": "5"})
    await register(client, SUPERMAN)
    events = Events(await client.ws_connect("/events"))
    await events.ready()
    res = await client.post("/api/connection/irc-localhost", json={"wanted_state": "connected"})
    assert res.status == 200, await res.text()
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    yield client, events
    await events.ws.close()


async def test_paste_over_irc(convos_irc, irc_client, home):
    client, events = convos_irc
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")

    async def send(message: str) -> str:
        await events.send(method="send", id=message[:20], connection_id="irc-localhost", conversation_id="#convos",
                          message=message)
        sent = await events.wait(lambda f: f.get("id") == message[:20])
        assert "errors" not in sent, sent
        line = await jimmy.expect(lambda x: x.command == "PRIVMSG" and x.nick == "superman")
        return line.params[-1]

    base = f"http://127.0.0.1:{client.port}"
    url = await send("a\nb\nc\nd\ne\nf\ng")
    assert url == f"{base}/file/1/uL1Qca5fcqt7S1aU"
    res = await client.get("/file/1/uL1Qca5fcqt7S1aU.txt")
    assert await res.read() == b"a\nb\nc\nd\ne\nf\ng"
    page = await (await client.get("/file/1/uL1Qca5fcqt7S1aU")).text()
    assert "<h1>paste.txt</h1>" in page and paste("a\nb\nc\nd\ne\nf\ng") in page

    # Fact 66: the long test message, and the trailing newline is not part of the paste.
    long_message = "".join(chr(c) for c in range(126, 19, -1)) * 25
    url = await send(long_message + "\n")
    fid = url.rsplit("/", 1)[1]
    content = re.sub(r"[\x00-\x09\x0b-\x1f]", "", long_message).encode()
    assert fid == md5_id(content)
    page = await (await client.get(f"/file/1/{fid}")).text()
    assert "<h1>zyxwvutsrqponmlkjihgfedcba_.txt</h1>" in page
    assert await (await client.get(f"/file/1/{fid}.txt")).read() == content

    # Fact 67: more pastes with the ids 8.07 gave them.
    url = await send("abc\ndef\nghi\n" * 200)
    assert url == f"{base}/file/1/HHghB4hap3tVP3cB"
    assert await (await client.get("/file/1/HHghB4hap3tVP3cB.txt")).read() == ("abc\ndef\nghi\n" * 200).rstrip().encode()

    # Two lines are still two messages; the pastes are the user's files.
    await events.send(method="send", id="short", connection_id="irc-localhost", conversation_id="#convos",
                      message="one\ntwo")
    await jimmy.expect(lambda x: x.command == "PRIVMSG" and x.params[-1] == "one")
    await jimmy.expect(lambda x: x.command == "PRIVMSG" and x.params[-1] == "two")
    files = (await (await client.get("/api/files")).json())["files"]
    assert {f["id"] for f in files} == {"uL1Qca5fcqt7S1aU", fid, "HHghB4hap3tVP3cB"}
    await core_of(client).store.flush_logs()
    body = await (await client.get("/api/connection/irc-localhost/conversation/%23convos/messages")).json()
    assert f"{base}/file/1/uL1Qca5fcqt7S1aU" in [m["message"] for m in body["messages"]]


async def test_upload_against_a_running_daemon(daemon, tmp_path):
    d = await daemon(tmp_path / "home", {"CONVOS_MAX_UPLOAD_SIZE": "100000"})
    async with aiohttp.ClientSession(d.url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        await register(s, SUPERMAN)
        f = await upload_ok(s, "hello.txt", "Hello from the daemon, æøå\n".encode())
        assert f["url"] == f"{d.url}/file/1/{f['id']}"
        res = await s.get(f"/file/1/{f['id']}.txt")
        assert await res.read() == "Hello from the daemon, æøå\n".encode()
        res = await upload(s, "big.bin", b"x" * 100_001)
        assert res.status == 413
    assert await d.stop() == 0
    assert (tmp_path / "home" / SUPERMAN / "upload" / f"{f['id']}.json").is_file()
