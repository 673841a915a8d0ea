"""The `ctsite init` workflow called directly (`ctsite.compile.init`): the questions go to an
`ask` callback a script answers, what is missing is said before any question, and nothing is
written unless the proposal is complete. The terminal dialogue is tests/cli/test_init.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctsite.compile import init
from ctsite.compile.proposal import Question
from ctsite.errors import ConfigError, InputError
from tests.cli.test_init import config, demo, results

__all__ = ["demo"]  # the module-scoped demo inputs, re-used from the CLI tests


def never_asked(question: Question) -> str:
    raise AssertionError(f"asked {question.text!r}")


def test_an_existing_file_is_refused_before_the_folder_is_read(tmp_path: Path) -> None:
    target = tmp_path / "ctsite.toml"
    target.write_text("# mine\n")
    with pytest.raises(ConfigError, match="already exists"):
        init.discover_inputs(tmp_path / "not-even-there", target)
    with pytest.raises(InputError, match="results folder not found"):
        init.discover_inputs(tmp_path / "not-even-there", target, force=True)


def test_scripted_answers_settle_the_proposal_then_it_is_written(
    demo: Path, tmp_path: Path
) -> None:
    folder = results(demo, tmp_path / "r")
    target = tmp_path / "ctsite.toml"
    found = init.discover_inputs(folder, target)
    asked: list[str] = []

    def answer(question: Question) -> str:  # names the first condition, takes the rest
        asked.append(question.text)
        first = "name this condition" in question.text and len(asked) == 1
        return "high_vs_low" if first else question.default

    settled = init.settle(found, answer)
    assert settled.problems == [] and "name this condition" in asked[0]
    proposal = settled.check()
    assert [c.name for c in proposal.conditions] == ["high_vs_low", "sting"]
    assert init.write(proposal, target) is None  # nothing was replaced
    written = config(target)["data"]
    assert [c["file"] for c in written["conditions"]] == ["r/cin.h5ad", "r/sting.h5ad"]
    # the figures' defaults are proposed commented out: compile chooses them from the data
    text = target.read_text()
    assert "# [figures]" in text and "figures" not in config(target)
    first = proposal.cell_types[0]
    uncommented = text.replace(f'# effects_cell_type = "{first}"', f'effects_cell_type = "{first}"')
    uncommented = uncommented.replace("# [figures]", "[figures]")
    target.write_text(uncommented)
    assert config(target)["figures"] == {"effects_cell_type": first}


def test_what_is_missing_is_said_before_any_question(demo: Path, tmp_path: Path) -> None:
    folder = results(demo, tmp_path / "r", **{"expression.h5ad": None})
    target = tmp_path / "ctsite.toml"
    settled = init.settle(init.discover_inputs(folder, target), never_asked)
    assert settled.proposal is None
    assert [p.what for p in settled.problems if "expression" in p.what]
    with pytest.raises(InputError, match=r"problem\(s\) with the inputs in .*no configuration"):
        settled.check()
    assert not target.exists()


def test_yes_takes_every_default_through_ask(demo: Path, tmp_path: Path) -> None:
    """With `yes`, every question goes to `ask` (which takes its default) and nothing is
    checked beforehand: the names come from the files, the combined condition is taken."""
    folder = results(demo, tmp_path / "r")
    taken: list[str] = []

    def take_default(question: Question) -> str:
        taken.append(question.default)
        return question.default

    found = init.discover_inputs(folder, tmp_path / "ctsite.toml")
    proposal = init.settle(found, take_default, yes=True).check()
    assert taken == ["cin", "sting", "yes"]
    assert [c.name for c in proposal.conditions] == ["cin", "sting"]
    assert proposal.combined == [("cin", "sting")]
