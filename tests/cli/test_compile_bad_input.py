"""Bad input: one clear line, a non-zero exit, no traceback, and the previous store untouched."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from ctsite.store import versions
from tests.support import cli
from tests.support.datasets import build_small_dataset


def run_ctsite(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ctsite ARGS` of this checkout in `root`, with no CTSITE_* variable of the caller."""
    return cli.run_ctsite(
        *args, cwd=root, env=cli.cli_env(without=("CTSITE_",), COLUMNS="200"), timeout=120
    )


@pytest.fixture
def compiled(small_dataset):
    """A project whose store was compiled once; yields (root, manifest bytes)."""
    root = small_dataset()
    result = run_ctsite(root, "compile", "-q", "-j", "1")
    assert result.returncode == 0, result.stderr
    return root, versions.manifest_path(root / "out").read_bytes()


def assert_clean_failure(root: Path, before: bytes, *needles: str) -> str:
    result = run_ctsite(root, "compile", "-q", "-j", "1")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert "error:" in output
    assert not re.search(r"\bnp\.\w+\(", output), "a numpy repr in the message"
    for needle in needles:
        assert needle in output, (needle, output)
    assert versions.manifest_path(root / "out").read_bytes() == before
    assert not list(root.glob(".out.tmp-*")), "temporary directory left behind"
    assert not list(root.glob("out/versions/.tmp-*")), "temporary version left behind"
    return output


def test_missing_file(compiled):
    root, before = compiled
    (root / "deg_b.h5ad").unlink()
    assert_clean_failure(root, before, "not found", "deg_b.h5ad")


def test_not_hdf5(compiled):
    root, before = compiled
    (root / "deg_a.h5ad").write_text("cell type,target\nT,L1\n")
    assert_clean_failure(root, before, "not an HDF5/AnnData", "deg_a.h5ad")


