"""The test suite's own habits, checked statically over tests/ (the AST, not the text, so a
docstring or an error message never counts):

- every Python subprocess (`python -m ctsite`, gunicorn, a `-c` script) is started through
  tests/support/cli.py, which puts THIS checkout on PYTHONPATH and the current folder off
  `sys.path`: a test run from a temporary folder on a machine with another ctsite installed
  still tests this one;
- no test starts the installed `ctsite` console script.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
# the one place that builds a Python command line, and this file (which names the patterns)
NOT_SCANNED = {"tests/support/cli.py", "tests/test_suite_hygiene.py"}
# Findings in files another change owns, with how many there are today (each must go).
OWNED_ELSEWHERE: dict[str, tuple[int, str]] = {}
SUBPROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output", "getoutput"}
OS_STARTS = {"system", "popen", "execv", "execve", "execvp", "execvpe", "spawnv", "spawnve"}
PYTHON_COMMANDS = {"ctsite_command", "python_command"}
# console scripts that would run whichever Python (and ctsite) comes first on PATH
INSTALLED_PYTHON = re.compile(r"(.*/)?(python[0-9.]*|gunicorn|ctsite)")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _name(node: ast.AST) -> str:
    """`a.b.c` of a Name/Attribute chain ('' for anything else)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _starts_a_process(call: ast.Call, imported: set[str]) -> bool:
    name = _name(call.func)
    head, _, last = name.rpartition(".")
    if head == "subprocess" and last in SUBPROCESS_CALLS:
        return True
    if head == "os" and last in OS_STARTS:
        return True
    if head == "asyncio" and last.startswith("create_subprocess"):
        return True
    return not head and name in imported  # from subprocess import run


def _constants(elements: list[ast.expr]) -> list[object]:
    return [e.value if isinstance(e, ast.Constant) else None for e in elements]


def _is_ctsite_argv(node: ast.AST) -> bool:
    """A literal command line `[..., "-m", "ctsite", ...]` or `["ctsite", ...]`."""
    if not isinstance(node, ast.List | ast.Tuple):
        return False
    values = _constants(node.elts)
    if values[:1] == ["ctsite"]:
        return True
    return any(pair == ("-m", "ctsite") for pair in itertools.pairwise(values))


def _starts_installed_python(command: ast.AST) -> bool:
    """A command line (list, tuple or string) whose program is `python…`/`gunicorn`/`ctsite`
    looked up on PATH: the installed one, not this interpreter with this checkout."""
    if isinstance(command, ast.List | ast.Tuple) and command.elts:
        command = command.elts[0]
    if isinstance(command, ast.Constant) and isinstance(command.value, str):
        words = command.value.split()
        return bool(words) and INSTALLED_PYTHON.fullmatch(words[0]) is not None
    return False


def _is_sys_executable(node: ast.AST) -> bool:
    return _name(node) == "sys.executable"


def _calls(node: ast.AST, names: set[str]) -> bool:
    return any(
        isinstance(n, ast.Call) and _name(n.func).rpartition(".")[2] in names
        for n in ast.walk(node)
    )


def _bindings(scope: ast.AST) -> dict[str, bool]:
    """Names bound in `scope` itself (not in nested functions) → bound only to `cli_env(...)`."""
    bound: dict[str, bool] = {}
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    ok = _is_cli_env(node.value, [bound])
                    bound[target.id] = bound.get(target.id, True) and ok
        todo.extend(ast.iter_child_nodes(node))
    return bound


def _is_cli_env(value: ast.AST, scopes: list[dict[str, bool]]) -> bool:
    """`cli_env(...)`, a name bound only to it (innermost scope first), or `{**that, ...}`."""
    if isinstance(value, ast.Call):
        return _name(value.func).rpartition(".")[2] == "cli_env"
    if isinstance(value, ast.Name):
        return next((s[value.id] for s in scopes if value.id in s), False)
    if isinstance(value, ast.Dict) and value.keys and value.keys[0] is None:
        return _is_cli_env(value.values[0], scopes)
    return False


def _process_calls(tree: ast.Module, imported: set[str]) -> Iterator[tuple[ast.Call, list]]:
    """Every call that starts a process, with the bindings of its scopes (innermost first)."""

    def walk(node: ast.AST, scopes: list[dict[str, bool]]) -> Iterator[tuple[ast.Call, list]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from walk(child, [_bindings(child), *scopes])
                continue
            if isinstance(child, ast.Call) and _starts_a_process(child, imported):
                yield child, scopes
            yield from walk(child, scopes)

    yield from walk(tree, [_bindings(tree)])


def scan(source: str, path: str = "<test>") -> list[Finding]:
    """What in `source` starts Python or ctsite other than through tests/support/cli.py."""
    tree = ast.parse(source)
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "subprocess"
        for alias in node.names
    }
    found: list[Finding] = []
    for node in ast.walk(tree):
        if _is_ctsite_argv(node):
            found.append(Finding(path, node.lineno, "a ctsite command line built by hand"))
        if isinstance(node, ast.FunctionDef) and node.name == "cli_env":
            found.append(Finding(path, node.lineno, "a cli_env of its own (tests.support.cli's)"))
        if isinstance(node, ast.Call) and _name(node.func) == "shutil.which":
            if _constants(node.args)[:1] == ["ctsite"]:
                found.append(Finding(path, node.lineno, "the installed ctsite console script"))
    for call, scopes in _process_calls(tree, imported):
        arguments = [*call.args, *(k.value for k in call.keywords if k.arg != "env")]
        env = next((k.value for k in call.keywords if k.arg == "env"), None)
        if call.args and _starts_installed_python(call.args[0]):
            found.append(Finding(path, call.lineno, "an installed Python started by name"))
        elif any(_is_sys_executable(n) for a in arguments for n in ast.walk(a)):
            found.append(Finding(path, call.lineno, "sys.executable started by hand (run_python)"))
        elif any(_calls(a, PYTHON_COMMANDS) for a in arguments) and not (
            env is not None and _is_cli_env(env, scopes)
        ):
            found.append(Finding(path, call.lineno, "a Python command without env=cli_env(...)"))
    return sorted(set(found), key=lambda f: f.line)


