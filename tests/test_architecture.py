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


ROOMS = ("geo.engine", "geo.analyses", "geo.outputs", "geo.runs", "geo.cli")
"""The rooms of ``geo`` from the bottom up: each may import the rooms below it, never above."""
RANK = {"layers": -2, "geo.summary": -1, **{r: i for i, r in enumerate(ROOMS)}, "ui": len(ROOMS)}
SEARCHES = ("geo.engine.shortest_paths", "geo.engine.access", "geo.engine.isochrone",
            "geo.engine.transit_search", "geo.engine.routing")
"""Engine modules that search the roads: outputs draw what the results carry (they may name
the results' types, e.g. ``Route``), never call a search."""


def room_of(module: str) -> str | None:
    """The room a module lives in (``geo.engine``, …, ``layers``, ``ui``), None outside ours."""
    for room in ("geo.summary", *ROOMS, "layers", "ui"):
        if module == room or module.startswith(room + "."):
            return room
    return "geo" if module == "geo" else ("ui" if module == "streamlit_app" else None)


def module_imports(tree: ast.AST) -> list[tuple[str, str | None, int, bool]]:
    """``(module, name, line, for_types_only)`` of every absolute import in ``tree``; imports
    under ``if TYPE_CHECKING:`` name types only (annotations), not a dependency at run time."""
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for n in ast.walk(node))
    out: list[tuple[str, str | None, int, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out += [(node.module, a.name, node.lineno, id(node) in typing_only) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno, id(node) in typing_only) for a in node.names]
    return out


def contract_violations(module: str, tree: ast.AST) -> list[str]:
    """What in ``module`` (parsed as ``tree``) breaks the import rules of the rooms."""
    me = room_of(module)
    found = []
    for target, name, line, types_only in module_imports(tree):
        room = room_of(target)
        if room is None or me is None or room == me:
            continue
        where = f"{module}:{line} imports {target}{'.' + name if name else ''}"
        if name and name.startswith("_") and not name.startswith("__"):
            found.append(f"{where}: a private name across rooms")
        if types_only:
            continue
        if room == "geo" or me == "geo":
            continue  # geo/__main__ runs the CLI
        if RANK[room] > RANK[me]:
            found.append(f"{where}: {me} may not import {room}")
        if me == "ui" and room == "geo.engine":
            found.append(f"{where}: the pages use the analyses' entries, never the engine")
        if me == "geo.outputs" and target in SEARCHES and not (name and name[0].isupper()):
            found.append(f"{where}: outputs draw results, they never search")  # types are fine
    return found


def _our_modules() -> list[tuple[str, Path]]:
    paths = [*sorted((ROOT / "geo").rglob("*.py")), *sorted((ROOT / "ui").rglob("*.py")),
             ROOT / "streamlit_app.py"]
    return [(str(p.relative_to(ROOT).with_suffix("")).replace("/", ".").removesuffix(".__init__"), p)
            for p in paths]


def test_the_import_contract_of_the_rooms_holds():
    """engine ← analyses ← outputs ← runs ← cli (and ui): each room imports only the rooms
    below it; the engine only ``layers`` and ``geo.summary``; outputs never search; the
    pages never touch the engine; no private name crosses a room."""
    found = [v for module, path in _our_modules()
             for v in contract_violations(module, ast.parse(path.read_text("utf-8")))]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("geo.engine.network", "from geo.outputs.maps import region_map",
     "geo.engine may not import geo.outputs"),
    ("geo.engine.access", "import geo.analyses.coverage", "geo.engine may not import geo.analyses"),
    ("geo.analyses.coverage", "from geo.outputs.csv_safe import csv_text", "may not import geo.outputs"),
    ("geo.analyses.coverage", "def f():\n    from geo.cli.args import say", "may not import geo.cli"),
    ("geo.outputs.maps", "from geo.engine.shortest_paths import bounded", "never search"),
    ("geo.outputs.maps", "from geo.runs.region_results import RegionResults", "may not import geo.runs"),
    ("ui.pages.map_page", "from geo.engine.scenario import region_scenario", "never the engine"),
    ("geo.runs.batch.partition", "from geo.engine.network import _reverse_csr", "private name"),
    ("geo.summary", "from geo.engine.network import Network", "geo.summary may not import geo.engine"),
])
def test_the_contract_fails_on_a_wrong_import(module, source, expected):
    """The check above is not vacuous: an engine module importing an output (and each other
    rule broken once) is reported."""
    found = contract_violations(module, ast.parse(source))
    assert found and expected in found[0], found


