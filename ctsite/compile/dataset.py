"""The dataset to compile: which files, which conditions, display choices.

Read from the `[data]` table of ctsite.toml (paths relative to the configuration's root) and/or CLI
options. Condition names are data: any number of conditions with any names.

    [data]
    interactions = "inputs/interactions.tsv"
    expression = "inputs/expression.h5ad"
    exclude_cell_types = ["Osteoclasts"]
    cell_type_order = ["Macrophages/mMDSC", "Tumor cells"]
    [data.cell_type_colors]
    "Tumor cells" = "#a3d106"
    [[data.conditions]]
    name = "highCIN_vs_lowCIN"
    file = "inputs/deg_highCIN_vs_lowCIN.h5ad"
    label = "CIN-dependent interactions"
    log2fc_column = "MAST_log2FC_highCIN_vs_lowCIN"   # optional: the file's only pair otherwise
    fdr_column = "MAST_fdr_highCIN_vs_lowCIN"
    [[data.combined]]
    of = ["highCIN_vs_lowCIN", "highCIN_vs_noSTING"]   # name defaults to "A AND B"
    label = "CIN & STING-dependent interactions"
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ctsite.errors import ConfigError

# The study's palette (SPEC-site.md); other cell types get a colour derived from their name.
STUDY_COLORS = {
    "Tumor cells": "#a3d106",
    "T cells": "#f47d06",
    "PMN/gMDSC": "#11eafb",
    "B cells": "#f9d319",
    "pDC": "#51119a",
    "cDC": "#c438fb",
    "Fibroblast cells": "#226c04",
    "NK cells": "#ea0d0c",
    "Macrophages/mMDSC": "#0047cf",
    "Endothelial cells": "#6d0909",
}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class ConditionSpec:
    name: str
    file: Path
    label: str
    log2fc_column: str | None = None
    fdr_column: str | None = None


@dataclass(frozen=True)
class CombinedSpec:
    name: str
    of: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class DataSpec:
    interactions: Path
    expression: Path
    conditions: tuple[ConditionSpec, ...]
    combined: tuple[CombinedSpec, ...] = ()
    expression_cell_type_column: str = "Cell Type"
    expression_layer: str | None = None  # None: layers['X'] if present, else X
    exclude_cell_types: tuple[str, ...] = ()
    cell_type_order: tuple[str, ...] = ()
    cell_type_colors: Mapping[str, str] = field(default_factory=dict)

    def parameters(self) -> dict[str, Any]:
        """Everything except input contents that changes the compiled store (for incrementality)."""
        return {
            "conditions": [
                {
                    "name": c.name,
                    "label": c.label,
                    "log2fc_column": c.log2fc_column,
                    "fdr_column": c.fdr_column,
                }
                for c in self.conditions
            ],
            "combined": [
                {"name": c.name, "of": list(c.of), "label": c.label} for c in self.combined
            ],
            "expression_cell_type_column": self.expression_cell_type_column,
            "expression_layer": self.expression_layer,
            "exclude_cell_types": list(self.exclude_cell_types),
            "cell_type_order": list(self.cell_type_order),
            "cell_type_colors": dict(sorted(self.cell_type_colors.items())),
        }

    def input_files(self) -> dict[str, Path]:
        files = {"interactions": self.interactions, "expression": self.expression}
        for c in self.conditions:
            files[f"deg:{c.name}"] = c.file
        return files


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _toml_type(value: object) -> str:
    """The TOML name of a parsed value's type, for messages ("a table", "an array", …)."""
    kinds: tuple[tuple[type, str], ...] = (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (dict, "a table"),
        (list, "an array"),
        (str, "a string"),
    )
    return next((name for kind, name in kinds if isinstance(value, kind)), "a date/time")


def _opt_str(table: Mapping[str, Any], key: str, where: str) -> str | None:
    """An optional text setting: absent → None; present but not text → a ConfigError naming the
    key and the type (`label = {a = 1}` must not become the label "{'a': 1}")."""
    value = table.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ConfigError(
        f"{where}: `{key}` must be a string, not {_toml_type(value)} ({value!r})",
        hint=f'write it in quotes, e.g. {key} = "…"',
    )


def _req_str(table: Mapping[str, Any], key: str, where: str) -> str:
    value = _opt_str(table, key, where)
    if value is None or not value.strip():
        raise ConfigError(f"{where}: `{key}` is required (a non-empty string)")
    return value


_CONDITION_KEYS = {"name", "file", "label", "log2fc_column", "fdr_column"}
_COMBINED_KEYS = {"name", "of", "label"}
_DATA_KEYS = {
    "interactions",
    "expression",
    "conditions",
    "combined",
    "expression_cell_type_column",
    "expression_layer",
    "exclude_cell_types",
    "cell_type_order",
    "cell_type_colors",
}


def _check_distinct(of: Sequence[str], where: str) -> None:
    """A combined condition compares different conditions: `of = ["A", "A"]` is a mistake."""
    twice = sorted({name for name in of if of.count(name) > 1})
    if twice:
        raise ConfigError(
            f"{where}: `of` names condition {', '.join(map(repr, twice))} twice",
            hint="a combined condition compares two or more different conditions",
        )


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Refuse keys the table does not take, naming the closest allowed key (as the settings'
    tables do) when one is close."""
    unknown = sorted(set(table) - allowed)
    if unknown:
        close = [m for name in unknown for m in difflib.get_close_matches(name, allowed, 1, 0.6)]
        mean = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}{mean}",
            hint=f"allowed: {', '.join(sorted(allowed))}",
        )


def _array_of_tables(
    table: Mapping[str, Any], key: str, allowed: set[str]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, table) for each [[data.KEY]] entry, each checked to be a table of known keys."""
    entries = table.get(key, [])
    if not isinstance(entries, list):
        raise ConfigError(f"[data] {key} must be an array of tables ([[data.{key}]])")
    for i, raw in enumerate(entries):
        where = f"[[data.{key}]] #{i + 1}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where} must be a table")
        _check_keys(raw, allowed, where)
        yield where, raw


