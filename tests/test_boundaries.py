"""市町村 boundaries: N03 dissolve, code normalisation, municipality assignment."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from layers.boundaries import assign_municipality, load_boundaries, normalise_code


def _n03(tmp_path, features):
    path = tmp_path / "n03.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def _feature(code, name, geom, city=None):
    return {"type": "Feature",
            "properties": {"N03_001": "秋田県", "N03_003": city, "N03_004": name, "N03_007": code},
            "geometry": geom.__geo_interface__}


def test_multi_part_municipality_is_dissolved(tmp_path):
    path = _n03(tmp_path, [
        _feature("05206", "男鹿市", box(139.7, 39.8, 139.8, 39.9)),
        _feature("05206", "男鹿市", box(139.9, 39.8, 140.0, 39.9)),  # an island
        _feature("05201", "秋田市", box(140.0, 39.6, 140.2, 39.8)),
        _feature(None, "所属未定地", box(140.3, 39.6, 140.31, 39.61)),
    ])
    gdf = load_boundaries([path])
    assert list(gdf["code"]) == ["05201", "05206"]
    oga = gdf.set_index("code").loc["05206"]
    assert oga.geometry.geom_type == "MultiPolygon" and len(oga.geometry.geoms) == 2
    assert any("所属未定地" in w or "コードのない" in w for w in gdf.attrs["warnings"])


def test_invalid_polygon_is_repaired_and_reported(tmp_path):
    bowtie = {"type": "Polygon",
              "coordinates": [[[140.0, 39.0], [140.1, 39.1], [140.1, 39.0], [140.0, 39.1], [140.0, 39.0]]]}
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "05201", "name": "秋田市"}, "geometry": bowtie}]}),
        "utf-8")
    gdf = load_boundaries([path])
    assert gdf.geometry.is_valid.all()
    assert any("修復" in w for w in gdf.attrs["warnings"])


def test_code_normalisation():
    s = normalise_code(pd.Series(["5201", "05201", "052019", 5201.0, "", None]))
    assert list(s) == ["05201", "05201", "05201", "05201", "", ""]


def test_ward_names_keep_their_city(tmp_path):
    path = _n03(tmp_path, [_feature("04101", "青葉区", box(140.8, 38.2, 140.9, 38.3), city="仙台市")])
    assert load_boundaries([path])["name"].iloc[0] == "仙台市青葉区"


def test_assign_municipality_contains_then_nearest():
    b = gpd.GeoDataFrame({"code": ["A", "B"]},
                         geometry=[box(140.0, 39.0, 140.1, 39.1), box(140.1, 39.0, 140.2, 39.1)],
                         crs="EPSG:4326")
    pts = gpd.GeoDataFrame(geometry=[Point(140.05, 39.05), Point(140.15, 39.05),
                                     Point(140.2001, 39.05), Point(141.5, 39.05)], crs="EPSG:4326")
    assert list(assign_municipality(pts, b, crs="EPSG:6678")) == ["A", "B", "B", ""]


def test_real_n03_akita(shared_data):
    gdf = load_boundaries([shared_data / "akita/boundaries/n03_akita_2021_simplified.geojson"])
    assert len(gdf) == 25
    assert gdf["code"].is_unique and gdf["code"].str.fullmatch(r"05\d{3}").all()
    assert "秋田市" in set(gdf["name"]) and (gdf["pref"] == "秋田県").all()
    assert (gdf.geometry.geom_type == "MultiPolygon").all()


@pytest.mark.parametrize("mapped", [{"code": "N03_007", "name": "N03_004"}])
def test_real_n03_with_explicit_mapping(shared_data, mapped):
    gdf = load_boundaries([shared_data / "akita/boundaries/n03_akita_2021_simplified.geojson"], **mapped)
    assert len(gdf) == 25
