"""Benchmark `ctsite upload-data`'s SFTP sync against OpenSSH's own `sftp put -r`, side by side.

Starts a real sshd on loopback (the same peer the tests use), builds a tree of ~2 GB in ~2,000
files, then measures: a full sync with ctsite (hashing included; every write's answer and each
file's size confirmed, as `upload-data` does outside a store), OpenSSH `sftp -b` `put -r` of
the same tree, and a no-change re-sync. Targets (issue 5): full sync ≥ 70 % of OpenSSH's
throughput; re-sync < 5 s with 0 bytes sent. One more full sync reads every file back and
checks its SHA-256 (what `upload-data` does for the files of a store version), for its price.

With `--study`, the publish of a compiled store at the real study's scale instead (the dataset of
`bench_compile.py`, generated once under benchmarks/out/): the first upload of the store, then an
update where one condition's results changed (recompiled), each through the same code path as
`ctsite upload-data` (`ctsite.sftp.publication.sync_to`: publish beside the live version,
verify, switch the pointer, prune; priced by `ctsite.deploy.upload.priced`), printing files and
bytes sent and read back, time, and what a full copy would send; the no-change re-run is timed
both ways: re-reading the version's files on the remote (the default) and with
`--trust-remote`.

    python benchmarks/bench_upload.py [--files 2000] [--mb 2048] [--jobs 4] [--rounds 2]
    python benchmarks/bench_upload.py --study [--jobs 4]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import paramiko

from ctsite.sftp import publish, sync
from ctsite.sftp.client import Endpoint, connect
from ctsite.sftp.manifest import MANIFEST, scan_local

HERE = Path(__file__).resolve().parent


def _peers():
    """The sshd helper of tests/support/fixtures_sftp.py (loaded by path: one test peer)."""
    path = HERE.parent / "tests" / "support" / "fixtures_sftp.py"
    spec = importlib.util.spec_from_file_location("upload_peers", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def make_tree(root: Path, files: int, total_mb: int) -> int:
    """~total_mb of incompressible data in `files` files of varied sizes, in a few folders."""
    pool = os.urandom(16 << 20)
    mean = total_mb * (1 << 20) // files
    total = 0
    for i in range(files):
        size = int(mean * (0.25 + 1.5 * ((i * 7919) % files) / files))
        folder = root / "compiled" / f"part{i % 8}"
        folder.mkdir(parents=True, exist_ok=True)
        start = (i * 104729) % (len(pool) - size) if size < len(pool) else 0
        (folder / f"table{i:05d}.parquet").write_bytes(pool[start : start + size])
        total += size
    return total


def ctsite_sync(
    endpoint: Endpoint, local: Path, jobs: int, read_back_all: bool = False
) -> tuple[float, int]:
    """A full sync as `upload-data` runs it on a tree without a store (or, `read_back_all`,
    reading every file back as it does a store version's files)."""
    started = time.perf_counter()
    first = connect(endpoint)
    local_files = scan_local(local, max(2, jobs), lazy=True)
    plan, manifest = sync.plan_remote(first, local_files, "ctsite", [""], local, max(2, jobs))
    result = sync.sync_tree(
        lambda: connect(endpoint),
        local,
        "ctsite",
        plan,
        manifest,
        jobs=jobs,
        main=first,
        read_back=sync.every_file if read_back_all else publish.read_back_rule(None),
    )
    return time.perf_counter() - started, result.bytes_sent


def openssh_put(sshd, key_file: Path, known_hosts: Path, local: Path) -> float:
    started = time.perf_counter()
    command = ["sftp", "-q", "-b", "-", "-i", str(key_file), "-P", str(sshd.port)]
    command += ["-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes"]
    subprocess.run(
        [*command, "root@127.0.0.1"],
        input=f"put -r {local} openssh\n",
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _bench_compile():
    path = HERE / "bench_compile.py"
    spec = importlib.util.spec_from_file_location("bench_compile", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def change_one_condition(source: Path, dest: Path) -> None:
    """A copy of a DEG file with new results in its first 500 rows (log2FC and i1.fdr)."""
    import h5py

    shutil.copyfile(source, dest)
    with h5py.File(dest, "r+") as f:
        for name, factor in (("log2FC", 1.25), ("fdr.i1", 0.5)):
            layer = f["layers"][name]
            rows = min(500, layer.shape[0])
            layer[:rows] = layer[:rows] * factor


def version_bytes(store: Path) -> int:
    """The bytes of the store's current version: its objects, each counted once."""
    from ctsite.store import versions

    files = versions.file_map(versions.current_manifest(store) or {}).values()
    return sum({e["object"]: e["size"] for e in files}.values())


def study(jobs: int) -> None:
    """First upload and a one-condition update of the study-scale store, as upload-data runs."""
    from ctsite.config import load_settings
    from ctsite.deploy import upload
    from ctsite.deploy.pricing import Rates
    from ctsite.deploy.reporter import NULL
    from ctsite.sftp import publication
    from ctsite.sftp.deletions import delete_scope

    bench = _bench_compile()
    dataset = HERE / "out" / "compile-11x1000x10000x50000"
    print(f"dataset: {dataset} (generated once)")
    bench.generate(dataset)
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        base = Path(tmp)
        project = base / "project"
        (project / "data").mkdir(parents=True)
        config = (dataset / "ctsite.toml").read_text().replace('compiled_dir = "compiled"\n', "")
        for name in ("interactions.tsv", "expression.h5ad", "deg_"):
            config = config.replace(f'"{name}', f'"{dataset}/{name}')
        toml = project / "ctsite.toml"
        toml.write_text('data_dir = "data"\ncompiled_dir = "data/compiled"\n' + config)

        def compile_store() -> float:
            started = time.perf_counter()
            cmd = [sys.executable, "-m", "ctsite", "compile", "-q", "--jobs", "2"]
            subprocess.run(cmd, cwd=project, check=True, stdout=subprocess.DEVNULL)
            return time.perf_counter() - started

        print(f"compile: {compile_store():.1f} s")
        sshd = _peers().start_sshd(base)
        try:
            key = paramiko.ECDSAKey.generate()
            sshd.authorize(f"{key.get_name()} {key.get_base64()}")
            endpoint = Endpoint("127.0.0.1", sshd.port, "root", key, sshd.fingerprint)
            environ = {"CTSITE_REMOTE_DATA_DIR": "data", "CTSITE_UPLOAD_JOBS": str(jobs)}
            s = load_settings(root=project, environ=environ)
            store_bytes = version_bytes(s.compiled_path)

            def publish(label: str, trust_remote: bool = False) -> None:
                started = time.perf_counter()
                local = scan_local(s.data_path, max(2, jobs), lazy=True)
                store = publication.store_rel(s.data_path, s.compiled_path)
                scope = delete_scope(None, store)
                planned, result, how = publication.sync_to(
                    endpoint,
                    local,
                    data=s.data_path,
                    store=store,
                    remote_root=s.remote_data_dir,
                    scope=scope,
                    jobs=jobs,
                    keep=s.compile_keep_versions,
                    stall_timeout=s.sftp_stall_timeout,
                    progress=NULL,
                    trust_remote=trust_remote,
                )
                seconds = time.perf_counter() - started
                plan = upload.priced(planned, Rates.of(s), offline=False)
                share = 100 * result.bytes_sent / store_bytes
                print(
                    f"{label}: sent {result.files_sent} file(s), {result.bytes_sent / 1e6:.1f} MB "
                    f"({share:.0f} % of the {store_bytes / 1e6:.1f} MB version), read back "
                    f"{result.files_read_back} file(s), {result.bytes_read_back / 1e6:.1f} MB "
                    f"(priced: +{plan.rehash_seconds:.1f} s, ${plan.rehash_cost:.4f} for the "
                    f"copies already there), {len(plan.deletions)} remote file(s) deleted, "
                    f"pointer switch: {how or '-'}, {seconds:.2f} s"
                )

            publish("first upload of the compiled store")
            second = "deg_highCIN_vs_noSTING.h5ad"
            changed = base / second
            change_one_condition(dataset / second, changed)
            toml.write_text(toml.read_text().replace(f'"{dataset}/{second}"', f'"{changed}"'))
            print(f"one condition changed ({second}); recompile: {compile_store():.1f} s")
            store_bytes = version_bytes(s.compiled_path)
            publish("update (one condition changed)")
            publish("no-change re-run")
            publish("no-change re-run, --trust-remote", trust_remote=True)
        finally:
            sshd.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--mb", type=int, default=2048)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--study", action="store_true", help="the study-scale publish case")
    args = parser.parse_args()
    if args.study:
        study(args.jobs)
        return
    if not shutil.which("sftp"):
        raise SystemExit("OpenSSH client `sftp` not found (apt-get install openssh-client)")

    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        base = Path(tmp)
        sshd = _peers().start_sshd(base)
        try:
            key = paramiko.ECDSAKey.generate()
            sshd.authorize(f"{key.get_name()} {key.get_base64()}")
            key_file = base / "id_ecdsa"  # only for the OpenSSH client, in a temp dir
            key.write_private_key_file(str(key_file))
            host_pub = (base / "sshd" / "host_ecdsa.pub").read_text()
            known = base / "known_hosts"
            known.write_text(f"[127.0.0.1]:{sshd.port} {host_pub}")
            endpoint = Endpoint("127.0.0.1", sshd.port, "root", key, sshd.fingerprint)
            local = base / "data"
            total = make_tree(local, args.files, args.mb)
            print(f"tree: {args.files} files, {total / 1e6:,.0f} MB; jobs={args.jobs}")

            ours, theirs = [], []
            for r in range(args.rounds):
                for name in ("ctsite", "openssh"):
                    shutil.rmtree(sshd.root / name, ignore_errors=True)
                (local / MANIFEST).unlink(missing_ok=True)
                # alternate who goes first, so a load change on the machine hits both sides
                if r % 2 == 0:
                    t_openssh = openssh_put(sshd, key_file, known, local)
                    t_ours, sent = ctsite_sync(endpoint, local, args.jobs)
                else:
                    t_ours, sent = ctsite_sync(endpoint, local, args.jobs)
                    t_openssh = openssh_put(sshd, key_file, known, local)
                assert sent == total, (sent, total)
                ours.append(total / t_ours / 1e6)
                theirs.append(total / t_openssh / 1e6)
                print(
                    f"round {r + 1}: ctsite {t_ours:6.2f} s {ours[-1]:7.1f} MB/s | "
                    f"openssh sftp put -r {t_openssh:6.2f} s {theirs[-1]:7.1f} MB/s | "
                    f"ratio {ours[-1] / theirs[-1]:.0%}"
                )
            shutil.rmtree(sshd.root / "ctsite", ignore_errors=True)
            (local / MANIFEST).unlink(missing_ok=True)
            t_all, sent = ctsite_sync(endpoint, local, args.jobs, read_back_all=True)
            assert sent == total, (sent, total)
            t_resync, sent = ctsite_sync(endpoint, local, args.jobs)
            paired = statistics.median(o / t for o, t in zip(ours, theirs, strict=True))
            print(f"full sync, best of {args.rounds}: ctsite {max(ours):.1f} MB/s, ", end="")
            print(f"openssh sftp put -r {max(theirs):.1f} MB/s ({max(ours) / max(theirs):.0%})")
            print(
                f"full sync reading every file back (SHA-256 confirmed, as a store's files): "
                f"{t_all:.2f} s, {total / t_all / 1e6:.1f} MB/s"
            )
            verdict = "PASS" if paired >= 0.7 else "FAIL"
            print(f"median of the paired per-round ratios: {paired:.0%} (target >= 70%) {verdict}")
            ok = t_resync < 5 and sent == 0
            print(
                f"no-change re-sync: {t_resync:.2f} s, {sent} bytes sent "
                f"(target < 5 s, 0 bytes) {'PASS' if ok else 'FAIL'}"
            )
            (local / MANIFEST).unlink()  # as on a fresh checkout: every file is hashed again
            t_cold, sent = ctsite_sync(endpoint, local, args.jobs)
            print(f"no-change re-sync without the local digest cache: {t_cold:.2f} s, {sent} bytes")
        finally:
            sshd.stop()


if __name__ == "__main__":
    main()
