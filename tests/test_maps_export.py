"""Interactive maps (offline assets) and printable exports (PNG/SVG/PDF)."""

from __future__ import annotations

import json
import logging
import re
import warnings

import pytest
from PIL import Image

from geo.engine.shelter_status import shelter_status
from geo.outputs.assets import STATIC_URL, localise, standalone_html, vendor_ready
from geo.outputs.maps import MeshCanvasLayer, region_map
from geo.outputs.printed_map import map_bytes, paper_size, save_map, static_map
from layers.errors import LayerError

CDN = re.compile(r"(cdn\.jsdelivr|cdnjs|code\.jquery|netdna|unpkg|bootstrapcdn)")


@pytest.fixture(scope="module")
def demo_map(demo_region):
    return region_map(demo_region.layers, roads=demo_region.roads, fictional=True,
                      attribution=demo_region.attribution())


def test_map_uses_only_local_assets(demo_map):
    html = demo_map.get_root().render()
    assert not CDN.search(html)
    srcs = re.findall(r'<script src="([^"]+)"', html)
    assert srcs and all(s.startswith(STATIC_URL) for s in srcs)


def test_map_has_every_layer_legend_and_badge(demo_map):
    html = demo_map.get_root().render()
    for name in ("市町村界", "校区", "自治会", "居場所", "避難所・避難場所", "災害危険区域",
                 "災害VC候補地", "道路"):
        # layer-control names are JSON-escaped in the script
        assert name in html or json.dumps(name)[1:-1] in html, name
    assert "tomoni-legend" in html and "架空データ（デモ地域）" in html
    assert "tomoni-shelter" in html


def test_localise_refuses_unvendored_scripts():
    import folium
    from folium.plugins import HeatMap

    m = folium.Map(tiles=None)
    HeatMap([[39.7, 140.1]]).add_to(m)
    with pytest.raises(RuntimeError, match="not vendored"):
        localise(m)


def test_standalone_html_is_self_contained(demo_region):
    if not vendor_ready():
        pytest.fail("static/vendor is missing: run bash scripts/setup.sh")
    m = region_map(demo_region.layers, fictional=True, localise_assets=False)
    html = standalone_html(m)
    assert "<script src=" not in html and 'rel="stylesheet"' not in html
    assert not CDN.search(html)
    assert "a JS library for interactive maps" in html  # Leaflet itself is inlined, not linked
    assert re.search(r"\bL\.map\(\s*\"map_", html)  # and the map is made with it


def test_shelter_status_per_hazard(demo_region):
    sh = demo_region.layers["shelters"]
    status = shelter_status(sh, hazard="flood", hazards=demo_region.layers["hazards"])
    assert set(status) <= {"usable", "in_zone", "not_designated"}
    assert (status[~sh["flood"]] == "not_designated").all()
    assert (status == "usable").any()


def test_mesh_canvas_layer_payload():
    import folium
    import numpy as np

    m = folium.Map(tiles=None)
    layer = MeshCanvasLayer(rows=np.array([9360, 9384]), cols=np.array([22400, 22416]),
                            dlat=1 / 240, dlon=1 / 160, classes=np.array([0, -1]),
                            colors=["#ff0000"], labels=["a", "b"], title="t")
    m.add_child(layer)
    payload = json.loads(layer.payload)
    assert payload["c"] == [0, -1] and payload["dlat"] == pytest.approx(1 / 240)
    assert "L.GridLayer.extend" in m.get_root().render()


@pytest.mark.parametrize(("paper", "size"), [("A4-landscape", (11.69, 8.27)),
                                             ("A3-portrait", (11.69, 16.54))])
def test_paper_sizes(paper, size):
    w, h = paper_size(paper)
    assert w == pytest.approx(size[0], abs=0.01) and h == pytest.approx(size[1], abs=0.01)
    with pytest.raises(LayerError):
        paper_size("B5")


@pytest.fixture(scope="module")
def demo_figure(demo_region):
    return static_map(demo_region.layers, crs=demo_region.crs, title="みずうみ地域の避難所（洪水）",
                      roads=demo_region.roads, fictional=True,
                      attribution=demo_region.attribution())


def test_png_has_requested_dpi_and_size(demo_figure, tmp_path):
    out = save_map(demo_figure, tmp_path / "map.png", dpi=150)
    with Image.open(out) as img:
        assert img.format == "PNG"
        assert abs(img.size[0] - 297 / 25.4 * 150) <= 1 and abs(img.size[1] - 210 / 25.4 * 150) <= 1
        assert round(img.info["dpi"][0]) == 150


def test_no_missing_glyphs(demo_region, caplog):
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        fig = static_map(demo_region.layers, crs=demo_region.crs, title="凡例・縮尺・方位の確認",
                         fictional=True, attribution=demo_region.attribution())
        map_bytes(fig, fmt="png", dpi=60)
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "missing from font" in m or "Glyph" in m], messages


def test_pdf_text_is_embedded_japanese(demo_figure, tmp_path):
    from pypdf import PdfReader

    out = save_map(demo_figure, tmp_path / "map.pdf")
    reader = PdfReader(out)
    text = reader.pages[0].extract_text()
    assert "みずうみ地域の避難所" in text
    assert "凡例" in text and "架空データ" in text
    font = reader.pages[0]["/Resources"]["/Font"]["/F1"].get_object()
    assert "IPAexGothic" in str(font["/BaseFont"])  # embedded, subset TrueType


def test_svg_is_written(demo_figure, tmp_path):
    out = save_map(demo_figure, tmp_path / "map.svg")
    assert out.read_text("utf-8").lstrip().startswith("<?xml")


def test_unknown_output_format(demo_figure, tmp_path):
    with pytest.raises(LayerError) as err:
        save_map(demo_figure, tmp_path / "map.bmp")
    assert err.value.column == "out"  # the CLI shows it as --out
    assert not (tmp_path / "map.bmp").exists()


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_tomoni_map_on_real_akita(shared_data, tmp_path, run_cli, ext):
    d = shared_data / "akita"
    toml = tmp_path / "akita.toml"
    toml.write_text(f"""[region]
name = "秋田県"
[layers.boundaries]
path = "{d}/boundaries/n03_akita_2021_simplified.geojson"
[layers.shelters]
path = ["{d}/shelters/gsi_emergency_sites_akita.csv", "{d}/shelters/gsi_evacuation_shelters_akita.csv"]
""", encoding="utf-8")
    out = tmp_path / f"akita.{ext}"
    code, stdout, err = run_cli("map", toml, "--layers", "shelters,boundaries", "--out", out,
                                "--title", "秋田県の避難所", "--dpi", "100")
    assert code == 0, err
    assert json.loads(stdout)["layers"] == ["shelters", "boundaries"]
    data = out.read_bytes()
    if ext == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    elif ext == "pdf":
        from pypdf import PdfReader

        text = PdfReader(out).pages[0].extract_text()
        assert "秋田県の避難所" in text and "国土地理院" in text and "凡例" in text
    else:
        assert b"<svg" in data[:500]


def test_tomoni_map_html_and_bad_layer(demo_dir, tmp_path, run_cli):
    code, _, err = run_cli("map", demo_dir / "region.toml", "--out", tmp_path / "m.html",
                           "--layers", "shelters,boundaries")
    assert code == 0, err
    html = (tmp_path / "m.html").read_text("utf-8")
    assert "<script src=" not in html and "架空" in html
    code, _, err = run_cli("map", demo_dir / "region.toml", "--out", tmp_path / "m.png",
                           "--layers", "shelterz")
    assert code == 2 and "--layers" in err and "shelters" in err
