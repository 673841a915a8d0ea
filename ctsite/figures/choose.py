"""Choose the figures' default views from the data, at compile time (`FigureDefaults`).

A default view must draw something on any lab's data, not only on the CIN study's. For each
figure the `[figures]` settings win; what they leave unset is chosen so the view, built with the
SPEC's default filters, draws at least one element:
- Ligand effects: the SPEC's Ccl2/Apoe in Tumor cells when the data has them and they draw;
  else the ligands with the strongest effects (the interaction effects, numSigI1, of the
  receptors they reach) that draw, in the cell type where the first one is expressed most.
- Pairwise: the SPEC's Tumor cells → Macrophages/mMDSC when present and drawing; else the two
  cell types with the most interactions passing the filters (two different ones first).
When nothing draws with any choice (data with no effect at all), the built-in choice stays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctsite.errors import InputError, NotFoundError
from ctsite.figures import effects, pairwise
from ctsite.figures.params import parse_params
from ctsite.store import format as fmt
from ctsite.store.figure_defaults import FigureChoices, FigureDefaults

if TYPE_CHECKING:
    from ctsite.store import Store

MAX_TRIED = 8  # ligands whose propagation is run, strongest first
MAX_SEEDS = 2


def choose_defaults(store: Store, choices: FigureChoices) -> FigureDefaults:
    """The default choices for `store`'s data (`InputError` when a setting names what the data
    lacks: one line naming the key and what the data has)."""
    cell_type, seeds = _effects(store, choices)
    first, second = _pairwise(store, choices)
    return FigureDefaults(cell_type, seeds, first, second)


def quiet_settings(store: Store, chosen: FigureDefaults, choices: FigureChoices) -> list[str]:
    """A warning line for each figure whose `[figures]` settings the lab set but whose default
    view, so chosen, draws nothing with the default filters (a seed that is only a receptor,
    two cell types with no interaction): the lab's choice stays, the compile says so."""
    said = []
    if choices.effects_seeds or choices.effects_cell_type:
        base = parse_params(effects.SPEC, store, {})
        view = {**base, "cell_type": chosen.effects_cell_type, "seeds": chosen.effects_seeds}
        if not effects.run(store, view).edges:
            seeds = ", ".join(chosen.effects_seeds)
            said.append(
                f"[figures] effects_seeds = {seeds!r} in {chosen.effects_cell_type!r}: the "
                "Ligand effects page's default view draws nothing (name ligands with effects "
                "in that cell type, or leave [figures] unset to choose from the data)"
            )
    if choices.pairwise_cell_type1 or choices.pairwise_cell_type2:
        pair = (chosen.pairwise_cell_type1, chosen.pairwise_cell_type2)
        counts = pairwise.edge_counts(store, parse_params(pairwise.SPEC, store, {}))
        if counts.get(pair, 0) == 0:
            said.append(
                f"[figures] pairwise_cell_type1 = {pair[0]!r}, pairwise_cell_type2 = "
                f"{pair[1]!r}: the Pairwise page's default view draws nothing (choose two cell "
                "types that interact, or leave them unset to choose from the data)"
            )
    return said


def _cell_type(store: Store, key: str, value: str) -> str:
    if value and value not in store.cell_types:
        names = ", ".join(repr(c) for c in store.cell_types)
        raise InputError(
            f"[figures] {key} = {value!r} is not a cell type of the data (it has {names})",
            hint="spell it exactly as in the input files, or leave it unset to choose from the data",
        )
    return value


def _seeds(store: Store, genes: tuple[str, ...]) -> tuple[str, ...]:
    found: list[str] = []
    for gene in genes:
        try:
            found.append(store.gene(gene))
        except NotFoundError:
            raise InputError(
                f"[figures] effects_seeds: {gene!r} is not in the ligand–receptor list",
                hint="name ligands of the list, comma-separated, or leave it unset",
            ) from None
    return tuple(found)


