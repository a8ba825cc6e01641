"""The import graph of app/ and classifier/, read from the source: no cycles, and a domain
that depends on nothing of ours outside itself and does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

from app.settings import ROOT

PACKAGES = ("app", "classifier")
# Modules whose import means reading or writing files, sockets or processes.
IO_MODULES = {"yaml", "pathlib", "io", "os", "shutil", "tempfile", "glob", "sqlite3",
              "socket", "subprocess", "urllib", "http", "asyncio", "tortoise", "asyncpg",
              "pickle", "joblib", "json", "csv"}
IO_CALLS = {"open", "Path"}
IO_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes", "open"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules() -> dict[str, Path]:
    return {module_name(path): path
            for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every import statement, at module level or inside functions, outside TYPE_CHECKING."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imported_names(name: str, path: Path, modules: set[str] | None = None) -> set[str]:
    """What this module imports, as absolute names: `from a.b import c` gives a.b.c when
    that is one of `modules`, else a.b (c is then a name defined in a.b)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = name.split(".")
            anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
            base = ".".join(anchor + ([base] if base else []))
        for alias in node.names:
            full = f"{base}.{alias.name}"
            found.add(full if modules is None or full in modules else base)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = source_modules()
    return {name: {t for t in imported_names(name, path, set(modules)) if t in modules} - {name}
            for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path a → b → … → a, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def all_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per group of modules that import each other, so a failure lists them all."""
    cycles = []
    remaining = {k: set(v) for k, v in graph.items()}
    while (cycle := find_cycle(remaining)) is not None:
        cycles.append(cycle)
        remaining[cycle[-2]].discard(cycle[-1])  # break it, look for the next
    return cycles


def test_the_cycle_finder_reports_the_path():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_imports_are_read_at_every_level_but_not_under_type_checking(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "import app.rules\n"
        "from app.domain import clock\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n    from app.web import app\n"
        "def f():\n    from app.services.sweep import sweep\n",
        encoding="utf-8")
    modules = {"app.rules", "app.domain.clock", "app.services.sibling", "app.web.app"}
    names = imported_names("app.services.mod", path, modules)
    assert names == {"typing", "app.rules", "app.domain.clock", "app.services.sibling",
                     "app.services.sweep"}


def test_app_and_classifier_have_no_import_cycles():
    graph = import_graph()
    assert "app.domain.routing" in graph and "classifier.model" in graph
    cycles = all_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_the_domain_imports_nothing_of_ours_outside_the_domain():
    outside = {
        name: sorted(t for t in imported_names(name, path)
                     if t.split(".")[0] in PACKAGES and not t.startswith("app.domain"))
        for name, path in source_modules().items() if name.startswith("app.domain")
    }
    assert {name: found for name, found in outside.items() if found} == {}


def test_the_domain_opens_no_file():
    found = []
    for name, path in source_modules().items():
        if not name.startswith("app.domain"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _import_nodes(tree):
            for target in imported_names_of(node):
                if target.split(".")[0] in IO_MODULES:
                    found.append(f"{name}:{node.lineno} imports {target}")
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in IO_CALLS:
                found.append(f"{name}:{node.lineno} calls {func.id}()")
            elif isinstance(func, ast.Attribute) and func.attr in IO_METHODS:
                found.append(f"{name}:{node.lineno} calls .{func.attr}()")
    assert found == []


def imported_names_of(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module or ""]


def test_requests_reach_rules_and_settings_only_through_the_context_module():
    found = []
    for name, path in source_modules().items():
        if name == "app.web.context":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr in ("rules", "settings")
                    and isinstance(node.value, ast.Attribute) and node.value.attr == "state"):
                found.append(f"{name}:{node.lineno} .state.{node.attr}")
    assert found == []
