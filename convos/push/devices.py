"""A user's devices (push subscriptions) and push settings: the content of their push.json."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from yarl import URL

from ..errors import InvalidInput
from .limits import MAX_CONVERSATION_POLICIES, MAX_DEVICE_NAME, MAX_DEVICES, MAX_ENDPOINT
from .vapid import b64url_decode

POLICIES = ("all", "mentions", "nothing")
DEFAULT_POLICY = "mentions"


def iso_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else ""


def browser_name(user_agent: str) -> str:
    """A short name of the browser and system from a User-Agent, for the device list."""
    ua = user_agent or ""
    if "Edg/" in ua:
        name = "Edge"
    elif "Firefox/" in ua:
        name = "Firefox"
    elif "Chrome/" in ua or "Chromium/" in ua:
        name = "Chrome"
    elif "Safari/" in ua:
        name = "Safari"
    else:
        return ua[:40]
    for system, word in (("Android", "Android"), ("iOS", "iPhone"), ("iOS", "iPad"), ("Windows", "Windows"),
                         ("macOS", "Mac OS X"), ("Linux", "Linux")):
        if word in ua:
            return f"{name} on {system}"
    return name


def check_endpoint(text: str, allow_private: bool) -> URL:
    """The endpoint of a PushSubscription: https (or http when private addresses are allowed),
    with a host, no user info, at most MAX_ENDPOINT characters. Its addresses are checked at
    each delivery, after DNS (deliver.py)."""
    if len(text) > MAX_ENDPOINT:
        raise InvalidInput("The endpoint is too long.", "/subscription/endpoint")
    try:
        url = URL(text)
        ok = url.is_absolute() and bool(url.host) and not url.user and not url.password
    except (ValueError, TypeError, UnicodeError):
        ok = False
    if not ok:
        raise InvalidInput("Invalid endpoint.", "/subscription/endpoint")
    schemes = ("https", "http") if allow_private else ("https",)
    if url.scheme not in schemes:
        raise InvalidInput("The endpoint must be an https URL.", "/subscription/endpoint")
    return url


def check_keys(p256dh: str, auth: str) -> None:
    """keys.p256dh must be a P-256 public point (65 bytes, uncompressed) and keys.auth 16 bytes."""
    try:
        point = b64url_decode(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        good = len(point) == 65
    except (ValueError, TypeError):
        good = False
    if not good:
        raise InvalidInput("Invalid key.", "/subscription/keys/p256dh")
    try:
        good = len(b64url_decode(auth)) == 16
    except (ValueError, TypeError):
        good = False
    if not good:
        raise InvalidInput("Invalid key.", "/subscription/keys/auth")


@dataclass(slots=True)
class Device:
    id: str
    endpoint: str
    p256dh: str
    auth: str
    name: str = ""
    browser: str = ""
    created: float = 0.0
    last_used: float = 0.0

    @classmethod
    def from_dict(cls, data: Any) -> Device | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(id=str(data["id"]), endpoint=str(data["endpoint"]), p256dh=str(data["keys"]["p256dh"]),
                       auth=str(data["keys"]["auth"]), name=str(data.get("name") or ""),
                       browser=str(data.get("browser") or ""), created=float(data.get("created") or 0),
                       last_used=float(data.get("last_used") or 0))
        except (KeyError, TypeError, ValueError):
            return None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth},
                "name": self.name, "browser": self.browser, "created": self.created, "last_used": self.last_used}

    def api_dict(self) -> dict[str, Any]:
        """What the owner sees: never the keys; the endpoint only as its push service's host."""
        return {"id": self.id, "name": self.name, "browser": self.browser, "service": URL(self.endpoint).host or "",
                "created": iso_time(self.created), "last_used": iso_time(self.last_used) or None}


def conversation_key(connection_id: str, conversation_id: str) -> str:
    return f"{connection_id}/{conversation_id}"


@dataclass(slots=True)
class PushState:
    """One user's push.json: devices, the switch, whether texts are sent, the conversations' choices."""

    devices: list[Device] = field(default_factory=list)
    enabled: bool = True
    content: bool = True
    conversations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PushState:
        if not data:
            return cls()
        raw_devices = data.get("devices")
        devices = [d for d in map(Device.from_dict, raw_devices if isinstance(raw_devices, list) else []) if d]
        raw = data.get("conversations")
        policies = {str(k): v for k, v in (raw.items() if isinstance(raw, dict) else ()) if v in POLICIES}
        return cls(devices=devices[:MAX_DEVICES], enabled=data.get("enabled") is not False,
                   content=data.get("content") is not False, conversations=policies)

    def to_dict(self) -> dict[str, Any]:
        return {"devices": [d.to_dict() for d in self.devices], "enabled": self.enabled, "content": self.content,
                "conversations": dict(self.conversations)}

    def settings_dict(self) -> dict[str, Any]:
        convs = []
        for key, policy in sorted(self.conversations.items()):
            connection_id, _, conversation_id = key.partition("/")
            convs.append({"connection_id": connection_id, "conversation_id": conversation_id, "policy": policy})
        return {"enabled": self.enabled, "content": self.content, "default_policy": DEFAULT_POLICY,
                "conversations": convs}

    def policy(self, connection_id: str, conversation_id: str) -> str:
        return self.conversations.get(conversation_key(connection_id, conversation_id), DEFAULT_POLICY)

    def device(self, device_id: str) -> Device | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def add(self, endpoint: str, p256dh: str, auth: str, name: str, browser: str) -> Device:
        """A new device, or the one with the same endpoint with new keys (a browser subscribing again)."""
        name = name.strip()[:MAX_DEVICE_NAME]
        same = next((d for d in self.devices if d.endpoint == endpoint), None)
        if same is not None:
            same.p256dh, same.auth, same.browser = p256dh, auth, browser
            same.name = name or same.name
            return same
        if len(self.devices) >= MAX_DEVICES:
            raise InvalidInput(f"At most {MAX_DEVICES} devices can get notifications; remove one first.",
                               "/subscription")
        device = Device(id=secrets.token_hex(8), endpoint=endpoint, p256dh=p256dh, auth=auth,
                        name=name or browser or "Device", browser=browser, created=time.time())
        self.devices.append(device)
        return device

    def set_policies(self, items: list[dict[str, Any]]) -> None:
        """Each item's choice (the default one removes the entry); nothing changes when too many."""
        policies = dict(self.conversations)
        for item in items:
            key = conversation_key(item["connection_id"], item["conversation_id"].lower())
            if item["policy"] == DEFAULT_POLICY:
                policies.pop(key, None)
            else:
                policies[key] = item["policy"]
        if len(policies) > MAX_CONVERSATION_POLICIES:
            raise InvalidInput(f"At most {MAX_CONVERSATION_POLICIES} conversations can have a choice of their own.",
                               "/conversations")
        self.conversations = policies
