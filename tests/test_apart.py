"""Tests and benchmarks stay apart: no test reaches into bench/ (bench is not the package), no bench
script imports the tests, and no test edits sys.path (tests import `tests.…` from the repository root)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported(tree: ast.AST) -> set[str]:
    """The top-level package of every module the code imports, at any depth."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _edits_sys_path(tree: ast.AST) -> bool:
    return any(
        isinstance(node, ast.Attribute) and node.attr == "path"
        and isinstance(node.value, ast.Name) and node.value.id == "sys"
        for node in ast.walk(tree)
    )  # fmt: skip


def _offenders(folder: Path, forbidden: str, check_sys_path: bool) -> list[str]:
    offenders = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        if forbidden in _imported(tree) or (check_sys_path and _edits_sys_path(tree)):
            offenders.append(str(path.relative_to(ROOT)))
    return offenders


def test_no_test_imports_bench_or_edits_sys_path():
    offenders = _offenders(ROOT / "tests", "bench", check_sys_path=True)
    assert not offenders, f"tests that import bench or change sys.path: {offenders}"


@pytest.mark.skipif(not (ROOT / "bench").is_dir(), reason="no bench/ beside the tests")
def test_no_bench_script_imports_the_tests():
    offenders = _offenders(ROOT / "bench", "tests", check_sys_path=False)
    assert not offenders, f"bench scripts that import tests: {offenders}"


def test_the_checks_find_what_they_look_for():
    assert _imported(ast.parse("import bench.grain\nfrom tests.video import clips")) == {"bench", "tests"}
    assert _edits_sys_path(ast.parse("import sys\nsys.path.insert(0, 'bench')"))
    assert not _edits_sys_path(ast.parse("import sys\nsys.argv"))
