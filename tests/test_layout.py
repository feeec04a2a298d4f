"""The package's structure is one-way: no import cycle, and the sandbox never imports client code.

Edges are counted statically over every ``import`` and ``from ... import`` in ``lab_helpers/``,
including those inside functions and under ``TYPE_CHECKING``: a function-level import hides a
cycle from the interpreter, not from a reader. ``from pkg import name`` counts as an edge to the
submodule ``pkg.name`` when there is one, otherwise to the package ``pkg``. Importing ``a.b.c``
is not counted as importing ``a`` and ``a.b`` (the interpreter does run their ``__init__``, but
every package's ``__init__`` would then close a cycle with its own submodules).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lab_helpers"

# Modules outside lab_helpers/sandbox/ that the sandbox may import: each is a leaf that knows
# nothing of clients (the test below checks that they import only each other).
SANDBOX_MAY_IMPORT = {
    "lab_helpers.errors": "the course's error types with hints; imports nothing",
    "lab_helpers.paths": "where data/ lives; imports only errors",
    "lab_helpers.config": "the one reader of settings (state directory, ports); imports only errors",
    "lab_helpers.marks": "the resource marks both clients and servers read; imports only config",
}


def module_files(package: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's ``__init__``)."""
    modules: dict[str, tuple[Path, bool]] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        modules[".".join(parts)] = (path, is_package)
    return modules


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports anywhere in its source."""
    modules = module_files(package)
    top = package.name
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        here = name if is_package else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = alias.name
                    while target and target not in modules:
                        target = target.rpartition(".")[0]
                    if target:
                        targets.add(target)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if source != top and not source.startswith(top + "."):
                    continue
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    if submodule in modules:
                        targets.add(submodule)
                    elif source in modules:
                        targets.add(source)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle, as a path ``[a, b, ..., a]``, for each strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(start: str) -> None:  # Tarjan's algorithm, iterative (no recursion limit)
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(_path_through(graph, group) for group in groups)


def _path_through(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """The shortest cycle from the group's first module back to itself, staying in the group."""
    first = min(group)
    previous: dict[str, str] = {}
    frontier = [first]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & group):
                if child == first:
                    path = [node]
                    while path[-1] != first:
                        path.append(previous[path[-1]])
                    return [*reversed(path), first]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {sorted(group)}")  # pragma: no cover


def _show(found: list[list[str]]) -> str:
    return "\n".join("  " + " -> ".join(m.removeprefix("lab_helpers.") for m in path) for path in found)


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .sub import b\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..c import thing\n"
    )
    (pkg / "c.py").write_text("import pkg.a.nothing_here\nimport os\n")
    (pkg / "d.py").write_text("from pkg import c\nfrom pkg.sub import name_in_init\n")
    graph = import_graph(pkg)
    assert graph == {
        "pkg": set(),
        "pkg.a": {"pkg.sub.b"},
        "pkg.sub": set(),
        "pkg.sub.b": {"pkg.c"},
        "pkg.c": {"pkg.a"},
        "pkg.d": {"pkg.c", "pkg.sub"},
    }
    assert cycles(graph) == [["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]]


def _in_sandbox(module: str) -> bool:
    return module == "lab_helpers.sandbox" or module.startswith("lab_helpers.sandbox.")


def _assert_no_cycle(found: list[list[str]]) -> None:
    assert not found, (
        f"{len(found)} import cycle(s) in lab_helpers/ (move the shared piece down into a module both "
        f"import; a function-level import does not break a cycle):\n{_show(found)}"
    )


def test_no_import_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 50, "the scan found too few modules: is the package where it should be?"
    _assert_no_cycle([path for path in cycles(graph) if not any(_in_sandbox(m) for m in path)])


def test_no_import_cycle_through_the_sandbox() -> None:
    _assert_no_cycle([path for path in cycles(import_graph(PACKAGE)) if any(_in_sandbox(m) for m in path)])


def test_the_sandbox_may_import_only_leaves() -> None:
    graph = import_graph(PACKAGE)
    for leaf in SANDBOX_MAY_IMPORT:
        if leaf in graph:
            assert graph[leaf] <= set(SANDBOX_MAY_IMPORT), (
                f"{leaf} is allowed into the sandbox as a leaf, but imports {sorted(graph[leaf] - set(SANDBOX_MAY_IMPORT))}"
            )


def test_the_sandbox_imports_no_client_code() -> None:
    graph = import_graph(PACKAGE)
    offending = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if _in_sandbox(module)
        for target in targets
        if not _in_sandbox(target) and target not in SANDBOX_MAY_IMPORT
    )
    assert not offending, (
        "the sandbox is the server side: it may import only "
        f"{', '.join(sorted(SANDBOX_MAY_IMPORT))}; move client code out of lab_helpers/sandbox/:\n  "
        + "\n  ".join(offending)
    )
