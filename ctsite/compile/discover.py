"""Inspect a folder of ContactTracing outputs: which file is what, recognised by content.

`discover(folder)` opens every file cheaply (HDF5 metadata and a few obs columns; the first bytes
of text files) and sorts them into DEG result files (obs `cell type`/`target`, layers `log2FC`/
`fdr`/`fdr.i1`, `MAST_*` columns), expression data (obs `Cell Type`) and ligand–receptor lists
(a TSV whose header is `ligand<TAB>receptor`), as SPEC-data.md describes them. It decides
nothing: `ctsite.compile.proposal` turns what was found into a proposed configuration.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from ctsite.compile.destination import is_store
from ctsite.compile.inputs import DEG_LAYERS
from ctsite.errors import InputError

MAX_DEPTH = 3  # sub-folders looked into below the results folder
SNIFF_BYTES = 64 * 1024
MAST_LOG2FC = "MAST_log2FC_"
MAST_FDR = "MAST_fdr_"
DEG_KEYS = ("cell type", "target")
EXPRESSION_COLUMN = "Cell Type"


@dataclass(frozen=True)
class DegFound:
    """A DEG result file: one row per tested (cell type, target)."""

    path: Path
    rows: int
    genes: int
    obs_columns: tuple[str, ...]
    layers: tuple[str, ...]
    comparisons: tuple[str, ...]  # suffixes with both MAST_log2FC_<s> and MAST_fdr_<s>
    unpaired: tuple[str, ...]  # MAST_* columns without their partner
    cell_types: tuple[str, ...]  # in the file's order
    targets: frozenset[str]


@dataclass(frozen=True)
class ExpressionFound:
    """Expression data: cells × genes counts, each cell labelled with its cell type."""

    path: Path
    cells: int
    genes: int
    cell_type_column: str
    cell_types: tuple[str, ...]


@dataclass(frozen=True)
class InteractionsFound:
    """A ligand–receptor list (TSV with the header `ligand<TAB>receptor`)."""

    path: Path
    pairs: int
    genes: frozenset[str]


@dataclass(frozen=True)
class Unusable:
    """A file that looks like an input but cannot be used as it is; `fix` says what to do."""

    path: Path
    problem: str
    fix: str
    # False: only a guess that this is an input (a two-column text file may be anything); it
    # stops `ctsite init` only when no usable ligand–receptor list was found beside it
    certain: bool = True


@dataclass
class Discovery:
    """Everything found in a results folder."""

    folder: Path
    degs: list[DegFound] = field(default_factory=list)
    expressions: list[ExpressionFound] = field(default_factory=list)
    interactions: list[InteractionsFound] = field(default_factory=list)
    unusable: list[Unusable] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)  # files that are not inputs at all
    # names that are not valid UTF-8 (a TOML file cannot name them), shown with \x escapes
    unnamable: list[str] = field(default_factory=list)


def discover(folder: Path) -> Discovery:
    """Inspect every file under `folder` (a few levels deep) and sort them by what they contain."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            f"results folder not found: {folder}",
            hint="give the folder that holds your ContactTracing outputs (ctsite init RESULTS_DIR)",
        )
    found = Discovery(folder)
    for path in _files(folder, found.unnamable):
        if h5py.is_hdf5(path):
            _inspect_h5(path, found)
        else:
            _inspect_text(path, found)
    return found


