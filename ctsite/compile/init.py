"""The `ctsite init` workflow: a folder of ContactTracing results → a commented ctsite.toml.

Three steps, which the command interleaves with its own output: `discover_inputs` (refuse an
existing file before any question is asked, then inspect the folder), `settle` (ask what is
ambiguous, check the chosen files) and `write` (render the TOML and put it in place, keeping a
replaced file as .bak). Questions go to an `ask(question)` callback, so a script or a test
answers them as a person at a terminal does; nothing here prints or prompts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from ctsite.compile.discover import Discovery, Unusable, discover
from ctsite.compile.init_toml import refuse_existing, render, write_config
from ctsite.compile.proposal import Problem, Proposal, Question, check, relative, resolve
from ctsite.errors import InputError


def discover_inputs(results_dir: Path, target: Path, *, force: bool = False) -> Discovery:
    """What the results folder holds; first, a clear error when `target` exists (no --force)."""
    refuse_existing(target, force)  # before any question
    return discover(results_dir)


@dataclasses.dataclass(frozen=True)
class Settled:
    """The complete proposal, or (proposal None) what is missing before any question was asked;
    `problems` lists what stops the configuration from being written."""

    folder: Path
    proposal: Proposal | None
    problems: list[Problem]

    def check(self) -> Proposal:
        """The proposal to write; `InputError` when any problem stops it."""
        if self.problems or self.proposal is None:
            raise InputError(
                f"{len(self.problems)} problem(s) with the inputs in {self.folder}; "
                "no configuration written",
                hint="fix them and run `ctsite init` again",
            )
        return self.proposal


def settle(found: Discovery, ask: Callable[[Question], str], *, yes: bool = False) -> Settled:
    """Settle every choice through `ask`, then check the chosen files.

    With `yes`, `ask` is expected to take each question's default (and may say so). Otherwise
    what is missing is said before any question: the proposal is first made with the defaults,
    silently, and a missing input stops it there.
    """
    broken = unusable_problems(found)
    if not yes:
        problems = broken + resolve(found, lambda q: q.default).problems
        if problems:
            return Settled(found.folder, None, problems)
    proposal = resolve(found, ask)
    return Settled(found.folder, proposal, broken + check(proposal))


def stops(found: Discovery, item: Unusable) -> bool:
    """Whether a file that looks like an input but cannot be used stops `init`: always, unless
    it is only a guess (a two-column text file) and a usable ligand–receptor list was found."""
    return item.certain or not found.interactions


def unusable_problems(found: Discovery) -> list[Problem]:
    """The unusable inputs that stop `init` (a truncated DEG file must not silently become a
    configuration with one condition fewer), one problem each."""
    return [
        Problem(f"{relative(item.path, found.folder)}: {item.problem}", item.fix)
        for item in found.unusable
        if stops(found, item)
    ]


def write(proposal: Proposal, target: Path, *, force: bool = False) -> Path | None:
    """Write the configuration of `proposal` to `target`; the kept previous file, if any."""
    return write_config(render(proposal, target), target, force=force)
