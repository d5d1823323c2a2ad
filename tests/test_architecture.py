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
    for package in ("layers", "geo"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text("utf-8"))
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                     and isinstance(n.func, ast.Name) and n.func.id == "print"]
            assert not calls, f"{path}: use logging, not print"


ENGINE = ("network", "access", "routing", "scenario", "isochrone", "shelter_status")
"""Modules that compute on roads: they know nothing of analyses or outputs."""
ANALYSES = ("coverage", "consolidation", "shelter_load", "vc_plan", "crossborder", "siting",
            "analyses", "region_results", "batch")
OUTPUTS = ("maps", "printed_map", "report", "data_export", "layer_export", "route_sheet", "assets",
           "cli", "cli_args", "labels", "style")


def _geo_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "geo":
                found.update(a.name for a in node.names)
            elif node.module.startswith("geo."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("geo."))
    return found


@pytest.mark.parametrize("module", ENGINE)
def test_engine_modules_import_no_analysis_or_output(module):
    bad = _geo_imports(ROOT / "geo" / f"{module}.py") & set(ANALYSES + OUTPUTS)
    assert not bad, f"geo/{module}.py imports {sorted(bad)}"


ENGINE_ENTRY_POINTS = {
    "geo.coverage": {"coverage", "by_area", "gaps", "circuity_of"},
    "geo.consolidation": {"consolidation"},
    "geo.shelter_load": {"shelter_load"},
    "geo.vc_plan": {"vc_plan"},
    "geo.crossborder": {"crossborder", "crossborder_inputs"},
    "geo.siting": {"recommend", "region_candidates", "outside_zones"},
    "geo.routing": {"route", "routes_from", "compare"},
    "geo.scenario": {"make_scenario"},
}
"""The engine's analysis functions: only :mod:`geo.analyses` chains them for the CLI and app."""


def _callers() -> list[Path]:
    return [ROOT / "geo" / "cli.py", ROOT / "streamlit_app.py",
            *sorted((ROOT / "ui").rglob("*.py"))]


@pytest.mark.parametrize("path", _callers(), ids=lambda p: p.name)
def test_cli_and_pages_wire_analyses_through_the_entries(path):
    """Each analysis is chained once (geo.analyses); the CLI and the pages call the entry."""
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ENGINE_ENTRY_POINTS:
            used = {a.name for a in node.names} & ENGINE_ENTRY_POINTS[node.module]
            assert not used, f"{path.name} chains {sorted(used)} itself; call geo.analyses instead"


def _library_files() -> list[Path]:
    out = sorted((ROOT / "layers").rglob("*.py"))
    return out + [p for p in sorted((ROOT / "geo").rglob("*.py")) if p.name not in ("cli.py", "cli_args.py")]


def test_no_engine_error_names_a_command_line_option():
    """Engine errors name parameters (ParameterError); only the CLI turns them into --options."""
    for path in _library_files():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("LayerError",
                                                                               "ParameterError"):
                for kw in node.keywords:
                    if kw.arg in ("column", "parameter") and isinstance(kw.value, ast.Constant):
                        assert not str(kw.value.value).startswith("--"), f"{path.name}: {kw.value.value}"
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        assert " --" not in arg.value and not arg.value.startswith("--"), \
                            f"{path.name}: {arg.value}"


def test_layer_labels_come_from_the_fact_table():
    """Layer labels and loaders live in one table (layers.layer_facts)."""
    from layers import region
    from layers.layer_facts import LAYER_LABELS, LAYERS

    assert region.LAYER_LABELS is LAYER_LABELS
    assert set(region._LOADERS) == set(LAYERS)
    for path in [*_library_files(), *_callers()]:
        text = path.read_text("utf-8")
        if path.name == "layer_facts.py":
            continue
        assert '"要配慮者（匿名化済み）"' not in text and '"避難所・避難場所"' not in text, path.name


MAX_FUNCTION_LINES = 80


def test_no_function_over_80_lines():
    """Long functions mix stages; each stage gets a name (the demo's data tables included)."""
    files = [*sorted((ROOT / "geo").rglob("*.py")), *sorted((ROOT / "layers").rglob("*.py")),
             *sorted((ROOT / "ui").rglob("*.py")), ROOT / "streamlit_app.py"]
    long = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert not long, long


def _japanese_literals(path: Path) -> list[str]:
    import re

    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    tree = ast.parse(path.read_text("utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [f"{path.name}:{n.lineno} {n.value[:30]!r}" for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and japanese.search(n.value)
            and id(n) not in docstrings]


def test_every_japanese_ui_string_goes_through_the_translation_table():
    """Pages show text through ui.i18n (so the English switch reaches every page)."""
    found = []
    for path in [ROOT / "streamlit_app.py", *sorted((ROOT / "ui").rglob("*.py"))]:
        if path.name != "i18n.py":
            found += _japanese_literals(path)
    assert not found, found


def test_the_readme_layout_names_every_module():
    """The README's layout table matches the tree: every module of geo/ and layers/ is named."""
    readme = (ROOT / "README.md").read_text("utf-8")
    layout = readme[readme.index("## 構成 / Layout"):]
    layout = layout[:layout.index("\n## ")]
    missing = [f"{p.parent.name}/{p.name}" for pkg in ("geo", "layers")
               for p in sorted((ROOT / pkg).glob("*.py"))
               if p.name != "__init__.py" and f"`{p.name}`" not in layout]
    assert not missing, missing
