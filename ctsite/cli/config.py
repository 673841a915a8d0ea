"""`ctsite config`: the resolved configuration, by section, and where each value came from."""

from __future__ import annotations

import typer

from ctsite.cli.console import console
from ctsite.cli.context import begin
from ctsite.cli.render import JsonFlag, emit, esc, say


def config_cmd(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Print the resolved configuration and where each value came from."""
    from rich.table import Table

    from ctsite.config import SECRETS, section_of

    s, as_json = begin(ctx, json_out)
    if as_json:
        sections: dict[str, dict[str, object]] = {}
        for key, value, source in s.items():
            shown = "(set)" if key in SECRETS and value else value  # never a secret's value
            sections.setdefault(section_of(key), {})[key] = {"value": shown, "source": source}
        emit(
            {
                "root": s.root,
                "sections": sections,
                "data": {"conditions": [c.get("name") for c in s.data.get("conditions", [])]}
                if s.data
                else None,
            }
        )
        return
    say(f"[bold]ctsite configuration[/] (root {esc(str(s.root))})")
    rows: dict[str, list[tuple[str, str, str]]] = {}
    for key, value, source in s.items():
        shown = "(set)" if key in SECRETS and value else repr(value)
        rows.setdefault(section_of(key), []).append((key, esc(shown), esc(source)))
    for section, entries in rows.items():
        table = Table(title=f"\\[{section}]", title_justify="left")
        table.add_column("key")
        table.add_column("value")
        table.add_column("source")
        for row in entries:
            table.add_row(*row)
        console.print(table)
    if s.data:
        say(
            "[bold]\\[data][/] section present: conditions "
            + esc(", ".join(str(c.get("name")) for c in s.data.get("conditions", [])))
        )
    else:
        say("[dim]no \\[data] section: `ctsite serve` uses the demo dataset[/]")


def register(app: typer.Typer) -> None:
    app.command("config")(config_cmd)
