"""The packages import one another in one direction only (ARCHITECTURE.md): every import,
at module level or inside a function, is walked, so a lazy import cannot hide a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: What each package may import, besides itself: a layer sees only the layers below it.
ALLOWED = {
    "gis_service": set(),
    "basemaps": {"gis_service"},
    "routing": {"basemaps", "gis_service"},
    "admissions": {"routing", "basemaps", "gis_service"},
    "forecasting": {"admissions", "routing", "basemaps", "gis_service"},
    "web": {"forecasting", "admissions", "routing", "basemaps", "gis_service"},
}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """The project packages ``path`` imports, with the line of each import."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {(name.split(".")[0], node.lineno) for name in names
                  if name.split(".")[0] in ALLOWED}
    return found


def test_imports_point_down_the_layers_only() -> None:
    wrong = [f"{path.relative_to(REPO)}:{line} imports {target}"
             for package, allowed in ALLOWED.items()
             for path in sorted((REPO / package).rglob("*.py"))
             for target, line in sorted(imported_packages(path))
             if target != package and target not in allowed]
    assert wrong == []


def test_the_layers_have_no_cycle() -> None:
    """The allowed table itself is a strict order: no package may reach back to itself."""
    order = list(ALLOWED)
    for position, package in enumerate(order):
        assert ALLOWED[package] <= set(order[:position]), package


def test_the_walk_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from admissions.catchments import x\n    import web.app\n")
    assert imported_packages(module) == {("admissions", 2), ("web", 3)}
