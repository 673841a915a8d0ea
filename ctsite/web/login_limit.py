"""How many wrong access codes the gate checks: per client and per instance, counted exactly.

The counts live in one SQLite file per site in a private folder under the temporary directory
(`$TMPDIR/ctsite-<uid>/`, inside the container on EB: one per instance), so every gunicorn
worker and thread of the instance shares them; each change is one `BEGIN IMMEDIATE` transaction,
so two workers never both take the last free attempt. `SQLiteStorage` is a `limits` storage
(fixed and moving windows), read by `limits`' own moving-window strategy.

A login takes one entry in every limit *before* its code is verified (`LoginLimiter.reserve`)
and gives back what it took when the code was right (`release`): every wrong code is counted,
however many arrive at once, and right codes are free. A client is its address, an IPv6 address
its /64 (one subscriber's network: otherwise one machine would be 2^64 clients).

The per-instance ceiling must not lock out an honest visitor. While it is full, a client with no
attempt counted in the ceiling's window (its longest, if several: an hour by default) still has
one code checked (`Reservation.beyond_ceiling`); a client that failed within the window waits
until that failure leaves it (or the ceiling has room). Guarantees, the per-client limit
applying throughout:
- a visitor typing the right code from an address (IPv6: a /64) that has not failed within the
  window gets in, whatever others are doing;
- all clients together get at most the ceiling's count of checked wrong codes per window, plus
  one per client (address, IPv6 /64) that had none counted in the window before it;
- a right code takes nothing from anyone (what it took is given back).
Visitors already logged in are not affected by any of it (see README, "Access code").
"""

from __future__ import annotations

import ipaddress
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

    def add_entry(self, key: str, expiry: int) -> None:
        """Record one entry of `key` for `expiry` seconds (no limit: a record, not a check)."""
        now = time.time()
        with closing(self._connect()) as db:
            self._write(db, now)
            db.execute("INSERT INTO entries VALUES (?, ?, ?)", (key, now, now + expiry))
            db.execute("COMMIT")


@dataclass(frozen=True)
class Refusal:
    """A login refused before its code was checked: when to try again, and whose limit."""

    retry_after: int  # seconds
    instance_wide: bool  # the instance's ceiling (everyone), not this client's own limit


@dataclass(frozen=True)
class Reservation:
    """The attempt a login took, before its code is checked: `release` gives it back."""

    keys: tuple[str, ...]  # one entry taken in each
    beyond_ceiling: bool  # the client's one attempt while the ceiling is full


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


def client_key(address: str) -> str:
    """Who a login is from: an IPv4 address as it is, an IPv6 address as its /64 (an IPv4
    address mapped into IPv6 as the IPv4 address); anything else as written."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class LoginLimiter:
    """Per-client and per-instance limits on the access codes the gate checks (see the module's
    docstring for what the ceiling guarantees)."""

    def __init__(
        self,
        storage: SQLiteStorage,
        per_client: list[RateLimitItem],
        per_instance: list[RateLimitItem],
    ) -> None:
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        self.per_client = per_client
        self.per_instance = per_instance
        # a client's attempts within this window cost it its attempt beyond a full ceiling
        self.window = max((item.get_expiry() for item in per_instance), default=0)

    def _retry_after(self, item: RateLimitItem, *ids: str) -> float:
        return self.strategy.get_window_stats(item, *ids).reset_time - time.time()

    def _give_back(self, keys: list[str]) -> None:
        for key in keys:
            self.storage.release_entry(key)

    def reserve(self, client: str) -> Reservation | Refusal:
        """Take one attempt for the client at address `client` before its code is checked:
        from each of its own limits, then from the ceiling, or, when the ceiling is full, its
        one attempt beyond it. Refused: why and for how long (what was taken is given back)."""
        who = client_key(client)
        recent = f"ctsite/recent/{who}"  # the client's attempts in the ceiling's window
        taken: list[str] = []
        try:
            for item in self.per_client:
                if not self.strategy.hit(item, "client", who):
                    self._give_back(taken)
                    return _refusal(self._retry_after(item, "client", who), False)
                taken.append(item.key_for("client", who))
            mine = list(taken)
            for item in self.per_instance:
                if not self.strategy.hit(item, "instance"):
                    self._give_back(taken[len(mine) :])
                    if self.storage.acquire_entry(recent, 1, self.window):
                        return Reservation((*mine, recent), beyond_ceiling=True)
                    self._give_back(mine)
                    newest, _ = self.storage.get_moving_window(recent, 1, self.window)
                    wait = min(
                        self._retry_after(item, "instance"), newest + self.window - time.time()
                    )
                    return _refusal(wait, True)
                taken.append(item.key_for("instance"))
            if self.per_instance:
                self.storage.add_entry(recent, self.window)
                taken.append(recent)
        except sqlite3.Error as error:
            raise LimiterUnavailable(str(error)) from error
        return Reservation(tuple(taken), beyond_ceiling=False)

    def release(self, reservation: Reservation) -> None:
        """The code was right: give back what its attempt took."""
        try:
            self._give_back(list(reservation.keys))
        except sqlite3.Error as error:
            raise LimiterUnavailable(str(error)) from error


def _refusal(seconds: float, instance_wide: bool) -> Refusal:
    return Refusal(max(1, math.ceil(seconds)), instance_wide)


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
