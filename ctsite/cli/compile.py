"""CLI commands of the compile area: `compile` (through `ctsite.compile.workflow`), `export`, `demo`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ctsite.cli.console import console, err_console, warn
from ctsite.cli.context import begin, reporter_for, settings
from ctsite.cli.render import JsonFlag, emit, esc, say


class ExportTable(StrEnum):
    circos = "circos"
    interactions = "interactions"
    ligand_effects = "ligand-effects"


class ExportFormat(StrEnum):
    csv = "csv"
    tsv = "tsv"
    parquet = "parquet"


def compile_cmd(
    ctx: typer.Context,
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
    json_out: JsonFlag = False,
) -> None:
    """Compile ContactTracing results into the store the website reads."""
    from ctsite.compile.workflow import compile_data
    from ctsite.deploy.reporter import NULL

    s, as_json = begin(ctx, json_out, compiled_dir=str(out) if out else None, compile_jobs=jobs)
    result = compile_data(
        s,
        interactions=interactions,
        expression=expression,
        conditions=condition or (),
        combined=combined or (),
        force=force,
        reporter=NULL if quiet else reporter_for(ctx),
    )
    if quiet:  # no progress, but warnings still go to stderr
        for message in result.warnings:
            warn(message)
    if as_json:
        emit(result)
        return
    if result.status == "up-to-date":
        say(
            f"[green]up to date[/]: inputs and parameters unchanged since "
            f"{esc(str(result.created))}; nothing to do ({esc(str(result.path))}; "
            "--force rebuilds)"
        )
        return
    say(
        f"[green]compiled[/] {len(result.conditions)} conditions, {result.cell_types} cell "
        f"types, {result.genes} genes → {esc(str(result.path))} in {result.seconds:.1f} s"
    )


def export_cmd(
    ctx: typer.Context,
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
    all_genes: Annotated[
        bool,
        typer.Option(
            "--all",
            help="ligand-effects: every downstream gene, read from the condition's input file "
            "(by default only the stored rows: ligand/receptor genes with i1.fdr and fdr "
            "below the largest threshold, all a figure can show).",
        ),
    ] = False,
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
    """Export a table of the compiled store as CSV, TSV or Parquet.

    ligand-effects exports the stored rows: the genes a figure can show (see --all).
    """
    from ctsite.compile.export import export_table
    from ctsite.store import Store

    s = settings(ctx, compiled_dir=str(store_dir) if store_dir else None)
    store = Store.open(s.compiled_path)
    frame = export_table(store, table.value, condition, fdr, cell_type or [], target, all_genes)
    if output is None and fmt is ExportFormat.parquet and sys.stdout.isatty():
        from ctsite.errors import CtsiteError

        raise CtsiteError(
            "Parquet cannot be written to the terminal", hint="add -o FILE.parquet or > FILE"
        )
    from ctsite.compile.export import write_frame

    write_frame(frame, fmt.value, output)
    if output is not None:
        err_console.print(f"wrote {len(frame)} rows to {esc(str(output))}")


def demo_cmd(
    ctx: typer.Context,
    directory: Annotated[
        Path | None, typer.Argument(help="Where to write the demo (default: demo_dir).")
    ] = None,
    compile_too: Annotated[
        bool, typer.Option("--compile/--no-compile", help="Also compile it.")
    ] = True,
) -> None:
    """Write the synthetic demo dataset (and its ctsite.toml), then compile it."""
    from ctsite.compile.demo import demo_config, ensure_demo_store, write_demo

    s = settings(ctx)
    target = directory if directory is not None else s.path(s.demo_dir)
    config = write_demo(target)
    console.print(
        f"[green]wrote[/] the demo dataset to {esc(str(target))} "
        f"(configuration: {esc(str(config))})"
    )
    if compile_too:
        store = ensure_demo_store(target)
        console.print(f"[green]compiled[/] the demo store → {esc(str(store))}")
    console.print("\nIts [data] section, to adapt for your own results:\n", markup=False)
    # printed as written (no wrapping at the terminal's width): it must stay valid TOML when copied
    example = demo_config().split("\n[data]", 1)[1].join(["[data]", ""])
    console.print(example, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the compile commands to the main app."""
    app.command("compile")(compile_cmd)
    app.command("export")(export_cmd)
    app.command("demo")(demo_cmd)
