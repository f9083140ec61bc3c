"""The house rules on imports, read from the source (every import, also those inside functions):

* `economy` imports nothing else from datalever;
* the ledger imports neither the web layer, nor the service, nor any other part;
* `sim` imports neither the ledger nor the service (only economy and the shared base modules);
* a part never imports the service or the CLI; the web layer imports no part;
* `part.py` (the declaration type) imports no part.

Parts are read from the registry, so a newly registered part is checked without editing this file.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import datalever
from datalever.parts import PARTS

SOURCE = Path(datalever.__file__).parent
PART_NAMES = {part.name for part in PARTS}
ASSEMBLY = {"service", "cli", "parts"}
MODULE_NAME = re.compile(r"datalever(\.[a-z_][a-z0-9_]*)+")


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute name a (possibly relative) `from ... import` refers to."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")[: -node.level]
    return ".".join([*base, node.module] if node.module else base)


def imports_in(text: str, module: str) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in `module`'s source, including `from x import y` as x.y,
    and every string that is a whole module name (a part declares its modules by name: `routes("datalever...")`).
    """
    for node in ast.walk(ast.parse(text, module)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_NAME.fullmatch(node.value):
            yield node.lineno, node.value
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            yield node.lineno, target
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    module = ".".join(("datalever", *path.relative_to(SOURCE).with_suffix("").parts))
    if path.name == "__init__.py":
        module += ".__init__"  # so a relative import resolves against the package itself
    return imports_in(path.read_text(encoding="utf-8"), module)


def top_package(name: str) -> str | None:
    """`ledger` for `datalever.ledger.posting`; None outside datalever."""
    parts = name.split(".")
    if parts[0] != "datalever" or len(parts) < 2:
        return None
    return parts[1].removesuffix(".py")


def violations(package: str, forbidden: set[str]) -> list[str]:
    """Imports from files of `package` (a folder or a module) into any of the `forbidden` top packages."""
    root = SOURCE / package
    files = sorted(root.rglob("*.py")) if root.is_dir() else [SOURCE / f"{package}.py"]
    found = []
    for path in files:
        for line, name in imports_of(path):
            target = top_package(name)
            if target is not None and target != package and target in forbidden:
                found.append(f"{path.relative_to(SOURCE)}:{line} imports {name}")
    return sorted(set(found))


def every_top_package() -> set[str]:
    return {path.stem for path in SOURCE.iterdir() if path.suffix == ".py" or (path / "__init__.py").exists()}


def test_the_registry_names_the_parts_this_test_knows() -> None:
    assert {"ledger", "credits", "stipends", "flows", "sim"} <= PART_NAMES
    assert every_top_package() >= PART_NAMES


def test_economy_imports_nothing_else_from_datalever() -> None:
    assert violations("economy", every_top_package() - {"economy"}) == []


def test_the_ledger_imports_no_web_layer_no_service_and_no_other_part() -> None:
    assert violations("ledger", {"web", "commandline", "migrations", *ASSEMBLY, *(PART_NAMES - {"ledger"})}) == []


def test_sim_imports_neither_the_ledger_nor_the_service() -> None:
    allowed = {"sim", "economy", "documents", "reports", "part"}
    assert violations("sim", every_top_package() - allowed) == []


@pytest.mark.parametrize("part", sorted(PART_NAMES))
def test_no_part_imports_the_service_or_the_cli(part: str) -> None:
    assert violations(part, ASSEMBLY) == []


def test_the_web_layer_imports_no_part_and_no_service() -> None:
    assert violations("web", {*ASSEMBLY, *(PART_NAMES - {"ledger"})}) == []


def test_the_part_declaration_imports_no_part() -> None:
    assert violations("part", {*ASSEMBLY, *PART_NAMES, "web", "migrations"}) == []


def test_the_scan_sees_imports_inside_functions_and_relative_ones() -> None:
    source = (
        "def f():\n    from datalever.service import app\n    from ..web import auth\n    import datalever.sim\n"
        'PART = routes("datalever.flows.router")\nNOT_A_MODULE = "datalever.service.app:factory"\n'
    )
    found = set(imports_in(source, "datalever.ledger.probe"))
    assert {(2, "datalever.service.app"), (3, "datalever.web.auth"), (4, "datalever.sim")} <= found
    assert (5, "datalever.flows.router") in found
    assert {top_package(name) for _line, name in found} == {"service", "web", "sim", "flows"}
