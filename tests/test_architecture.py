"""Dependencies point one way: layers ← geo ← UI; no streamlit in the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["geo", "layers"])
def test_engine_never_imports_streamlit(package):
    for path in (ROOT / package).rglob("*.py"):
        assert not _imports(path) & {"streamlit", "streamlit_folium"}, path


def test_layers_never_imports_geo():
    for path in (ROOT / "layers").rglob("*.py"):
        assert "geo" not in _imports(path), path


def test_no_print_in_library_code():
    for package in ("layers",):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text("utf-8"))
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                     and isinstance(n.func, ast.Name) and n.func.id == "print"]
            assert not calls, f"{path}: use logging, not print"
