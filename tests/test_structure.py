"""The package's import structure, read from its source with ``ast`` (nothing is imported):
no module imports another module's ``_private`` name, nor renames a package name to a private
alias."""

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


#: private imports still to give a home, as (importing module, from module, name): the
#: training window's loader moves with the training layout. The test fails when one is gone, so
#: the entry goes with it.
PENDING = {
    (
        "cryptoforecast.training.train_pipeline",
        "cryptoforecast.training.fitting",
        "_load_candles",
    ),
}


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
