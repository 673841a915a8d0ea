"""How many wrong access codes the gate checks: per client and per instance, counted exactly.

The counts live in one SQLite file per site in a private folder under the temporary directory
(`$TMPDIR/ctsite-<uid>/`, inside the container on EB: one per instance), so every gunicorn
worker and thread of the instance shares them; each change is one `BEGIN IMMEDIATE` transaction,
so two workers never both take the last free attempt. `SQLiteStorage` is a `limits` storage
(fixed and moving windows), read by `limits`' own moving-window strategy.

A login takes one entry in every limit *before* its code is verified (`LoginLimiter.reserve`)
and gives it back when the code was right (`release`): every wrong code is counted, however
many arrive at once, and right codes are free. The per-instance ceiling trades availability
for guess-resistance: while it is full no code is checked, right or wrong, so a guesser spread
over many addresses can keep new visitors out until its oldest failure leaves the window;
visitors already logged in are not affected (see README, "Access code").
"""

from __future__ import annotations

import math
import os
import sqlite3
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from limits import RateLimitItem, parse_many
from limits.storage import MovingWindowSupport, Storage
from limits.strategies import MovingWindowRateLimiter

from ctsite.errors import ConfigError

BUSY_TIMEOUT = 30.0  # seconds a worker waits for another's transaction (each takes ~1 ms)

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL,
                                     expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS entries (key TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS entries_by_key ON entries (key, at);
CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (expires);
"""


class SQLiteStorage(Storage, MovingWindowSupport):
    """A `limits` storage in one SQLite file, shared by every process that opens the same path.

    Each call opens its own connection (cheap, and safe across threads and forked workers).
    Expired rows are swept by the writes. Only for a local disk: SQLite's locks are not reliable
    on network file systems such as EFS.
    """

    STORAGE_SCHEME = None  # made with a path, not registered for storage URIs

    def __init__(self, path: Path, wrap_exceptions: bool = False) -> None:
        super().__init__(None, wrap_exceptions=wrap_exceptions)
        self.path = path
        with closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)

    def _write(self, db: sqlite3.Connection, now: float) -> None:
        """Start a write transaction (taking the file's lock now) and sweep expired rows."""
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM counters WHERE expires <= ?", (now,))
        db.execute("DELETE FROM entries WHERE expires <= ?", (now,))

    # --- fixed window ---
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with closing(self._connect()) as db:
            self._write(db, now)
            (count,) = db.execute(
                "INSERT INTO counters VALUES (?, ?, ?) ON CONFLICT (key) "
                "DO UPDATE SET count = count + excluded.count RETURNING count",
                (key, amount, now + expiry),
            ).fetchone()
            db.execute("COMMIT")
        return int(count)

    def get(self, key: str) -> int:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT count FROM counters WHERE key = ? AND expires > ?", (key, time.time())
            ).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT expires FROM counters WHERE key = ? AND expires > ?", (key, now)
            ).fetchone()
        return float(row[0]) if row else now

    def check(self) -> bool:
        try:
            with closing(self._connect()) as db:
                db.execute("SELECT count(*) FROM entries").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            removed = db.execute("DELETE FROM counters").rowcount
            removed += db.execute("DELETE FROM entries").rowcount
            db.execute("COMMIT")
        return removed

    def clear(self, key: str) -> None:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM counters WHERE key = ?", (key,))
            db.execute("DELETE FROM entries WHERE key = ?", (key,))
            db.execute("COMMIT")

    # --- moving window ---
    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with closing(self._connect()) as db:
            self._write(db, now)
            (taken,) = db.execute(
                "SELECT count(*) FROM entries WHERE key = ? AND at > ?", (key, now - expiry)
            ).fetchone()
            if taken + amount > limit:
                db.execute("COMMIT")
                return False
            db.executemany(
                "INSERT INTO entries VALUES (?, ?, ?)", [(key, now, now + expiry)] * amount
            )
            db.execute("COMMIT")
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(time of the oldest of the window's last `limit` entries, how many there are)."""
        now = time.time()
        with closing(self._connect()) as db:
            oldest, count = db.execute(
                "SELECT min(at), count(*) FROM (SELECT at FROM entries WHERE key = ? AND at > ? "
                "ORDER BY at DESC LIMIT ?)",
                (key, now - expiry, limit),
            ).fetchone()
        return (float(oldest), int(count)) if count else (now, 0)

    def release_entry(self, key: str, amount: int = 1) -> None:
        """Give back the newest `amount` entries of `key` (an attempt that should not count)."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "DELETE FROM entries WHERE rowid IN "
                "(SELECT rowid FROM entries WHERE key = ? ORDER BY at DESC LIMIT ?)",
                (key, amount),
            )
            db.execute("COMMIT")


@dataclass(frozen=True)
class Refusal:
    """A login refused before its code was checked: when to try again, and whose limit."""

    retry_after: int  # seconds
    instance_wide: bool  # the instance's ceiling (everyone), not this client's own limit


class LimiterUnavailable(Exception):
    """The counts cannot be read or written (the gate then checks no code: it fails closed)."""


def parse_rate(rate: str, setting: str) -> list[RateLimitItem]:
    """`"5/minute;30/hour"` as `limits` items; anything else is a configuration error."""
    hint = 'write it as "5/minute;30/hour" (attempts per period, ";" between limits)'
    try:
        items = list(parse_many(rate))
    except ValueError:
        raise ConfigError(f"{setting} {rate!r} is not a rate limit", hint=hint) from None
    if any(item.amount < 1 for item in items):
        raise ConfigError(f"{setting} {rate!r} allows no attempt at all", hint=hint)
    return items


class LoginLimiter:
    """Per-client and per-instance limits on the access codes the gate checks."""

    def __init__(
        self,
        storage: SQLiteStorage,
        per_client: list[RateLimitItem],
        per_instance: list[RateLimitItem],
    ) -> None:
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        self.limits = [(item, False) for item in per_client] + [
            (item, True) for item in per_instance
        ]

    def _keys(self, client: str) -> list[tuple[RateLimitItem, tuple[str, ...], bool]]:
        """(limit, its identifiers, whether it is the instance's) for one client."""
        return [
            (item, ("instance",) if everyone else ("client", client), everyone)
            for item, everyone in self.limits
        ]

    def reserve(self, client: str) -> Refusal | None:
        """Take one attempt from every limit for `client` before its code is checked; None
        when taken, else why not (the entries already taken are given back)."""
        taken: list[str] = []
        try:
            for item, ids, everyone in self._keys(client):
                if not self.strategy.hit(item, *ids):
                    for key in taken:
                        self.storage.release_entry(key)
                    reset = self.strategy.get_window_stats(item, *ids).reset_time
                    return Refusal(max(1, math.ceil(reset - time.time())), everyone)
                taken.append(item.key_for(*ids))
        except sqlite3.Error as error:
            raise LimiterUnavailable(str(error)) from error
        return None

    def release(self, client: str) -> None:
        """The code was right: give the attempt back to every limit."""
        try:
            for item, ids, _ in self._keys(client):
                self.storage.release_entry(item.key_for(*ids))
        except sqlite3.Error as error:
            raise LimiterUnavailable(str(error)) from error


def state_folder() -> Path:
    """This user's private folder for the counts: `<temp dir>/ctsite-<uid>` (mode 700)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"ctsite-{uid}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError as error:
        raise ConfigError(
            f"cannot create the folder for the login counts {folder}: {error.strerror}",
            hint="set TMPDIR to a writable local folder",
        ) from None
    if not folder.is_dir() or folder.is_symlink() or (hasattr(os, "getuid") and info.st_uid != uid):
        raise ConfigError(
            f"{folder} (the folder for the login counts) is not a folder of this user",
            hint="remove it, or set TMPDIR to a private local folder",
        )
    if info.st_mode & 0o077:
        folder.chmod(0o700)
    return folder


def login_limiter(site_id: str, client_rate: str, instance_rate: str) -> LoginLimiter:
    """The limiter of one site (`site_id`: a digest of its key and code, so two sites on one
    machine never share counts); `instance_rate` "" means no ceiling."""
    per_client = parse_rate(client_rate, "site_login_rate")
    per_instance = parse_rate(instance_rate, "site_login_global_rate") if instance_rate else []
    path = state_folder() / f"login-{site_id}.sqlite3"
    try:
        storage = SQLiteStorage(path)
    except sqlite3.Error as error:
        raise ConfigError(
            f"cannot open the login counts {path}: {error}",
            hint="set TMPDIR to a writable local folder (not a network file system)",
        ) from None
    return LoginLimiter(storage, per_client, per_instance)
