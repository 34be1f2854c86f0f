"""The IRC test tools themselves: a real ngircd, the external IrcClient and the scripted peer."""

from __future__ import annotations

import asyncio
import base64
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

# The fixtures ircd, irc_client and irc_peer are imported here too, so this file works on its own;
# pytest then sees test parameters of those names, which ruff calls redefinitions (F811).
from irc_peer import ScriptedIrcPeer, parse_line, server_time
from ircd import IrcClient, Ngircd, require_ngircd

MakeClient = Callable[..., Awaitable[IrcClient]]
RawClient = tuple[asyncio.StreamReader, asyncio.StreamWriter]


# --- parsing -------------------------------------------------------------------------------


def test_parse_line_with_tags_prefix_and_trailing() -> None:
    line = parse_line(r"@time=2024-03-21T08:25:00.000Z;msgid=a\sb\:c :nick!user@host PRIVMSG #chan :hello  world")
    assert line.tags == {"time": "2024-03-21T08:25:00.000Z", "msgid": "a b;c"}
    assert line.prefix == "nick!user@host"
    assert line.nick == "nick"
    assert line.command == "PRIVMSG"
    assert line.params == ("#chan", "hello  world")
    assert line.text == "hello  world"


def test_parse_line_is_liberal() -> None:
    assert parse_line("ping :x").command == "PING"
    assert parse_line(":server 001 me").params == ("me",)
    assert parse_line("CAP * LS * :a b").params == ("*", "LS", "*", "a b")
    assert parse_line("").command == ""
    assert parse_line("@;= :").command == ""


def test_server_time_format() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", server_time())


# --- ngircd ---------------------------------------------------------------------------------


async def test_two_clients_join_and_talk(ircd: Ngircd, irc_client: MakeClient) -> None:
    alice = await irc_client("alice")
    bob = await irc_client("bob")
    assert alice.server_name == ircd.name == "irc.test.local"

    assert await alice.join("#harness") == ["@alice"]
    names = await bob.join("#Harness")
    assert sorted(names) == ["@alice", "bob"]
    await alice.expect(lambda m: m.command == "JOIN" and m.nick == "bob")

    await alice.privmsg("#harness", "hello bob ✓")
    got = await bob.expect(lambda m: m.command == "PRIVMSG" and m.nick == "alice")
    assert got.params == ("#harness", "hello bob ✓")

    await bob.privmsg("alice", "hi")
    assert (await alice.expect(r"^:bob!\S+ PRIVMSG alice :hi$")).text == "hi"

    await bob.quit("gone")
    quit_line = await alice.expect(lambda m: m.command == "QUIT")
    assert quit_line.nick == "bob" and "gone" in quit_line.text


async def test_network_name_nicklen_and_oper(ircd: Ngircd, irc_client: MakeClient) -> None:
    nick = "a_rather_long_nick_of_25ch"
    client = await irc_client(nick)
    isupport = " ".join(m.raw for m in client.received if m.command == "005")
    assert "NETWORK=TestNet" in isupport
    assert "NICKLEN=30" in isupport
    assert client.nick == nick

    await client.send(f"OPER {ircd.oper_name} {ircd.oper_password}")
    await client.expect(lambda m: m.command == "381")
    # A failed OPER costs ngircd's 10 s penalty on that client, whatever MaxPenaltyTime says.
    other = await irc_client("other")
    await other.send(f"OPER {ircd.oper_name} wrong")
    await other.expect(lambda m: m.command == "464")


async def test_restart_keeps_the_port(ircd: Ngircd, irc_client: MakeClient) -> None:
    before = await irc_client("before")
    port = ircd.port

    await ircd.restart()
    assert ircd.port == port
    await before.wait_closed()  # the old server closed its clients

    after = await irc_client("after")
    assert after.port == port
    await after.send("PING :again")
    await after.expect(lambda m: m.command == "PONG" and m.text == "again")


async def test_start_moves_off_a_port_taken_meanwhile() -> None:
    server = Ngircd()
    taken = server.port
    with socket.socket() as squatter:
        squatter.bind((server.host, taken))
        squatter.listen()
        try:
            await server.start()
            assert server.port != taken
            assert "Address already in use" in server.log()
            client = IrcClient(server.host, server.port, "moved")
            assert (await client.register()).command == "001"
            await client.close()
        finally:
            await server.stop()
            server.cleanup()
    # A port given by the caller is kept, and a server that cannot listen is an error, not a hang.
    bad = Ngircd(port=server.port, global_={"Listen": "256.0.0.1"})
    try:
        with pytest.raises(RuntimeError, match=rf"(?s)did not start on 127.0.0.1:{server.port}.*isn't listening"):
            await bad.start(timeout=5)
    finally:
        bad.cleanup()


