"""The notebooks run top to bottom (nbclient, the project's own kernel) on the demo and shared data."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _run(name: str, tmp_path: Path) -> nbformat.NotebookNode:
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(book, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    # the executed notebook is an artefact: kept in the session folder for the leak scan
    nbformat.write(book, tmp_path / name)
    return book


def _outputs(book: nbformat.NotebookNode) -> str:
    return "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                     for c in book.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.fixture
def nb_env(demo_dir, tmp_path, monkeypatch, shared_data):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TOMONI_DEMO_DIR", str(demo_dir))
    monkeypatch.setenv("TOMONI_NOTEBOOK_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("TOMONI_SHARED_DATA", str(shared_data))
    return tmp_path


def test_notebooks_are_committed_without_outputs():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        book = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code"), path.name
    assert len(list(NOTEBOOKS.glob("*.ipynb"))) == 3


def test_demo_tour(nb_env):
    book = _run("01_demo_tour.ipynb", nb_env)
    text = _outputs(book)
    assert "みずうみ地域（架空）" in text and "'rate'" in text
    assert (nb_env / "out" / "demo_map.png").exists() and (nb_env / "out" / "demo_map.html").exists()


def test_real_municipality(nb_env):
    book = _run("02_real_municipality.ipynb", nb_env)
    text = _outputs(book)
    assert "推定（直線距離×迂回率）" in text and "'method': 'network'" in text


def test_vc_flood_scenario(nb_env):
    book = _run("03_vc_flood_scenario.ipynb", nb_env)
    text = _outputs(book)
    assert "closed_edges_avoided" in text and "partners" in text
    assert (nb_env / "out" / "route_sheet.pdf").exists()
