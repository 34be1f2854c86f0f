"""The token bucket of CTCP replies (take: reply or drop) and of listener clients' lines (wait:
read later, never drop)."""

from __future__ import annotations

import pytest

from convos.core import bucket
from convos.core.bucket import TokenBucket


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [100.0]
    monkeypatch.setattr(bucket.time, "monotonic", lambda: now[0])
    return now


def test_take_drops_past_the_burst_until_it_refills(clock: list[float]) -> None:
    b = TokenBucket(2, 0.5)  # two at once, then one every 2 s
    assert [b.take(), b.take(), b.take()] == [True, True, False]
    clock[0] += 1.9
    assert b.take() is False
    clock[0] += 0.2
    assert b.take() is True and b.take() is False
    clock[0] += 100
    assert [b.take(), b.take(), b.take()] == [True, True, False]  # never more than the burst


def test_wait_spaces_lines_past_the_burst(clock: list[float]) -> None:
    b = TokenBucket(3, 10.0)
    assert [b.wait() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert [round(b.wait(), 3) for _ in range(3)] == [0.1, 0.2, 0.3]  # each paid for in turn
    clock[0] += 0.3
    assert b.wait() == pytest.approx(0.1)
