"""Figure controls and their validation: query strings → canonical, checked figure parameters.

A `FigureSpec` describes one figure (title, texts, controls) and knows how to resolve its
defaults against a store and how to build the figure. `parse_params` turns an untrusted query
mapping into canonical values (condition *name*, a precomputed FDR threshold, canonical gene
symbols, ...) and raises nothing but `BadParameter` whatever strings it is given.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from ctsite.errors import CtsiteError, NotFoundError

if TYPE_CHECKING:
    from ctsite.store import Store

MAX_GENES = 50  # more highlighted/seed genes than this is not a sensible request
GENE_RESULTS = 20  # the gene search's suggestions, at most
GENE_QUERY_MAX = 60  # characters of a gene search
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_NONE = {"", "none", "[none]"}
_GENE_SPLIT = re.compile(r"[,;\s]+")


class BadParameter(CtsiteError):
    """A figure parameter is missing, malformed or unknown; the message names it and what is allowed."""

    exit_code = 2


@dataclass(frozen=True)
class Control:
    """One form control of a figure page; `name` is its query-string key."""

    name: str
    label: str
    kind: str  # "condition" | "fdr" | "int" | "float" | "cell_type" | "genes" | "bool"
    help: str
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    optional: bool = False
    single_condition_only: bool = False


def fdr_control(name: str, label: str, help: str) -> Control:
    """An FDR cutoff control: 0.01 to 0.25 in steps of 0.01 (SPEC-site.md)."""
    return Control(name, label, "fdr", help, 0.01, 0.25, 0.01)


def count_control(name: str, label: str, help: str) -> Control:
    """A minimum-count control (numSigI1, numDEG): 0 to 100 in steps of 1."""
    return Control(name, label, "int", help, 0, 100, 1)


@dataclass
class FigureResult:
    """A built figure: the Plotly figure dict, the rows behind it, and a message when empty."""

    figure: dict
    table: pd.DataFrame
    message: str | None = None
    tables: dict[str, pd.DataFrame] = field(
        default_factory=dict
    )  # named parts (circos: nodes/chords)


@dataclass(frozen=True)
class FigureSpec:
    """One figure: its texts, its controls, and how to resolve defaults and build it."""

    name: str
    title: str
    description: str
    how_to_read: str
    controls: tuple[Control, ...]
    default_fn: Callable[[Store], dict[str, Any]] = field(repr=False, compare=False)
    build_fn: Callable[[Store, dict[str, Any]], FigureResult] = field(repr=False, compare=False)
    # the width classes the figure is laid out for (the first is the default): its parameters
    # then carry "size", so each class is a view (and a cache entry) of its own
    sizes: tuple[str, ...] = ()

    def defaults(self, store: Store) -> dict[str, Any]:
        """The spec's default parameters, resolved against this store (with the default width
        class, for a figure laid out per class)."""
        defaults = self.default_fn(store)
        return defaults | {"size": self.sizes[0]} if self.sizes else defaults

    def build(self, store: Store, params: dict[str, Any]) -> FigureResult:
        """Build the figure for already-validated parameters (see `parse_params`)."""
        return self.build_fn(store, params)

    def control(self, name: str) -> Control:
        for c in self.controls:
            if c.name == name:
                return c
        raise KeyError(name)


# ---------------------------------------------------------------- default helpers


def default_fdr(store: Store, wanted: float) -> float:
    """`wanted` if the store precomputed it, else the nearest precomputed threshold."""
    thresholds = list(store.thresholds)
    for t in thresholds:
        if abs(t - wanted) < 1e-9:
            return t
    return min(thresholds, key=lambda t: abs(t - wanted))


def default_cell_type(store: Store, preferred: str, index: int) -> str:
    """The preferred cell type if the store has it, else the `index`-th in display order."""
    if preferred in store.cell_types:
        return preferred
    types = list(store.cell_types)
    return types[min(index, len(types) - 1)]


# ---------------------------------------------------------------- parsing


def _describe_range(control: Control) -> str:
    return f"{control.minimum:g} to {control.maximum:g}"


def _named(control: Control) -> str:
    """How an error names a control: the label the reader sees on the page, then the query
    key a script or the Python API uses (e.g. "Interaction-effect FDR cutoff (fdr_i)")."""
    return f"{control.label} ({control.name})"


def _parse_number(control: Control, text: str, integer: bool) -> float | int:
    what = "an integer" if integer else "a number"
    try:
        value = float(text)
    except (ValueError, OverflowError):
        raise BadParameter(
            f"{_named(control)} must be {what} from {_describe_range(control)}, got {text[:40]!r}"
        ) from None
    if not math.isfinite(value) or (integer and value != int(value)):
        raise BadParameter(
            f"{_named(control)} must be {what} from {_describe_range(control)}, got {text[:40]!r}"
        )
    lo = -math.inf if control.minimum is None else control.minimum
    hi = math.inf if control.maximum is None else control.maximum
    if not lo <= value <= hi:
        raise BadParameter(
            f"{_named(control)} must be from {_describe_range(control)}, got {text[:40]!r}"
        )
    return int(value) if integer else value


def _parse_fdr(store: Store, control: Control, text: str) -> float:
    thresholds = list(store.thresholds)
    allowed = f"one of {thresholds[0]:g}, {thresholds[1]:g}, …, {thresholds[-1]:g}"
    steps = [b - a for a, b in itertools.pairwise(thresholds)]
    if len(steps) > 1 and max(steps) - min(steps) < 1e-9:  # evenly spaced: say the range
        step = steps[0]
        allowed = f"from {thresholds[0]:g} to {thresholds[-1]:g} in steps of {step:g}"
    try:
        value = float(text)
    except (ValueError, OverflowError):
        raise BadParameter(f"{_named(control)} must be {allowed}, got {text[:40]!r}") from None
    for t in thresholds:
        if math.isfinite(value) and abs(t - value) < 1e-9:
            return float(t)
    raise BadParameter(f"{_named(control)} must be {allowed}, got {text[:40]!r}")


def _parse_condition(store: Store, control: Control, text: str) -> str:
    options = [
        c for c in store.conditions if c.kind == "single" or not control.single_condition_only
    ]
    for c in options:
        if text in (c.name, c.id):
            return c.name
    names = ", ".join(repr(c.name) for c in options)
    extra = " (this figure needs a single condition)" if control.single_condition_only else ""
    raise BadParameter(
        f"{_named(control)}: unknown condition {text[:80]!r}{extra}; use one of {names}"
    )


def _parse_cell_type(store: Store, control: Control, text: str) -> str | None:
    if control.optional and text.strip().lower() in _NONE:
        return None
    if text in store.cell_types:
        return text
    names = ", ".join(repr(c) for c in store.cell_types)
    raise BadParameter(f"{_named(control)}: unknown cell type {text[:80]!r}; use one of {names}")


def _parse_genes(store: Store, control: Control, text: str) -> tuple[str, ...]:
    words = [w for w in _GENE_SPLIT.split(text) if w]
    if len(words) > MAX_GENES:
        raise BadParameter(f"{_named(control)}: at most {MAX_GENES} genes, got {len(words)}")
    genes: list[str] = []
    unknown: list[str] = []
    for word in words:
        try:
            gene = store.gene(word)
        except NotFoundError:  # a damaged store (StoreError) is not an unknown gene: 503
            unknown.append(word[:40])
            continue
        if gene not in genes:
            genes.append(gene)
    if unknown:
        raise BadParameter(
            f"{_named(control)}: unknown gene(s): {', '.join(unknown)}",
            hint="gene symbols must appear in the ligand–receptor list of the compiled data",
        )
    if not genes and not control.optional:
        raise BadParameter(f"{_named(control)}: give at least one gene symbol")
    return tuple(genes)


def _parse_bool(control: Control, text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise BadParameter(f"{_named(control)} must be 1/0 or true/false, got {text[:40]!r}")


def parse_value(store: Store, control: Control, text: str) -> Any:
    """Validate one query-string value for `control`; canonical value or BadParameter."""
    text = str(text).strip()
    if control.kind == "condition":
        return _parse_condition(store, control, text)
    if control.kind == "fdr":
        return _parse_fdr(store, control, text)
    if control.kind == "int":
        return _parse_number(control, text, integer=True)
    if control.kind == "float":
        return _parse_number(control, text, integer=False)
    if control.kind == "cell_type":
        return _parse_cell_type(store, control, text)
    if control.kind == "genes":
        return _parse_genes(store, control, text)
    if control.kind == "bool":
        return _parse_bool(control, text)
    raise BadParameter(f"{control.name}: unsupported control kind {control.kind!r}")


def parse_params(spec: FigureSpec, store: Store, query: Mapping[str, str]) -> dict[str, Any]:
    """Query mapping → canonical parameters; missing keys take the defaults, unknown keys ignored."""
    params = dict(spec.defaults(store))
    for control in spec.controls:
        raw = query.get(control.name)
        if raw is None:
            continue
        if str(raw).strip() == "" and control.kind not in ("genes", "cell_type"):
            continue  # an emptied number box means "the default"
        if str(raw).strip() == "" and control.kind == "genes" and not control.optional:
            continue
        params[control.name] = parse_value(store, control, raw)
    if spec.sizes:
        size = str(query.get("size") or params["size"])
        if size not in spec.sizes:
            raise BadParameter(f"size must be one of {', '.join(spec.sizes)} (got {size[:40]!r})")
        params["size"] = size
    return params


def format_value(value: Any) -> str:
    """A canonical parameter value → its query-string text (for links and cache keys)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)  # shortest text that parses back to the same float
    return str(value)


def to_query(spec: FigureSpec, params: Mapping[str, Any]) -> dict[str, str]:
    """Canonical parameters → a query mapping that `parse_params` maps back to the same values."""
    return {c.name: format_value(params.get(c.name)) for c in spec.controls}
