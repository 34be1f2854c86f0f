#!/usr/bin/env python3
"""Generate a CONVOS_HOME with realistic chat logs for benchmarks (deterministic, seeded).

    python bench/gen_home.py /tmp/bench-home              # ~1 GB, one ~300 MB month of #big
    python bench/gen_home.py /tmp/small --size 60M --big 20M

Writes one user (bench@example.com, password `benchmark-password` when argon2-cffi is
installed), one connection `irc-bench` with a dozen conversations over 12 months, server logs,
a notifications.log, and `bench.json` describing what the benchmark should look for.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

EMAIL = "bench@example.com"
CONNECTION = "irc-bench"
BIG = "#big"
OTHERS = ["#convos", "#python", "#random", "#help", "#with/slash", "#ops", "#music", "alice", "bob", "carol"]
RARE = "xylophonist"  # appears a handful of times, only where the generator puts it
COMMON = "the"
LAST_MONTH = (2026, 11)
BIG_MONTH = (2026, 10)

ENGLISH = ["the", "be", "to", "of", "and", "a", "in", "that", "have", "I", "it", "for", "not", "on", "with", "he", "as", "you", "do", "at", "this", "but", "his", "by", "from", "they", "we", "say", "her", "she", "or", "an", "will", "my", "one", "all", "would", "there", "their", "what", "so", "up", "out", "if", "about", "who", "get", "which", "go", "me", "when", "make", "can", "like", "time", "no", "just", "him", "know", "take", "people", "into", "year", "your", "good", "some", "could", "them", "see", "other", "than", "then", "now", "look", "only", "come", "its", "over", "think", "also", "back", "after", "use", "two", "how", "our", "work", "first", "well", "way", "even", "new", "want", "because", "any", "these", "give", "day", "most", "us", "is", "are", "was", "were", "been", "has", "had", "did", "does", "lol", "yes", "ok", "thanks", "hi", "hey", "sure", "ping", "build", "test", "merge", "release", "bug", "fix", "patch", "server", "client", "channel", "nick", "log", "irc", "convos"]
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "pa", "qu", "or", "an", "el", "ix", "um", "be", "da", "fo", "gu", "hi", "ja"]


def size_arg(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().rstrip("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    words = list(ENGLISH)
    while len(words) < 6000:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if RARE not in word and COMMON not in word:
            words.append(word)
    # Zipf-like: the n-th word is 1/n as likely as the first
    weights = [1 / (n + 1) for n in range(len(words))]
    cum, total = [], 0.0
    for w in weights:
        total += w
        cum.append(total)
    return words, cum


def body_pool(rng: random.Random, n: int) -> list[str]:
    words, cum = vocabulary(rng)
    extras = [
        "æøå",
        "ÆØÅ",
        "🚀",
        "☕",
        "\x02bold\x02",
        "\x0304red\x03",
        "https://convos.chat/doc",
        "naïve",
        "straße",
    ]
    pool = []
    for _ in range(n):
        text = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(2, 18)))
        if rng.random() < 0.04:
            text += " " + rng.choice(extras)
        pool.append(text)
    return pool


NICKS = [
    f"{p}{s}"
    for p in ("jimmy", "Supergirl", "alice", "bob", "carol", "dave", "eve", "mallory")
    for s in ("", "_", "2")
]
TIMES = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


def write_log(
    path: Path, rng: random.Random, pool: list[str], start: datetime, end: datetime, size: int, rare: int
) -> tuple[int, int]:
    """Lines from `start` spread until about `end`, until the file holds `size` bytes."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    avg = 31 + sum(len(b.encode()) for b in pool[:2000]) // 2000  # ts, flag, nick and body
    lines_wanted = max(1, size // avg)
    rare_at = set(rng.sample(range(lines_wanted), min(rare, lines_wanted)))
    t = float(start.timestamp())  # fractional, so small average gaps add up
    limit = int(end.timestamp()) - 1
    written = count = 0
    day_key, day_prefix = None, ""
    with open(path, "wb", buffering=0) as fh:
        os.chmod(path, 0o600)
        while written < size:
            out = []
            k = min(20000, (size - written) // avg + 1)
            # pace the clock so the lines left fill the time left (average gap, jittered)
            gap = max(0.0, (limit - t) / max(1, (size - written) // avg))
            gaps = [gap * f for f in (0, 0.2, 0.6, 1, 1.4, 1.8, 2)]
            for g, body, nick, r in zip(
                rng.choices(gaps, k=k),
                rng.choices(pool, k=k),
                rng.choices(NICKS, k=k),
                [rng.random() for _ in range(k)],
                strict=True,
            ):
                t = min(t + g, limit)
                sec = int(t)
                day = sec // 86400
                if day != day_key:
                    day_key, day_prefix = day, time.strftime("%Y-%m-%dT", time.gmtime(sec))
                if count in rare_at:
                    body = f"{body} {RARE} {body}"
                ts = day_prefix + TIMES[sec % 86400]
                if r < 0.86:
                    line = f"{ts} 0 <{nick}> {body}\n"
                elif r < 0.91:
                    line = f"{ts} 0 * {nick} {body}\n"
                elif r < 0.94:
                    line = f"{ts} 0 -{nick}- {body}\n"
                elif r < 0.95:
                    line = f"{ts} 1 <{nick}> bench: {body}\n"
                else:
                    line = f"{ts} 0 <{nick}> {COMMON} {body}\n"
                out.append(line)
                count += 1
            data = "".join(out).encode()
            fh.write(data)
            written += len(data)
            avg = max(1, written // count)
    return written, count


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def months_back(last: tuple[int, int], n: int) -> list[tuple[int, int]]:
    y, m = last
    out = []
    for _ in range(n):
        out.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def user_json() -> dict:
    password = ""
    try:
        from argon2 import PasswordHasher

        password = PasswordHasher(memory_cost=65536, time_cost=3, parallelism=1).hash("benchmark-password")
    except ImportError:
        pass
    return {
        "email": EMAIL,
        "highlight_keywords": [],
        "password": password,
        "registered": "2025-11-01T00:00:00Z",
        "remote_address": "127.0.0.1",
        "roles": ["admin"],
        "uid": "1",
        "unread": 0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("home", type=Path)
    ap.add_argument("--size", type=size_arg, default=size_arg("1G"), help="total log bytes (default 1G)")
    ap.add_argument("--big", type=size_arg, default=size_arg("300M"), help="bytes in the big month (300M)")
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()
    user_dir = args.home / EMAIL
    conn = user_dir / CONNECTION
    conn.mkdir(parents=True, exist_ok=True, mode=0o700)
    pool = body_pool(rng, 50_000)
    total = 0

    start, end = month_bounds(*BIG_MONTH)
    big_path = conn / f"{BIG_MONTH[0]:04d}/{BIG_MONTH[1]:02d}/{BIG}.log"
    n, lines = write_log(big_path, rng, pool, start, end, args.big, rare=7)
    total += n

    notifications = min(8 << 20, args.size // 100)
    rest = max(0, args.size - args.big - notifications)
    months = months_back(LAST_MONTH, 12)
    files = [(m, cid) for m in months for cid in [*OTHERS, BIG, ""] if (m, cid) != (BIG_MONTH, BIG)]
    weights = [rng.uniform(0.2, 2.0) * (0.3 if cid == "" else 1) for _, cid in files]
    scale = rest / sum(weights)
    for ((y, m), cid), w in zip(files, weights, strict=True):
        start, end = month_bounds(y, m)
        name = f"{y:04d}/{m:02d}.log" if cid == "" else f"{y:04d}/{m:02d}/{cid.replace('/', '%2F')}.log"
        n, _ = write_log(conn / name, rng, pool, start, end, max(1000, int(w * scale)), rare=1)
        total += n

    note_lines = []
    t = datetime(*months[0], 1, tzinfo=UTC)
    note_size = 0
    while note_size < notifications:
        t += timedelta(seconds=rng.randint(30, 3600))
        line = f"{t:%Y-%m-%dT%H:%M:%S} {CONNECTION} {rng.choice(OTHERS[:6])} <{rng.choice(NICKS)}> bench: {rng.choice(pool)}\n"
        note_lines.append(line)
        note_size += len(line.encode())
    (user_dir / "notifications.log").write_text("".join(note_lines), "utf-8")
    total += note_size

    (user_dir / "user.json").write_text(json.dumps(user_json(), sort_keys=True))
    conversations = [
        {
            "connection_id": CONNECTION,
            "conversation_id": cid,
            "frozen": "",
            "info": {},
            "name": cid,
            "notifications": 0,
            "password": "",
            "topic": "",
            "unread": 0,
        }
        for cid in [BIG, *OTHERS]
    ]
    (conn / "connection.json").write_text(
        json.dumps(
            {
                "connection_id": CONNECTION,
                "conversations": conversations,
                "info": {"authenticated": False, "capabilities": {}},
                "name": "bench",
                "on_connect_commands": [],
                "service_accounts": ["chanserv", "nickserv"],
                "url": "irc://127.0.0.1:1/%23big?nick=bench&tls=0",
                "wanted_state": "disconnected",
            },
            sort_keys=True,
        )
    )
    info = {
        "email": EMAIL,
        "connection_id": CONNECTION,
        "big_conversation": BIG,
        "big_file": str(big_path.relative_to(args.home)),
        "big_month": list(BIG_MONTH),
        "big_lines": lines,
        "conversations": [BIG, *OTHERS],
        "rare_word": RARE,
        "common_word": COMMON,
        "now": "2026-12-01T00:00:00",
        "total_bytes": total,
        "seed": args.seed,
    }
    (args.home / "bench.json").write_text(json.dumps(info, indent=2))
    print(
        f"wrote {total / 1e6:.0f} MB ({args.big / 1e6:.0f} MB in {big_path.name}) in {time.monotonic() - started:.1f}s"
    )


if __name__ == "__main__":
    main()