def parse_data_spec(
    table: Mapping[str, Any],
    root: Path,
    *,
    interactions: Path | None = None,
    expression: Path | None = None,
    conditions: Sequence[str] = (),
    combined: Sequence[str] = (),
) -> DataSpec:
    """Build a DataSpec from the [data] table, with CLI options (NAME=FILE, "A AND B") on top."""
    _check_keys(table, _DATA_KEYS, "[data]")
    if not table and interactions is None and expression is None and not conditions:
        raise ConfigError(
            f"no dataset configured in {root} (no [data] table in a ctsite.toml)",
            hint="run `ctsite init RESULTS_DIR` to write ctsite.toml from a folder of "
            "ContactTracing results (or pass --interactions, --expression and --condition)",
        )

    def resolve(p: str | Path) -> Path:
        path = Path(p).expanduser()
        return path if path.is_absolute() else root / path

    conds: dict[str, ConditionSpec] = {}
    for where, raw in _array_of_tables(table, "conditions", _CONDITION_KEYS):
        name = _req_str(raw, "name", where)
        if name in conds:
            raise ConfigError(
                f"{where}: condition name {name!r} is used twice in [[data.conditions]]",
                hint="give every condition its own name",
            )
        conds[name] = ConditionSpec(
            name=name,
            file=resolve(_req_str(raw, "file", where)),
            label=_opt_str(raw, "label", where) or name,
            log2fc_column=_opt_str(raw, "log2fc_column", where),
            fdr_column=_opt_str(raw, "fdr_column", where),
        )
    for option in conditions:
        name, sep, file = option.partition("=")
        if not sep or not name.strip() or not file.strip():
            raise ConfigError(
                f"--condition {option!r}: expected NAME=FILE",
                hint="e.g. --condition treated=results/deg_treated_vs_control.h5ad",
            )
        name = name.strip()
        previous = conds.get(name) or ConditionSpec(name=name, file=Path(), label=name)
        conds[name] = replace(previous, file=resolve(file.strip()))

    combos: dict[str, CombinedSpec] = {}
    for where, raw in _array_of_tables(table, "combined", _COMBINED_KEYS):
        of = _str_list(raw.get("of"), f"{where} `of`")
        _check_distinct(of, where)
        name = _opt_str(raw, "name", where) or " AND ".join(of)
        if name in combos:
            raise ConfigError(
                f"{where}: combined condition {name!r} is defined twice in [[data.combined]]",
                hint="give every combined condition its own name (or its own `of`)",
            )
        combos[name] = CombinedSpec(name=name, of=of, label=_opt_str(raw, "label", where) or name)
    for option in combined:
        of = tuple(part.strip() for part in option.split(" AND "))
        _check_distinct(of, f"--combined {option!r}")
        name = " AND ".join(of)
        combos[name] = CombinedSpec(name=name, of=of, label=name)

    for combo in combos.values():
        if len(combo.of) < 2:
            raise ConfigError(f"combined condition {combo.name!r} needs at least two conditions")
        missing = [c for c in combo.of if c not in conds]
        if missing:
            raise ConfigError(
                f"combined condition {combo.name!r} names unknown condition(s): {', '.join(missing)}",
                hint=f"known conditions: {', '.join(conds) or 'none'}",
            )
        if combo.name in conds:
            raise ConfigError(f"combined condition {combo.name!r} has the name of a condition")

    lr = interactions or _opt_str(table, "interactions", "[data]")
    expr = expression or _opt_str(table, "expression", "[data]")
    if not lr:
        raise ConfigError(
            "no ligand–receptor list configured",
            hint="set [data] interactions = 'PATH.tsv' in ctsite.toml or pass --interactions",
        )
    if not expr:
        raise ConfigError(
            "no expression file configured",
            hint="set [data] expression = 'PATH.h5ad' in ctsite.toml or pass --expression",
        )
    if not conds:
        raise ConfigError(
            "no conditions configured",
            hint="add [[data.conditions]] tables to ctsite.toml or pass --condition NAME=FILE",
        )
    colors = table.get("cell_type_colors", {}) or {}
    if not isinstance(colors, dict):
        raise ConfigError("[data.cell_type_colors] must be a table of name = '#rrggbb'")
    for name, color in colors.items():
        if not isinstance(color, str) or not _HEX.match(color):
            raise ConfigError(
                f"[data.cell_type_colors] {name!r}: {color!r} is not a #rrggbb colour"
            )
    column = _opt_str(table, "expression_cell_type_column", "[data]")
    layer = _opt_str(table, "expression_layer", "[data]")
    return DataSpec(
        interactions=resolve(lr),
        expression=resolve(expr),
        conditions=tuple(conds.values()),
        combined=tuple(combos.values()),
        expression_cell_type_column="Cell Type" if column is None else column,
        expression_layer=layer or None,
        exclude_cell_types=_str_list(table.get("exclude_cell_types"), "[data] exclude_cell_types"),
        cell_type_order=_str_list(table.get("cell_type_order"), "[data] cell_type_order"),
        cell_type_colors={**STUDY_COLORS, **colors},
    )
