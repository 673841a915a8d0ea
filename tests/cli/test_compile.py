"""Atomic swaps under kill/interrupt, and the compile/export/demo/config commands end to end."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from ctsite.store import Store, versions
from tests.support.cli import cli_env, run_ctsite, start_ctsite, wait_while_running
from tests.support.components import unavailable
from tests.support.demo_truth import num_sig_i1


def ctsite(cwd: Path, *args: str, env: dict[str, str] | None = None, **kw):
    """`ctsite ARGS` of this checkout, with no CTSITE_* variable of the caller."""
    environ = cli_env(without=("CTSITE_",), **{"COLUMNS": "200", **(env or {})})
    return run_ctsite(*args, cwd=cwd, env=environ, timeout=180, **kw)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    result = ctsite(root, "demo", str(root / "d"))
    assert result.returncode == 0, result.stderr
    return root / "d"


def _interrupt_compile(demo_dir: Path, sig: int) -> subprocess.CompletedProcess[str] | int:
    env = cli_env(without=("CTSITE_",), CTSITE_COMPILE_BLOCK_ROWS="1")
    proc = start_ctsite(
        "-c", str(demo_dir / "ctsite.toml"), "compile", "--force", "-q", "-j", "1",
        cwd=demo_dir, env=env,
    )  # fmt: skip

    def writing() -> bool:
        return bool(list(demo_dir.glob("compiled/versions/.tmp-*/conditions/c1/*")))

    try:
        wait_while_running(proc, writing, "the compile started writing its first condition")
    except BaseException:
        proc.kill()
        raise
    proc.send_signal(sig)  # while it writes (a row block at a time)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_compile_leaves_the_old_store_intact(demo, sig):
    store_dir = demo / "compiled"
    for _ in range(3):  # a machine busy elsewhere can let the compile end before the signal lands
        before_pointer = (store_dir / "CURRENT").read_bytes()
        before_manifest = versions.manifest_path(store_dir).read_bytes()
        before = Store.open(store_dir).circos_table("highCIN_vs_lowCIN", 0.05)
        result = _interrupt_compile(demo, sig)
        if not (result.returncode == 0 and "compiled" in result.stdout):
            break
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert (store_dir / "CURRENT").read_bytes() == before_pointer
    assert versions.manifest_path(store_dir).read_bytes() == before_manifest
    pd.testing.assert_frame_equal(
        Store.open(store_dir).circos_table("highCIN_vs_lowCIN", 0.05), before
    )
    if sig == signal.SIGINT:
        assert not list(store_dir.glob("versions/.tmp-*")), "Ctrl-C must clean its temp dir"
    # The next compile cleans up whatever a killed one left and succeeds.
    again = ctsite(demo, "-c", str(demo / "ctsite.toml"), "compile", "--force", "-q")
    assert again.returncode == 0, again.stderr
    assert not list(store_dir.glob("versions/.tmp-*")) and not list(demo.glob(".compiled.*-*"))


def test_no_change_rerun_says_so(demo):
    result = ctsite(demo, "-c", str(demo / "ctsite.toml"), "compile")
    assert result.returncode == 0
    assert "up to date" in result.stdout


@pytest.mark.parametrize("fmt", ["csv", "tsv", "parquet"])
def test_export_tables(demo, tmp_path, fmt):
    cfg = ("-c", str(demo / "ctsite.toml"))
    out = tmp_path / f"circos.{fmt}"
    r = ctsite(demo, *cfg, "export", "circos", "--condition", "highCIN_vs_lowCIN",
               "--fdr", "0.1", "--format", fmt, "-o", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    frame = (
        pd.read_parquet(out) if fmt == "parquet"
        else pd.read_csv(out, sep="\t" if fmt == "tsv" else ",")
    )  # fmt: skip
    # the web CSV's columns (the Circos figure's nodes and chords; tests/web/test_downloads.py)
    assert list(frame.columns)[:3] == ["kind", "cell_type", "target"]
    assert {"ligand", "receptor", "numSigI1", "numDEG", "highlighted"} <= set(frame.columns)
    # numSigI1 from the input file itself (SPEC-data.md), not through the store reader
    expected = num_sig_i1(demo, "highCIN_vs_lowCIN", 0.1)
    nodes = frame[frame["kind"] == "node"]
    got = dict(zip(zip(nodes["cell_type"], nodes["target"], strict=True), nodes["numSigI1"]))
    assert got and got == {key: expected[key] for key in got}
    assert any(got.values())  # the threshold lets some effects through


def test_export_interactions_and_effects_to_stdout(demo):
    cfg = ("-c", str(demo / "ctsite.toml"))
    r = ctsite(demo, *cfg, "export", "interactions", "--cell-type", "Tumor cells",
               "--cell-type", "Macrophages/mMDSC")  # fmt: skip
    assert r.returncode == 0, r.stderr
    header = r.stdout.splitlines()[0].split(",")
    for col in ("ligand", "cell_type_ligand", "receptor", "cell_type_receptor", "numSigI1",
                "numDEG", "MAST_log2FC_ligand", "MAST_fdr_ligand", "expression_ligand",
                "expression_receptor"):  # fmt: skip
        assert col in header
    r = ctsite(demo, *cfg, "export", "ligand-effects", "--condition", "highCIN_vs_lowCIN",
               "--cell-type", "Macrophages/mMDSC", "--target", "ccr2", "--format", "tsv")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split("\t") == [
        "gene", "log2FC", "fdr", "i1.fdr", "gene_is_ligand", "gene_is_receptor",
        "gene_expression", "gene_max_ligand_expression",
    ]  # fmt: skip
    stored = r.stdout.splitlines()[1:]
    r = ctsite(demo, *cfg, "export", "ligand-effects", "--condition", "highCIN_vs_lowCIN",
               "--cell-type", "Macrophages/mMDSC", "--target", "ccr2", "--format", "tsv",
               "--all")  # fmt: skip
    assert r.returncode == 0, r.stderr
    every = r.stdout.splitlines()[1:]
    store = Store.open(demo / "compiled")
    assert len(every) == len(store.condition_genes("highCIN_vs_lowCIN")) > len(stored)
    assert set(stored) <= set(every)  # the stored rows are the full rows' drawable genes


def test_export_all_needs_the_unchanged_input(demo):
    cfg = ("-c", str(demo / "ctsite.toml"))
    args = ("export", "ligand-effects", "--condition", "highCIN_vs_lowCIN", "--cell-type",
            "Macrophages/mMDSC", "--target", "Ccr2", "--all")  # fmt: skip
    deg = demo / "deg_highCIN_vs_lowCIN.h5ad"
    moved = deg.with_name("moved.h5ad")
    deg.rename(moved)
    try:
        r = ctsite(demo, *cfg, *args)
    finally:
        moved.rename(deg)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "--all needs the DEG file" in r.stderr and "without --all" in r.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("circos", "--condition", "nope"), "unknown condition 'nope'"),
        (("circos", "--fdr", "0.3"), "FDR threshold 0.3 is not available"),
        (("ligand-effects", "--cell-type", "Tumor cells"), "needs one --cell-type and a --target"),
        (("ligand-effects", "--cell-type", "Tumor cells", "--target", "Zzz9"), "unknown gene"),
    ],
)
def test_export_errors(demo, args, needle):
    r = ctsite(demo, "-c", str(demo / "ctsite.toml"), "export", *args)
    assert r.returncode != 0
    assert needle in r.stderr and "Traceback" not in r.stderr


def test_demo_is_deterministic(tmp_path):
    from ctsite.compile.demo import write_demo

    write_demo(tmp_path / "one")
    write_demo(tmp_path / "two")
    import anndata as ad

    for name in ("deg_highCIN_vs_lowCIN.h5ad", "expression.h5ad"):
        a, b = ad.read_h5ad(tmp_path / "one" / name), ad.read_h5ad(tmp_path / "two" / name)
        assert a.obs.equals(b.obs)
        for layer in a.layers:
            diff = a.layers[layer] != b.layers[layer]
            assert (diff.nnz if hasattr(diff, "nnz") else diff.sum()) == 0
    assert (tmp_path / "one" / "interactions.tsv").read_bytes() == (
        tmp_path / "two" / "interactions.tsv"
    ).read_bytes()


def test_demo_has_signal_at_default_settings(demo):
    store = Store.open(demo / "compiled")
    combined = store.default_condition()
    assert combined.kind == "combined"
    circos = store.circos_table(combined.name, 0.25)
    receptors = circos[circos.receptor & (circos.numSigI1 >= 10)]
    ligands = circos[
        circos.ligand & (circos.MAST_fdr_all < 0.05) & circos.MAST_same_sign
        & (circos.MAST_log2FC.abs() > 0.12)
    ]  # fmt: skip
    assert len(receptors) > 10 and len(ligands) > 5
    effects = store.ligand_effects("highCIN_vs_lowCIN", "Macrophages/mMDSC", "Ccr2")
    assert (effects["i1.fdr"] < 0.05).sum() >= 6


def test_version_and_config_sources(tmp_path):
    r = ctsite(tmp_path, "--version")
    assert r.returncode == 0 and r.stdout.startswith("ctsite ")
    (tmp_path / "ctsite.toml").write_text('[aws]\nregion = "eu-west-1"\n[sftp]\nport = 2222\n')
    r = ctsite(tmp_path, "config", env={"CTSITE_SFTP_PORT": "2200"})
    assert r.returncode == 0, r.stderr
    lines = {line.split("│")[1].strip(): line for line in r.stdout.splitlines() if "│" in line}
    assert "'eu-west-1'" in lines["aws_region"] and "ctsite.toml" in lines["aws_region"]
    assert "2200" in lines["sftp_port"] and "CTSITE_SFTP_PORT" in lines["sftp_port"]
    assert (
        "'Contacttracingsite-env'" in lines["eb_environment"]
        and "default" in lines["eb_environment"]
    )
    assert "public.ecr.aws/d6q7u0s0/ct-site" in lines["image_repository"]


@pytest.mark.parametrize(
    ("toml", "env", "needle"),
    [
        ("nope = 1\n", {}, "unknown setting(s): nope"),
        ("sftp_port = 'abc'\n", {}, "sftp_port must be a whole number, got 'abc'"),
        ("", {"CTSITE_EB_TIMEOUT_MINUTES": "soon"}, "eb_timeout_minutes must be a whole number"),
        # a setting in its section is named as the file wrote it, in the words of TOML
        ("[site]\ntitle = 3\n", {}, "[site] title must be text (in quotes), got int 3"),
        ("[serve]\nport = 0\n", {}, "[serve] port = 0 is out of range (valid: 1..65535)"),
        ("[upload]\njobs = true\n", {}, "[upload] jobs must be a whole number, got bool True"),
        ("aws_region = [\n", {}, "not valid TOML"),
    ],
)
def test_config_errors(tmp_path, toml, env, needle):
    (tmp_path / "ctsite.toml").write_text(toml)
    r = ctsite(tmp_path, "config", env=env)
    assert r.returncode != 0 and needle in r.stderr and "Traceback" not in r.stderr


def test_cli_options_override_env_and_file(tmp_path):
    from ctsite.config import load_settings

    (tmp_path / "ctsite.toml").write_text("compile_jobs = 3\n")
    s = load_settings(root=tmp_path, environ={"CTSITE_COMPILE_JOBS": "4"})
    assert s.compile_jobs == 4 and s.sources["compile_jobs"] == "env CTSITE_COMPILE_JOBS"
    s = load_settings(
        root=tmp_path, environ={"CTSITE_COMPILE_JOBS": "4"}, overrides={"compile_jobs": 5}
    )
    assert s.compile_jobs == 5 and s.sources["compile_jobs"] == "command line"


@pytest.mark.parametrize(
    "args", [("export", "circos", "--fdr", "abc"), ("no-such-command",), ("compile", "--jobs", "x")]
)
def test_usage_errors_are_short_and_clean(tmp_path, args):
    r = ctsite(tmp_path, *args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "Usage:" in r.stderr


def test_dataset_spec_from_options_and_file(tmp_path):
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.errors import ConfigError

    table = {
        "interactions": "lr.tsv",
        "expression": "e.h5ad",
        "conditions": [{"name": "a", "file": "a.h5ad", "label": "A!", "fdr_column": "MAST_fdr_x"}],
    }
    spec = parse_data_spec(
        table, tmp_path, conditions=["a=other.h5ad", "b=b.h5ad"], combined=["a AND b"]
    )
    a, b = spec.conditions
    assert (a.file, a.label, a.fdr_column) == (tmp_path / "other.h5ad", "A!", "MAST_fdr_x")
    assert (b.name, b.label, b.fdr_column) == ("b", "b", None)
    assert spec.combined[0].name == "a AND b" and spec.combined[0].of == ("a", "b")
    for bad, needle in [
        ({**table, "conditions": {}}, "must be an array of tables"),
        ({**table, "conditions": [1]}, "[[data.conditions]] #1 must be a table"),
        ({**table, "conditions": [{"name": "a"}]}, "`file` is required"),
        ({**table, "conditions": [{"name": "a", "file": "x", "bogus": 1}]}, "unknown key(s) bogus"),
        ({**table, "combined": [{"of": ["a", "zz"]}]}, "unknown condition(s): zz"),
        ({**table, "combined": [{"of": ["a"]}]}, "needs at least two conditions"),
    ]:
        with pytest.raises(ConfigError, match=None) as info:
            parse_data_spec(bad, tmp_path)
        assert needle in info.value.message
    with pytest.raises(ConfigError):
        parse_data_spec(table, tmp_path, conditions=["no-equals-sign"])


def test_a_misspelt_data_key_gets_a_did_you_mean(tmp_path):
    """Like every other ctsite.toml key: `log2fc_colum` in [[data.conditions]] names the key
    it almost is (the settings' tables did; [data]'s said only which keys are allowed)."""
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.errors import ConfigError

    condition = {"name": "a", "file": "a.h5ad", "log2fc_colum": "MAST_log2FC_x"}
    for table, said in [
        ({"conditions": [condition]}, "unknown key(s) log2fc_colum; did you mean log2fc_column?"),
        ({"expresion": "e.h5ad"}, "unknown key(s) expresion; did you mean expression?"),
    ]:
        with pytest.raises(ConfigError) as info:
            parse_data_spec(table, tmp_path)
        assert said in info.value.message


@pytest.fixture
def fresh_demo(tmp_path) -> Path:
    """The demo inputs alone (not compiled), plus a file of the user's own."""
    result = ctsite(tmp_path, "demo", "--no-compile", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    (tmp_path / "demo" / "analysis-notes.md").write_text("notes\n")
    return tmp_path / "demo"


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_compile_out_refuses_a_folder_of_user_files(fresh_demo):
    before = _tree(fresh_demo)
    result = ctsite(fresh_demo, "compile", "-q", "--out", ".")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert str(fresh_demo) in result.stderr and "not a ctsite store" in result.stderr
    assert "analysis-notes.md" in result.stderr and "ctsite.toml" in result.stderr
    assert _tree(fresh_demo) == before  # nothing deleted, nothing left behind
    assert not list(fresh_demo.parent.glob(".demo.*-*"))


def test_compiled_dir_from_the_environment_is_checked_too(fresh_demo):
    results = fresh_demo / "results"
    results.mkdir()
    (results / "figure-1.pdf").write_bytes(b"%PDF")
    result = ctsite(fresh_demo, "compile", "-q", env={"CTSITE_COMPILED_DIR": "results"})
    assert result.returncode != 0 and "figure-1.pdf" in result.stderr
    assert (results / "figure-1.pdf").read_bytes() == b"%PDF"
    assert [p.name for p in results.iterdir()] == ["figure-1.pdf"]


def test_compile_out_refuses_an_existing_file(fresh_demo):
    target = fresh_demo / "store.txt"
    target.write_text("keep me")
    result = ctsite(fresh_demo, "compile", "-q", "--out", "store.txt")
    assert result.returncode != 0 and "is an existing file" in result.stderr
    assert target.read_text() == "keep me"
    assert not [p for p in fresh_demo.iterdir() if p.name.startswith(".store.txt")]


def test_compile_out_into_an_empty_folder_then_over_its_store(fresh_demo):
    (fresh_demo / "empty").mkdir()
    first = ctsite(fresh_demo, "compile", "-q", "--out", "empty")
    assert first.returncode == 0, first.stderr
    Store.open(fresh_demo / "empty")
    again = ctsite(fresh_demo, "compile", "-q", "--force", "--out", "empty")
    assert again.returncode == 0, again.stderr
    Store.open(fresh_demo / "empty")
    assert (fresh_demo / "analysis-notes.md").read_text() == "notes\n"


def test_error_text_with_brackets_prints_verbatim(fresh_demo):
    missing = "data[/x]/missing.tsv"
    result = ctsite(fresh_demo, "compile", "-q", "--interactions", missing)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "data[/x]/missing.tsv" in result.stderr.replace("\n", "")
    shown = ctsite(fresh_demo, "config")
    assert shown.returncode == 0 and "[data] section present" in shown.stdout


def test_print_error_and_warn_escape_markup(capsys):
    from ctsite.cli.console import print_error, warn
    from ctsite.errors import CtsiteError

    print_error(CtsiteError("cell type 'T cells [/CD8]' unknown", hint="see [data] [bold]x"))
    warn("a [red]file[/red] [/oops]")
    err = capsys.readouterr().err
    assert "T cells [/CD8]" in err and "see [data] [bold]x" in err
    assert "a [red]file[/red] [/oops]" in err


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (as root; skipped where mounting is not allowed)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True)  # fmt: skip
    if made.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_disk_full_is_one_line_and_leaves_nothing(fresh_demo, tiny_disk):
    result = ctsite(fresh_demo, "compile", "-q", "-j", "1", "--out", str(tiny_disk / "store"))
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert "no space left" in result.stderr and "hint:" in result.stderr
    assert list(tiny_disk.iterdir()) == []  # not even the lock file


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _wait_gone(pids: list[int], seconds: float = 20) -> list[int]:
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if Path(f"/proc/{p}").exists() and
                 "Z" not in Path(f"/proc/{p}/stat").read_text().split()[2]]  # fmt: skip
        time.sleep(0.1)
    return alive


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_the_compile(demo, sig):
    env = cli_env(without=("CTSITE_",), CTSITE_COMPILE_BLOCK_ROWS="1")
    proc = start_ctsite(
        "-c", str(demo / "ctsite.toml"), "compile", "--force", "-q", "-j", "2",
        cwd=demo, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline:
        if list(demo.glob("compiled/versions/.tmp-*/conditions/c1")):
            workers = _children(proc.pid)
            if len(workers) >= 2:
                break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    assert len(workers) >= 2, "the compile never started its workers"
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    assert not _wait_gone(workers), "worker processes outlived the compile"
    if sig == signal.SIGTERM:
        assert proc.returncode == 143, err
        assert "stopped by SIGTERM" in err and "Traceback" not in err
        assert not list(demo.glob("compiled/versions/.tmp-*")), "SIGTERM must clean the temp dir"
    again = ctsite(demo, "-c", str(demo / "ctsite.toml"), "compile", "-q")
    assert again.returncode == 0, again.stderr
