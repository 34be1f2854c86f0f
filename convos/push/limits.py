"""Every limit of Web Push in one place (docs/security.md lists them, docs/push.md explains them)."""

from __future__ import annotations

# Devices (push subscriptions) one user may have; one more is refused with 400.
MAX_DEVICES = 10
# Longest endpoint URL we accept; the push services' are about 200-500 characters.
MAX_ENDPOINT = 2048
MAX_DEVICE_NAME = 64
# Conversations with a choice of their own (all, mentions, nothing) per user.
MAX_CONVERSATION_POLICIES = 2000
# Seconds a push service has for one request (connect, send, answer) before it counts as failed.
REQUEST_TIMEOUT = 10.0
# Bytes of a push service's answer we read (for the log); the rest is never read.
MAX_RESPONSE = 4096
# Tries of one message when the service answers 429 or 5xx (or the request fails): the first and retries.
MAX_TRIES = 3
# Seconds before the first retry, doubled for each next one; a Retry-After is followed up to RETRY_CAP.
RETRY_BASE = 1.0
RETRY_CAP = 30.0
# Requests to push services in flight at once, over all users.
MAX_CONCURRENT = 16
# Messages waiting for delivery, over all users; past it new ones are dropped (and logged).
MAX_QUEUED = 10_000
# Seconds one conversation's notifications are coalesced for: the first line of a burst is
# pushed at once, the rest in one notification (with their count) when the window ends.
COALESCE_SECONDS = 5.0
# Seconds a push service keeps an undelivered message (the TTL header): a mention an hour old
# is still worth seeing; a day old is not.
TTL = 3600
# Characters of message text in a notification (the whole payload must stay under 4 KiB).
MAX_BODY = 300
# Seconds the "last used" times of devices wait before they are written (one write per burst).
SAVE_DELAY = 30.0