def test_truncated_file(compiled):
    root, before = compiled
    data = (root / "deg_a.h5ad").read_bytes()
    (root / "deg_a.h5ad").write_bytes(data[: len(data) // 2])
    assert_clean_failure(root, before, "deg_a.h5ad", "truncated")


def test_missing_obs_column_lists_what_is_there(small_dataset):
    root = small_dataset(deg_a={"drop_obs": ("DA_score",)})
    out = run_ctsite(root, "compile", "-q", "-j", "1")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "'DA_score'" in out.stderr and "obs has:" in out.stderr and "cell_type_dc1" in out.stderr


def test_missing_layer_lists_layers(compiled):
    root, before = compiled
    with h5py.File(root / "deg_a.h5ad", "a") as f:
        del f["layers/fdr.i1"]
    assert_clean_failure(root, before, "fdr.i1", "layers present:", "pval")


def test_layer_shape_mismatch(compiled):
    root, before = compiled
    with h5py.File(root / "deg_a.h5ad", "a") as f:
        del f["layers/fdr"]
        f["layers"].create_dataset("fdr", data=np.zeros((6, 4)))
    assert_clean_failure(root, before, "layer fdr has shape 6×4", "6×6")


def test_targets_absent_from_interactions(compiled):
    root, before = compiled
    (root / "lr.tsv").write_text("ligand\treceptor\nL1\tR1\n")
    assert_clean_failure(root, before, "not in the ligand–receptor list", "B")


def test_cell_types_differ_between_files(compiled):
    root, before = compiled
    import anndata as ad

    adata = ad.read_h5ad(root / "expr.h5ad")
    adata.obs["Cell Type"] = ["Tumour"] * 4 + ["M"] * 5
    adata.write_h5ad(root / "expr.h5ad")
    assert_clean_failure(root, before, "'T'", "not found in the expression file")


def test_nan_fdr_is_counted_and_reported(small_dataset):
    root = small_dataset()
    out = run_ctsite(root, "compile", "-q", "-j", "1")
    assert out.returncode == 0, out.stderr
    assert "1 NaN values in layer fdr.i1" in out.stderr
    assert "treated as not significant" in out.stderr


def test_empty_dataset(compiled, deg_writer):
    root, before = compiled
    genes = ["g0", "g1"]
    empty = np.zeros((0, 2))
    deg_writer(root / "deg_a.h5ad", [], genes, fdr=empty, i1=empty, comparison="A")
    assert_clean_failure(root, before, "empty dataset", "0 rows")


def test_duplicate_rows(compiled):
    root, before = compiled
    import anndata as ad

    adata = ad.read_h5ad(root / "deg_a.h5ad")
    obs = adata.obs.copy()
    obs["target"] = obs["target"].astype(str)
    obs.iloc[1, obs.columns.get_loc("target")] = "L1"
    adata.obs = obs
    adata.write_h5ad(root / "deg_a.h5ad")
    assert_clean_failure(root, before, "share a (cell type, target)", "T/L1")


def test_tsv_without_header(compiled):
    root, before = compiled
    (root / "lr.tsv").write_text("L1\tR1\nL2\tR2\n")
    assert_clean_failure(root, before, "header", "ligand<TAB>receptor")


def test_unknown_config_key(compiled):
    root, before = compiled
    (root / "ctsite.toml").write_text('bogus_key = 1\ncompiled_dir = "out"\n')
    assert_clean_failure(root, before, "unknown setting(s): bogus_key")


def test_no_data_section(tmp_path):
    out = run_ctsite(tmp_path, "compile", "-q")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "no dataset configured" in out.stderr and "ctsite init" in out.stderr


def _replace_layer(path: Path, name: str, data: np.ndarray) -> None:
    with h5py.File(path, "a") as f:
        del f[f"layers/{name}"]
        f["layers"].create_dataset(name, data=data)


@pytest.mark.parametrize(
    ("layer", "value", "needles"),
    [
        ("fdr", -5.0, ("layer fdr", "outside [0, 1]", "-5.0")),
        ("fdr.i1", -np.inf, ("layer fdr.i1", "outside [0, 1]", "-inf")),
        ("fdr", 1.5, ("layer fdr", "outside [0, 1]", "row 2")),
        ("log2FC", np.inf, ("layer log2FC", "infinite", "row 2")),
        ("log2FC", -np.inf, ("layer log2FC", "infinite")),
    ],
)
def test_out_of_range_layer_values_are_errors(compiled, layer, value, needles):
    root, before = compiled
    with h5py.File(root / "deg_a.h5ad", "r") as f:
        data = np.array(f[f"layers/{layer}"])
    data[2, 3] = value
    _replace_layer(root / "deg_a.h5ad", layer, data)
    assert_clean_failure(root, before, "deg_a.h5ad", *needles)


@pytest.mark.parametrize(
    ("kind", "needle"),
    [("complex", "complex values"), ("bool", "boolean values"), ("str", "string values")],
)
def test_layers_of_non_real_values_are_errors(compiled, kind, needle):
    root, before = compiled
    with h5py.File(root / "deg_a.h5ad", "r") as f:
        data = np.array(f["layers/fdr"])
    converted = {
        "complex": data.astype(np.complex128),
        "bool": data < 0.1,
        "str": data.astype("S8"),
    }[kind]
    _replace_layer(root / "deg_a.h5ad", "fdr", converted)
    assert_clean_failure(root, before, "layer fdr holds", needle)


def _set_obs(path: Path, column: str, values: list) -> None:
    import anndata as ad

    adata = ad.read_h5ad(path)
    obs = adata.obs.copy()
    obs[column] = values
    adata.obs = obs
    adata.write_h5ad(path)


def test_text_in_a_mast_column_is_an_error(compiled):
    root, before = compiled
    _set_obs(root / "deg_a.h5ad", "MAST_log2FC_A", ["0.5", "up", "-0.3", "0.1", "0.4", "0.2"])
    assert_clean_failure(root, before, "MAST_log2FC_A", "not numbers", "'up'")


def test_mast_fdr_outside_unit_interval_is_an_error(compiled):
    root, before = compiled
    _set_obs(root / "deg_b.h5ad", "MAST_fdr_A", [0.02, 0.01, 7.0, 0.05, 0.03, 0.04])
    assert_clean_failure(root, before, "MAST_fdr_A", "outside [0, 1]")


def test_duplicate_gene_names_are_an_error(compiled):
    root, before = compiled
    import anndata as ad

    adata = ad.read_h5ad(root / "deg_a.h5ad")
    adata.var_names = ["g0", "g1", "L1", "R1", "g1", "g5"]
    adata.write_h5ad(root / "deg_a.h5ad")
    assert_clean_failure(root, before, "duplicate gene names", "g1")


def test_two_conditions_with_one_name_are_an_error(compiled):
    root, before = compiled
    toml = (root / "ctsite.toml").read_text().replace('name = "b"', 'name = "a"')
    toml = toml.replace('of = ["a", "b"]', 'of = ["a", "c"]')
    (root / "ctsite.toml").write_text(toml)
    assert_clean_failure(root, before, "condition name 'a' is used twice")


def test_worker_errors_keep_their_hint(compiled):
    """An error raised in a compile worker process reaches the user with its hint."""
    root, _ = compiled
    with h5py.File(root / "deg_a.h5ad", "r") as f:
        data = np.array(f["layers/fdr.i1"])
    data[0, 0] = 2.0
    _replace_layer(root / "deg_a.h5ad", "fdr.i1", data)
    result = run_ctsite(root, "compile", "-q", "-j", "2")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "hint:" in result.stderr and "FDRs must lie in [0, 1]" in result.stderr


# --- The hostile inputs of issue 22: one table, each case through the real `ctsite compile` ---


@dataclass(frozen=True)
class Hostile:
    """One bad input: how to make it in a compiled project, and what the one-line error says."""

    spoil: Callable[[Path], None]
    needles: tuple[str, ...]
    args: tuple[str, ...] = ()  # more `ctsite compile` options
    jobs: str = "1"
    read_only: str | None = None  # a folder of the project mounted read-only for the run


def _obs_values(column: str, values: object) -> Callable[[Path], None]:
    return lambda root: _set_obs(root / "deg_a.h5ad", column, values)  # type: ignore[arg-type]


def _toml(old: str, new: str) -> Callable[[Path], None]:
    def spoil(root: Path) -> None:
        text = (root / "ctsite.toml").read_text()
        assert old in text
        (root / "ctsite.toml").write_text(text.replace(old, new, 1))

    return spoil


def _byte_counts(sparse: bool) -> Callable[[Path], None]:
    """The expression counts stored as byte strings (b"1.0"), sparse or dense."""

    def spoil(root: Path) -> None:
        with h5py.File(root / "expr.h5ad", "a") as f:
            if sparse:
                data = np.array(f["layers/X/data"])
                del f["layers/X/data"]
                f["layers/X"].create_dataset("data", data=data.astype("S8"))
            else:
                import anndata as ad

                shape = tuple(f["layers/X"].attrs["shape"])
                dense = ad.io.sparse_dataset(f["layers/X"])[:].toarray()
                del f["layers/X"]
                f["layers"].create_dataset("X", data=dense.astype("S8"))
                assert dense.shape == shape

    return spoil


def _a_file(name: str) -> Callable[[Path], None]:
    return lambda root: (root / name).write_text("my results\n")


def _a_folder(name: str) -> Callable[[Path], None]:
    return lambda root: (root / name).mkdir()


def _user_files(folder: str, files: dict[str, str]) -> Callable[[Path], None]:
    """A folder of the user's own files (some named like a store's) in the project."""

    def spoil(root: Path) -> None:
        for rel, text in files.items():
            path = root / folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    return spoil


def _flat_store_plus(extra: dict[str, str]) -> Callable[[Path], None]:
    """A real schema-1 (flat) store in `flat/`, with the user's `extra` files in it too."""

    def spoil(root: Path) -> None:
        manifest = versions.current_manifest(root / "out")
        assert manifest is not None
        flat = root / "flat"
        flat.mkdir()
        doc = {k: v for k, v in manifest.items() if k not in ("files", "version", "effects")}
        (flat / "manifest.json").write_text(json.dumps({**doc, "schema_version": 1}))
        (flat / "genes.feather").write_bytes(b"stand-in")
        for rel, text in extra.items():
            (flat / rel).write_text(text)

    return spoil


def _var_names(name: str, change: Callable[[list[object]], np.ndarray]) -> Callable[[Path], None]:
    """The gene names (var index) of `name` replaced by `change(names)`."""

    def spoil(root: Path) -> None:
        with h5py.File(root / name, "a") as f:
            key = f["var"].attrs["_index"]
            names = [x.decode() if isinstance(x, bytes) else x for x in f["var"][key][()]]
            data = change(names)
            del f["var"][key]
            if data.dtype.kind == "f":
                f["var"].create_dataset(key, data=data)
            else:
                f["var"].create_dataset(key, data=data, dtype=h5py.string_dtype())

    return spoil


def _renamed_gene(old: str, new: str) -> Callable[[list[object]], np.ndarray]:
    return lambda names: np.array([new if n == old else n for n in names], dtype=object)


def _float_names(names: list[object]) -> np.ndarray:
    out = np.arange(len(names), dtype=float)
    out[3] = np.nan
    return out


def _complex_obs(column: str) -> Callable[[Path], None]:
    def spoil(root: Path) -> None:
        import anndata as ad

        adata = ad.read_h5ad(root / "deg_a.h5ad")
        obs = adata.obs.copy()
        obs[column] = obs[column].astype(complex) + 5j
        adata.obs = obs
        adata.write_h5ad(root / "deg_a.h5ad")

    return spoil


def _counts(value: float) -> Callable[[Path], None]:
    """Every other stored expression count set to `value`."""

    def spoil(root: Path) -> None:
        with h5py.File(root / "expr.h5ad", "a") as f:
            data = np.array(f["layers/X/data"], dtype=np.float64)
            data[::2] = value
            del f["layers/X/data"]
            f["layers/X"].create_dataset("data", data=data)

    return spoil


def _bad_csr(name: str, layer: str, kind: str) -> Callable[[Path], None]:
    """`layer` of `name` rewritten as a CSR group whose structure is broken in one way."""

    def spoil(root: Path) -> None:
        import scipy.sparse as sp

        with h5py.File(root / name, "a") as f:
            node = f[layer]
            if isinstance(node, h5py.Dataset):
                matrix = sp.csr_matrix(np.array(node))
            else:
                import anndata as ad

                matrix = ad.io.sparse_dataset(node)[:].tocsr()
            del f[layer]
            indptr, indices, data = matrix.indptr.copy(), matrix.indices.copy(), matrix.data.copy()
            if kind == "indices-out-of-range":
                indices[len(indices) // 2] = 10_000
            elif kind == "indptr-decreasing":
                indptr[2] = indptr[3] + 3
            elif kind == "indptr-truncated":
                indptr = indptr[:4]
            elif kind == "indptr-past-the-data":
                indptr[-1] = len(data) + 50
            elif kind == "data-shorter-than-indices":
                data = data[: len(data) // 2]
            elif kind == "duplicate-indices":
                row = int(np.flatnonzero(np.diff(indptr) > 1)[0])
                indices[indptr[row] : indptr[row + 1]] = indices[indptr[row]]
            group = f.create_group(layer)
            group.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0"})
            group.attrs["shape"] = np.array(matrix.shape)
            group.create_dataset("data", data=data)
            group.create_dataset("indices", data=indices)
            group.create_dataset("indptr", data=indptr)

    return spoil


def _long_field(root: Path) -> None:
    (root / "lr.tsv").write_text("ligand\treceptor\nL1\tR1\n" + "A" * 200_000 + "\tB\n")


def _replaced_by(name: str, kind: str) -> Callable[[Path], None]:
    """The input `name` replaced by a folder, a named pipe or a symbolic link that loops."""

    def spoil(root: Path) -> None:
        path = root / name
        path.unlink()
        if kind == "folder":
            path.mkdir()
        elif kind == "fifo":
            os.mkfifo(path)
        else:
            os.symlink(path.with_name("loop-b"), path)
            os.symlink(path, path.with_name("loop-b"))

    return spoil


def _expression_cell_type_nan(root: Path) -> None:
    """The expression file's cells of type T without a cell type (NaN)."""
    import anndata as ad

    adata = ad.read_h5ad(root / "expr.h5ad")
    obs = adata.obs.copy()
    labels = obs["Cell Type"].astype(object)
    labels[labels == "T"] = np.nan
    obs["Cell Type"] = pd.Categorical(labels)
    adata.obs = obs
    adata.write_h5ad(root / "expr.h5ad")


def _toml_folder(root: Path) -> None:
    (root / "ctsite.toml").unlink()
    (root / "ctsite.toml").mkdir()


HOSTILE = {
    # silently wrong results before
    "ligand-flag-NaN": Hostile(
        _obs_values("ligand", [1.0, 0.0, 1.0, 0.0, np.nan, 1.0]),
        ("deg_a.h5ad", "'ligand'", "nan", "row 4"),
    ),
    "ligand-flag-NA": Hostile(
        _obs_values("ligand", pd.array([True, False, True, False, None, True], dtype="boolean")),
        ("deg_a.h5ad", "'ligand'", "<NA>"),
    ),
    "receptor-flag-text": Hostile(
        _obs_values("receptor", ["False", "True", "True", "maybe", "False", "True"]),
        ("deg_a.h5ad", "'receptor'", "'maybe'"),
    ),
    "dc1-text": Hostile(
        _obs_values("cell_type_dc1", ["early", "late", "mid", "late", "early", "mid"]),
        ("deg_a.h5ad", "'cell_type_dc1'", "not numbers", "'early'"),
    ),
    "dc1-infinite": Hostile(
        _obs_values("cell_type_dc1", [0.1, 0.2, np.inf, 0.3, 0.4, 0.5]),
        ("deg_a.h5ad", "'cell_type_dc1'", "infinite", "first: inf in row 2"),
    ),
    "DA_score-booleans": Hostile(
        _obs_values("DA_score", [True, False, True, False, True, False]),
        ("deg_a.h5ad", "'DA_score'", "booleans", "first: True in row 0"),
    ),
    "label-table": Hostile(
        _toml('name = "a"\n', 'name = "a"\nlabel = {a = 1}\n'),
        ("[[data.conditions]] #1", "`label`", "a string", "table"),
    ),
    # "unexpected error" crashes before
    "interactions-number": Hostile(
        _toml('interactions = "lr.tsv"', "interactions = 5"),
        ("[data]", "`interactions`", "a string", "integer"),
    ),
    "interactions-list": Hostile(
        _toml('interactions = "lr.tsv"', 'interactions = ["lr.tsv"]'),
        ("[data]", "`interactions`", "a string", "array"),
    ),
    "log2fc_column-list": Hostile(
        _toml('name = "a"\n', 'name = "a"\nlog2fc_column = ["a"]\n'),
        ("[[data.conditions]] #1", "`log2fc_column`", "a string", "array"),
    ),
    "counts-bytes-sparse-j2": Hostile(
        _byte_counts(sparse=True), ("expr.h5ad", "layers/X", "byte-string"), jobs="2"
    ),
    "counts-bytes-dense-j1": Hostile(
        _byte_counts(sparse=False), ("expr.h5ad", "layers/X", "byte-string")
    ),
    "out-under-a-file": Hostile(
        _a_file("results.txt"),
        ("results.txt", "is a file, not a folder"),
        args=("--force", "--out", "results.txt/store"),
    ),
    "out-under-read-only": Hostile(
        _a_folder("RO"),
        ("RO", "Read-only file system"),
        args=("--force", "--out", "RO/store"),
        read_only="RO",
    ),
    # --- the red-team pass on compile/export/init (issue 22) ---
    # an output folder that only looks like a store: refused, never converted, swept or written
    "out-project-with-foreign-manifest": Hostile(
        _user_files(".", {"manifest.json": '{"schema_version": 2}'}),
        ("output folder", "not a ctsite store", "manifest.json", "ctsite.toml"),
        args=("--force", "--out", "."),
    ),
    "out-folder-with-a-CURRENT-file": Hostile(
        _user_files("mine", {"CURRENT": "MANIFEST-000042\n", "LOG": "x"}),
        ("mine", "not a ctsite store", "CURRENT", "LOG"),
        args=("--force", "--out", "mine"),
    ),
    "out-folder-with-CURRENT.next": Hostile(
        _user_files("mine", {"CURRENT.next": "draft", "other.txt": "o"}),
        ("mine", "not a ctsite store", "CURRENT.next"),
        args=("--force", "--out", "mine"),
    ),
    "out-folder-with-hex-named-objects": Hostile(
        _user_files("mine", {"CURRENT": "x", "objects/" + "a" * 64 + ".npy": "my array"}),
        ("mine", "not a ctsite store", "objects/"),
        args=("--force", "--out", "mine"),
    ),
    "out-folder-with-a-versions-folder": Hostile(
        _user_files("mine", {"versions/v1/notes.txt": "mine", "README": "r"}),
        ("mine", "not a ctsite store", "versions/"),
        args=("--force", "--out", "mine"),
    ),
    "out-folder-with-another-tools-schema-1": Hostile(
        _user_files("mine", {"manifest.json": '{"schema_version": 1}', "data.bin": "precious"}),
        ("mine", "not a ctsite store", "data.bin"),
        args=("--force", "--out", "mine"),
    ),
    "out-flat-store-holding-user-files": Hostile(
        _flat_store_plus({"my-notes.txt": "precious"}),
        ("flat", "schema 1", "my-notes.txt"),
        args=("--force", "--out", "flat"),
    ),
    # gene names that silently lost genes
    "var-names-floats-with-NaN": Hostile(
        _var_names("deg_a.h5ad", _float_names),
        ("deg_a.h5ad", "gene names (var)", "not text", "0.0"),
    ),
    "var-name-with-trailing-space": Hostile(
        _var_names("deg_a.h5ad", _renamed_gene("L1", "L1 ")),
        ("deg_a.h5ad", "gene name", "'L1 '", "whitespace", "position 2"),
    ),
    "var-name-empty": Hostile(
        _var_names("deg_a.h5ad", _renamed_gene("g5", "")),
        ("deg_a.h5ad", "gene name", "empty", "position 5"),
    ),
    "expression-var-name-with-leading-space": Hostile(
        _var_names("expr.h5ad", _renamed_gene("B", " B")),
        ("expr.h5ad", "gene name", "' B'", "whitespace"),
    ),
    # complex obs columns (the imaginary part was dropped with a raw ComplexWarning)
    "DA_score-complex": Hostile(
        _complex_obs("DA_score"), ("deg_a.h5ad", "'DA_score'", "complex", "(-0.5+5j)")
    ),
    "MAST_fdr-complex": Hostile(
        _complex_obs("MAST_fdr_A"), ("deg_a.h5ad", "'MAST_fdr_A'", "complex")
    ),
    # expression counts that are no counts
    "counts-negative": Hostile(
        _counts(-5.0), ("expr.h5ad", "layers/X", "negative", "-5.0", "row 0")
    ),
    "counts-NaN-j2": Hostile(_counts(np.nan), ("expr.h5ad", "layers/X", "nan"), jobs="2"),
    "counts-infinite": Hostile(_counts(np.inf), ("expr.h5ad", "layers/X", "inf")),
    # a damaged sparse (CSR) layer
    **{
        f"csr-{kind}-j{jobs}": Hostile(
            _bad_csr("deg_a.h5ad", "layers/fdr.i1", kind),
            ("deg_a.h5ad", "`layers/fdr.i1`", "malformed sparse", needle),
            jobs=jobs,
        )
        for kind, needle, jobs in (
            ("indices-out-of-range", "column 10000", "1"),
            ("indices-out-of-range", "column 10000", "2"),
            ("indptr-decreasing", "decreas", "1"),
            ("indptr-truncated", "indptr has 4 entries", "1"),
            ("indptr-past-the-data", "past the end", "2"),
            ("data-shorter-than-indices", "data", "1"),
            ("duplicate-indices", "twice", "1"),
        )
    },
    "csr-expression-indices-out-of-range": Hostile(
        _bad_csr("expr.h5ad", "layers/X", "indices-out-of-range"),
        ("expr.h5ad", "`layers/X`", "malformed sparse", "column 10000"),
        jobs="2",
    ),
    # crashes
    "lr-field-over-the-csv-limit": Hostile(_long_field, ("lr.tsv", "line 3", "longer than")),
    # silently ignored or misreported settings and paths
    "exclude-unknown-cell-type": Hostile(
        _toml(
            'expression = "expr.h5ad"\n',
            'expression = "expr.h5ad"\nexclude_cell_types = ["Tumour"]\n',
        ),
        ("exclude_cell_types", "'Tumour'", "'M'", "'T'"),
    ),
    "combined-of-one-condition-twice": Hostile(
        _toml('of = ["a", "b"]', 'of = ["a", "a"]'), ("[[data.combined]] #1", "'a'", "twice")
    ),
    "deg-is-a-folder": Hostile(_replaced_by("deg_b.h5ad", "folder"), ("deg_b.h5ad", "is a folder")),
    "deg-is-a-named-pipe": Hostile(
        _replaced_by("deg_b.h5ad", "fifo"), ("deg_b.h5ad", "named pipe (FIFO)")
    ),
    "lr-is-a-symlink-loop": Hostile(
        _replaced_by("lr.tsv", "loop"), ("lr.tsv", "symbolic link", "loop")
    ),
    "expression-is-a-folder": Hostile(
        _replaced_by("expr.h5ad", "folder"), ("expr.h5ad", "is a folder")
    ),
    "ctsite.toml-is-a-folder": Hostile(_toml_folder, ("ctsite.toml", "is a folder")),
    # names in messages as plain text (this one showed np.str_('nan'))
    "expression-cell-type-NaN": Hostile(
        _expression_cell_type_nan, ("deg_a.h5ad", "'T' not found", "'M', 'nan'")
    ),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small dataset, compiled once; each case works on a copy."""
    root = build_small_dataset(tmp_path_factory.mktemp("pristine") / "project")
    result = run_ctsite(root, "compile", "-q", "-j", "1")
    assert result.returncode == 0, result.stderr
    return root


def _run_compile(root: Path, case: Hostile) -> subprocess.CompletedProcess[str]:
    args = ("compile", "-q", "-j", case.jobs, *case.args)
    if case.read_only is None:
        return run_ctsite(root, *args)
    folder = root / case.read_only
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return run_ctsite(root, *args)
    # root ignores permissions: a read-only bind mount, in a mount namespace of the run's own
    # (nothing is mounted on the machine, even if the run dies)
    mount = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", mount, str(folder)]
    env = cli.cli_env(without=("CTSITE_",), COLUMNS="200")
    return subprocess.run(
        [*command, *cli.ctsite_command(*args)],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _snapshot(root: Path) -> set[str]:
    """Every path under the project (what a failed compile must leave as it was)."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_is_one_clear_line(pristine: Path, tmp_path: Path, name: str) -> None:
    case = HOSTILE[name]
    root = tmp_path / "project"
    shutil.copytree(pristine, root)
    case.spoil(root)
    manifest = versions.manifest_path(root / "out").read_bytes()
    store_versions = versions.list_versions(root / "out")
    before = _snapshot(root) - {".out.lock"}

    result = _run_compile(root, case)

    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: "), result.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), lines
    assert "unexpected error" not in lines[0], lines[0]
    assert not re.search(r"\bnp\.\w+\(", result.stderr), "a numpy repr in the message"
    for needle in case.needles:
        assert needle in lines[0], (needle, lines[0])
    assert versions.manifest_path(root / "out").read_bytes() == manifest
    assert versions.list_versions(root / "out") == store_versions
    assert _snapshot(root) == before, "a failed compile wrote or left files"


def _lr_text(text: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return lambda root: (root / "lr.tsv").write_bytes(text.encode(encoding))


def _flags(true: object, false: object) -> Callable[[Path], None]:
    """Both DEG files' ligand/receptor flags written as `true`/`false` values instead of booleans."""

    def spoil(root: Path) -> None:
        import anndata as ad

        for name in ("deg_a.h5ad", "deg_b.h5ad"):
            adata = ad.read_h5ad(root / name)
            obs = adata.obs.copy()
            for column in ("ligand", "receptor"):
                obs[column] = [true if v else false for v in obs[column]]
            adata.obs = obs
            adata.write_h5ad(root / name)

    return spoil


PAIRS = "L1\tR1\nL2\tR2\nB\tR1\nL2\tB\n"
VALID = {
    "unchanged": lambda root: None,  # the control: a forced rebuild gives the same objects
    "tsv-with-BOM": _lr_text("ligand\treceptor\n" + PAIRS, "utf-8-sig"),
    "tsv-capitalised-header": _lr_text("Ligand\tReceptor\n" + PAIRS),
    "tsv-BOM-capitals-CRLF": _lr_text(
        ("LIGAND\tRECEPTOR\n" + PAIRS).replace("\n", "\r\n"), "utf-8-sig"
    ),
    "flags-True/False-text": _flags("True", "False"),
    "flags-true/false-text": _flags("true", "false"),
    "flags-1/0-text": _flags("1", "0"),
    "flags-1/0-integers": _flags(1, 0),
}


@pytest.mark.parametrize("name", list(VALID))
def test_valid_variants_compile_to_the_same_store(
    pristine: Path, tmp_path: Path, name: str
) -> None:
    """Valid spellings of the inputs are read right: the compiled objects are the same bytes."""
    root = tmp_path / "project"
    shutil.copytree(pristine, root)
    VALID[name](root)
    result = run_ctsite(root, "compile", "-q", "-j", "1", "--force")
    assert result.returncode == 0, result.stderr
    files = versions.current_manifest(root / "out")["files"]  # type: ignore[index]
    assert files == versions.current_manifest(pristine / "out")["files"]  # type: ignore[index]