def shown_name(path: Path) -> str:
    """A path as text that can be printed and written whatever bytes its name holds: bytes that
    are not UTF-8 as \\x escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as lone surrogates
        return False
    return True


def _files(folder: Path, unnamable: list[str]) -> Iterator[Path]:
    """Regular files, sorted, skipping hidden entries and compiled stores. Files and folders
    whose names are not UTF-8 are skipped and listed in `unnamable` (ctsite.toml, a UTF-8
    file, could not name them)."""
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        depth = len(here.relative_to(folder).parts)
        if is_store(here):
            dirnames[:] = []  # a compiled store, not inputs
            continue
        visible = sorted(d for d in dirnames if not d.startswith("."))
        unnamable += [shown_name(here / d) for d in visible if not _utf8(d)]
        dirnames[:] = [d for d in visible if _utf8(d)] if depth < MAX_DEPTH else []
        for name in sorted(filenames):
            path = here / name
            if name.startswith(".") or not path.is_file():
                continue
            if _utf8(name):
                yield path
            else:
                unnamable.append(shown_name(path))


# ---------------------------------------------------------------- HDF5 (.h5ad)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _obs_columns(obs: h5py.Group) -> list[str]:
    order = obs.attrs.get("column-order", None)
    if order is None:
        index = _text(obs.attrs.get("_index", "_index"))
        return [k for k in obs if k not in (index, "__categories")]
    return [_text(c) for c in np.atleast_1d(order)]


def _length(group: h5py.Group) -> int:
    index = group.get(_text(group.attrs.get("_index", "_index")))
    return int(index.shape[0]) if isinstance(index, h5py.Dataset) else 0


def _distinct(obs: h5py.Group, column: str) -> tuple[str, ...]:
    """The distinct values of one obs column, in category order (or order of appearance)."""
    from anndata.io import read_elem

    values = read_elem(obs[column])
    categories = getattr(values, "categories", None)
    if categories is not None:
        used = set(np.unique(np.asarray(values.codes)))
        return tuple(str(c) for i, c in enumerate(categories) if i in used)
    seen: dict[str, None] = {}
    for v in np.asarray(values, dtype=object):
        if v is not None and v == v:
            seen.setdefault(str(v), None)
    return tuple(seen)


def _comparisons(columns: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    lfc = [c[len(MAST_LOG2FC) :] for c in columns if c.startswith(MAST_LOG2FC)]
    fdr = [c[len(MAST_FDR) :] for c in columns if c.startswith(MAST_FDR)]
    paired = tuple(s for s in lfc if s and s in fdr)
    unpaired = tuple(
        [MAST_LOG2FC + s for s in lfc if s not in paired]
        + [MAST_FDR + s for s in fdr if s not in paired]
    )
    return paired, unpaired


def _inspect_h5(path: Path, found: Discovery) -> None:
    try:
        with h5py.File(path, "r") as f:
            obs, var = f.get("obs"), f.get("var")
            if not isinstance(obs, h5py.Group) or not isinstance(var, h5py.Group):
                _unusable_or_ignored(
                    path,
                    found,
                    "an HDF5 file without AnnData obs/var groups",
                    "if it is an input written by an old anndata, read and save it again with a "
                    "current one (anndata.read_h5ad(...).write_h5ad(...))",
                )
                return
            columns = _obs_columns(obs)
            layers = tuple(f["layers"].keys()) if isinstance(f.get("layers"), h5py.Group) else ()
            comparisons, unpaired = _comparisons(columns)
            deg_like = (
                all(k in columns for k in DEG_KEYS)
                or bool(comparisons or unpaired)
                or (any(name in layers for name in DEG_LAYERS))
            )
            if deg_like:
                found.degs.append(
                    DegFound(
                        path=path,
                        rows=_length(obs),
                        genes=_length(var),
                        obs_columns=tuple(columns),
                        layers=layers,
                        comparisons=comparisons,
                        unpaired=unpaired,
                        cell_types=_distinct(obs, "cell type") if "cell type" in columns else (),
                        targets=frozenset(_distinct(obs, "target") if "target" in columns else ()),
                    )
                )
                return
            column = _expression_column(columns)
            if column is None:
                _unusable_or_ignored(
                    path,
                    found,
                    f"neither DEG results (obs 'cell type' and 'target') nor expression data "
                    f"(obs {EXPRESSION_COLUMN!r}); obs has: {', '.join(columns[:8]) or 'no columns'}",
                )
                return
            found.expressions.append(
                ExpressionFound(path, _length(obs), _length(var), column, _distinct(obs, column))
            )
    except (OSError, KeyError, ValueError, TypeError) as exc:
        found.unusable.append(
            Unusable(
                path,
                f"cannot be read ({str(exc).splitlines()[0][:120]}); the file may be truncated",
                "copy the file again from where the analysis wrote it",
            )
        )


def _expression_column(columns: list[str]) -> str | None:
    """`Cell Type`, else a column spelled like it (`cell_type`, `celltype`, ...)."""
    if EXPRESSION_COLUMN in columns:
        return EXPRESSION_COLUMN
    for column in columns:
        if column.lower().replace("_", " ").replace(".", " ") in ("cell type", "celltype"):
            return column
    return None


def _unusable_or_ignored(
    path: Path,
    found: Discovery,
    problem: str,
    fix: str = "move it out of the results folder if it is not a ctsite input",
) -> None:
    if path.suffix == ".h5ad":
        found.unusable.append(Unusable(path, problem, fix))
    else:
        found.ignored.append(path)


# ---------------------------------------------------------------- text (ligand–receptor list)


def _inspect_text(path: Path, found: Discovery) -> None:
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
        first = head.decode("utf-8-sig").splitlines()[0] if head.strip() else ""  # BOM: not text
    except OSError as exc:  # an .h5ad that cannot be read is a broken input, not "no input"
        _unusable_or_ignored(
            path,
            found,
            f"cannot be read ({exc.strerror or exc})",
            "make it readable (chmod a+r) or copy it again from where the analysis wrote it",
        )
        return
    except UnicodeDecodeError:
        found.ignored.append(path)  # binary: not one of ours
        return
    cells = [c.strip().lower() for c in first.split("\t")]
    if cells[:2] == ["ligand", "receptor"]:
        _read_pairs(path, found)
        return
    if len(cells) == 2 and all(c and " " not in c for c in cells) and path.suffix != ".toml":
        found.unusable.append(
            Unusable(
                path,
                "two tab-separated columns but no 'ligand<TAB>receptor' header "
                "(if this is the ligand–receptor list)",
                "add the line 'ligand<TAB>receptor' at the top of the file",
                certain=False,
            )
        )
        return
    cells_csv = [c.strip().lower() for c in first.split(",")]
    if cells_csv[:2] == ["ligand", "receptor"]:
        found.unusable.append(
            Unusable(
                path,
                "a comma-separated ligand–receptor list; ctsite reads tab-separated lists",
                "save it with tabs between the columns (e.g. pandas to_csv(sep='\\t'))",
                certain=False,
            )
        )
        return
    found.ignored.append(path)


def _read_pairs(path: Path, found: Discovery) -> None:
    from ctsite.compile.inputs import read_interactions

    try:
        pairs = read_interactions(path)
    except InputError as error:
        found.unusable.append(
            Unusable(path, error.message, error.hint or "fix the file and run init again")
        )
        return
    genes = frozenset(pairs["ligand"]) | frozenset(pairs["receptor"])
    found.interactions.append(InteractionsFound(path, len(pairs), genes))
