"""The package's layout holds: no import cycles, layers import only downwards, no facade below the API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "nst"

#: Floors from the bottom up; a module may import its own floor and those below, never above.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("nst._version", "nst.errors", "nst.atomic", "nst.fields", "nst.picture", "nst.image", "nst.color", "nst.vgg",
     "nst.training",
     "nst.losses"),
    ("nst.optimise", "nst.models", "nst.universal"),  # the three ways to paint
    ("nst.video", "nst.engines"),  # drivers that run the engines on frames and on workers
    ("nst.experiments", "nst.web", "nst.cli"),  # the surfaces, on the public API
)
#: Below the public API nothing imports the package root (`import nst`, `nst.NAME`).
FACADE_USERS = ("nst.experiments", "nst.web", "nst.cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Every nst module ``path`` imports, at any depth (lazy imports too), without TYPE_CHECKING blocks."""
    tree = ast.parse(path.read_text())
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{a.name}" for a in node.names} & MODULES.keys()
            found |= submodules or {node.module}
    return {name for name in found if name == "nst" or name.startswith("nst.")}


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _floor(module: str) -> int:
    for level, prefixes in enumerate(FLOORS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return level
    raise AssertionError(f"{module} belongs to no floor: add it to FLOORS in this test")


def test_every_module_has_a_floor():
    for module in MODULES:
        if module != "nst":
            _floor(module)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "nst"))
def test_a_module_imports_only_its_floor_and_below(module):
    above = {m for m in GRAPH[module] if m != "nst" and _floor(m) > _floor(module)}
    assert not above, f"{module} imports a higher floor: {sorted(above)}"


def _facade_importers(graph: dict[str, set[str]]) -> list[str]:
    return sorted(m for m, deps in graph.items() if "nst" in deps and m != "nst" and not any(
        m == p or m.startswith(p + ".") for p in FACADE_USERS))


def _cyclic(graph: dict[str, set[str]]) -> list[str]:
    """The modules that reach themselves through their imports."""
    def reaches(start: str) -> set[str]:
        seen: set[str] = set()
        stack = list(graph.get(start, ()))
        while stack:
            module = stack.pop()
            if module in seen or module not in graph:
                continue
            seen.add(module)
            stack.extend(graph[module])
        return seen
    return sorted(m for m in graph if m != "nst" and m in reaches(m))


def test_nothing_below_the_public_api_imports_the_package_root():
    offenders = _facade_importers(GRAPH)
    assert not offenders, f"import the modules you need, not the package root: {offenders}"


def test_there_is_no_import_cycle():
    cyclic = _cyclic({m: deps - {"nst"} for m, deps in GRAPH.items()})
    assert not cyclic, f"modules on an import cycle: {cyclic}"


def test_the_checks_find_what_they_look_for():
    assert _cyclic({"nst.a": {"nst.b"}, "nst.b": {"nst.a"}, "nst.c": {"nst.a"}}) == ["nst.a", "nst.b"]
    assert _facade_importers({"nst.models.x": {"nst"}, "nst.cli.y": {"nst"}}) == ["nst.models.x"]
    assert "nst.optimise.config" in GRAPH["nst.optimise.transfer"]
