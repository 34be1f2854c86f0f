"""Environment and command-line flags, read once into a frozen Config."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

TRUE_WORDS = {"1", "on", "yes", "true"}
FALSE_WORDS = {"0", "off", "no", "false", ""}


def is_true(value: str | None, name: str = "") -> bool:
    """The original's boolean parsing: unknown words warn and count as false."""
    if value is None:
        return False
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word not in FALSE_WORDS:
        log.warning("%s=%r is not a boolean; treating it as false.", name or "value", value)
    return False


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        log.warning("%s=%r is not a number; using %s.", name, raw, default)
        return default


def _csv(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        raw = default
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def default_home(env: Mapping[str, str]) -> Path:
    if env.get("CONVOS_HOME"):
        return Path(env["CONVOS_HOME"]).expanduser()
    if env.get("SNAP_USER_COMMON"):
        return Path(env["SNAP_USER_COMMON"])
    return Path(env.get("HOME") or Path.home()) / ".local" / "share" / "convos"


# The original's plugin names in CONVOS_PLUGINS, and the provider each one turns on.
AUTH_PLUGINS = {"auth::header": "header", "auth::ldap": "ldap"}
AUTH_PROVIDERS = ("header", "ldap", "oidc")


def auth_providers(env: Mapping[str, str]) -> tuple[str, ...]:
    """CONVOS_AUTH_PROVIDERS, plus what CONVOS_PLUGINS names (`Convos::Plugin::Auth::Header`,
    `Auth::LDAP?key=val`; other plugins are not ours to load and are left to warn about)."""
    wanted: list[str] = []
    for name in _csv(env, "CONVOS_AUTH_PROVIDERS", ""):
        if name.lower() in AUTH_PROVIDERS:
            wanted.append(name.lower())
        elif name.lower() != "local":
            log.warning("CONVOS_AUTH_PROVIDERS: unknown provider %r (known: %s).", name, ", ".join(AUTH_PROVIDERS))
    for item in _csv(env, "CONVOS_PLUGINS", ""):
        name = item.split("?", 1)[0].strip().lower().removeprefix("convos::plugin::")
        if name in AUTH_PLUGINS:
            if "?" in item:
                log.warning("CONVOS_PLUGINS: %s takes its settings from CONVOS_AUTH_* variables; "
                            "the query string is ignored.", item.split("?", 1)[0])
            wanted.append(AUTH_PLUGINS[name])
        else:
            log.warning("CONVOS_PLUGINS: %r is not a plugin this Convos has; ignored.", item)
    return tuple(dict.fromkeys(wanted))


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Sign-in (docs/authentication.md): which providers are on and their settings."""

    providers: tuple[str, ...] = ()
    header: str = "X-Authenticated-User"
    header_trusted: tuple[str, ...] = ("127.0.0.0/8", "::1")
    admin: str = "admin-email-not-set@example.com"
    ldap_url: str = "ldap://localhost:389"
    ldap_dn: str = "uid=%uid,dc=%domain,dc=%tld"
    ldap_base: str = ""
    ldap_filter: str = ""
    ldap_bind_dn: str = ""
    ldap_bind_password: str = ""
    ldap_ca: str = ""
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid email profile"
    oidc_email_claim: str = "email"
    oidc_name: str = "OpenID Connect"
    oidc_auto_create: bool = False
    oidc_ca: str = ""
    totp_required: bool = False
    totp_failures: int = 5
    totp_failure_interval: float = 300.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuthConfig:
        d = cls()  # the defaults (a slots class has no class attributes to read them from)

        def text(name: str, default: str = "") -> str:
            return env.get(name, "").strip() or default

        return cls(
            providers=auth_providers(env),
            header=text("CONVOS_AUTH_HEADER", d.header),
            header_trusted=_csv(env, "CONVOS_AUTH_HEADER_TRUSTED", "127.0.0.0/8,::1"),
            admin=text("CONVOS_ADMIN", d.admin).lower(),
            ldap_url=text("CONVOS_AUTH_LDAP_URL", d.ldap_url),
            ldap_dn=text("CONVOS_AUTH_LDAP_DN", d.ldap_dn),
            ldap_base=text("CONVOS_AUTH_LDAP_BASE"),
            ldap_filter=text("CONVOS_AUTH_LDAP_FILTER"),
            ldap_bind_dn=text("CONVOS_AUTH_LDAP_BIND_DN"),
            ldap_bind_password=env.get("CONVOS_AUTH_LDAP_BIND_PASSWORD", ""),
            ldap_ca=text("CONVOS_AUTH_LDAP_CA"),
            oidc_issuer=text("CONVOS_AUTH_OIDC_ISSUER").rstrip("/"),
            oidc_client_id=text("CONVOS_AUTH_OIDC_CLIENT_ID"),
            oidc_client_secret=env.get("CONVOS_AUTH_OIDC_CLIENT_SECRET", ""),
            oidc_scopes=text("CONVOS_AUTH_OIDC_SCOPES", d.oidc_scopes),
            oidc_email_claim=text("CONVOS_AUTH_OIDC_EMAIL_CLAIM", d.oidc_email_claim),
            oidc_name=text("CONVOS_AUTH_OIDC_NAME", d.oidc_name),
            oidc_auto_create=is_true(env.get("CONVOS_AUTH_OIDC_AUTO_CREATE"), "CONVOS_AUTH_OIDC_AUTO_CREATE"),
            oidc_ca=text("CONVOS_AUTH_OIDC_CA"),
            totp_required=is_true(env.get("CONVOS_AUTH_TOTP_REQUIRED"), "CONVOS_AUTH_TOTP_REQUIRED"),
            totp_failures=int(_number(env, "CONVOS_AUTH_TOTP_FAILURES", 5)),
            totp_failure_interval=_number(env, "CONVOS_AUTH_TOTP_FAILURE_INTERVAL", 300),
        )


@dataclass(frozen=True, slots=True)
class Config:
    home: Path
    listen: tuple[str, ...] = ("http://*:3000",)
    secrets: tuple[str, ...] = ()
    local_secret: str = ""
    local_admin_remote_addr: tuple[str, ...] = ("127.0.0.1", "::1")
    invite_link_valid_for: float = 24.0
    max_upload_size: int = 40_000_000
    max_bulk_message_size: int = 3
    max_message_length: int = 512
    service_accounts: tuple[str, ...] = ("chanserv", "nickserv")
    reverse_proxy: bool = False
    request_base: str = ""
    secure_cookies: bool = False
    log_level: str = "info"
    log_file: str = ""
    skip_connect: bool = False
    connect_delay: float = 4.0
    connect_timeout: float = 20.0
    max_connecting: int = 20
    save_interval: float = 30.0
    local_address: str = ""
    tls_ca: str = ""
    generate_cert: bool = True
    periodic_interval: float = 60.0
    inactive_timeout: float = 60.0
    webhook_networks: tuple[str, ...] = ("140.82.112.0/20", "192.30.252.0/22")
    default_search_after: float = 31_536_000.0
    max_link_cache_size: int = 100
    embed_allow_private: bool = False
    irc_allow_private: bool = False
    push_allow_private: bool = False
    max_conversations: int = 1000
    max_connections: int = 50
    reload_dictionaries: bool = False
    update_url: str = ""
    bot_email: str = ""
    bot_allow_standalone: bool = False
    bot_load_interval: float = 10.0
    bot_spool_dir: str = ""
    bot_spool_interval: float = 1.0
    default_connection: str = ""
    session_max_age: int = 604_800
    scan_threads: int = 4
    scans_per_user: int = 2
    embeds_per_user: int = 4
    login_failures_per_address: int = 10
    login_failures_per_account: int = 20
    login_failure_interval: float = 60.0
    webirc_passwords: Mapping[str, str] = field(default_factory=dict)
    auth: AuthConfig = field(default_factory=AuthConfig)
    # The IRC listener for native clients (convos/listen, docs/irc-listener.md): off when empty.
    irc_listen: tuple[str, ...] = ()
    irc_listen_cert: str = ""
    irc_listen_key: str = ""
    irc_listen_insecure: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Config:
        env = dict(os.environ if env is None else env)
        reverse_proxy = env.get("CONVOS_REVERSE_PROXY", env.get("MOJO_REVERSE_PROXY"))
        listen = _csv(env, "CONVOS_LISTEN", env.get("MOJO_LISTEN", "http://*:3000"))
        webirc = {
            key[len("CONVOS_WEBIRC_PASSWORD_") :].lower(): value
            for key, value in env.items()
            if key.startswith("CONVOS_WEBIRC_PASSWORD_")
        }
        values: dict[str, object] = dict(
            home=default_home(env),
            listen=listen or ("http://*:3000",),
            secrets=_csv(env, "CONVOS_SECRETS", ""),
            local_secret=env.get("CONVOS_LOCAL_SECRET", "").strip(),
            local_admin_remote_addr=_csv(env, "CONVOS_LOCAL_ADMIN_REMOTE_ADDR", "127.0.0.1,::1"),
            invite_link_valid_for=_number(env, "CONVOS_INVITE_LINK_VALID_FOR", 24),
            max_upload_size=int(_number(env, "CONVOS_MAX_UPLOAD_SIZE", 40_000_000)),
            max_bulk_message_size=int(_number(env, "CONVOS_MAX_BULK_MESSAGE_SIZE", 3)),
            max_message_length=int(_number(env, "CONVOS_MAX_MESSAGE_LENGTH", 512)),
            service_accounts=_csv(env, "CONVOS_SERVICE_ACCOUNTS", "chanserv,nickserv"),
            reverse_proxy=is_true(reverse_proxy, "CONVOS_REVERSE_PROXY"),
            request_base=env.get("CONVOS_REQUEST_BASE", "").strip(),
            secure_cookies=is_true(env.get("CONVOS_SECURE_COOKIES"), "CONVOS_SECURE_COOKIES"),
            log_level=(env.get("CONVOS_LOG_LEVEL") or env.get("MOJO_LOG_LEVEL") or "info").lower(),
            log_file=env.get("CONVOS_LOG_FILE", ""),
            skip_connect=is_true(env.get("CONVOS_SKIP_CONNECT"), "CONVOS_SKIP_CONNECT"),
            connect_delay=_number(env, "CONVOS_CONNECT_DELAY", 4),
            connect_timeout=_number(env, "CONVOS_CONNECT_TIMEOUT", 20),
            max_connecting=max(1, int(_number(env, "CONVOS_MAX_CONNECTING", 20))),
            save_interval=max(0.0, _number(env, "CONVOS_SAVE_INTERVAL", 30)),
            local_address=env.get("CONVOS_LOCAL_ADDRESS", ""),
            tls_ca=env.get("CONVOS_TLS_CA", ""),
            generate_cert=is_true(env.get("CONVOS_GENERATE_CERT", "1"), "CONVOS_GENERATE_CERT"),
            periodic_interval=_number(env, "CONVOS_IRC_PERIDOC_INTERVAL", 60),
            inactive_timeout=_number(env, "CONVOS_INACTIVE_TIMEOUT", 60),
            webhook_networks=_csv(env, "CONVOS_WEBHOOK_NETWORKS", "140.82.112.0/20,192.30.252.0/22"),
            default_search_after=_number(env, "CONVOS_DEFAULT_SEARCH_AFTER", 31_536_000),
            max_link_cache_size=int(_number(env, "CONVOS_MAX_LINK_CACHE_SIZE", 100)),
            embed_allow_private=is_true(env.get("CONVOS_EMBED_ALLOW_PRIVATE"), "CONVOS_EMBED_ALLOW_PRIVATE"),
            irc_allow_private=is_true(env.get("CONVOS_IRC_ALLOW_PRIVATE"), "CONVOS_IRC_ALLOW_PRIVATE"),
            push_allow_private=is_true(env.get("CONVOS_PUSH_ALLOW_PRIVATE"), "CONVOS_PUSH_ALLOW_PRIVATE"),
            max_conversations=max(1, int(_number(env, "CONVOS_MAX_CONVERSATIONS", 1000))),
            max_connections=max(1, int(_number(env, "CONVOS_MAX_CONNECTIONS", 50))),
            reload_dictionaries=is_true(env.get("CONVOS_RELOAD_DICTIONARIES"), "CONVOS_RELOAD_DICTIONARIES"),
            update_url=env.get("CONVOS_UPDATE_URL", "").strip(),
            bot_email=env.get("CONVOS_BOT_EMAIL", "").strip().lower(),
            bot_allow_standalone=is_true(env.get("CONVOS_BOT_ALLOW_STANDALONE"), "CONVOS_BOT_ALLOW_STANDALONE"),
            bot_load_interval=_number(env, "CONVOS_BOT_LOAD_INTERVAL", 10),
            bot_spool_dir=env.get("CONVOS_BOT_SPOOL_DIR", "").strip(),
            bot_spool_interval=_number(env, "CONVOS_BOT_SPOOL_INTERVAL", 1),
            default_connection=env.get("CONVOS_DEFAULT_CONNECTION", "").strip(),
            scan_threads=max(1, int(_number(env, "CONVOS_SCAN_THREADS", 4))),
            scans_per_user=max(1, int(_number(env, "CONVOS_SCANS_PER_USER", 2))),
            embeds_per_user=max(1, int(_number(env, "CONVOS_EMBEDS_PER_USER", 4))),
            login_failures_per_address=int(_number(env, "CONVOS_LOGIN_FAILURES_PER_ADDRESS", 10)),
            login_failures_per_account=int(_number(env, "CONVOS_LOGIN_FAILURES_PER_ACCOUNT", 20)),
            login_failure_interval=_number(env, "CONVOS_LOGIN_FAILURE_INTERVAL", 60),
            webirc_passwords=webirc,
            auth=AuthConfig.from_env(env),
            irc_listen=_csv(env, "CONVOS_IRC_LISTEN", ""),
            irc_listen_cert=env.get("CONVOS_IRC_LISTEN_CERT", "").strip(),
            irc_listen_key=env.get("CONVOS_IRC_LISTEN_KEY", "").strip(),
            irc_listen_insecure=is_true(env.get("CONVOS_IRC_LISTEN_INSECURE"), "CONVOS_IRC_LISTEN_INSECURE"),
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


# Every variable Config reads; docs/configuration.md must describe each (a test checks it).
ENV_VARS = (
    "CONVOS_HOME",
    "CONVOS_LISTEN",
    "CONVOS_SECRETS",
    "CONVOS_LOCAL_SECRET",
    "CONVOS_LOCAL_ADMIN_REMOTE_ADDR",
    "CONVOS_INVITE_LINK_VALID_FOR",
    "CONVOS_MAX_UPLOAD_SIZE",
    "CONVOS_MAX_BULK_MESSAGE_SIZE",
    "CONVOS_MAX_MESSAGE_LENGTH",
    "CONVOS_SERVICE_ACCOUNTS",
    "CONVOS_REVERSE_PROXY",
    "CONVOS_REQUEST_BASE",
    "CONVOS_SECURE_COOKIES",
    "CONVOS_LOG_LEVEL",
    "CONVOS_LOG_FILE",
    "CONVOS_SKIP_CONNECT",
    "CONVOS_CONNECT_DELAY",
    "CONVOS_CONNECT_TIMEOUT",
    "CONVOS_MAX_CONNECTING",
    "CONVOS_SAVE_INTERVAL",
    "CONVOS_LOCAL_ADDRESS",
    "CONVOS_TLS_CA",
    "CONVOS_GENERATE_CERT",
    "CONVOS_IRC_PERIDOC_INTERVAL",
    "CONVOS_INACTIVE_TIMEOUT",
    "CONVOS_WEBHOOK_NETWORKS",
    "CONVOS_DEFAULT_SEARCH_AFTER",
    "CONVOS_MAX_LINK_CACHE_SIZE",
    "CONVOS_EMBED_ALLOW_PRIVATE",
    "CONVOS_IRC_ALLOW_PRIVATE",
    "CONVOS_PUSH_ALLOW_PRIVATE",
    "CONVOS_MAX_CONVERSATIONS",
    "CONVOS_MAX_CONNECTIONS",
    "CONVOS_RELOAD_DICTIONARIES",
    "CONVOS_UPDATE_URL",
    "CONVOS_BOT_EMAIL",
    "CONVOS_BOT_ALLOW_STANDALONE",
    "CONVOS_BOT_LOAD_INTERVAL",
    "CONVOS_BOT_SPOOL_DIR",
    "CONVOS_BOT_SPOOL_INTERVAL",
    "CONVOS_DEFAULT_CONNECTION",
    "CONVOS_SCAN_THREADS",
    "CONVOS_SCANS_PER_USER",
    "CONVOS_EMBEDS_PER_USER",
    "CONVOS_LOGIN_FAILURES_PER_ADDRESS",
    "CONVOS_LOGIN_FAILURES_PER_ACCOUNT",
    "CONVOS_LOGIN_FAILURE_INTERVAL",
    "CONVOS_WEBIRC_PASSWORD_<NAME>",
    "CONVOS_PLUGINS",
    "CONVOS_AUTH_PROVIDERS",
    "CONVOS_AUTH_HEADER",
    "CONVOS_AUTH_HEADER_TRUSTED",
    "CONVOS_ADMIN",
    "CONVOS_AUTH_LDAP_URL",
    "CONVOS_AUTH_LDAP_DN",
    "CONVOS_AUTH_LDAP_BASE",
    "CONVOS_AUTH_LDAP_FILTER",
    "CONVOS_AUTH_LDAP_BIND_DN",
    "CONVOS_AUTH_LDAP_BIND_PASSWORD",
    "CONVOS_AUTH_LDAP_CA",
    "CONVOS_AUTH_OIDC_ISSUER",
    "CONVOS_AUTH_OIDC_CLIENT_ID",
    "CONVOS_AUTH_OIDC_CLIENT_SECRET",
    "CONVOS_AUTH_OIDC_SCOPES",
    "CONVOS_AUTH_OIDC_EMAIL_CLAIM",
    "CONVOS_AUTH_OIDC_NAME",
    "CONVOS_AUTH_OIDC_AUTO_CREATE",
    "CONVOS_AUTH_OIDC_CA",
    "CONVOS_AUTH_TOTP_REQUIRED",
    "CONVOS_AUTH_TOTP_FAILURES",
    "CONVOS_AUTH_TOTP_FAILURE_INTERVAL",
    "CONVOS_IRC_LISTEN",
    "CONVOS_IRC_LISTEN_CERT",
    "CONVOS_IRC_LISTEN_KEY",
    "CONVOS_IRC_LISTEN_INSECURE",
)
