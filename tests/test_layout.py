"""The code's layout holds: each stage package imports only the stages below it, and modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "monoculture"

# The pipeline, bottom up. A module may import its own stage and those before it, never one after.
STAGES = ["errors", "lazy_imports", "choices", "spec", "read", "link", "count", "measure", "multiplicity", "simulate",
          "report", "audit", "cli"]
# Stages on one floor do not import each other either.
FLOOR = {name: i for i, name in enumerate(STAGES)}
FLOOR["simulate"] = FLOOR["multiplicity"]
LARGEST = 400  # lines; the C scan is C and not counted


def _stage(module: str) -> str | None:
    """The stage of a dotted module under monoculture ('' for the package's own __init__)."""
    head = module.split(".")[0]
    return head if head in FLOOR else None


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every monoculture module this file imports (relative ones resolved), with its line."""
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    package = parts[:-1]  # an __init__'s package is its own folder, as for any module in it
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                names = [target] if node.module else [f"{target}.{a.name}".lstrip(".") for a in node.names]
            elif node.module and node.module.startswith("monoculture"):
                names = [node.module.removeprefix("monoculture").lstrip(".")]
            else:
                continue
            found += [(n, node.lineno) for n in names]
        elif isinstance(node, ast.Import):
            found += [(a.name.removeprefix("monoculture").lstrip("."), node.lineno) for a in node.names
                      if a.name.startswith("monoculture.")]
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


def test_every_module_belongs_to_a_stage():
    """A new top-level module or package must be placed in the pipeline above."""
    for path in MODULES:
        rel = path.relative_to(PACKAGE)
        if rel.parts == ("__init__.py",):
            continue
        assert _stage(rel.with_suffix("").parts[0]), f"{rel} is in no stage: add it to STAGES in this test"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_stage_imports_only_the_stages_below_it(path: Path):
    rel = path.relative_to(PACKAGE)
    if rel.parts == ("__init__.py",):
        return  # the public API gathers from every stage
    own = _stage(rel.with_suffix("").parts[0])
    assert own is not None
    wrong = []
    for module, line in _imports(path):
        other = _stage(module)
        if module in ("", "__version__") or other is None:
            continue  # `from .. import __version__`, or the compiled scan
        if other != own and FLOOR[other] >= FLOOR[own]:
            wrong.append(f"line {line}: {module}")
    assert not wrong, f"{rel} ({own}) imports a stage at or above its own: {wrong}"


def test_no_module_is_large():
    large = {str(p.relative_to(PACKAGE)): n for p in MODULES if (n := len(p.read_text().splitlines())) > LARGEST}
    assert not large, f"modules over {LARGEST} lines (split them): {large}"
