"""The IRC factory (irc/factory.py): the state IRC connections share is owned by the factory
cli.py builds, and bounded: the /list cache (hosts, bytes, expiry), the host queue, the TLS
contexts (built off the loop, kept per verify setting and client certificate)."""

from __future__ import annotations

import asyncio
import os
import ssl
import threading
from pathlib import Path

import pytest

from convos.cli import build_core
from convos.config import Config
from convos.irc import factory as factory_module
from convos.irc import tls as tlsmod
from convos.irc.connection import IrcConnection
from convos.irc.factory import LIST_ENTRY_COST, HostQueue, IrcFactory, ListCache, TlsContexts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fill(cache: ListCache, key: str, channels: int, *, done: bool = True, topic: str = "") -> None:
    cache.start(key)
    cache.feed(key, 321, ["me", "Channel", "Users  Name"])
    for i in range(channels):
        cache.feed(key, 322, ["me", f"#c{i}", str(i), f"[+nt] {topic}"])
    if done:
        cache.feed(key, 323, ["me", "End of /LIST"])


def test_the_list_cache_keeps_a_bounded_number_of_hosts() -> None:
    cache = ListCache(hosts=2)
    fill(cache, "a:6667", 1)
    fill(cache, "b:6667", 1)
    assert cache.get("a:6667") is not None  # a is now the most recently used
    fill(cache, "c:6667", 1)
    assert ("a:6667" in cache, "b:6667" in cache, "c:6667" in cache) == (True, False, True)
    assert len(cache) == 2


def test_the_list_cache_is_bounded_in_bytes() -> None:
    per_channel = LIST_ENTRY_COST + len("#c0") + len("x" * 100)
    cache = ListCache(max_bytes=25 * per_channel)
    fill(cache, "a:6667", 10, topic="x" * 100)
    fill(cache, "b:6667", 10, topic="x" * 100)
    assert cache.size <= cache.max_bytes
    fill(cache, "c:6667", 10, topic="x" * 100)  # no room for three: the least recently used goes
    assert "a:6667" not in cache and "b:6667" in cache and "c:6667" in cache
    assert cache.size <= cache.max_bytes
    # One list larger than all of it keeps what fits, and the others make room for it first.
    fill(cache, "huge:6667", 100, topic="x" * 100)
    huge = cache.get("huge:6667")
    assert huge is not None and huge.done
    assert len(cache) == 1 and 20 <= len(huge.conversations) < 100
    assert cache.size == huge.size <= cache.max_bytes
    assert huge.conversations["#c0"]["topic"] == "x" * 100  # "[+nt] " went


def test_a_finished_list_expires_and_an_unfinished_one_does_not() -> None:
    clock = Clock()
    cache = ListCache(ttl=60, clock=clock)
    fill(cache, "a:6667", 3)
    fill(cache, "b:6667", 3, done=False)
    clock.now += 59
    assert cache.get("a:6667") is not None
    clock.now += 2
    assert cache.get("a:6667") is None and "a:6667" not in cache
    assert cache.size == cache.get("b:6667").size  # type: ignore[union-attr]
    b = cache.get("b:6667")
    assert b is not None and cache.idle(b) == 61  # cmd_list asks again after LIST_STALE


async def test_a_dropped_list_wakes_whoever_waits_for_it() -> None:
    cache = ListCache(hosts=1)
    fill(cache, "a:6667", 1, done=False)
    a = cache.get("a:6667")
    assert a is not None and not a.arrived.is_set()
    fill(cache, "b:6667", 1)
    assert a.arrived.is_set()


def test_the_host_queue_spaces_attempts_and_forgets_old_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    hosts = HostQueue(clock)
    assert hosts.reserve("a:6667", 4) == 0
    assert hosts.reserve("a:6667", 4) == 4
    assert hosts.reserve("b:6667", 4) == 0
    hosts.failed("a:6667")
    assert hosts.reserve("a:6667", 4) == 0
    monkeypatch.setattr(factory_module, "HOST_QUEUE_HOSTS", 3)
    clock.now += 100
    hosts.reserve("c:6667", 4)
    hosts.reserve("d:6667", 4)  # past the bound: a and b, whose turns have passed, are forgotten
    assert len(hosts) == 2


async def test_tls_contexts_are_built_off_the_loop_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[tuple[bool, str | None]] = []
    real = tlsmod.make_context

    def make_context(**kwargs: object) -> ssl.SSLContext:
        built.append((bool(kwargs["verify"]), threading.current_thread().name))
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tlsmod, "make_context", make_context)
    cert, key = tmp_path / "c.cert", tmp_path / "c.key"
    await asyncio.to_thread(tlsmod.ensure_client_cert, cert, key, "superman@example.com")
    contexts = TlsContexts(limit=2)
    # Three connections at once with the same setting: one build, one context.
    same = await asyncio.gather(*(contexts.context(verify=False, cert=cert, key=key) for _ in range(3)))
    assert same[0] is same[1] is same[2]
    assert len(built) == 1 and built[0][1] != threading.main_thread().name
    verified = await contexts.context(verify=True, cert=cert, key=key)
    assert verified is not same[0] and verified.verify_mode == ssl.CERT_REQUIRED
    assert same[0].verify_mode == ssl.CERT_NONE
    assert await contexts.context(verify=False, cert=cert, key=key) is same[0]  # a reconnect
    # A new certificate (the files changed) is a new context.
    os.utime(cert, ns=(1, 1))
    renewed = await contexts.context(verify=False, cert=cert, key=key)
    assert renewed is not same[0]
    assert len(contexts) == 2 and contexts.built == 3  # bounded: the oldest went


def test_each_core_has_its_own_irc_factory(tmp_path: Path) -> None:
    cores = [build_core(Config.from_env({"CONVOS_HOME": str(tmp_path / name)})) for name in ("a", "b")]
    classes = [core.connections.connection_class("irc") for core in cores]
    assert all(issubclass(cls, IrcConnection) for cls in classes)
    assert classes[0] is cores[0].connections.connection_class("ircs")  # one class per factory
    first, second = (cls.factory for cls in classes)
    assert isinstance(first, IrcFactory) and isinstance(second, IrcFactory)
    assert first is not second
    assert first.lists is not second.lists and first.hosts is not second.hosts and first.tls is not second.tls
    fill(first.lists, "irc.example.com:6667", 2)
    assert "irc.example.com:6667" in first.lists and "irc.example.com:6667" not in second.lists
