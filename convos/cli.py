"""The `convos` command; also the composition root that picks the concrete classes."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from . import __version__
from .config import Config
from .core.connection import Connection
from .core.core import Core
from .irc.factory import IrcFactory
from .store.file import FileStore

if TYPE_CHECKING:
    from aiohttp import web

    from .store.push import PushFiles

log = logging.getLogger("convos")

LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
}


def setup_logging(config: Config) -> None:
    handler: logging.Handler
    if config.log_file:
        handler = logging.FileHandler(config.log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s] [%(levelname)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LEVELS.get(config.log_level, logging.INFO))
    # aiohttp's access log is noisy at info; keep it for debug.
    logging.getLogger("aiohttp.access").setLevel(
        logging.INFO if config.log_level in ("debug", "trace") else logging.WARNING
    )


def protocols(irc: IrcFactory) -> Callable[[str], type[Connection]]:
    """Pick the protocol by URL scheme: irc:// and ircs:// are the IRC factory's."""

    def connection_class(scheme: str) -> type[Connection]:
        if scheme in ("irc", "ircs"):
            return irc.connection_class()
        return Connection

    return connection_class


def build_core(config: Config, *, readonly: bool = False) -> Core:
    spool = Path(config.bot_spool_dir).expanduser() if config.bot_spool_dir else None
    # The daemon's store removes temp files a killed daemon left, while it reads the users;
    # a read-only core (`recover`, which may run beside a daemon) never does.
    store = FileStore(config.home, scan_threads=config.scan_threads, spool_dir=spool, clean_temp_files=not readonly)
    # The IRC factory owns what IRC connections share (host queue, /list cache, TLS contexts):
    # one per core, nothing process-wide.
    return Core(store, config, readonly=readonly, connection_class=protocols(IrcFactory()))


def build_app(core: Core, config: Config) -> web.Application:
    """The web application, and the consumers of the core beside it: Web Push (docs/push.md), the
    bot (spec §7.2) when CONVOS_BOT_EMAIL names its account, and the IRC listener when
    CONVOS_IRC_LISTEN is set. They start with the application and stop before the core."""
    from .push import Push
    from .web.app import create_app
    from .web.keys import AUTH, IRC_LISTENER, LOGIN_LIMITS, PUSH, WEBHOOKS

    app = create_app(core, config)
    push = Push(core, _push_files(core), config)
    app[PUSH] = push
    # After create_app's own: cleanup runs in reverse order, so push stops before the core.
    app.cleanup_ctx.append(_lifecycle(push))
    if config.bot_email:
        from .bot import Bot

        bot = Bot(core, core.store, config)
        app[WEBHOOKS] = bot
        # After create_app's own: cleanup runs in reverse order, so the bot stops before the core.
        app.cleanup_ctx.append(_lifecycle(bot))
    if config.irc_listen:
        from .listen import Listener

        # Sign-ins share the web logins' failure limits: one budget per address and account. A
        # password goes through the sign-in providers (LDAP too), which refuse a password alone
        # for an account with two-factor codes on: such a user signs in with an app password.
        listener = Listener(core, config, app[LOGIN_LIMITS], app[AUTH].check_password)
        app[IRC_LISTENER] = listener
        app.cleanup_ctx.append(_lifecycle(listener))
    return app


def _push_files(core: Core) -> PushFiles:
    """The store's PushFiles side: the file store has it (store/pushfile.py)."""
    store = core.store
    if not isinstance(store, FileStore):
        raise TypeError(f"Web Push needs the file store, not {type(store).__name__}.")
    return store


class Consumer(Protocol):
    """A consumer of the core beside the web application (the bot, Web Push, the IRC listener).
    `start` may be a coroutine (the listener binds its sockets there)."""

    def start(self) -> Awaitable[None] | None: ...

    async def stop(self) -> None: ...


def _lifecycle(consumer: Consumer) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        started = consumer.start()
        if started is not None:
            await started
        yield
        await consumer.stop()

    return lifecycle


def parse_listen(url: str) -> tuple[str | None, int, ssl.SSLContext | None]:
    """`http://*:3000`, `http://127.0.0.1:8080`, `http://[::1]:3000`, `https://*:3443?cert=..&key=..`."""
    parts = urlsplit(url.replace("://*", "://0.0.0.0", 1))
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"Unsupported listen URL {url!r}: use http:// or https://")
    host = parts.hostname
    if "://*" in url:
        host = None  # every interface, IPv4 and IPv6
    port = parts.port or (443 if parts.scheme == "https" else 80)
    context = None
    if parts.scheme == "https":
        query = parse_qs(parts.query)
        cert, key = query.get("cert", [""])[0], query.get("key", [""])[0]
        if not cert or not key:
            raise ValueError(f"{url!r}: https needs ?cert=FILE&key=FILE")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
    return host, port, context


