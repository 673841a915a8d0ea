"""From what `discover` found to a commented ctsite.toml: proposals, questions, checks, writing.

`propose(discovery, answers)` is pure: it proposes every choice (which list, which expression
file, the `MAST_*` pair and the name of each condition, a combined condition) and returns the
first question whose answer it still needs; the command line asks it (or takes the proposal with
`--yes`) and calls `propose` again with the answer. `check` validates the chosen files with the
compiler's own readers, `render` writes the TOML text and `write_config` puts it in place
atomically, refusing to replace an existing file unless asked to (the old one is kept).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ctsite.compile.discover import (
    MAST_FDR,
    MAST_LOG2FC,
    DegFound,
    Discovery,
    ExpressionFound,
    InteractionsFound,
)
from ctsite.errors import ConfigError, CtsiteError, InputError

YES, NO = "yes", "no"
_STEM_AFFIXES = re.compile(
    r"^(deg|degs|de|results?|contacttracing|ct)[_\-. ]+|[_\-. ]+(deg|degs|results?)$", re.I
)


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
    discovery: Discovery
    interactions: InteractionsFound | None = None
    expression: ExpressionFound | None = None
    conditions: list[ConditionProposal] = field(default_factory=list)
    combined: list[tuple[str, ...]] = field(default_factory=list)
    cell_types: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    question: Question | None = None  # the next one to answer; None when complete


def relative(path: Path, base: Path) -> str:
    """`path` relative to `base` when possible (posix separators), else absolute."""
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive
        return path.resolve().as_posix()


def _choose(
    key: str, text: str, options: list[tuple[str, object]], default: str, answers: Mapping[str, str]
) -> tuple[object | None, Question | None]:
    """The option answered for `key`, or the question to ask when there is no answer yet."""
    labels = [label for label, _ in options]
    if key in answers and answers[key] in labels:
        return options[labels.index(answers[key])][1], None
    return None, Question(key, text, default, tuple(labels))


def propose(discovery: Discovery, answers: Mapping[str, str] | None = None) -> Proposal:
    """The proposed configuration given the answers so far (see the module docstring)."""
    answers = dict(answers or {})
    p = Proposal(discovery)
    here = discovery.folder
    targets = frozenset().union(*(d.targets for d in discovery.degs))
    deg_types = {t for d in discovery.degs for t in d.cell_types}

    def ask(question: Question) -> Proposal:
        p.question = question
        return p

    # The ligand–receptor list: the one that covers the most DEG targets.
    lists = sorted(discovery.interactions, key=lambda x: (-len(targets & x.genes), -x.pairs))
    if not lists:
        p.problems.append(
            Problem(
                f"no ligand–receptor list in {here} (a TSV whose first line is 'ligand<TAB>receptor')",
                "copy the list the analysis used into the folder (e.g. interactions_mm10.tsv)",
            )
        )
    elif len(lists) == 1:
        p.interactions = lists[0]
    else:
        options = [(relative(x.path, here), x) for x in lists]
        chosen, q = _choose(
            "interactions",
            "Several ligand–receptor lists were found; which one did the analysis use?",
            options, options[0][0], answers,
        )  # fmt: skip
        if q:
            return ask(q)
        p.interactions = chosen  # type: ignore[assignment]

    # The expression data: the one that covers the most DEG cell types, then the most cells.
    exprs = sorted(
        discovery.expressions, key=lambda x: (-len(deg_types & set(x.cell_types)), -x.cells)
    )
    if not exprs:
        p.problems.append(
            Problem(
                f"no expression file in {here} (an .h5ad of counts with obs 'Cell Type')",
                "copy the AnnData of the cells the analysis used into the folder",
            )
        )
    elif len(exprs) == 1:
        p.expression = exprs[0]
    else:
        options = [(relative(x.path, here), x) for x in exprs]
        chosen, q = _choose(
            "expression",
            "Several expression files were found; which one holds the cells of the analysis?",
            options, options[0][0], answers,
        )  # fmt: skip
        if q:
            return ask(q)
        p.expression = chosen  # type: ignore[assignment]

    # One condition per DEG file: its MAST_* pair, then its name.
    if not discovery.degs:
        p.problems.append(
            Problem(
                f"no DEG result file in {here} (an .h5ad with obs 'cell type' and 'target' and "
                "layers log2FC, fdr, fdr.i1)",
                "copy ContactTracing's per-comparison results (one .h5ad each) into the folder",
            )
        )
    picked: list[tuple[DegFound, str]] = []
    for deg in discovery.degs:
        rel = relative(deg.path, here)
        if not deg.comparisons:
            extra = f"; unpaired: {', '.join(deg.unpaired)}" if deg.unpaired else ""
            p.problems.append(
                Problem(
                    f"{rel}: no obs column pair MAST_log2FC_<comparison>/MAST_fdr_<comparison>"
                    + extra,
                    "add the targets' own differential expression (both columns) to obs",
                )
            )
            continue
        if len(deg.comparisons) == 1:
            picked.append((deg, deg.comparisons[0]))
            continue
        options = [(c, c) for c in deg.comparisons]
        default = max(deg.comparisons, key=lambda c: (c.lower() in deg.path.stem.lower(), len(c)))
        if default.lower() not in deg.path.stem.lower():
            default = deg.comparisons[0]
        chosen, q = _choose(
            f"comparison:{rel}",
            f"{rel} has {len(deg.comparisons)} MAST_log2FC_*/MAST_fdr_* column pairs; which "
            "comparison is this file's?",
            options, default, answers,
        )  # fmt: skip
        if q:
            return ask(q)
        picked.append((deg, str(chosen)))

    counts: dict[str, int] = {}
    for _, comparison in picked:
        counts[comparison] = counts.get(comparison, 0) + 1
    used: set[str] = set()
    for deg, comparison in picked:
        rel = relative(deg.path, here)
        if counts[comparison] == 1:
            name, source = comparison, "MAST columns"
        else:
            default = _unique(_stem_name(deg.path), used)
            key = f"name:{rel}"
            if key not in answers:
                return ask(
                    Question(
                        key,
                        f"{rel}: its MAST columns (…_{comparison}) are shared with another file, so "
                        "its condition name comes from the file name; name this condition",
                        default,
                    )
                )
            name = answers[key].strip() or default
            source = "file name" if name == default else "your answer"
            if " AND " in name or name in used:
                return ask(
                    Question(
                        key,
                        f"{name!r} cannot be used (names are unique and have no ' AND '); name "
                        f"the condition of {rel}",
                        default,
                    )
                )
        used.add(name)
        p.conditions.append(ConditionProposal(name, deg, comparison, source))

    if len(p.conditions) == 2:
        a, b = p.conditions[0].name, p.conditions[1].name
        if "combined" not in answers:
            return ask(
                Question(
                    "combined",
                    f"Two comparisons: also show their intersection, the combined condition "
                    f"'{a} AND {b}'?",
                    YES,
                    (YES, NO),
                    confirm=True,
                )
            )
        if answers["combined"] == YES:
            p.combined.append((a, b))

    order: dict[str, None] = {}
    for cond in p.conditions:
        order.update(dict.fromkeys(cond.deg.cell_types))
    p.cell_types = list(order)
    return p


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
                        f"{rel}: cell type(s) {', '.join(map(repr, missing))} are not in the "
                        f"expression file's obs {proposal.expression.cell_type_column!r}",
                        "spell cell types the same in every file, or list them in "
                        "exclude_cell_types",
                    )
                )
        if reference is not None and types != reference[1]:
            diff = ", ".join(map(repr, sorted(types ^ reference[1])))
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


# ---------------------------------------------------------------- the TOML text


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def _qlist(items: list[str], indent: int) -> str:
    lines, line = [], "["
    for i, item in enumerate(items):
        piece = _q(item) + (", " if i < len(items) - 1 else "]")
        if len(line) + len(piece) > 96 - indent and line != "[":
            lines.append(line.rstrip())
            line = " " * (indent + 1)
        line += piece
    lines.append(line if items else "[]")
    return "\n".join(lines)


def render(proposal: Proposal, config_path: Path) -> str:
    """The commented ctsite.toml of a complete proposal (paths relative to its folder)."""
    if proposal.question is not None or proposal.interactions is None or not proposal.conditions:
        raise CtsiteError("the proposal is not complete", hint="answer its questions first")
    assert proposal.expression is not None
    base = config_path.parent
    folder = proposal.discovery.folder.resolve()
    expr, lr = proposal.expression, proposal.interactions
    today = datetime.now(UTC).date().isoformat()
    out = [
        f"# ctsite configuration written by `ctsite init` from {relative(folder, base)}/ on {today}.",
        "# Check the proposals below (edit anything), then: ctsite compile && ctsite serve",
        "",
        '# compiled_dir = "data/compiled"   # where `ctsite compile` writes the store',
        "",
        "[site]  # what the pages say about your study: edit these placeholders",
        f"title = {_q(f'ContactTracing results: {folder.name}')}",
        f"subtitle = {_q('Please cite: AUTHORS, TITLE, JOURNAL (YEAR)')}  # the citation line",
        f"contact = {_q('')}  # an e-mail address for questions about the data",
        f"about = {_q('What was compared, in which samples, and why (shown on the home page).')}",
        "",
        "[data]",
        f"interactions = {_q(relative(lr.path, base))}  # {lr.pairs} ligand–receptor pairs",
        f"expression = {_q(relative(expr.path, base))}  # {expr.cells} cells × {expr.genes} genes",
    ]
    if expr.cell_type_column != "Cell Type":
        out.append(f"expression_cell_type_column = {_q(expr.cell_type_column)}")
    out += [
        f"# The {len(proposal.cell_types)} cell types found, in the figures' order (reorder freely);",
        '# leave some out of the site with exclude_cell_types = ["…"].',
        f"cell_type_order = {_qlist(proposal.cell_types, len('cell_type_order = '))}",
        "# exclude_cell_types = []",
        "# [data.cell_type_colors]  # '#rrggbb' per cell type (the study's palette otherwise)",
        "",
    ]
    for cond in proposal.conditions:
        deg = cond.deg
        out += [
            "[[data.conditions]]",
            f"name = {_q(cond.name)}  # from the {cond.named_from}",
            f"file = {_q(relative(deg.path, base))}  # {deg.rows} (cell type, target) rows × "
            f"{deg.genes} genes",
            f"label = {_q(cond.name)}  # what the site calls it: edit",
            f"log2fc_column = {_q(cond.log2fc_column)}",
            f"fdr_column = {_q(cond.fdr_column)}",
            "",
        ]
    for combo in proposal.combined:
        out += [
            "[[data.combined]]  # effects present in every one of these comparisons",
            f"of = {_qlist(list(combo), len('of = '))}",
            f"label = {_q(' & '.join(combo))}",
            "",
        ]
    if len(proposal.conditions) > 2:
        names = ", ".join(_q(c.name) for c in proposal.conditions[:2])
        out += [
            "# A combined condition (the intersection of two or more comparisons), e.g.:",
            "# [[data.combined]]",
            f"# of = [{names}]",
            "",
        ]
    return "\n".join(out)


def write_config(text: str, path: Path, *, force: bool = False) -> Path | None:
    """Write `text` to `path` atomically after checking it parses as a dataset configuration.

    An existing file is replaced only with `force`, and is kept as `<name>.bak` (numbered when
    that exists too); returns the backup's path, if any.
    """
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.config import load_settings

    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; nothing written",
            hint="use --force to replace it (the old file is kept as a .bak), or -o OTHER.toml",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        settings = load_settings(config_file=tmp, environ={})
        parse_data_spec(settings.data, settings.root)
        backup = None
        if path.exists():
            backup = path.with_name(path.name + ".bak")
            n = 2
            while backup.exists():
                backup, n = path.with_name(f"{path.name}.bak{n}"), n + 1
            shutil.copy2(path, backup)
        os.replace(tmp, path)
        return backup
    finally:
        tmp.unlink(missing_ok=True)
