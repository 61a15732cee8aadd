"""The package's import structure, read from its source with ``ast`` (nothing is imported):
no module imports another module's ``_private`` name, nor renames a package name to a private
alias, and the modules import each other without a cycle (``TYPE_CHECKING`` imports included)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "cryptoforecast"
SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / PACKAGE


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


#: every module of the package: dotted name -> source file
MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def absolute(module: str, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` reads from (resolving ``from . import x``)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package(module) else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def package_imports(module: str) -> Iterator[tuple[ast.stmt, str, ast.alias]]:
    """``(statement, module imported from, alias)`` for each name imported from the package,
    wherever the statement sits (``if TYPE_CHECKING:`` and function bodies included)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    yield node, alias.name, alias
        elif isinstance(node, ast.ImportFrom):
            source = absolute(module, node)
            if source == PACKAGE or source.startswith(PACKAGE + "."):
                for alias in node.names:
                    yield node, source, alias


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


#: private imports still to give a home, as (importing module, from module, name); the test
#: fails when one is gone, so the entry goes with it
PENDING: set[tuple[str, str, str]] = set()


def private_imports() -> dict[tuple[str, str, str], str]:
    """(importing module, from module, name or alias) -> where, for each import of a private
    name of the package and each package name renamed to a private alias."""
    found = {}
    for module in MODULES:
        for node, source, alias in package_imports(module):
            where = f"{MODULES[module].relative_to(SRC)}:{node.lineno}"
            if isinstance(node, ast.ImportFrom) and private(alias.name):
                found[(module, source, alias.name)] = f"{where}: from {source} import {alias.name}"
            elif alias.asname is not None and private(alias.asname):
                found[(module, source, alias.asname)] = (
                    f"{where}: {source} {alias.name} as {alias.asname}"
                )
    return found


def test_no_module_imports_a_private_name_or_renames_a_name_to_a_private_alias() -> None:
    found = private_imports()
    new = [where for key, where in found.items() if key not in PENDING]
    assert not new, (
        "imports of another module's private name (give the name a public home: rename it where "
        "it is defined, or move it where it belongs, and import it plainly):\n" + "\n".join(new)
    )
    assert set(found) >= PENDING, f"no longer imported, drop from PENDING: {PENDING - set(found)}"


def reexports(package: str) -> dict[str, tuple[str, str]]:
    """Names a package's ``__init__`` imports from the package: name -> (module, its name)."""
    out = {}
    for node, source, alias in package_imports(package):
        if isinstance(node, ast.ImportFrom) and alias.name != "*":
            out[alias.asname or alias.name] = (source, alias.name)
    return out


REEXPORTS = {m: reexports(m) for m in MODULES if is_package(m)}


def home(module: str, name: str) -> str:
    """The module ``from module import name`` depends on: the submodule ``module.name``, else
    the module a package's ``__init__`` re-exports the name from (followed to where it is
    defined), else ``module`` itself."""
    seen = set()
    while (module, name) not in seen:
        seen.add((module, name))
        if f"{module}.{name}" in MODULES:
            return f"{module}.{name}"
        if module not in REEXPORTS or name not in REEXPORTS[module]:
            return module
        module, name = REEXPORTS[module][name]
    return module


def nearest_module(dotted: str) -> str:
    while dotted not in MODULES:
        dotted = dotted.rpartition(".")[0]
    return dotted


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports, every import statement counted (top level,
    ``if TYPE_CHECKING:``, function bodies).

    Package ``__init__`` files are facades: ``from pkg import name`` depends on the module the
    name comes from (``pkg.name`` when that is a submodule, else the module ``pkg/__init__``
    re-exports it from, followed to where it is defined, else ``pkg`` itself); a plain
    ``import pkg`` depends on ``pkg``. An ``__init__`` importing its own submodules is how a
    facade is built, not a cycle: those edges are left out. What remains is a cycle a reader
    (and Python's import order) has to reason about: two modules that each need the other's
    names, directly or through others.
    """
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for node, source, alias in package_imports(module):
            if isinstance(node, ast.Import):
                target = nearest_module(source)
            else:
                target = home(nearest_module(source), alias.name)
            if target == module:
                continue
            if is_package(module) and target.startswith(module + "."):
                continue  # the facade imports its own submodules
            graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
    return sorted(found)


def test_the_cycle_finder_finds_a_cycle_and_nothing_else() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_graph_resolves_imports_through_submodules_and_facades() -> None:
    graph = import_graph()
    # ``from cryptoforecast.serving.routes import deps``-style and facade imports both land on
    # the module that defines what is imported
    assert "cryptoforecast.serving.predictor" in graph["cryptoforecast.serving.routes.deps"]
    assert (
        "cryptoforecast.models.base" in graph["cryptoforecast.serving.predictor"]
    )  # TYPE_CHECKING


def test_no_import_cycle_among_the_package_modules() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles (TYPE_CHECKING imports included):\n" + "\n".join(
        " <-> ".join(c) for c in found
    )
