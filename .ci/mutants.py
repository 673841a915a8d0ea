"""Mutants the suite must kill: each is a deliberate bug in a safety rule, and the tests named
beside it must fail when it is planted. Run by `.ci/run` after the suite (a few minutes).

Each mutant is planted in a fresh copy of the checkout (never in this one), the named tests run
there, and the mutant must make them fail. Exit 1 when any mutant survives.
Usage: python .ci/mutants.py [NAME ...]   (default: all)
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


TEARDOWN = ("tests/deploy/test_upload.py",)
CONFIRM = (
    "tests/sftp/test_confirm.py",
    "tests/cli/test_upload_faults.py",
    "tests/cli/test_upload_verify.py",
)

MUTANTS = [
    Mutant(
        "upload: verification made a no-op",
        "ctsite/sftp/confirm.py",
        "    found = sftp.stat(path).st_size\n",
        "    return\n    found = sftp.stat(path).st_size\n",
        CONFIRM,
    ),
    Mutant(
        "upload: the SHA-256 read back is never compared",
        "ctsite/sftp/confirm.py",
        "    if sha256 is not None and remote_digest(sftp, path, size, on_bytes) != sha256:",
        "    if False:",
        CONFIRM,
    ),
    Mutant(
        "stray rule: tag present instead of ephemeral=true",
        "ctsite/aws/transfer.py",
        'return tags.get(TAG_EPHEMERAL) == "true"',
        "return TAG_EPHEMERAL in tags",
        TEARDOWN,
    ),
    Mutant(
        "stray rule: heartbeat ignored",
        "ctsite/aws/transfer.py",
        '_parse_time(tags.get(TAG_HEARTBEAT, "")),',
        "None,",
        TEARDOWN,
    ),
    Mutant(
        "stray rule: every tagged server is a stray",
        "ctsite/aws/transfer.py",
        "if include_live or not stray.is_alive(now):",
        "if True:",
        TEARDOWN,
    ),
    Mutant(
        "teardown: safety net removed before the server is deleted",
        "ctsite/aws/transfer.py",
        "    try:\n        delete_server(client, server.server_id, region, hourly_cost, net)\n",
        "    scheduler.disarm(client, server.server_id)\n"
        "    try:\n        delete_server(client, server.server_id, region, hourly_cost, net)\n",
        TEARDOWN,
    ),
    Mutant(
        "cleanup: safety net removed before the server is deleted",
        "ctsite/deploy/upload.py",
        "            transfer.delete_server(\n"
        "                client, server.server_id, s.aws_region, s.transfer_hourly_cost,"
        " server.safety_net\n"
        "            )\n"
        "            scheduler.disarm(client, server.server_id)",
        "            scheduler.disarm(client, server.server_id)\n"
        "            transfer.delete_server(\n"
        "                client, server.server_id, s.aws_region, s.transfer_hourly_cost,"
        " server.safety_net\n"
        "            )",
        TEARDOWN,
    ),
    Mutant(
        "upload lock: a live holder is broken instead of refused",
        "ctsite/sftp/lock.py",
        "            raise self._refusal(found, who)",
        "            pass",
        ("tests/cli/test_upload_lock.py",),
    ),
    Mutant(
        "upload lock: the holder check before the switch and the prune is a no-op",
        "ctsite/sftp/lock.py",
        "        if current is None or current.token != self.token:\n            by =",
        "        if False:\n            by =",
        ("tests/sftp/test_upload_lock.py",),
    ),
    Mutant(
        "deletion: a BotoCoreError is not caught",
        "ctsite/aws/transfer.py",
        "    except (botocore.exceptions.BotoCoreError, ResponseParserError) as exc:",
        "    except ResponseParserError as exc:",
        TEARDOWN,
    ),
]


def copy_checkout(dest: Path) -> Path:
    """The checkout's tracked files (plus the built web assets) in `dest`/work, with
    ../shared beside it as the tests expect."""
    work = dest / "work"
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        src = ROOT / name.decode()
        if src.is_file():
            (work / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, work / name.decode())
    vendor = ROOT / "ctsite" / "web" / "static" / "vendor"
    if vendor.is_dir():
        shutil.copytree(vendor, work / "ctsite" / "web" / "static" / "vendor")
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (dest / "shared").symlink_to(shared)
    return work


def pytest_in(work: Path, tests: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(work), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout.strip().splitlines() or [result.stderr.strip()[-300:] or "?"])[-1]


def run(mutant: Mutant) -> bool:
    """True when the mutant is killed (its tests fail with it planted)."""
    with tempfile.TemporaryDirectory(prefix="ctsite-mutant-") as tmp:
        work = copy_checkout(Path(tmp))
        path = work / mutant.file
        text = path.read_text()
        if text.count(mutant.old) != 1:
            print(f"  STALE  {mutant.name}: the code to mutate is not in {mutant.file} once")
            return False
        path.write_text(text.replace(mutant.old, mutant.new))
        result = pytest_in(work, list(mutant.tests))
    killed = result.returncode == 1  # tests failed (not: crashed, nothing collected)
    print(f"  {'killed' if killed else 'SURVIVED'}  {mutant.name}  ({last_line(result)})")
    return killed


def control(mutants: list[Mutant]) -> bool:
    """The same tests pass in an unmutated copy (so a kill means the mutant, not the copy)."""
    tests = sorted({t for m in mutants for t in m.tests})
    with tempfile.TemporaryDirectory(prefix="ctsite-mutant-") as tmp:
        result = pytest_in(copy_checkout(Path(tmp)), tests)
    print(f"  control (no mutant): {last_line(result)}")
    return result.returncode == 0


def main(names: list[str]) -> int:
    chosen = [m for m in MUTANTS if not names or m.name in names]
    print(f"planting {len(chosen)} mutant(s); each must make its tests fail")
    if not control(chosen):
        print("the tests fail without any mutant: fix them first")
        return 1
    survivors = [m.name for m in chosen if not run(m)]
    if survivors:
        print(f"{len(survivors)} mutant(s) survived: {', '.join(survivors)}")
        return 1
    print("every mutant was killed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
