"""The public Python API: what the command line does, for scripts and notebooks.

    import ctsite.api as ct

    store = ct.compile_results(                      # or ct.compile_config("ctsite.toml")
        "site/compiled",
        interactions="interactions_mm10.tsv",        # a path or a DataFrame (ligand, receptor)
        expression=adata,                            # a path or an in-memory anndata.AnnData
        conditions={"highCIN_vs_lowCIN": deg_cin, "highCIN_vs_noSTING": deg_sting},
        combined=[("highCIN_vs_lowCIN", "highCIN_vs_noSTING")],
    )
    store.circos(condition="highCIN_vs_lowCIN", fdr_i=0.1)    # a plotly Figure
    store.circos_data(condition="highCIN_vs_lowCIN")          # the rows behind it (DataFrame)
    store.identity, store.figure_defaults                     # the study's texts, default views
    with store.serve() as site:                               # the website, in the background
        print(site.url)

Compiling runs the compiler of `ctsite compile`; figures are built by the website's own figure
code with its defaults and parameter validation; `serve` runs the website's Flask app. Every
problem is the same `CtsiteError` (with its hint) as on the command line.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ctsite.errors import CtsiteError
from ctsite.figures import FIGURES, BadParameter, parse_params
from ctsite.figures.params import format_value
from ctsite.store import Store
from ctsite.store.figure_defaults import FigureDefaults
from ctsite.store.identity import Identity
from ctsite.web.serve import BackgroundSite

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from ctsite.compile.workflow import CompileSummary

PathLike = str | os.PathLike[str]
# What figure.js passes to Plotly on the site; use it with `fig.show(config=PLOTLY_CONFIG)`.
PLOTLY_CONFIG = {"responsive": True, "displaylogo": False, "scrollZoom": False}

__all__ = [
    "PLOTLY_CONFIG",
    "BackgroundSite",
    "CompiledStore",
    "CtsiteError",
    "FigureDefaults",
    "FigureView",
    "Identity",
    "compile_config",
    "compile_results",
    "open_store",
    "serve",
    "write_demo",
]


# ---------------------------------------------------------------- figures


@dataclass
class FigureView:
    """One figure as the site draws it: the Plotly figure, the rows behind it, its parameters."""

    name: str
    params: dict[str, Any]
    figure: go.Figure
    table: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # named parts (circos)
    message: str | None = None  # why the figure is empty, or what was left out


def _parameter_help(name: str) -> str:
    lines = []
    for c in FIGURES[name].controls:
        bounds = f" ({c.minimum:g}–{c.maximum:g})" if c.minimum is not None else ""
        lines.append(f"        {c.name}: {c.kind}{bounds}. {c.help}")
    return "\n".join(lines)


class CompiledStore:
    """A compiled store, opened: its names, and the site's three figures with their rows."""

    def __init__(self, reader: Store) -> None:
        self.reader = reader  # the store reader the website uses (tables, lookups)

    @classmethod
    def open(cls, path: PathLike) -> CompiledStore:
        """Open the store at `path` (StoreError when there is none or it is unreadable)."""
        return cls(Store.open(Path(path)))

    def __repr__(self) -> str:
        return (
            f"CompiledStore({str(self.path)!r}: {len(self.conditions)} conditions, "
            f"{len(self.cell_types)} cell types, {len(self.genes)} genes)"
        )

    @property
    def path(self) -> Path:
        """Where the store lives."""
        return self.reader.path

    @property
    def conditions(self) -> list[str]:
        """Condition names, single comparisons first, as in the manifest."""
        return [c.name for c in self.reader.conditions]

    @property
    def cell_types(self) -> list[str]:
        """Cell types in display order."""
        return list(self.reader.cell_types)

    @property
    def thresholds(self) -> list[float]:
        """The FDR thresholds the store precomputed (0.01 … 0.25)."""
        return list(self.reader.thresholds)

    @property
    def genes(self) -> list[str]:
        """Every gene symbol the store knows."""
        return list(self.reader.genes)

    @property
    def identity(self) -> Identity | None:
        """The study's identity compiled with the data ([site] title, citation, DOI …; the
        website shows the same), or None for a store compiled without one."""
        return self.reader.identity

    @property
    def figure_defaults(self) -> FigureDefaults | None:
        """The figures' default choices compiled with the data (effects seeds and cell type,
        pairwise cell types: chosen from the data or the [figures] settings), or None for a
        store compiled without them. The site opens its pages on these; `parameters(figure)`
        gives a figure's whole default view."""
        return self.reader.figure_defaults

    def parameters(self, figure: str, **params: Any) -> dict[str, Any]:
        """The validated, canonical parameters of `figure` ('circos', 'pairwise', 'effects').

        Missing parameters take the site's defaults; None means "the default". Unknown names and
        bad values raise `BadParameter` (a CtsiteError) saying what is allowed.
        """
        spec = FIGURES.get(figure)
        if spec is None:
            raise BadParameter(
                f"unknown figure {figure!r}", hint=f"choose one of {', '.join(FIGURES)}"
            )
        known = [c.name for c in spec.controls]
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise BadParameter(
                f"{figure}: unknown parameter(s) {', '.join(unknown)}",
                hint=f"its parameters are {', '.join(known)}",
            )
        query = {k: format_value(v) for k, v in params.items() if v is not None}
        return parse_params(spec, self.reader, query)

    def view(self, figure: str, **params: Any) -> FigureView:
        """Build `figure` for `params` (see `parameters`): the figure, its rows and parameters."""
        import plotly.graph_objects as go

        canonical = self.parameters(figure, **params)
        result = FIGURES[figure].build(self.reader, canonical)
        fig = go.Figure(result.figure)
        fig.layout.template = None  # the site draws with plotly.js's defaults, not a template
        return FigureView(figure, canonical, fig, result.table, dict(result.tables), result.message)

    def circos(self, **params: Any) -> go.Figure:
        """The Circos figure (condition-dependent interactions across cell types)."""
        return self.view("circos", **params).figure

    def circos_data(self, **params: Any) -> pd.DataFrame:
        """The rows behind the Circos figure (nodes and chords); same parameters."""
        return self.view("circos", **params).table

    def pairwise(self, **params: Any) -> go.Figure:
        """The pairwise-interactions figure (ligands of one cell type → receptors of another)."""
        return self.view("pairwise", **params).figure

    def pairwise_data(self, **params: Any) -> pd.DataFrame:
        """The rows behind the pairwise-interactions figure; same parameters."""
        return self.view("pairwise", **params).table

    def ligand_effects(self, **params: Any) -> go.Figure:
        """The ligand (cascading) effects figure (figure name 'effects' on the site)."""
        return self.view("effects", **params).figure

    def ligand_effects_data(self, **params: Any) -> pd.DataFrame:
        """The rows behind the ligand-effects figure; same parameters."""
        return self.view("effects", **params).table

    def serve(
        self, *, host: str = "127.0.0.1", port: int = 0, config: PathLike | None = None
    ) -> BackgroundSite:
        """Run the website on this store in the background (see `ctsite.api.serve`)."""
        return serve(self.path, host=host, port=port, config=config)