def test_types_only_imports_may_point_up_but_never_at_private_names():
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
              "    from geo.runs.region_results import RegionResults\n")
    assert contract_violations("geo.outputs.report", ast.parse(source)) == []
    private = source.replace("RegionResults", "_Private")
    assert contract_violations("geo.outputs.report", ast.parse(private))


def test_no_module_sits_loose_in_geo():
    """Every module lives in a room; only ``__init__``, ``__main__`` and ``summary`` stay at the top."""
    loose = sorted(p.name for p in (ROOT / "geo").glob("*.py")
                   if p.name not in ("__init__.py", "__main__.py", "summary.py"))
    assert not loose, loose
    rooms = sorted(p.name for p in (ROOT / "geo").iterdir() if p.is_dir() and (p / "__init__.py").exists())
    assert rooms == sorted(r.split(".")[1] for r in ROOMS)


ENTRY_COMPUTATIONS = {
    "geo.analyses.coverage": {"coverage", "by_area", "gaps", "circuity_of"},
    "geo.analyses.consolidation": {"consolidation"},
    "geo.analyses.shelter_load": {"shelter_load"},
    "geo.analyses.vc_plan": {"vc_plan"},
    "geo.analyses.crossborder": {"crossborder", "crossborder_inputs"},
    "geo.analyses.siting": {"recommend", "region_candidates", "outside_zones"},
    "geo.engine.routing": {"route", "routes_from", "compare"},
    "geo.engine.scenario": {"make_scenario", "region_scenario"},
}
"""The computations the entries chain: the CLI and the pages call the entries instead."""


def _callers() -> list[Path]:
    return [*sorted((ROOT / "geo" / "cli").rglob("*.py")), ROOT / "streamlit_app.py",
            *sorted((ROOT / "ui").rglob("*.py"))]


@pytest.mark.parametrize("path", _callers(), ids=lambda p: p.name)
def test_cli_and_pages_wire_analyses_through_the_entries(path):
    """Each analysis is chained once (its ``analyse_*``); the CLI and the pages call the entry."""
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ENTRY_COMPUTATIONS:
            used = {a.name for a in node.names} & ENTRY_COMPUTATIONS[node.module]
            assert not used, f"{path.name} chains {sorted(used)} itself; call its analyse_* instead"


def _library_files() -> list[Path]:
    out = sorted((ROOT / "layers").rglob("*.py"))
    return out + [p for p in sorted((ROOT / "geo").rglob("*.py")) if p.parent.name != "cli"]


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


def test_the_architecture_doc_names_every_room_and_module():
    """docs/architecture.md says what each room and module owns (the README stays short)."""
    doc = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    modules = [p for pkg in ("geo", "layers") for p in sorted((ROOT / pkg).rglob("*.py"))]
    missing = [str(p.relative_to(ROOT)) for p in modules
               if p.name != "__init__.py" and f"`{p.stem}`" not in doc]
    assert not missing, missing
    assert all(f"`{room.split('.')[1]}/`" in doc for room in ROOMS)


def test_the_readme_is_short():
    """A newcomer reads the README in two minutes; the reference is in docs/."""
    assert len((ROOT / "README.md").read_text("utf-8").splitlines()) <= 150


def test_the_winter_table_has_the_engines_walking_profiles():
    """Profiles are defined once (geo/engine/profiles.py); the region file's winter table
    (layers, which cannot import geo) must know the same ones."""
    from geo.engine.profiles import WALK_PROFILES
    from layers.winter import DEFAULT_PENALTY

    assert tuple(DEFAULT_PENALTY) == WALK_PROFILES


def test_tomoni_help_imports_nothing_heavy():
    """``tomoni --help`` (and the parser every command starts with) imports no pandas,
    geopandas, numpy, shapely or pyproj: each command imports what it uses when it runs.
    (A command module importing its work at the top made ``--help`` take 1.9 s, not 0.1 s.)"""
    import subprocess
    import sys

    code = ("import sys, contextlib, io\nfrom geo.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
            "print(' '.join(m for m in ('pandas', 'geopandas', 'numpy', 'shapely', 'pyproj', 'scipy',"
            " 'matplotlib', 'folium', 'streamlit') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          check=True, timeout=120)
    assert done.stdout.strip() == "", f"tomoni --help imported: {done.stdout.strip()}"


def test_the_pages_never_hand_a_scenario_to_an_analysis():
    """Pages pass a hazard name (and a run they were given); the scenario behind it is geo's
    (memoised per region and hazard), never an object a page holds and passes on."""
    found = []
    for path in [*(ROOT / "ui").rglob("*.py"), ROOT / "streamlit_app.py"]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                found += [f"{path.relative_to(ROOT)}:{node.lineno}" for kw in node.keywords
                          if kw.arg in ("scenario", "network", "networks")]
    assert not found, found
