"""What `ctsite init` proposes for a results folder, and the questions it cannot settle alone.

`propose(discovery, answers)` is pure: it proposes every choice (which ligand–receptor list,
which expression file, the `MAST_*` pair and the name of each condition, a combined condition)
and returns with the first question whose answer it still needs; `resolve` asks them in turn
through a callback (the command line prompts, or takes the defaults with `--yes`). `check`
validates the chosen files with the compiler's own readers and against each other.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ctsite.compile.discover import (
    MAST_FDR,
    MAST_LOG2FC,
    DegFound,
    Discovery,
    ExpressionFound,
    InteractionsFound,
)
from ctsite.errors import CtsiteError, InputError

YES, NO = "yes", "no"
_STEM_AFFIXES = re.compile(
    r"^(deg|degs|de|results?|contacttracing|ct)[_\-. ]+|[_\-. ]+(deg|degs|results?)$", re.I
)
T = TypeVar("T", InteractionsFound, ExpressionFound)


@dataclass(frozen=True)
class Question:
    """One choice the proposal cannot make alone; `default` is what `--yes` takes."""

    key: str
    text: str
    default: str
    choices: tuple[str, ...] = ()  # empty: free text
    confirm: bool = False  # a yes/no question


@dataclass(frozen=True)
class Problem:
    """A missing or malformed input, and how to fix it."""

    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.what} (fix: {self.fix})"


@dataclass(frozen=True)
class ConditionProposal:
    """One DEG file as a condition: its name and its own `MAST_*` column pair."""

    name: str
    deg: DegFound
    comparison: str  # the MAST_* suffix of this file's own differential expression
    named_from: str  # "MAST columns" | "file name" | "your answer"

    @property
    def log2fc_column(self) -> str:
        return MAST_LOG2FC + self.comparison

    @property
    def fdr_column(self) -> str:
        return MAST_FDR + self.comparison


@dataclass
class Proposal:
    """The configuration proposed so far; complete when `question` is None."""

    discovery: Discovery
    interactions: InteractionsFound | None = None
    expression: ExpressionFound | None = None
    conditions: list[ConditionProposal] = field(default_factory=list)
    combined: list[tuple[str, ...]] = field(default_factory=list)
    cell_types: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    question: Question | None = None


class _Unanswered(Exception):
    def __init__(self, question: Question) -> None:
        self.question = question


def relative(path: Path, base: Path) -> str:
    """`path` relative to `base` when possible (posix separators), else absolute."""
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive
        return path.resolve().as_posix()


def propose(discovery: Discovery, answers: Mapping[str, str] | None = None) -> Proposal:
    """The proposed configuration given the answers so far (see the module docstring)."""
    answers = dict(answers or {})
    p = Proposal(discovery)
    here = discovery.folder
    targets = frozenset().union(*(d.targets for d in discovery.degs))
    deg_types = {t for d in discovery.degs for t in d.cell_types}
    try:
        p.interactions = _pick_file(
            "interactions",
            "Several ligand–receptor lists were found; which one did the analysis use?",
            sorted(discovery.interactions, key=lambda x: (-len(targets & x.genes), -x.pairs)),
            Problem(
                f"no ligand–receptor list in {here} (a TSV whose first line is "
                "'ligand<TAB>receptor')",
                "copy the list the analysis used into the folder (e.g. interactions_mm10.tsv)",
            ),
            p, answers,
        )  # fmt: skip
        p.expression = _pick_file(
            "expression",
            "Several expression files were found; which one holds the cells of the analysis?",
            sorted(
                discovery.expressions,
                key=lambda x: (-len(deg_types & set(x.cell_types)), -x.cells),
            ),
            Problem(
                f"no expression file in {here} (an .h5ad of counts with obs 'Cell Type')",
                "copy the AnnData of the cells the analysis used into the folder",
            ),
            p, answers,
        )  # fmt: skip
        if not discovery.degs:
            p.problems.append(
                Problem(
                    f"no DEG result file in {here} (an .h5ad with obs 'cell type' and 'target' "
                    "and layers log2FC, fdr, fdr.i1)",
                    "copy ContactTracing's per-comparison results (one .h5ad each) into it",
                )
            )
        picked = [(d, c) for d in discovery.degs if (c := _comparison(d, p, answers)) is not None]
        p.conditions = _name_conditions(picked, here, answers)
        p.combined = _combined(p.conditions, answers)
    except _Unanswered as pending:
        p.question = pending.question
        return p
    order: dict[str, None] = {}
    for cond in p.conditions:
        order.update(dict.fromkeys(cond.deg.cell_types))
    p.cell_types = list(order)
    return p


def _pick_file(
    key: str,
    text: str,
    ranked: Sequence[T],
    missing: Problem,
    p: Proposal,
    answers: Mapping[str, str],
) -> T | None:
    """The only candidate, the answered one, or a question (best-ranked first as the default)."""
    if not ranked:
        p.problems.append(missing)
        return None
    if len(ranked) == 1:
        return ranked[0]
    labels = [relative(x.path, p.discovery.folder) for x in ranked]
    if answers.get(key) in labels:
        return ranked[labels.index(answers[key])]
    raise _Unanswered(Question(key, text, labels[0], tuple(labels)))


def _comparison(deg: DegFound, p: Proposal, answers: Mapping[str, str]) -> str | None:
    """The MAST_* suffix of this file's own comparison (asked when there are several)."""
    rel = relative(deg.path, p.discovery.folder)
    if not deg.comparisons:
        extra = f"; unpaired: {', '.join(deg.unpaired)}" if deg.unpaired else ""
        p.problems.append(
            Problem(
                f"{rel}: no obs column pair MAST_log2FC_<comparison>/MAST_fdr_<comparison>{extra}",
                "add the targets' own differential expression (both columns) to obs",
            )
        )
        return None
    if len(deg.comparisons) == 1:
        return deg.comparisons[0]
    key = f"comparison:{rel}"
    if answers.get(key) in deg.comparisons:
        return answers[key]
    stem = deg.path.stem.lower()
    named = [c for c in deg.comparisons if c.lower() in stem]  # the one its file name names
    default = max(named, key=len) if named else deg.comparisons[0]
    raise _Unanswered(
        Question(
            key,
            f"{rel} has {len(deg.comparisons)} MAST_log2FC_*/MAST_fdr_* column pairs; which "
            "comparison is this file's?",
            default,
            deg.comparisons,
        )
    )


