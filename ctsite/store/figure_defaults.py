"""The figures' default choices, compiled into each store version (`format.FIGURE_DEFAULTS`).

Which seed ligands and cell type the Ligand-effects page opens on, and which two cell types the
Pairwise page compares, depend on the study: the CIN study's Ccl2/Apoe in Tumor cells draw
nothing on another lab's data. `FigureChoices` is what the `[figures]` settings ask for (empty:
choose from the data); `FigureDefaults` is what the compile chose (`ctsite.figures.choose`) and
wrote beside the tables, so the integrity check covers it and a new version brings new defaults
with the pointer switch. Standard library only (the quick compile check imports it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from ctsite.store.format import FIGURE_DEFAULTS


@dataclass(frozen=True)
class FigureChoices:
    """The `[figures]` settings: empty values are chosen from the data at compile time."""

    effects_cell_type: str = ""
    effects_seeds: tuple[str, ...] = ()
    pairwise_cell_type1: str = ""
    pairwise_cell_type2: str = ""

    def to_json(self) -> str:
        """A stable text form (part of the compile key: a new choice is a new version)."""
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class FigureDefaults:
    """The default choices a compile made for this version's data."""

    effects_cell_type: str
    effects_seeds: tuple[str, ...]
    pairwise_cell_type1: str
    pairwise_cell_type2: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, data: bytes) -> FigureDefaults:
        """Parse a version's defaults file (`ValueError` when malformed: the reader turns that
        into a `StoreError` naming the file)."""
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict):
            raise ValueError(f"{FIGURE_DEFAULTS} is not an object")
        seeds = doc.get("effects_seeds")
        if not isinstance(seeds, list) or not all(isinstance(g, str) for g in seeds):
            raise ValueError("effects_seeds is not a list of gene symbols")
        texts = {}
        for key in ("effects_cell_type", "pairwise_cell_type1", "pairwise_cell_type2"):
            value = doc.get(key)
            if not isinstance(value, str):
                raise ValueError(f"{key} is not a text")
            texts[key] = value
        return cls(effects_seeds=tuple(seeds), **texts)
