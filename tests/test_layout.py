"""The tree's dependency rules, read from the source's import statements.

- The runtime (`hub`, `adapters`, `detectors`) never imports the demo, the
  evaluation or the benchmarks, and `hub` never imports a concrete adapter or
  detector: it finds them through entry points.
- The hub's subpackages form no import cycle: the flow reads one way.

Imports inside ``if TYPE_CHECKING:`` count too: a cycle in annotations is still
a cycle for a reader.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ("hub", "adapters", "detectors")
OUTSIDE_RUNTIME = ("demo", "evaluation", "bench", "tests")


def modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def imported(path: Path) -> set[str]:
    """Every absolute module name `path` imports, at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def top(name: str) -> str:
    return name.split(".", 1)[0]


@pytest.mark.parametrize("package", RUNTIME)
def test_the_runtime_imports_no_demo_evaluation_or_bench(package: str) -> None:
    wrong = [
        f"{module} imports {name}"
        for module, path in modules(package)
        for name in imported(path)
        if top(name) in OUTSIDE_RUNTIME
    ]
    assert wrong == []


def test_the_hub_imports_no_adapter_or_detector() -> None:
    wrong = [
        f"{module} imports {name}"
        for module, path in modules("hub")
        for name in imported(path)
        if top(name) in ("adapters", "detectors")
    ]
    assert wrong == []


def subpackage(module: str) -> str:
    """`hub.cases.store` -> `hub.cases`; root modules (`hub.config`) stand for themselves."""
    parts = module.split(".")
    return ".".join(parts[:2])


def hub_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in modules("hub"):
        node = subpackage(module)
        edges = graph.setdefault(node, set())
        edges.update(
            subpackage(name)
            for name in imported(path)
            if top(name) == "hub" and name != "hub" and subpackage(name) != node
        )
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of `graph` as a path that ends where it starts, or [] when none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                return cycle
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return []


def test_find_cycle_finds_one_and_only_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


# Root modules the subpackages build on: records, errors, clock, config, seams.
# They may be imported by any subpackage, so they themselves must import none.
FOUNDATION = ("hub.model", "hub.errors", "hub.clock", "hub.geo")


def test_the_hub_subpackages_import_no_cycle() -> None:
    assert find_cycle(hub_graph()) == []


@pytest.mark.parametrize("module", FOUNDATION)
def test_the_foundation_imports_nothing_of_the_hub(module: str) -> None:
    assert hub_graph().get(module, set()) == set()
