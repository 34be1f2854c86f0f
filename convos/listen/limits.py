"""The limits of the IRC listener (docs/security.md, Limits): what one client may send and be sent."""

from __future__ import annotations

# One line from a client, tags included (IRCv3: 4096 bytes of tags + 512 of message). Longer
# lines are dropped and answered with 417.
MAX_LINE = 4096 + 512
# Lines a client may send at once, then LINE_RATE a second: past that its socket is read slower
# (TCP pushes back on it), and nobody else waits.
LINE_BURST = 40
LINE_RATE = 10.0
# Commands of one client waiting to go to the network; the socket is not read while it is full.
PENDING_COMMANDS = 64
# Bytes written to a client and not yet taken by it: past this the client is too slow and is
# disconnected (it reattaches and asks for the history it missed).
MAX_WRITE_BUFFER = 1024 * 1024
# Events of its user queued for one client; more, and the client is disconnected the same way.
EVENT_QUEUE = 4000
# Seconds a new client has to sign in and register.
REGISTRATION_TIMEOUT = 60.0
# Clients of one address that have not signed in yet, and clients attached per user.
PENDING_PER_ADDRESS = 8
CLIENTS_PER_USER = 32