for _method, _figure in (
    ("circos", "circos"),
    ("pairwise", "pairwise"),
    ("ligand_effects", "effects"),
):
    getattr(CompiledStore, _method).__doc__ += (
        "\n\n        Keyword parameters (omitted or None: the site's default; checked like the "
        f"site's):\n{_parameter_help(_figure)}\n"
    )
del _method, _figure


def open_store(path: PathLike) -> CompiledStore:
    """Open a compiled store (what `ctsite compile` wrote)."""
    return CompiledStore.open(path)


# ---------------------------------------------------------------- compiling


def _compiled(summary: CompileSummary) -> CompiledStore:
    """The store the compile workflow wrote; its warnings as Python warnings (at the caller)."""
    for message in summary.warnings:
        warnings.warn(message, stacklevel=3)
    return CompiledStore.open(summary.path)


def compile_config(
    config: PathLike | None = None,
    *,
    out: PathLike | None = None,
    jobs: int | None = None,
    force: bool = False,
) -> CompiledStore:
    """Compile the dataset that a ctsite.toml describes, exactly like `ctsite compile`.

    `config` defaults to the ctsite.toml found from the current directory upwards; `out`
    overrides its compiled_dir. Unchanged inputs are not compiled again (`force` rebuilds).
    """
    from ctsite.compile.workflow import compile_data
    from ctsite.config import load_settings

    settings = load_settings(
        config_file=Path(config) if config is not None else None,
        overrides={"compiled_dir": str(out) if out is not None else None, "compile_jobs": jobs},
    )
    return _compiled(compile_data(settings, force=force))


