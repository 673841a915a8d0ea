"""CLI command `ctsite init`: inspect a results folder, ask what is ambiguous, write ctsite.toml.

The steps are the `ctsite.compile.init` workflow; this module shows what was found and asks the
questions at the terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from ctsite.cli.console import console, err_console, warn

if TYPE_CHECKING:
    from ctsite.compile.discover import Discovery
    from ctsite.compile.proposal import Question


def register(app: typer.Typer) -> None:
    """Add the init command to the main app."""
    app.command("init")(init_cmd)


def init_cmd(
    results_dir: Annotated[
        Path, typer.Argument(help="Folder of ContactTracing outputs (default: here).")
    ] = Path("."),
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Configuration to write (default: ./ctsite.toml)."),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Take every proposal without asking.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing file (kept as .bak).")
    ] = False,
) -> None:
    """Write a commented ctsite.toml for a folder of ContactTracing results."""
    from ctsite.compile import init
    from ctsite.compile.proposal import relative

    target = output if output is not None else Path.cwd() / "ctsite.toml"
    found = init.discover_inputs(results_dir, target, force=force)
    here = found.folder
    _summary(found, here)
    for item in found.unusable:
        if init.stops(found, item):
            continue  # one of the problems below
        warn(f"{relative(item.path, here)}: {item.problem} (fix: {item.fix})")
    for name in found.unnamable:
        warn(f"{name}: skipped, its name is not valid UTF-8 (fix: rename it if it is an input)")

    def take_default(question: Question) -> str:
        console.print(
            f"{escape(question.text)} [dim]→ {escape(question.default)} (--yes)", soft_wrap=True
        )
        return question.default

    settled = init.settle(found, take_default if yes else _ask, yes=yes)
    for problem in settled.problems:
        err_console.print(f"[bold red]✗[/] {escape(str(problem))}", soft_wrap=True)
    proposal = settled.check()
    backup = init.write(proposal, target, force=force)
    for cond in proposal.conditions:
        console.print(
            f"  condition [bold]{escape(cond.name)}[/] ← {escape(relative(cond.deg.path, here))} "
            f"({escape(cond.log2fc_column)}, {escape(cond.fdr_column)})",
            soft_wrap=True,
        )
    for combo in proposal.combined:
        console.print(f"  combined  [bold]{escape(' AND '.join(combo))}[/]", soft_wrap=True)
    console.print(
        f"  {len(proposal.cell_types)} cell types: {escape(', '.join(proposal.cell_types))}",
        soft_wrap=True,
    )
    if backup is not None:
        console.print(f"[yellow]kept[/] the previous file as {escape(str(backup))}", soft_wrap=True)
    console.print(f"[green]wrote[/] {escape(str(target))}", soft_wrap=True)
    console.print(
        "Next: edit the [site] placeholders (title, citation, contact) and the condition labels,"
        " then run `ctsite compile` and `ctsite serve`; before publishing, check the AWS names"
        " and set [image] repository to your registry.",
        markup=False,
        soft_wrap=True,
    )


def _summary(found: Discovery, here: Path) -> None:
    from ctsite.compile.proposal import relative

    lines = [f"Inputs found in {here}:"]
    for lr in found.interactions:
        lines.append(f"  ligand–receptor list  {relative(lr.path, here)} ({lr.pairs} pairs)")
    for ex in found.expressions:
        lines.append(
            f"  expression            {relative(ex.path, here)} ({ex.cells} cells × {ex.genes} "
            f"genes, {len(ex.cell_types)} cell types in obs {ex.cell_type_column!r})"
        )
    for deg in found.degs:
        pairs = ", ".join(deg.comparisons) or "none"
        lines.append(
            f"  DEG results           {relative(deg.path, here)} ({deg.rows} rows × {deg.genes} "
            f"genes; MAST pairs: {pairs})"
        )
    for path in found.ignored:
        lines.append(f"  not an input          {relative(path, here)}")
    console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)


def _ask(q: Question) -> str:
    """Prompt until the answer is one of the choices (a number or the text itself)."""
    from ctsite.compile.proposal import NO, YES

    if q.confirm:
        return YES if typer.confirm(q.text, default=q.default == YES) else NO
    if not q.choices:
        return str(typer.prompt(q.text, default=q.default))
    console.print(escape(q.text), soft_wrap=True)
    for i, choice in enumerate(q.choices, start=1):
        console.print(f"  {i}. {escape(choice)}", soft_wrap=True)
    while True:
        reply = str(typer.prompt("Choose", default=q.default)).strip()
        if reply.isdigit() and 1 <= int(reply) <= len(q.choices):
            return q.choices[int(reply) - 1]
        if reply in q.choices:
            return reply
        err_console.print(f"choose 1–{len(q.choices)} or one of the names above", soft_wrap=True)