def _name_conditions(
    picked: list[tuple[DegFound, str]], here: Path, answers: Mapping[str, str]
) -> list[ConditionProposal]:
    """Names from the MAST suffixes when they tell the files apart, else from the file names."""
    counts: dict[str, int] = {}
    for _, comparison in picked:
        counts[comparison] = counts.get(comparison, 0) + 1
    used: set[str] = set()
    conditions = []
    for deg, comparison in picked:
        if counts[comparison] == 1:
            name, source = comparison, "MAST columns"
        else:
            rel, key = relative(deg.path, here), f"name:{relative(deg.path, here)}"
            default = _unique(_stem_name(deg.path), used)
            text = (
                f"{rel}: its MAST columns (…_{comparison}) are shared with another file, so its "
                "condition name comes from the file name; name this condition"
            )
            if key not in answers:
                raise _Unanswered(Question(key, text, default))
            name = answers[key].strip() or default
            if " AND " in name or name in used:
                raise _Unanswered(
                    Question(key, f"{name!r} is taken or has ' AND ' in it. {text}", default)
                )
            source = "file name" if name == default else "your answer"
        used.add(name)
        conditions.append(ConditionProposal(name, deg, comparison, source))
    return conditions


def _combined(
    conditions: list[ConditionProposal], answers: Mapping[str, str]
) -> list[tuple[str, ...]]:
    """With exactly two comparisons, their intersection (if wanted)."""
    if len(conditions) != 2:
        return []
    a, b = conditions[0].name, conditions[1].name
    if "combined" not in answers:
        raise _Unanswered(
            Question(
                "combined",
                f"Two comparisons: also show their intersection, the combined condition "
                f"'{a} AND {b}'?",
                YES,
                (YES, NO),
                confirm=True,
            )
        )
    return [(a, b)] if answers["combined"] == YES else []


def resolve(discovery: Discovery, answer: Callable[[Question], str]) -> Proposal:
    """Propose, asking `answer` each question in turn, until the proposal is complete."""
    answers: dict[str, str] = {}
    for _ in range(1000):  # each answer settles one question; a loop means a bug
        proposal = propose(discovery, answers)
        if proposal.question is None:
            return proposal
        answers[proposal.question.key] = answer(proposal.question)
    raise CtsiteError("ctsite init kept asking the same question", hint="report this as a bug")


def _stem_name(path: Path) -> str:
    stem = path.name.split(".")[0]
    name = _STEM_AFFIXES.sub("", stem).strip(" _-.") or stem
    return name.replace(" AND ", "_and_")


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def check(proposal: Proposal) -> list[Problem]:
    """Validate the chosen files with the compiler's readers and against each other."""
    from ctsite.compile.inputs import read_deg_metadata, read_expression_metadata

    problems = list(proposal.problems)
    here = proposal.discovery.folder
    if proposal.expression is not None:
        try:
            read_expression_metadata(proposal.expression.path, proposal.expression.cell_type_column)
        except InputError as error:
            problems.append(Problem(error.message, error.hint or "re-export the expression file"))
    reference: tuple[str, set[str]] | None = None
    for cond in proposal.conditions:
        rel = relative(cond.deg.path, here)
        try:
            read_deg_metadata(cond.deg.path, cond.log2fc_column, cond.fdr_column)
        except InputError as error:
            problems.append(Problem(error.message, error.hint or "re-export the DEG file"))
            continue
        types = set(cond.deg.cell_types)
        if proposal.expression is not None:
            missing = sorted(types - set(proposal.expression.cell_types))
            if missing:
                problems.append(
                    Problem(
                        f"{rel}: cell type(s) {', '.join(repr(str(m)) for m in missing)} are not in the "
                        f"expression file's obs {proposal.expression.cell_type_column!r}",
                        "spell cell types the same in every file, or list them in "
                        "exclude_cell_types",
                    )
                )
        if reference is not None and types != reference[1]:
            diff = ", ".join(repr(str(t)) for t in sorted(types ^ reference[1]))
            problems.append(
                Problem(
                    f"{rel}: its cell types differ from {reference[0]}'s ({diff})",
                    "every DEG file must cover the same cell types (or exclude the others)",
                )
            )
        reference = reference or (rel, types)
        if proposal.interactions is not None:
            absent = sorted(cond.deg.targets - proposal.interactions.genes)
            if absent:
                problems.append(
                    Problem(
                        f"{rel}: {len(absent)} target(s) are not in "
                        f"{relative(proposal.interactions.path, here)} ({', '.join(absent[:6])}"
                        f"{', …' if len(absent) > 6 else ''})",
                        "put the ligand–receptor list the analysis used in the folder",
                    )
                )
    return problems
