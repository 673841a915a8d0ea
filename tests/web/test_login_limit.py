"""The SQLite storage behind the login limit, driven by `limits`' own strategies: two storages
on one file (two gunicorn workers) see the same counts; entries given back no longer count."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from ctsite.errors import ConfigError
from ctsite.web.login_limit import LoginLimiter, SQLiteStorage, parse_rate, state_folder


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


def _take(path: str) -> bool:
    return (
        LoginLimiter(SQLiteStorage(Path(path)), parse_rate("7/minute", "rate"), []).reserve(
            "10.0.0.1"
        )
        is None
    )


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
    assert limiter.reserve("a") is None and limiter.reserve("b") is None
    refusal = limiter.reserve("c")
    assert refusal is not None and refusal.instance_wide and 3500 < refusal.retry_after <= 3600
    client = parse_rate("5/minute", "r")[0]
    assert MovingWindowRateLimiter(storage).get_window_stats(client, "client", "c").remaining == 5
    limiter.release("a")  # a right code: the instance has room again
    assert limiter.reserve("c") is None


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
