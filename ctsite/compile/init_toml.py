"""The commented ctsite.toml of a complete proposal, and writing it safely.

`render` writes the TOML text (paths relative to the file, a comment on every proposal);
`write_config` checks that it parses as a dataset configuration and puts it in place atomically,
refusing to replace an existing file unless asked to (and then keeping the old one).
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from ctsite.compile.naming import AwsNames, aws_names, propose_title, slug
from ctsite.compile.proposal import Proposal, relative
from ctsite.config import Settings
from ctsite.errors import ConfigError, CtsiteError

# The about text `init` writes; `doctor` warns while [site] still has it.
ABOUT_PLACEHOLDER = "What was compared, in which samples, and why (shown on the home page)."


def refuse_existing(path: Path, force: bool) -> None:
    """ConfigError when `path` exists and `force` is not given (nothing is overwritten)."""
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; nothing written",
            hint="use --force to replace it (the old file is kept as a .bak), or -o OTHER.toml",
        )


def _q(text: str) -> str:
    """A TOML basic string: JSON's escapes are valid TOML, and JSON escapes every control
    character TOML forbids but DEL (U+007F)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _comment(text: str) -> str:
    """`text` for a comment line, which may hold no control character (nor end at a newline)."""
    return _q(text)[1:-1]


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
    title = propose_title(folder, base)
    own = aws_names(slug(title))
    out = [
        f"# ctsite configuration written by `ctsite init` from {_comment(relative(folder, base))}/"
        f" on {today}.",
        "# Check the proposals below (edit anything), then: ctsite compile && ctsite serve",
        "",
        '# compiled_dir = "data/compiled"   # where `ctsite compile` writes the store',
        "",
        "[site]  # what the pages say about your study: edit these placeholders",
        f"title = {_q(title)}",
        f"subtitle = {_q('')}  # one line under the title",
        f"contact = {_q('')}  # an e-mail address for questions about the data",
        f"about = {_q(ABOUT_PLACEHOLDER)}",
        "# Your paper, shown on the home page and in its citation files once set:",
        '# citation = "Authors. Title. Journal (Year)."',
        '# doi = "10.xxxx/xxxxx"',
        '# paper_url = "https://…"',
        '# data_links = "GEO GSE000000=https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc=GSE000000"',
        '# license = "CC-BY-4.0"',
        "",
        *_figures_section(proposal.cell_types),
        *_aws_section(own),
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


def _figures_section(cell_types: list[str]) -> list[str]:
    """The figures' default views, commented out: `compile` chooses them from the data (views
    that draw something) unless they are set here."""
    first = cell_types[0] if cell_types else "…"
    second = cell_types[1] if len(cell_types) > 1 else first
    return [
        "# The figures' default views: `ctsite compile` chooses them from the data (so that each",
        "# draws something) unless set here, e.g.:",
        "# [figures]",
        f"# effects_cell_type = {_q(first)}",
        '# effects_seeds = "Gene1, Gene2"  # seed ligands of the Ligand-effects page',
        f"# pairwise_cell_type1 = {_q(first)}",
        f"# pairwise_cell_type2 = {_q(second)}",
        "",
    ]


def _aws_section(names: AwsNames) -> list[str]:
    """Where the site is published: the site's own names (from its title), never the runbook's."""
    return [
        "# Where `ctsite provision`, `build-push`, `deploy` and `release` publish: this site's",
        "# own AWS names (from its title; rename them before anything is created).",
        "[aws]",
        f'# region = "{Settings().aws_region}"  # the AWS region to publish in (this is the default)',
        "",
        "[image]",
        f"name = {_q(names.image_name)}  # the local image's name",
        "# Your registry, needed before `build-push`: ECR Public (`aws ecr-public",
        "# describe-registries` shows your alias) or <account>.dkr.ecr.<region>.amazonaws.com/NAME",
        f'# repository = "public.ecr.aws/<your-alias>/{_comment(names.repository_name)}"',
        "",
        "[beanstalk]",
        f"application = {_q(names.application)}",
        f"environment = {_q(names.environment)}",
        "",
        "[provision]",
        f"efs_name = {_q(names.efs_name)}  # the EFS file system holding the compiled store",
        f"staging_environment = {_q(names.staging_environment)}",
        f"stack_prefix = {_q(names.stack_prefix)}  # CloudFormation stacks <prefix>-production, …",
        "",
    ]


def write_config(text: str, path: Path, *, force: bool = False) -> Path | None:
    """Write `text` to `path` atomically after checking it parses as a dataset configuration.

    An existing file is replaced only with `force`, and is kept as `<name>.bak` (numbered when
    that exists too); returns the backup's path, if any.
    """
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.config import load_settings

    refuse_existing(path, force)
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
