"""Features on the interactive map: one JSON text per content, escaped, reused across reruns,
and a page whose script is never compiled as a template (the browser side is in tests/e2e)."""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import pytest
import shapely

from geo.outputs.map_features import FeatureLayer, features_json


@pytest.fixture
def places() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["公民館", "集会所"], "capacity": [30, None]}, crs="EPSG:6678",
        geometry=[shapely.Point(-30000, -40000), shapely.Point(-29000, -40500)])


def test_the_same_content_is_serialised_once(places):
    first = features_json(places, ["name", "capacity"])
    again = features_json(places.copy(), ["name", "capacity"])  # another object, same content
    assert again is first


@pytest.mark.parametrize("change", ["name", "geometry", "crs", "columns", "missing"])
def test_any_change_of_content_gives_new_text(places, change):
    before = features_json(places, ["name", "capacity"])
    columns = ["name", "capacity"]
    if change == "name":
        places.loc[1, "name"] = "集会所（新）"
    elif change == "geometry":
        places.loc[0, "geometry"] = shapely.Point(-30000, -39990)
    elif change == "crs":
        places = places.set_crs("EPSG:6677", allow_override=True)
    elif change == "columns":
        columns = ["name"]
    else:
        places.loc[0, "capacity"] = None
    after = features_json(places, columns)
    assert after != before


def test_the_text_is_geojson_in_degrees_with_every_property(places):
    data = json.loads(features_json(places, ["name", "capacity", "not_a_column"]))
    assert [f["properties"] for f in data["features"]] == [
        {"name": "公民館", "capacity": 30.0}, {"name": "集会所", "capacity": None}]
    lon, lat = data["features"][0]["geometry"]["coordinates"]
    assert 139 < lon < 141 and 39 < lat < 40


def test_hostile_names_are_escaped_and_cannot_close_the_script(places):
    places.loc[0, "name"] = '</script><img src=x onerror="alert(1)">'
    text = features_json(places, ["name"])
    assert "<" not in text and "&lt;/script&gt;" in text
    layer = FeatureLayer(text, name="<b>層</b>", tooltip="name", popup=[("name", "<i>名称</i>")])
    m = folium.Map()
    layer.add_to(m)
    page = m.get_root().render()
    script = page[page.index(f"var {layer.get_name()} = "):]
    assert "</script>" not in script[: script.index("})();")]
    assert "&lt;i&gt;名称&lt;/i&gt;" in script


def test_a_large_layer_is_placed_in_the_page_without_template_compilation(places, monkeypatch):
    """branca compiles each rendered script as Jinja; a layer's megabytes must not be."""
    import jinja2

    compiled: list[int] = []
    real = jinja2.Environment.from_string

    def spy(self, source, *a, **k):  # type: ignore[no-untyped-def]
        compiled.append(len(source))
        return real(self, source, *a, **k)

    monkeypatch.setattr(jinja2.Environment, "from_string", spy)
    big = gpd.GeoDataFrame({"name": [f"町字{i}" for i in range(3000)]}, crs="EPSG:6678",
                           geometry=[shapely.Point(-30000 + i, -40000) for i in range(3000)])
    m = folium.Map()
    FeatureLayer(features_json(big, ["name"]), name="町字", tooltip="name").add_to(m)
    page = m.get_root().render()
    assert "町字2999" in page
    assert max(compiled, default=0) < 20_000
