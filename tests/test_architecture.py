"""The layout keeps its promises (docs/architecture.md): packages by role, no import circles
(imports inside functions count), small modules, and the layering rules: formatters never
reach Keras, methods never touch PIL or a framework, only ``engine/`` knows the backend."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.core

PACKAGE = Path(__file__).resolve().parent.parent / "explainimg"
ROLE_PACKAGES = {
    "audit",
    "callbacks",
    "demo",
    "engine",
    "formatters",
    "inputs",
    "integrations",
    "methods",
    "metrics",
    "pipeline",
    "targets",
}
FRAMEWORKS = {"tensorflow", "jax", "jaxlib", "torch"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str) -> set[str]:
    """Every module ``name`` imports, explainimg's own by full name and others by their top
    package: module-level, inside functions, and ``import_module("...")`` with a constant."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(node.args[0].value)
    own = {module for module in found if module in MODULES and module != name}
    return own | {module.split(".")[0] for module in found if not module.startswith("explainimg")}


GRAPH = {name: {dep for dep in _imports(name) if dep in MODULES} for name in MODULES}


def _reachable(name: str) -> set[str]:
    seen: set[str] = set()
    stack = [name]
    while stack:
        for dep in GRAPH[stack.pop()]:
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def _circles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for dep in GRAPH[node]:
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                groups.append(sorted(group))

    for name in GRAPH:
        if name not in index:
            visit(name)
    return groups


def test_there_is_no_import_circle():
    assert _circles() == []


def test_the_circle_finder_finds_a_planted_circle():
    saved = {name: set(deps) for name, deps in GRAPH.items()}
    try:
        GRAPH["explainimg.errors"].add("explainimg.explanation")  # explanation imports errors
        assert ["explainimg.errors", "explainimg.explanation"] in _circles()
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


def test_few_loose_modules_and_a_package_per_role():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= 8, loose
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages == ROLE_PACKAGES
    for role in packages:
        docstring = ast.get_docstring(ast.parse((PACKAGE / role / "__init__.py").read_text()))
        assert docstring and "import" in docstring, f"{role}/__init__.py says what it may import"


def test_no_module_is_longer_than_400_lines():
    lengths = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    assert {name: n for name, n in lengths.items() if n > 400} == {}


def test_formatters_and_the_data_layer_never_reach_keras():
    for name in MODULES:
        if name.startswith("explainimg.formatters") or name in {
            "explainimg.explanation",
            "explainimg.heatmaps",
            "explainimg.errors",
        }:
            modules = {name, *_reachable(name)}
            reached = {dep for module in modules for dep in _imports(module)}
            assert not reached & (FRAMEWORKS | {"keras"}), name
            assert not any(m.startswith("explainimg.engine") for m in modules), name


@pytest.mark.parametrize("package", ["methods", "targets"])
def test_methods_and_targets_use_keras_ops_only(package):
    prefix = f"explainimg.{package}"
    for name in MODULES:
        if name.startswith(prefix):
            outside = _imports(name) - {"keras", "attrs", "numpy", "math", "typing"}
            outside = {dep for dep in outside if not dep.startswith("explainimg")}
            assert outside <= {"__future__", "collections"}, (name, outside)
            internal = {dep for dep in GRAPH[name] if not dep.startswith(prefix)}
            assert internal <= {"explainimg.errors"}, (name, internal)


def test_only_the_engine_imports_a_backend_framework():
    for name in MODULES:
        if not name.startswith("explainimg.engine"):
            assert not _imports(name) & FRAMEWORKS, name


def test_only_kinds_ask_what_kind_of_model_it_is():
    """``is_graph_model(model)`` is answered once, by the kind registry; other modules may
    ask it of a layer only (nested models inside a graph)."""
    for name, path in MODULES.items():
        if name in {"explainimg.engine.kinds", "explainimg.engine.graph"}:
            continue
        assert "is_graph_model(model)" not in path.read_text(), name