async def test_config_passes_configtest(ircd_factory: Callable[..., Awaitable[Ngircd]]) -> None:
    server = await ircd_factory(penalty=True, limits={"PongTimeout": "5"})
    proc = await asyncio.create_subprocess_exec(
        server.binary, "--configtest", "--config", str(server.config_file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out = (await asyncio.wait_for(proc.communicate(), 10))[0].decode()
    assert proc.returncode == 0, out
    for setting in (f"Ports = {server.port}", "MaxConnectionsIP = 0", "MaxNickLength = 30", "PAM = no",
                    "DNS = no", "MaxPenaltyTime = -1", "PongTimeout = 5", "Network = TestNet"):
        assert f"  {setting}\n" in out, setting


async def test_ngircd_does_not_throttle_by_default(ircd: Ngircd, irc_client: MakeClient) -> None:
    # With MaxPenaltyTime = 3 lines/s would make this take > 60 s.
    sender, receiver = await irc_client("sender"), await irc_client("receiver")
    await sender.join("#flood")
    await receiver.join("#flood")
    await sender.send(*(f"PRIVMSG #flood :line {i}" for i in range(200)))
    lines = await receiver.expect_many(lambda m: m.command == "PRIVMSG", 200, timeout=5)
    assert [m.text for m in lines] == [f"line {i}" for i in range(200)]


async def test_client_expect_timeout_lists_what_arrived(irc_client: MakeClient) -> None:
    client = await irc_client("patient")
    with pytest.raises(AssertionError, match=r"(?s)no line matching 'NEVER'.*timeout after 0.2s.*376 patient"):
        await client.expect("NEVER", timeout=0.2)


async def test_client_answers_ping(irc_peer: ScriptedIrcPeer) -> None:
    client = IrcClient(irc_peer.host, irc_peer.port, "pinged")
    await client.connect()
    try:
        conn = await irc_peer.accept()
        await conn.send("PING :abc123")
        assert (await conn.expect("PONG")).text == "abc123"
    finally:
        await client.close()


def test_missing_ngircd_skips_or_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVOS_TEST_NGIRCD", "/nonexistent/ngircd")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="ngircd is not installed"):
        require_ngircd()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        require_ngircd()


# --- scripted peer --------------------------------------------------------------------------


@pytest.fixture
async def raw_client(irc_peer: ScriptedIrcPeer) -> AsyncIterator[RawClient]:
    """A bare asyncio client, to see exactly what the peer writes."""
    reader, writer = await asyncio.open_connection(irc_peer.host, irc_peer.port, limit=1 << 20)
    yield reader, writer
    writer.close()


async def test_peer_expect_finds_lines_in_any_order(irc_peer: ScriptedIrcPeer, raw_client: RawClient) -> None:
    _, writer = raw_client
    conn = await irc_peer.accept()
    assert irc_peer.connections == [conn]
    writer.write(b"CAP LS\r\nNICK superman\r\nUSER xsuperman 0 * :Clark Kent via https://convos.chat\r\n")

    user = await conn.expect(re.compile(r"^USER (\S+) 0 \* :(.*)$"))
    assert user.params == ("xsuperman", "0", "*", "Clark Kent via https://convos.chat")
    assert (await conn.expect("NICK superman")).params == ("superman",)
    assert (await conn.expect(lambda m: m.command == "CAP")).raw == "CAP LS"
    assert [m.raw for m in conn.received] == ["CAP LS", "NICK superman",
                                               "USER xsuperman 0 * :Clark Kent via https://convos.chat"]


async def test_peer_expect_timeout_says_what_was_received(irc_peer: ScriptedIrcPeer, raw_client: RawClient) -> None:
    _, writer = raw_client
    conn = await irc_peer.accept()
    writer.write(b"NICK batman\r\n")
    await conn.expect("NICK")
    writer.write(b"PRIVMSG #gotham :hi\r\n")
    with pytest.raises(AssertionError) as err:
        await conn.expect("JOIN #gotham", timeout=0.2)
    message = str(err.value)
    assert "no line matching 'JOIN #gotham'" in message
    assert "timeout after 0.2s" in message
    assert "2 received, 1 unmatched" in message
    assert "PRIVMSG #gotham :hi" in message


async def test_peer_expect_fails_fast_when_the_client_closes(irc_peer: ScriptedIrcPeer, raw_client: RawClient) -> None:
    _, writer = raw_client
    conn = await irc_peer.accept()
    writer.write(b"QUIT :bye\r\n")
    writer.close()
    with pytest.raises(AssertionError, match="connection closed"):
        await conn.expect("NICK", timeout=5)
    await conn.expect_closed()


async def test_peer_sends_malformed_bytes_verbatim(irc_peer: ScriptedIrcPeer, raw_client: RawClient) -> None:
    reader, _ = raw_client
    conn = await irc_peer.accept()
    long_line = b":evil!e@h PRIVMSG #c :" + b"x" * 10240 + b"\r\n"
    await conn.send(b":srv NOTICE * :caf\xe9 \xff\xfe\r\n", long_line, "plain text ✓", b"no newline")
    assert await reader.readuntil(b"\n") == b":srv NOTICE * :caf\xe9 \xff\xfe\r\n"
    assert await reader.readuntil(b"\n") == long_line
    assert await reader.readuntil(b"\n") == "plain text ✓\r\n".encode()
    await conn.close()
    assert await reader.read() == b"no newline"
    assert conn.sent_lines[-1] == b"no newline"


async def test_peer_register_plays_cap_302_multiline_and_sasl_plain(irc_peer: ScriptedIrcPeer, raw_client: RawClient) -> None:
    reader, writer = raw_client
    conn = await irc_peer.accept()
    registration = asyncio.create_task(
        conn.register("superman", caps=["server-time", "echo-message", "multi-prefix"], sasl="PLAIN", ls_line_size=2))

    async def read() -> str:
        return (await asyncio.wait_for(reader.readuntil(b"\n"), 5)).decode().rstrip("\r\n")

    writer.write(b"CAP LS 302\r\nNICK superman\r\nUSER superman 0 * :https://convos.chat\r\n")
    assert await read() == ":irc.example.com CAP * LS * :server-time echo-message"
    assert await read() == ":irc.example.com CAP * LS :multi-prefix sasl=PLAIN"
    writer.write(b"CAP REQ :sasl server-time nope\r\n")
    assert await read() == ":irc.example.com CAP superman NAK :sasl server-time nope"
    writer.write(b"CAP REQ :sasl server-time\r\n")
    assert await read() == ":irc.example.com CAP superman ACK :sasl server-time"
    writer.write(b"AUTHENTICATE PLAIN\r\n")
    assert await read() == "AUTHENTICATE +"
    payload = base64.b64encode(b"superwoman\0superwoman\0superduper")
    writer.write(b"AUTHENTICATE " + payload + b"\r\n")
    assert (await read()).startswith(":irc.example.com 900 superman ")
    assert await read() == ":irc.example.com 903 superman :SASL authentication successful"
    writer.write(b"CAP END\r\n")
    assert (await read()).startswith(":irc.example.com 001 superman :Welcome")

    reg = await asyncio.wait_for(registration, 5)
    assert reg.nick == "superman"
    assert reg.cap_version == 302
    assert reg.caps_acked == ["sasl", "server-time"]
    assert reg.sasl_mechanism == "PLAIN"
    assert reg.sasl_raw == payload.decode()
    assert reg.sasl_plain == ("superwoman", "superwoman", "superduper")


async def test_peer_register_without_cap_and_wrong_sasl_mechanism(irc_peer: ScriptedIrcPeer, raw_client: RawClient) -> None:
    reader, writer = raw_client
    conn = await irc_peer.accept()
    writer.write(b"NICK plain\r\nUSER plain 0 * :x\r\n")
    reg = await conn.register()
    assert (reg.nick, reg.cap_version) == ("plain", None)
    assert (await asyncio.wait_for(reader.readuntil(b"\n"), 5)).startswith(b":irc.example.com 001 plain ")

    reader2, writer2 = await asyncio.open_connection(irc_peer.host, irc_peer.port)
    try:
        conn2 = await irc_peer.accept()
        registration = asyncio.create_task(conn2.register(sasl="EXTERNAL", welcome=False))
        writer2.write(b"CAP LS\r\nNICK ext\r\nUSER ext 0 * :x\r\nCAP REQ :sasl\r\nAUTHENTICATE PLAIN\r\n")
        lines = [(await asyncio.wait_for(reader2.readuntil(b"\n"), 5)).decode().rstrip() for _ in range(4)]
        assert lines == [":irc.example.com CAP * LS :sasl", ":irc.example.com CAP ext ACK :sasl",
                         ":irc.example.com 908 ext EXTERNAL :are available SASL mechanisms",
                         ":irc.example.com 904 ext :SASL authentication failed"]
        writer2.write(b"CAP END\r\n")
        reg2 = await asyncio.wait_for(registration, 5)
        assert reg2.sasl_mechanism == "PLAIN" and reg2.sasl_payload is None
    finally:
        writer2.close()


async def test_peer_transcript_and_reconnect_on_same_port(irc_peer: ScriptedIrcPeer, raw_client: RawClient) -> None:
    reader, writer = raw_client
    conn = await irc_peer.accept()
    writer.write(b"NICK superman\r\n")
    task = asyncio.create_task(conn.transcript("""
        C: NICK superman
        S: :{server} 001 {nick} :Welcome
        C: JOIN #convos
    """))
    assert await reader.readuntil(b"\n") == b":irc.example.com 001 superman :Welcome\r\n"
    writer.write(b"JOIN #convos\r\n")
    assert [m.raw for m in await asyncio.wait_for(task, 5)] == ["NICK superman", "JOIN #convos"]
    await conn.transcript("join-convos")
    assert (await reader.readuntil(b"\n")).startswith(b":superman!superman@127.0.0.1 JOIN :#convos")

    port = irc_peer.port
    irc_peer.stop_listening()
    await conn.close()
    rest = await reader.read()  # up to EOF: the peer closed the connection
    assert rest.endswith(b":irc.example.com 366 superman #convos :End of /NAMES list.\r\n")
    await irc_peer.listen()
    assert irc_peer.port == port
    _, writer2 = await asyncio.open_connection(irc_peer.host, port)
    try:
        again = await irc_peer.accept()
        assert again is irc_peer.connections[1]
    finally:
        writer2.close()
