"""The SQLite storage behind the login limit, driven by `limits`' own strategies: two storages
on one file (two gunicorn workers) see the same counts; entries given back no longer count."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from ctsite.errors import ConfigError
from ctsite.web.login_limit import (
    LoginLimiter,
    Refusal,
    Reservation,
    SQLiteStorage,
    client_key,
    parse_rate,
    state_folder,
)


def test_moving_window_shared_by_two_storages(tmp_path: Path) -> None:
    first, second = SQLiteStorage(tmp_path / "c.sqlite3"), SQLiteStorage(tmp_path / "c.sqlite3")
    limit = parse("3/minute")
    a, b = MovingWindowRateLimiter(first), MovingWindowRateLimiter(second)
    assert [a.hit(limit, "x"), b.hit(limit, "x"), a.hit(limit, "x")] == [True] * 3
    assert not b.hit(limit, "x") and not a.test(limit, "x")
    assert b.hit(limit, "y")  # another key is not affected
    assert b.get_window_stats(limit, "x").remaining == 0
    first.release_entry(limit.key_for("x"))
    assert b.hit(limit, "x") and not a.hit(limit, "x")
    second.clear(limit.key_for("x"))
    assert a.get_window_stats(limit, "x").remaining == 3


def test_fixed_window_counters(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "c.sqlite3")
    limit = parse("2/hour")
    strategy = FixedWindowRateLimiter(storage)
    assert strategy.hit(limit, "k") and strategy.hit(limit, "k") and not strategy.hit(limit, "k")
    assert storage.get(limit.key_for("k")) == 3 and storage.get("other") == 0
    assert storage.get_expiry(limit.key_for("k")) > storage.get_expiry("other")
    assert storage.check() and storage.reset() == 1
    assert strategy.hit(limit, "k")


def _take(path: str, instance_rate: str = "") -> bool:
    instance = parse_rate(instance_rate, "rate") if instance_rate else []
    limiter = LoginLimiter(SQLiteStorage(Path(path)), parse_rate("7/minute", "rate"), instance)
    return isinstance(limiter.reserve("10.0.0.1"), Reservation)


def test_reservations_from_many_processes_are_exact(tmp_path: Path) -> None:
    """24 simultaneous attempts from four processes: exactly the 7 allowed are taken."""
    path = str(tmp_path / "c.sqlite3")
    SQLiteStorage(Path(path))
    with ProcessPoolExecutor(max_workers=4) as pool:
        taken = list(pool.map(_take, [path] * 24))
    assert taken.count(True) == 7


def test_a_refused_reservation_gives_back_what_it_took(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "c.sqlite3")
    limiter = LoginLimiter(storage, parse_rate("5/minute", "r"), parse_rate("2/hour", "r"))
    first = limiter.reserve("a")
    assert isinstance(first, Reservation) and isinstance(limiter.reserve("b"), Reservation)
    assert isinstance(limiter.reserve("c"), Reservation)  # c's one attempt beyond the ceiling
    refusal = limiter.reserve("c")
    assert isinstance(refusal, Refusal)
    assert refusal.instance_wide and 3500 < refusal.retry_after <= 3600
    client = parse_rate("5/minute", "r")[0]
    assert MovingWindowRateLimiter(storage).get_window_stats(client, "client", "c").remaining == 4
    limiter.release(first)  # a right code: the instance has room again
    assert isinstance(limiter.reserve("a"), Reservation)


def test_state_folder_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = state_folder()
    assert folder.parent == tmp_path and folder.stat().st_mode & 0o077 == 0
    folder.rmdir()
    folder.symlink_to(tmp_path)
    with pytest.raises(ConfigError, match="not a folder of this user"):
        state_folder()
    assert os.path.islink(folder)


def test_beyond_a_full_ceiling_one_attempt_per_fresh_client_per_window(tmp_path: Path) -> None:
    """While the ceiling is full, a client with no attempt counted in the ceiling's window gets
    exactly one; a client that failed within it gets none; a right code gives back exactly what
    its attempt took (never another client's entry of the ceiling)."""
    storage = SQLiteStorage(tmp_path / "c.sqlite3")
    limiter = LoginLimiter(storage, parse_rate("5/minute", "r"), parse_rate("2/hour", "r"))
    ceiling = parse_rate("2/hour", "r")[0]
    assert all(isinstance(limiter.reserve(c), Reservation) for c in ("a", "b"))
    assert isinstance(limiter.reserve("a"), Refusal)  # a failed within the hour
    fresh = limiter.reserve("c")
    assert isinstance(fresh, Reservation) and fresh.beyond_ceiling
    limiter.release(fresh)  # c's code was right
    assert MovingWindowRateLimiter(storage).get_window_stats(ceiling, "instance").remaining == 0
    again = limiter.reserve("c")  # given back: c is fresh again
    assert isinstance(again, Reservation) and again.beyond_ceiling
    refusal = limiter.reserve("c")
    assert isinstance(refusal, Refusal) and 3500 < refusal.retry_after <= 3600


def test_one_attempt_beyond_the_ceiling_however_many_processes_ask(tmp_path: Path) -> None:
    """24 simultaneous attempts of one fresh client over four processes, the ceiling full:
    exactly one is taken."""
    path = str(tmp_path / "c.sqlite3")
    assert _take(path, "1/hour")  # 10.0.0.1 fills the ceiling
    with ProcessPoolExecutor(max_workers=4) as pool:
        taken = list(pool.map(_take_fresh, [path] * 24))
    assert taken.count(True) == 1


def _take_fresh(path: str) -> bool:
    limiter = LoginLimiter(
        SQLiteStorage(Path(path)), parse_rate("30/minute", "r"), parse_rate("1/hour", "r")
    )
    return isinstance(limiter.reserve("10.0.0.2"), Reservation)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:0:7::1", "2001:db8:0:7::/64"),
        ("2001:DB8:0:7:ffff:1:2:3", "2001:db8:0:7::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("not an address", "not an address"),
    ],
)
def test_a_client_is_an_ipv4_address_or_an_ipv6_64(address: str, key: str) -> None:
    assert client_key(address) == key
