"""The package's layers hold: content < translation < render < outputs < desk < cli, and no cycles.

The contract itself lives in pyproject.toml ([tool.importlinter]); this runs it,
and also looks for a cycle between any two modules, imports inside functions
included (grimp reads every import statement, wherever it is).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def module_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every import cycle between modules, as found by a depth-first search."""
    cycles, state, stack = [], {}, []

    def visit(module: str) -> None:
        state[module] = "open"
        stack.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(imported) == "open":
                cycles.append(stack[stack.index(imported):] + [imported])
            elif imported not in state:
                visit(imported)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph.modules):
        if module not in state:
            visit(module)
    return cycles


def test_no_import_cycle_anywhere_in_the_package() -> None:
    assert module_cycles(grimp.build_graph("handoutkit")) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    assert module_cycles(graph) == [["a", "b", "c", "a"]]

