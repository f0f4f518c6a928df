"""No class in app/, ui/ or lifeline/ over 450 lines, no function over 80 (issue 16).

Sizes are read with ast, from a `def`/`class` line to its last line (decorators left out,
docstrings and comments counted): what a reader has to hold in mind at once. A class
that grows past its limit is split by job (as History was into app/history_*.py), a
function by naming its steps (a form's `__init__` into `_build_...` helpers).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("app", "ui", "lifeline")
MAX_CLASS = 450
MAX_FUNCTION = 80


def oversized(source: str, where: str = "<source>") -> list[str]:
    """`where:line name (n lines > limit)` for every class or function over its limit."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            limit = MAX_CLASS
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            limit = MAX_FUNCTION
        else:
            continue
        assert node.end_lineno is not None
        size = node.end_lineno - node.lineno + 1
        if size > limit:
            found.append(f"{where}:{node.lineno} {node.name} ({size} lines > {limit})")
    return found


def test_no_class_or_function_over_its_limit() -> None:
    paths = [
        path
        for layer in LAYERS
        for path in sorted((ROOT / layer).rglob("*.py"))
        if "__pycache__" not in path.parts
    ]
    assert len(paths) > 50  # the layers were found
    found = [
        line
        for path in paths
        for line in oversized(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == []


def test_the_measure_counts_from_def_to_the_last_line() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION - 1))
    fits = f"def fits():\n{body}"  # the def line and 79 more: 80
    assert oversized(fits) == []
    assert oversized(f"@decorator\n{fits}    x = 0\n") == ["<source>:2 fits (81 lines > 80)"]
    methods = "".join(f"    def m{i}(self):\n        pass\n" for i in range(MAX_CLASS // 2))
    assert oversized(f"class Big:\n{methods}") == ["<source>:1 Big (451 lines > 450)"]
    nested = "class Outer:\n    async def run(self):\n" + "".join(
        f"        y{i} = {i}\n" for i in range(MAX_FUNCTION)
    )
    assert oversized(nested) == ["<source>:2 run (81 lines > 80)"]
