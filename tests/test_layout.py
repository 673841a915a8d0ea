"""The tree mirrors itself, so a change can be placed from a command's name alone.

- Every `ctsite/cli/X.py` (but the app, its context, and the rendering and console helpers) has a
  workflow module or package named X: in `ctsite/deploy/`, `ctsite/deploy/provision/`,
  `ctsite/deploy/static_site/`, `ctsite/compile/`, `ctsite/figures/`, `ctsite/web/`, or at the
  top of `ctsite/`.
- Each has a test module `tests/**/test_X.py` or a test package `tests/**/X/`.
- Each workflow module of `ctsite/deploy/` has its own `tests/deploy/test_X.py` (or
  `tests/deploy/X/`), testing the workflow directly rather than only through the CLI.
- `ctsite.cli` registers every command module in its one list, and every command of the app
  lives in the CLI module of its workflow.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ctsite"
TESTS = ROOT / "tests"
# CLI modules that are not a command module: the app, its state, rendering, terminal output.
NOT_COMMANDS = {"__init__", "context", "render", "console"}
# Modules waiting for their room, each with where it goes.
PENDING: dict[str, str] = {}
WORKFLOW_ROOMS = (
    PACKAGE / "deploy",
    PACKAGE / "deploy" / "provision",
    PACKAGE / "deploy" / "static_site",
    PACKAGE / "compile",
    PACKAGE / "figures",
    PACKAGE / "web",
    PACKAGE,
)
# ctsite/deploy modules that are not a workflow: the progress protocol every workflow shares.
NOT_WORKFLOWS = {"__init__", "reporter"}


def command_modules() -> list[str]:
    names = sorted(p.stem for p in (PACKAGE / "cli").glob("*.py"))
    return [n for n in names if n not in NOT_COMMANDS | PENDING.keys()]


def module_or_package(folder: Path, name: str) -> bool:
    return (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file()


def has_tests(name: str, under: Path = TESTS) -> bool:
    """A test module test_<name>.py or a test package <name>/ anywhere under `under`."""
    return any(under.rglob(f"test_{name}.py")) or any(
        p.is_dir() and any(p.glob("test_*.py")) for p in under.rglob(name)
    )


def test_there_are_command_modules() -> None:
    assert {"compile", "deploy", "environment", "provision"} <= set(command_modules())


@pytest.mark.parametrize("name", command_modules())
def test_every_command_module_has_its_workflow(name: str) -> None:
    rooms = [room for room in WORKFLOW_ROOMS if module_or_package(room, name)]
    assert rooms, f"ctsite/cli/{name}.py has no workflow module or package named {name!r}"


@pytest.mark.parametrize("name", command_modules())
def test_every_command_module_has_its_tests(name: str) -> None:
    assert has_tests(name), (
        f"no tests/**/test_{name}.py or tests/**/{name}/ for ctsite/cli/{name}.py"
    )


@pytest.mark.parametrize(
    "name",
    sorted(
        p.stem if p.suffix == ".py" else p.name
        for p in (PACKAGE / "deploy").iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").is_file())
        and (p.stem if p.suffix == ".py" else p.name) not in NOT_WORKFLOWS
    ),
)
def test_every_publishing_workflow_has_its_own_test_module(name: str) -> None:
    assert has_tests(name, TESTS / "deploy"), (
        f"ctsite/deploy/{name}: no tests/deploy/test_{name}.py"
    )


def test_the_pending_modules_still_exist() -> None:
    """An entry of PENDING whose module has moved is removed with it."""
    assert [n for n in PENDING if not (PACKAGE / "cli" / f"{n}.py").is_file()] == []


def test_the_app_registers_every_command_module_in_one_list() -> None:
    import ctsite.cli as cli

    registered = [module.__name__.rsplit(".", 1)[1] for module in cli.COMMAND_MODULES]
    assert sorted(registered) == command_modules()


def test_every_command_lives_in_the_module_of_its_workflow() -> None:
    """Each command's callback is defined in a command module (sub-apps: each subcommand)."""
    import typer.main

    import ctsite.cli as cli

    group = typer.main.get_group(cli.app)
    owners: dict[str, str] = {}

    def walk(command: object, path: str) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, f"{path} {name}".strip())
            return
        callback = getattr(command, "callback", None)
        owners[path] = getattr(callback, "__module__", "?")

    walk(group, "")
    assert owners, "no commands found"
    stray = {path: owner for path, owner in owners.items() if not owner.startswith("ctsite.cli.")}
    assert stray == {}
    modules = {owner.rsplit(".", 1)[1] for owner in owners.values()}
    assert modules == set(command_modules())