def _effects(store: Store, choices: FigureChoices) -> tuple[str, tuple[str, ...]]:
    base = parse_params(effects.SPEC, store, {})
    wanted_type = _cell_type(store, "effects_cell_type", choices.effects_cell_type)
    wanted_seeds = _seeds(store, choices.effects_seeds)
    if wanted_type and wanted_seeds:
        return wanted_type, wanted_seeds

    def draws(cell_type: str, seeds: tuple[str, ...]) -> bool:
        return bool(effects.run(store, {**base, "cell_type": cell_type, "seeds": seeds}).edges)

    known = set(store.genes)
    preferred = wanted_seeds or tuple(g for g in effects.DEFAULT_SEEDS if g in known)
    preferred_type = wanted_type or effects.DEFAULT_CELL_TYPE
    if preferred and preferred_type in store.cell_types and draws(preferred_type, preferred):
        return preferred_type, preferred
    ranked = [wanted_seeds] if wanted_seeds else [(g,) for g in _ranked_ligands(store, base)]
    drawing: list[str] = []
    for seeds in ranked[:MAX_TRIED]:
        if draws(wanted_type or store.cell_types[0], seeds):
            drawing += [g for g in seeds if g not in drawing]
        if len(drawing) >= MAX_SEEDS or wanted_seeds:
            break
    if not drawing:
        return wanted_type or base["cell_type"], wanted_seeds or tuple(base["seeds"])
    seeds = tuple(drawing[:MAX_SEEDS]) if not wanted_seeds else wanted_seeds
    if wanted_type:
        return wanted_type, seeds
    where = _expressed_most(store, seeds[0])
    return (where if draws(where, seeds) else store.cell_types[0]), seeds


def _ranked_ligands(store: Store, params: dict[str, Any]) -> list[str]:
    """Ligands by the interaction effects (numSigI1) of the receptor rows they reach under the
    figure's receptor rules, strongest first; those reaching none are left out."""
    table = store.circos_table(params["condition"], params["fdr_i"])
    rec = table[table["receptor"].astype(bool)]
    rec = rec[
        (rec["MAST_log2FC"].abs() >= params["min_log2fc"]) & (rec["MAST_fdr"] < params["fdr_l"])
    ]
    strength: dict[str, float] = {}
    for gene, cell_type, count in zip(
        rec["target"], rec["cell_type"], rec[fmt.SIG_COUNT], strict=True
    ):
        if store.expression(str(cell_type), str(gene)) > params["min_expression"]:
            strength[str(gene)] = strength.get(str(gene), 0.0) + float(count) + 1.0
    scores = {
        g: sum(strength.get(r, 0.0) for r in store.receptors_of(g))
        for g in store.genes
        if store.receptors_of(g)
    }
    tested = set(table["target"][table["ligand"].astype(bool)].astype(str))
    strong = [g for g, s in scores.items() if s > 0]
    # ligands the data tested, when any reach a receptor (an untested one is a list entry,
    # not a finding); else the list's others
    strong = [g for g in strong if g in tested] or strong
    return sorted(strong, key=lambda g: (-scores[g], g))


def _expressed_most(store: Store, gene: str) -> str:
    """The cell type expressing `gene` in the largest fraction of cells (display order on ties)."""
    return max(
        store.cell_types, key=lambda c: (store.expression(c, gene), -store.cell_types.index(c))
    )


def _pairwise(store: Store, choices: FigureChoices) -> tuple[str, str]:
    first = _cell_type(store, "pairwise_cell_type1", choices.pairwise_cell_type1)
    second = _cell_type(store, "pairwise_cell_type2", choices.pairwise_cell_type2)
    if first and second:
        return first, second
    base = parse_params(pairwise.SPEC, store, {})
    counts = pairwise.edge_counts(store, base)
    preferred = (
        first or pairwise.PREFERRED_CELL_TYPES[0],
        second or pairwise.PREFERRED_CELL_TYPES[1],
    )
    if counts.get(preferred, 0) > 0:
        return preferred
    order = {c: i for i, c in enumerate(store.cell_types)}
    candidates = [
        (int(n), a, b)
        for (a, b), n in counts.items()
        if n > 0 and (not first or a == first) and (not second or b == second)
    ]
    if not candidates:
        return first or base["cell_type1"], second or base["cell_type2"]
    _, a, b = min(candidates, key=lambda t: (-t[0], t[1] == t[2], order[t[1]], order[t[2]]))
    return str(a), str(b)
