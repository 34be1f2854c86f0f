"""The IRC listener's addresses, its TLS certificate, and the lines it parses and writes."""

from __future__ import annotations

import hashlib
import ssl
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, free_port
from listen_client import Native

from convos.listen import parse_address
from convos.listen.auth import from_pass, from_sasl_plain
from convos.listen.lines import format_line, log_time, parse, server_time

EMAIL, PASSWORD = "superman@example.com", "longenough"


def test_addresses() -> None:
    a = parse_address("ircs://*:6697")
    assert (a.host, a.port, a.tls) == (None, 6697, True)
    assert parse_address("irc://127.0.0.1:6667").tls is False
    assert parse_address("irc://[::1]:6667").host == "::1"
    for bad in ("http://127.0.0.1:6667", "ircs://*", "irc://127.0.0.1:notaport"):
        with pytest.raises(ValueError):
            parse_address(bad)
    with pytest.raises(ValueError, match="plain text"):
        parse_address("irc://*:6667")
    with pytest.raises(ValueError, match="plain text"):
        parse_address("irc://192.0.2.1:6667")
    assert parse_address("irc://*:6667", insecure=True).host is None


async def test_daemon_refuses_plain_text_on_every_interface(tmp_path: Path) -> None:
    import asyncio

    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bin" / "convos"), "daemon", "--listen", f"http://127.0.0.1:{free_port()}",
        env={"CONVOS_HOME": str(tmp_path), "CONVOS_IRC_LISTEN": "irc://*:6667", "CONVOS_NO_ROOT_WARNING": "1",
             "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert b"CONVOS_IRC_LISTEN_INSECURE" in out


def test_lines() -> None:
    line = parse("@label=a\\sb;+x :nick!u@h PRIVMSG #c :hello : world")
    assert line is not None
    assert (line.command, line.params, line.tags, line.source) == (
        "PRIVMSG", ["#c", "hello : world"], {"label": "a b", "+x": ""}, "nick!u@h")
    assert parse("   ") is None
    assert format_line("PRIVMSG", "#c", "two words", source="n", tags={"msgid": "a;b c"}) == \
        "@msgid=a\\:b\\sc :n PRIVMSG #c :two words"
    assert format_line("PRIVMSG", "#c", "a\r\nQUIT") == "PRIVMSG #c :a QUIT"  # never a second line
    assert server_time(0.5) == "1970-01-01T00:00:00.500Z"
    # A log timestamp (UTC, whole seconds) as a time tag, without parsing; other forms parsed.
    assert log_time("2026-10-16T06:59:58") == "2026-10-16T06:59:58.000Z"
    assert log_time("2026-10-16T06:59:58.250+00:00") == "2026-10-16T06:59:58.250Z"
    assert format_line("TAGMSG", "#c", tags={"+x": "\\ ;\r\n"}) == "@+x=\\\\\\s\\:\\r\\n TAGMSG #c"


def test_credentials() -> None:
    creds = from_pass("a@b.c/libera:pass:with:colons")
    assert creds is not None and (creds.email, creds.network, creds.password) == ("a@b.c", "libera", "pass:with:colons")
    creds = from_pass("secret", "a@b.c/irc-libera")
    assert creds is not None and (creds.email, creds.network, creds.password) == ("a@b.c", "irc-libera", "secret")
    assert from_pass("secret", "plainuser") is None
    import base64

    creds = from_sasl_plain(base64.b64encode(b"\0a@b.c/oftc\0pw").decode())
    assert creds is not None and (creds.email, creds.network, creds.password) == ("a@b.c", "oftc", "pw")
    assert from_sasl_plain("not base64!") is None


async def test_tls_with_a_self_signed_certificate(make_client: Any, home: Path) -> None:
    port = free_port()
    client = await make_client({"CONVOS_IRC_LISTEN": f"ircs://127.0.0.1:{port}"})
    res = await client.post("/api/user/register", json={"email": EMAIL, "password": PASSWORD})
    assert res.status == 200
    cert, key = home / "listen" / "server-cert.pem", home / "listen" / "server-key.pem"
    for path in (cert, key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    me = Native(port, tls=context)
    try:
        welcome = await me.register(sasl=(EMAIL, PASSWORD), caps=("server-time",))
        # The one connection of the account (the default one): no network needed in the user name.
        assert welcome.command == "001"
        assert me.writer is not None
        der = me.writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        await me.close()
    from convos.web.keys import IRC_LISTENER

    listener = client.server.app[IRC_LISTENER]
    assert listener.describe()["fingerprint"] == hashlib.sha256(der).hexdigest()
    # The same certificate on the next start.
    first = cert.read_bytes()
    await client.close()
    await make_client({"CONVOS_IRC_LISTEN": f"ircs://127.0.0.1:{free_port()}"})
    assert cert.read_bytes() == first
