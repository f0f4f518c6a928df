"""No import circle in app/, ui/ and lifeline/, and the core never imports the GUI.

The graph is read from the source with ast, so it sees what a run might never reach:
imports inside functions, and modules imported by name (importlib.import_module,
importlib.util.find_spec and ui.main's _optional_module with a literal name). Imports
under `if TYPE_CHECKING:` are left out: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("app", "ui", "lifeline")
BY_NAME = {"import_module", "find_spec", "_optional_module"}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources(root: Path = ROOT) -> dict[str, Path]:
    return {
        module_name(path, root): path
        for layer in LAYERS
        for path in sorted((root / layer).rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module name this source imports, at any depth, except TYPE_CHECKING ones."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from app import cli` imports the module app.cli.
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in BY_NAME and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = sources(root)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets = imported_names(tree, name, path.name == "__init__.py")
        # A module's import also runs its packages' __init__; those are edges too, but
        # a package's own submodules importing it is no circle (Python allows it).
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_import_circle_in_app_and_ui() -> None:
    graph = import_graph()
    assert len(graph) > 50  # the walk found the code
    assert cycles(graph) == []


def test_the_core_never_imports_the_gui() -> None:
    graph = import_graph()
    offenders = {
        module: sorted(t for t in targets if t == "ui" or t.startswith("ui."))
        for module, targets in graph.items()
        if module.startswith("app")
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def test_the_graph_sees_circles_through_functions_and_names(tmp_path: Path) -> None:
    """The detector itself: a circle closed by a function-level import and one closed
    by import_module are both found; TYPE_CHECKING imports are not edges."""
    for layer in LAYERS:
        (tmp_path / layer).mkdir()
        (tmp_path / layer / "__init__.py").write_text("")
    (tmp_path / "app" / "a.py").write_text("from app import b\n")
    (tmp_path / "app" / "b.py").write_text("def f():\n    from .a import x\n")
    (tmp_path / "app" / "c.py").write_text(
        "import importlib\ndef g():\n    importlib.import_module('ui.d')\n"
    )
    (tmp_path / "ui" / "d.py").write_text("from app.c import g\n")
    (tmp_path / "ui" / "e.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ui.f import F\n"
    )
    (tmp_path / "ui" / "f.py").write_text("from ui.e import E\n")
    assert cycles(import_graph(tmp_path)) == [["app.a", "app.b"], ["app.c", "ui.d"]]
