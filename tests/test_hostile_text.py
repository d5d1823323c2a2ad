"""Hostile names are inert: no script in any HTML, no formula in any CSV the project writes."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from geo.outputs.csv_safe import csv_text, neutralise
from tests.hostile_region import FORMULA_START, make_hostile_region

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@pytest.fixture(scope="module")
def hostile_toml(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_hostile_region(demo_dir, tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def hostile_outputs(hostile_toml: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every command that writes HTML or CSV, run once on the hostile region."""
    from geo.cli import main

    out = tmp_path_factory.mktemp("hostile_out")
    runs = [
        ["map", hostile_toml, "--out", out / "map.html"],
        ["report", hostile_toml, "--format", "html", "--recommend", "2", "--out", out / "report"],
        ["export", hostile_toml, "--cp932", "--out", out / "export"],
        ["coverage", hostile_toml, "--out", out / "coverage"],
        ["consolidation", hostile_toml, "--before", "before", "--after", "after", "--out", out / "kouku"],
        ["shelters", hostile_toml, "--hazard", "flood", "--out", out / "shelters"],
        ["vc-plan", hostile_toml, "--hazard", "flood", "--out", out / "vc"],
        ["crossborder", hostile_toml, "--out", out / "cross"],
        ["recommend", hostile_toml, "--candidates", "places", "--p", "2", "--out", out / "rec"],
        ["route", hostile_toml, "--from", "VC02", "--to-all", "shelters", "--hazard", "flood",
         "--out", out / "routes"],
    ]
    for args in runs:
        assert main([str(a) for a in args]) == 0, args
    return out


def _cells(path: Path) -> list[str]:
    raw = path.read_bytes()
    text = raw.decode("cp932") if "cp932" in str(path) else raw.decode("utf-8-sig")
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def test_no_csv_cell_starts_a_formula(hostile_outputs):
    files = sorted(hostile_outputs.rglob("*.csv"))
    assert len(files) >= 15
    planted = 0
    for f in files:
        for cell in _cells(f):
            assert not (cell.startswith(FORMULA_START) and not _NUMBER.fullmatch(cell)), (f.name, cell)
            planted += cell.startswith("'=") or cell.startswith("'@")
    assert planted > 0  # the hostile names did reach the tables, neutralised


def test_no_html_holds_a_live_tag(hostile_outputs):
    files = sorted(hostile_outputs.rglob("*.html"))
    assert {f.name for f in files} >= {"map.html", "report.html"}
    for f in files:
        text = f.read_text("utf-8")
        assert "<img src=x" not in text, f.name
        assert "window.__xss=(window.__xss||0)+1</script>" not in text, f.name
        shown = ("&lt;img src=x", "&amp;lt;img", "\\u0026lt;img src=x")  # escaped (maybe in JSON)
        assert any(s in text for s in shown), f.name  # the names are there, as text


def test_numbers_stay_numbers_and_formulas_get_an_apostrophe():
    frame = pd.DataFrame({"name": ["=1+1", "@A1", "\t=x", "普通", "-3", "+1.5", "-abc"],
                          "n": [-1, 2, 3, 4, 5, 6, 7]})
    text = csv_text(frame)
    rows = list(csv.reader(io.StringIO(text)))
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'@A1", "'\t=x", "普通", "-3", "+1.5", "'-abc"]
    assert [r[1] for r in rows[1:]] == ["-1", "2", "3", "4", "5", "6", "7"]
    assert neutralise(3) == 3 and neutralise("=1") == "'=1"


@pytest.mark.parametrize("cell", ["\r=1+1", "名前\r=HYPERLINK(\"x\")", "a\n@SUM(A1)", "b\r\n-cmd", "\n\t=x",
                                  "c\r+1+cmd"])
def test_a_line_break_inside_a_cell_never_starts_a_formula_row(cell):
    """A spreadsheet starts a new row at a bare CR or LF: the text after it must not be a
    formula either (a bare CR used to be written unquoted after the apostrophe)."""
    text = csv_text(pd.DataFrame({"name": [cell], "n": [1]}))
    for row in csv.reader(io.StringIO(text, newline="")):
        for value in row:
            for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
                assert not (line.startswith(FORMULA_START) and not _NUMBER.fullmatch(line)), (cell, text)
    for naive_row in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):  # a reader ignoring quotes
        assert not naive_row.lstrip('"').startswith(("=", "+", "@", "\t")), (cell, text)