async def run_daemon(config: Config) -> int:
    from aiohttp import web

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    core = build_core(config)
    log.info("CONVOS_HOME is %s", config.home)
    try:
        await core.load_settings()
    except (ValueError, OSError) as err:
        # Never overwrite a settings.json we cannot read: say what is wrong and stop.
        print(f"convos: cannot read {config.home}/settings.json: {err}", file=sys.stderr)
        return 1
    app = build_app(core, config)
    runner = web.AppRunner(app, handle_signals=False, access_log=logging.getLogger("aiohttp.access"))
    await runner.setup()
    try:
        for url in config.listen:
            host, port, context = parse_listen(url)
            site = web.TCPSite(runner, host=host, port=port, ssl_context=context, reuse_address=True)
            await site.start()
            log.info("Listening on %s", url)
            print(f"Web application available at {url}", file=sys.stderr, flush=True)
        stopping = asyncio.create_task(stop.wait())
        ready = asyncio.create_task(core.ready_event.wait())
        await asyncio.wait([stopping, ready], return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if core.ready:
            # The users, connections and conversations just loaded live as long as the daemon:
            # full collections need not walk them again and again (with 1,000 users, ~200,000 objects).
            gc.freeze()
        await stopping
        log.info("Shutting down.")
    finally:
        await runner.cleanup()
    return 0


async def run_recover(config: Config, email: str) -> int:
    """Print a link; reads the files but never writes them (the daemon owns them)."""
    core = build_core(config, readonly=True)
    try:
        await core.load_settings()
        await core.load_users()
    except (RuntimeError, ValueError, OSError) as err:
        print(f"convos: {err}", file=sys.stderr)
        return 1
    email = email.strip()
    if core.store.is_broken_user(email.lower()):
        print(f"convos: {config.home}/{email.lower()}/user.json cannot be read; fix it first.", file=sys.stderr)
        return 1
    inv = core.invite(email)
    base = core.settings.base_url.rstrip("/") + "/"
    url = f"{base}register?{urlencode(inv.query())}"
    print(f"---\nExisting: {int(inv.existing)}\nExpires: {inv.expires}\nURL: {url}\n")
    return 0


def print_version() -> int:
    rows = [("Convos", __version__), ("Python", sys.version.split()[0])]
    for dist in ("aiohttp", "aiohttp-session", "pydle", "cryptography", "orjson", "aiofiles", "argon2-cffi",
                 "http-ece", "py-vapid"):
        try:
            rows.append((dist, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            rows.append((dist, "not installed"))
    width = max(len(name) for name, _ in rows)
    for name, version in rows:
        print(f"  {name.ljust(width)}  {version}")
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convos",
        description="Convos: a multiuser, always-on IRC proxy with a web interface.",
        epilog="Data lives in CONVOS_HOME (default ~/.local/share/convos). See docs/configuration.md.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    daemon = sub.add_parser("daemon", help="run the web server and IRC connections",
                            description="Run the web server and keep every user's IRC connections alive.")
    daemon.add_argument("-l", "--listen", action="append", metavar="URL",
                        help="where to listen, repeatable (default http://*:3000, or CONVOS_LISTEN)")
    daemon.add_argument("--home", metavar="DIR", help="data directory (overrides CONVOS_HOME)")
    recover = sub.add_parser("recover", help="print a password-reset or invite link for EMAIL",
                             description="Print a password-reset link for an existing user, "
                             "or an invite link for a new one.")
    recover.add_argument("email", metavar="EMAIL")
    recover.add_argument("--home", metavar="DIR", help="data directory (overrides CONVOS_HOME)")
    sub.add_parser("version", help="print the versions of Convos and its dependencies",
                   description="Print the versions of Convos and its dependencies.")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "version":
        return print_version()

    overrides: dict[str, object] = {}
    if getattr(args, "home", None):
        overrides["home"] = Path(args.home).expanduser()
    if getattr(args, "listen", None):
        overrides["listen"] = tuple(args.listen)
    config = Config.from_env(None, **overrides)
    setup_logging(config)

    if args.command == "recover":
        return asyncio.run(run_recover(config, args.email))

    if hasattr(os, "geteuid") and os.geteuid() == 0 and not os.environ.get("CONVOS_NO_ROOT_WARNING"):
        print("WARNING: running convos as root is not recommended; set CONVOS_NO_ROOT_WARNING=1 "
              "to hide this.", file=sys.stderr)
    try:
        for url in config.listen:
            parse_listen(url)
        if config.irc_listen:
            from .listen import parse_address

            for url in config.irc_listen:
                parse_address(url, config.irc_listen_insecure)
    except (ValueError, OSError) as err:
        print(f"convos: {err}", file=sys.stderr)
        return 2
    return asyncio.run(run_daemon(config))


if __name__ == "__main__":
    sys.exit(main())
