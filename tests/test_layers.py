"""The layering rule, checked on every module's imports (module- and function-level, via ast).

cli → workflows (ctsite.deploy, ctsite.compile) → adapters (ctsite.aws, ctsite.container,
ctsite.sftp) and the store; nothing imports the CLI; a workflow never imports the web layer (the
precomputed figures' file layout is `ctsite.figures.precomputed`); no cycles; no underscore names
across modules; the AWS SDK (boto3, botocore) is imported by the AWS adapters (`ctsite.aws`) only.
The calls themselves, which imports cannot show (a workflow holds a client factory), are guarded
at run time by tests/support/aws_guard.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ctsite"
ADAPTERS = ("ctsite.aws", "ctsite.container", "ctsite.sftp", "ctsite.store")
WORKFLOWS = ("ctsite.deploy", "ctsite.compile")
# (source, target) exceptions. The precompute workflow lives with the figures (whose file layout
# the web reads) and reports through the Reporter protocol every workflow shares: an interface
# with no imports of its own, not a workflow.
ALLOWED: set[tuple[str, str]] = {("ctsite.figures.precomputed", "ctsite.deploy.reporter")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imports(path: Path, name: str) -> list[tuple[str, list[str]]]:
    """(imported module, imported names) for every import statement anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, [alias.name for alias in node.names]))
    return found


def within(name: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def targets(base: str, names: list[str], known: dict[str, Path]) -> list[str]:
    """The ctsite modules an import statement loads (a `from pkg import mod` loads pkg.mod)."""
    out = [base] if base in known else []
    out += [f"{base}.{n}" for n in names if f"{base}.{n}" in known]
    return out


def edges() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for base, names in imports(path, name):
            for target in targets(base, names, known):
                if target != name:
                    graph[name].add(target)
    return graph


def allowed(source: str, target: str) -> bool:
    return any(within(source, s) and within(target, t) for s, t in ALLOWED)


def violations() -> list[str]:
    found = []
    for source, deps in edges().items():
        for target in sorted(deps):
            if allowed(source, target):
                continue
            if within(target, "ctsite.cli") and not (
                within(source, "ctsite.cli") or source == "ctsite.__main__"
            ):
                found.append(f"{source} imports the CLI ({target})")
            if within(source, ADAPTERS) and within(target, (*WORKFLOWS, "ctsite.web")):
                found.append(f"adapter {source} imports {target}")
            if within(source, ("ctsite.web", "ctsite.figures", "ctsite.store")) and within(
                target, WORKFLOWS
            ):
                found.append(f"{source} imports the workflow module {target}")
            if within(source, WORKFLOWS) and within(target, "ctsite.web"):
                found.append(f"workflow {source} imports the web layer ({target})")
            if within(source, ("ctsite.figures", "ctsite.store")) and within(target, "ctsite.web"):
                found.append(f"{source} imports the web layer ({target})")
            if within(source, "ctsite.store") and within(target, "ctsite.figures"):
                found.append(f"the store {source} imports the figures ({target})")
    return found


def test_layers_point_one_way() -> None:
    assert violations() == []


AWS_SDK = ("boto3", "botocore")


def sdk_imports(known: dict[str, Path]) -> list[str]:
    """`module imports boto3` for every ctsite module outside ctsite.aws that imports the SDK."""
    return [
        f"{name} imports {base}"
        for name, path in known.items()
        if not within(name, "ctsite.aws")
        for base, _ in imports(path, name)
        if within(base, AWS_SDK)
    ]


def test_the_aws_sdk_is_imported_by_the_aws_adapters_only() -> None:
    assert sdk_imports(modules()) == []


def test_sdk_rule_itself(tmp_path: Path) -> None:
    """The SDK check flags a function-level import outside ctsite.aws, not one inside it."""
    workflow = tmp_path / "workflow.py"
    workflow.write_text("def f():\n    import botocore.exceptions\n")
    adapter = tmp_path / "adapter.py"
    adapter.write_text("import boto3\n")
    found = sdk_imports({"ctsite.deploy.workflow": workflow, "ctsite.aws.adapter": adapter})
    assert found == ["ctsite.deploy.workflow imports botocore.exceptions"]


# Adapters take explicit values, never the whole Settings; the one exception is the client
# factory, which builds boto3 clients for the configured profile and region.
SETTINGS_READERS = {"ctsite.aws.clients"}


def settings_imports(known: dict[str, Path]) -> list[str]:
    """`adapter imports ctsite.config` for every adapter module (but the factory) that does."""
    return [
        f"{name} imports {base}"
        for name, path in known.items()
        if within(name, ADAPTERS) and name not in SETTINGS_READERS
        for base, names in imports(path, name)
        if "ctsite.config" in targets(base, names, known)
    ]


def test_adapters_take_explicit_values_never_the_settings() -> None:
    assert settings_imports(modules()) == []


def test_settings_rule_itself(tmp_path: Path) -> None:
    adapter = tmp_path / "adapter.py"
    adapter.write_text("from ctsite import config\n")
    factory = tmp_path / "clients.py"
    factory.write_text("from ctsite.config import Settings\n")
    known = {"ctsite.aws.x": adapter, "ctsite.aws.clients": factory, "ctsite.config": factory}
    assert settings_imports(known) == ["ctsite.aws.x imports ctsite"]


def test_no_underscore_name_imported_across_modules() -> None:
    bad = []
    for name, path in modules().items():
        for base, names in imports(path, name):
            if not within(base, "ctsite"):
                continue
            for imported in names:
                if imported.startswith("_") and imported != "__version__":
                    bad.append(f"{name} imports {imported} from {base}")
    assert bad == []


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def package_edges(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Imports between modules, ignoring a package's own __init__ re-exports."""
    return {
        source: {t for t in deps if not source.startswith(t + ".")}
        for source, deps in graph.items()
    }


def test_no_import_cycle() -> None:
    assert cycles(package_edges(edges())) == []


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("ctsite.aws.ecr", "ctsite.deploy.release_plan", True),
        ("ctsite.deploy.release_plan", "ctsite.cli.render", True),
        ("ctsite.web.views", "ctsite.compile.build", True),
        ("ctsite.cli.release", "ctsite.deploy.release", False),
        ("ctsite.web.api", "ctsite.compile.store", True),
        ("ctsite.figures.circos", "ctsite.web.app", True),
        ("ctsite.store.reader", "ctsite.figures.common", True),
        ("ctsite.figures.precomputed", "ctsite.deploy.reporter", False),
        ("ctsite.figures.precomputed", "ctsite.deploy.release", True),
        ("ctsite.figures.params", "ctsite.deploy.reporter", True),
        ("ctsite.compile.workflow", "ctsite.web.cache", True),
    ],
)
def test_rule_itself(source: str, target: str, expected: bool, monkeypatch) -> None:
    """The checker flags what it should (on a synthetic graph)."""
    import tests.test_layers as me

    monkeypatch.setattr(me, "edges", lambda: {source: {target}})
    assert bool(me.violations()) is expected


def test_cycle_finder_sees_function_level_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