def suite_files() -> Iterator[Path]:
    yield from sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


# ---------------------------------------------------------------- the scanner itself


@pytest.mark.parametrize(
    "source",
    [
        'subprocess.run([sys.executable, "-m", "ctsite", "status"], cwd=p)',
        'subprocess.Popen([sys.executable, "-m", "gunicorn", "app"], env=env)',
        'subprocess.run(["ctsite", "status"])',
        'run([sys.executable, "-c", CODE])',
        'COMMAND = ("-m", "ctsite")',
        'shutil.which("ctsite")',
        'subprocess.run(["sh", "-c", f"{sys.executable} -m ctsite | head"])',
        "def f():\n    env = dict(os.environ)\n    subprocess.run(ctsite_command('x'), env=env)",
        "subprocess.run([*cli.ctsite_command('x')], cwd=p)",
        "def cli_env(**extra):\n    return dict(os.environ, **extra)",
        'subprocess.run(["python3", "-c", "import ctsite"], env=cli_env())',
        'subprocess.Popen(["gunicorn", "ctsite.web.app:create_app()"], env=cli_env())',
        'os.system("python -m pytest")',
    ],
)
def test_the_scan_finds_a_hand_made_start(source: str) -> None:
    source = f"import subprocess, sys, shutil, os\nfrom subprocess import run\n{source}\n"
    assert scan(source), source


@pytest.mark.parametrize(
    "source",
    [
        'run_ctsite("status", cwd=p, env=cli_env(without=("AWS_",)))',
        'start_python("-m", "gunicorn", "app", cwd=p)',
        "def f():\n    env = cli_env(X='1')\n    subprocess.run(['sh', '-c', ' '.join("
        "ctsite_command('x'))], env=env)",
        "subprocess.run([*cli.ctsite_command('x')], env={**cli.cli_env(), 'A': 'b'})",
        'subprocess.run(["git", "status"])',
        'container.exec_run(["python3", "-c", "print(1)"])',
        '"""`python -m ctsite release` as a user runs it"""',
    ],
)
def test_the_scan_passes_the_helpers(source: str) -> None:
    assert scan(f"import subprocess, sys\n{source}\n") == []


# ---------------------------------------------------------------- the suite


def test_every_python_subprocess_runs_this_checkout() -> None:
    found: dict[str, list[Finding]] = {}
    for path in suite_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel in NOT_SCANNED:
            continue
        for finding in scan(path.read_text(encoding="utf-8"), rel):
            found.setdefault(rel, []).append(finding)
    unexpected = [
        str(f)
        for rel, findings in found.items()
        if len(findings) != OWNED_ELSEWHERE.get(rel, (0, ""))[0]
        for f in findings
    ]
    assert not unexpected, "start Python through tests/support/cli.py:\n" + "\n".join(unexpected)
    stale = [rel for rel in OWNED_ELSEWHERE if rel not in found]
    assert not stale, f"fixed: remove from OWNED_ELSEWHERE: {stale}"


# ---------------------------------------------------------------- slow steps get their time

# fixtures that build images or start the engine: longer than pyproject's global 600 s timeout
SLOW_FIXTURES = {"docker_engine", "base_image", "image_project", "real_image"}


def _has_timeout_mark(tree: ast.Module) -> bool:
    """A `budget(...)` (tests/support/fixtures_docker.py) or `pytest.mark.timeout(...)`."""
    return any(
        isinstance(n, ast.Call) and _name(n.func) in ("budget", "pytest.mark.timeout")
        for n in ast.walk(tree)
    )


def _uses_slow_fixtures(tree: ast.Module) -> bool:
    return any(
        isinstance(n, ast.FunctionDef)
        and n.name.startswith("test_")
        and {a.arg for a in n.args.args} & SLOW_FIXTURES
        for n in ast.walk(tree)
    )


def test_tests_of_image_builds_carry_their_own_timeout() -> None:
    """A test that may build the base image (900 s) or a real image has a per-test timeout
    longer than the global one, so the build's own limit and message come first."""
    missing = [
        path.relative_to(ROOT).as_posix()
        for path in suite_files()
        if path.name.startswith("test_")
        and _uses_slow_fixtures(tree := ast.parse(path.read_text(encoding="utf-8")))
        and not _has_timeout_mark(tree)
    ]
    assert not missing, f"give these a budget(...) timeout mark: {missing}"
