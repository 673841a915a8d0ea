"""CLI commands of the compile area: `compile`, `export`, `demo`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ctsite.console import console, err_console, warn


class ExportTable(StrEnum):
    circos = "circos"
    interactions = "interactions"
    ligand_effects = "ligand-effects"


class ExportFormat(StrEnum):
    csv = "csv"
    tsv = "tsv"
    parquet = "parquet"


def register(app: typer.Typer) -> None:
    """Add the compile commands to the main app."""
    app.command("compile")(compile_cmd)
    app.command("export")(export_cmd)
    app.command("demo")(demo_cmd)


def compile_cmd(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Store directory (default: compiled_dir).")
    ] = None,
    interactions: Annotated[
        Path | None, typer.Option(help="Ligand–receptor TSV (overrides [data] interactions).")
    ] = None,
    expression: Annotated[
        Path | None, typer.Option(help="Expression .h5ad (overrides [data] expression).")
    ] = None,
    condition: Annotated[
        list[str] | None,
        typer.Option("--condition", help="NAME=FILE of a DEG .h5ad; repeatable."),
    ] = None,
    combined: Annotated[
        list[str] | None,
        typer.Option("--combined", help='A combined condition, e.g. "A AND B"; repeatable.'),
    ] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Worker processes.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when up to date.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Compile ContactTracing results into the store the website reads."""
    from ctsite.cli import settings
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.compile.fingerprint import up_to_date

    s = settings(compiled_dir=str(out) if out else None, compile_jobs=jobs)
    spec = parse_data_spec(
        s.data,
        s.root,
        interactions=interactions,
        expression=expression,
        conditions=condition or (),
        combined=combined or (),
    )
    current = None if force else up_to_date(spec, s.compiled_path)
    if current is not None:  # answered without importing the scientific stack
        _print_up_to_date(current, s.compiled_path)
        return
    from ctsite.compile.build import compile_store
    from ctsite.console import phase_progress

    with phase_progress(disable=quiet) as progress:
        tasks: dict[str, int] = {}

        def add(key: str, description: str, total: int) -> None:
            tasks[key] = progress.add_task(description, total=total)

        def advance(key: str, n: int) -> None:
            if key in tasks:
                progress.advance(tasks[key], n)

        result = compile_store(
            spec,
            s.compiled_path,
            jobs=max(1, s.compile_jobs),
            block_rows=s.compile_block_rows,
            force=force,
            progress=add,
            advance=advance,
        )
    if result.status == "up-to-date":
        _print_up_to_date(result.manifest, result.path)
        return
    for message in result.warnings:
        warn(message)
    m = result.manifest
    console.print(
        f"[green]compiled[/] {len(m['conditions'])} conditions, {len(m['cell_types'])} cell types, "
        f"{m['n_genes']} genes → {escape(str(result.path))} in {result.seconds:.1f} s"
    )


def _print_up_to_date(manifest: dict, path: Path) -> None:
    console.print(
        f"[green]up to date[/]: inputs and parameters unchanged since "
        f"{manifest.get('created')}; nothing to do ({escape(str(path))}; --force rebuilds)"
    )


def export_cmd(
    table: Annotated[ExportTable, typer.Argument(help="Which table to export.")],
    condition: Annotated[
        str | None, typer.Option(help="Condition name (default: the site's default).")
    ] = None,
    fdr: Annotated[float, typer.Option(help="Interaction-effect FDR threshold.")] = 0.25,
    cell_type: Annotated[
        list[str] | None,
        typer.Option("--cell-type", help="Cell type(s); interactions: filter, effects: one."),
    ] = None,
    target: Annotated[str | None, typer.Option(help="Target gene (ligand-effects).")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="Output format.")] = (
        ExportFormat.csv
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output file (default: stdout).")
    ] = None,
    store_dir: Annotated[
        Path | None, typer.Option("--store", help="Store directory (default: compiled_dir).")
    ] = None,
) -> None:
    """Export a table of the compiled store as CSV, TSV or Parquet."""
    from ctsite.cli import settings
    from ctsite.compile.export import export_table
    from ctsite.compile.store import Store

    s = settings(compiled_dir=str(store_dir) if store_dir else None)
    store = Store.open(s.compiled_path)
    frame = export_table(store, table.value, condition, fdr, cell_type or [], target)
    if output is None and fmt is ExportFormat.parquet:
        from ctsite.errors import CtsiteError

        raise CtsiteError("Parquet cannot be written to the terminal", hint="add -o FILE.parquet")
    from ctsite.compile.export import write_frame

    write_frame(frame, fmt.value, output)
    if output is not None:
        err_console.print(f"wrote {len(frame)} rows to {escape(str(output))}")


def demo_cmd(
    directory: Annotated[
        Path | None, typer.Argument(help="Where to write the demo (default: demo_dir).")
    ] = None,
    compile_too: Annotated[
        bool, typer.Option("--compile/--no-compile", help="Also compile it.")
    ] = True,
) -> None:
    """Write the synthetic demo dataset (and its ctsite.toml), then compile it."""
    from ctsite.cli import settings
    from ctsite.compile.demo import demo_config, ensure_demo_store, write_demo

    s = settings()
    target = directory if directory is not None else s.path(s.demo_dir)
    config = write_demo(target)
    console.print(
        f"[green]wrote[/] the demo dataset to {escape(str(target))} "
        f"(configuration: {escape(str(config))})"
    )
    if compile_too:
        store = ensure_demo_store(target)
        console.print(f"[green]compiled[/] the demo store → {escape(str(store))}")
    console.print("\nIts [data] section, to adapt for your own results:\n", markup=False)
    console.print(demo_config().split("\n[data]", 1)[1].join(["[data]", ""]), markup=False)