def compile_results(
    out: PathLike,
    *,
    interactions: PathLike | pd.DataFrame,
    expression: Any,
    conditions: Mapping[str, Any],
    combined: Sequence[Sequence[str] | str] = (),
    labels: Mapping[str, str] | None = None,
    mast_columns: Mapping[str, tuple[str, str]] | None = None,
    cell_type_order: Sequence[str] = (),
    exclude_cell_types: Sequence[str] = (),
    cell_type_colors: Mapping[str, str] | None = None,
    expression_cell_type_column: str = "Cell Type",
    expression_layer: str | None = None,
    jobs: int = 2,
    force: bool = False,
) -> CompiledStore:
    """Compile ContactTracing results given as files or in-memory objects into the store `out`.

    - `interactions`: the ligand–receptor TSV, or a DataFrame with columns ligand, receptor;
    - `expression`: the expression .h5ad, or an `anndata.AnnData` (obs 'Cell Type', counts in
      layers['X'] or X);
    - `conditions`: condition name → its DEG .h5ad or `anndata.AnnData` (the tutorial's
      outputs), in display order;
    - `combined`: combined conditions, each a sequence of condition names (or "A AND B");
    - `labels`: name → what the site calls a condition or combined condition;
    - `mast_columns`: condition name → (log2FC column, FDR column) when a file has several
      MAST_* pairs; the rest are the [data] options of ctsite.toml.

    In-memory objects are written to a temporary folder beside `out` (removed afterwards) and
    compiled by the same pipeline as files, so they always compile again. An AnnData opened in
    backed mode is read from its file.
    """
    from ctsite.compile.staging import staged_data
    from ctsite.compile.workflow import compile_data
    from ctsite.config import Settings

    dest = Path(out).expanduser().resolve()
    with staged_data(
        dest,
        interactions=interactions,
        expression=expression,
        conditions=conditions,
        combined=combined,
        labels=labels,
        mast_columns=mast_columns,
        cell_type_order=cell_type_order,
        exclude_cell_types=exclude_cell_types,
        cell_type_colors=cell_type_colors,
        expression_cell_type_column=expression_cell_type_column,
        expression_layer=expression_layer,
    ) as data:
        # A project without a ctsite.toml: these inputs, this store, the defaults otherwise.
        project = Settings(
            root=Path.cwd(), compiled_dir=str(dest), compile_jobs=max(1, jobs), data=data
        )
        return _compiled(compile_data(project, force=force))


def write_demo(directory: PathLike) -> Path:
    """Write the synthetic demo inputs and their ctsite.toml into `directory`; returns the toml."""
    from ctsite.compile.demo import write_demo as write

    return write(Path(directory))


# ---------------------------------------------------------------- the site in the background


def serve(
    store: CompiledStore | PathLike,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    config: PathLike | None = None,
) -> BackgroundSite:
    """Serve the website on `store` in the background; returns at once with its `url`.

    `port=0` takes a free port. The site's texts come from `config` (a ctsite.toml; default: the
    one found from the current directory, like `ctsite serve`). Stop it with `.stop()` or use it
    as a context manager.
    """
    from ctsite.config import load_settings
    from ctsite.web.app import create_app

    path = store.path if isinstance(store, CompiledStore) else Path(store)
    Store.open(path)  # a clear StoreError now rather than a 503 later
    settings = load_settings(config_file=Path(config) if config is not None else None)
    return BackgroundSite(create_app(settings, store_path=path), host, port)
