"""校区, 自治会 and hazard polygons: real formats, estimated areas, hazard types."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from layers.boundaries import load_boundaries
from layers.errors import LayerError
from layers.hazards import hazard_key, load_hazards
from layers.neighbourhoods import load_neighbourhoods
from layers.school_districts import load_school_districts


def test_demo_a27_cp932_shapefiles_without_cpg(demo_dir):
    before = demo_dir / "A27-16_059_before.zip"
    after = demo_dir / "A27-23_059_after" / "A27-23_059.shp"
    assert not after.with_suffix(".cpg").exists()  # like old 国土数値情報 files
    gdf = load_school_districts([before, after], periods=["before", "after"])
    assert set(gdf["period"]) == {"before", "after"}
    assert (gdf["level"] == "elementary").all()
    assert gdf["name"].str.endswith("小学校").all()  # cp932 decoded, not mojibake
    n_before = (gdf["period"] == "before").sum()
    n_after = (gdf["period"] == "after").sum()
    assert n_after < n_before  # consolidation closes schools
    assert gdf["district_id"].is_unique


def test_periods_must_match_paths(demo_dir):
    with pytest.raises(LayerError, match="periods"):
        load_school_districts([demo_dir / "A27-16_059_before.zip"], periods=["a", "b"])


def test_neighbourhood_polygons_with_names(demo_dir):
    gdf = load_neighbourhoods([demo_dir / "jichikai.geojson"])
    assert 50 <= len(gdf) <= 70
    assert not gdf["estimated"].any()
    assert gdf["area_id"].is_unique


def test_voronoi_stand_ins_are_clipped_to_their_municipality(tmp_path):
    b = gpd.GeoDataFrame({"code": ["05901", "05902"], "name": ["甲", "乙"]},
                         geometry=[box(140.0, 39.0, 140.05, 39.05), box(140.05, 39.0, 140.1, 39.05)],
                         crs="EPSG:4326")
    b.to_file(tmp_path / "b.geojson")
    boundaries = load_boundaries([tmp_path / "b.geojson"])
    pts = [{"town": f"町{i}", "koaza": "", "lat": str(39.01 + 0.01 * (i % 4)),
            "lng": 140.01 + 0.02 * (i // 4)} for i in range(16)]
    pts.append({"town": "座標なし", "koaza": "", "lat": None, "lng": None})
    (tmp_path / "machiaza.json").write_text(json.dumps(pts, ensure_ascii=False), "utf-8")
    gdf = load_neighbourhoods([tmp_path / "machiaza.json"], boundaries=boundaries)
    assert gdf["estimated"].all() and len(gdf) == 16
    assert any("座標のない" in w for w in gdf.attrs["warnings"])
    metric = boundaries.to_crs("EPSG:6678")
    for code, poly in zip(metric["code"], metric.geometry, strict=True):
        cells = gdf[gdf["muni_code"] == code].to_crs("EPSG:6678")
        assert len(cells) > 0
        # every cell lies inside its municipality (to the metre: edges are cut in
        # the metric CRS), and the cells tile it
        assert cells.geometry.buffer(-1.0).within(poly).all()
        assert shapely.union_all(cells.geometry.values).area == pytest.approx(poly.area, rel=1e-4)


def test_real_machiaza_points_become_estimated_areas(shared_data):
    boundaries = load_boundaries([shared_data / "akita/boundaries/n03_akita_2021_simplified.geojson"])
    gdf = load_neighbourhoods([shared_data / "akita/machiaza/南秋田郡五城目町.json"],
                              boundaries=boundaries)
    assert gdf["estimated"].all()
    # on the 1 %-simplified boundaries a few points fall in the neighbour town;
    # geometry decides, so most but not all areas are 五城目町's
    assert (gdf["muni_code"] == "05361").mean() > 0.9
    gojome = boundaries.set_index("code").loc["05361"].geometry
    own = gdf[gdf["muni_code"] == "05361"]
    assert shapely.union_all(own.geometry.values).area == pytest.approx(gojome.area, rel=1e-3)


def test_hazard_types_from_column_option_and_dataset(tmp_path):
    zones = gpd.GeoDataFrame({"種別": ["洪水", "土砂災害"], "ランク": [3, None]},
                             geometry=[box(140.0, 39.0, 140.01, 39.01), box(140.1, 39.1, 140.11, 39.11)],
                             crs="EPSG:4326")
    zones.to_file(tmp_path / "z.geojson")
    gdf = load_hazards([tmp_path / "z.geojson"])
    assert list(gdf["hazard"]) == ["flood", "landslide"]
    assert gdf["rank"].iloc[0] == 3 and gdf["rank"].isna().iloc[1]
    plain = zones.drop(columns=["種別"])
    plain.to_file(tmp_path / "p.geojson")
    assert set(load_hazards([tmp_path / "p.geojson"], hazard="津波")["hazard"]) == {"tsunami"}
    a31 = plain.rename(columns={"ランク": "A31_205"})
    a31.to_file(tmp_path / "a31.geojson")
    assert set(load_hazards([tmp_path / "a31.geojson"])["hazard"]) == {"flood"}
    with pytest.raises(LayerError, match="災害の種類"):
        load_hazards([tmp_path / "p.geojson"])


def test_unknown_hazard_word_names_row(tmp_path):
    zones = gpd.GeoDataFrame({"hazard": ["flood", "隕石"]},
                             geometry=[box(140.0, 39.0, 140.01, 39.01), box(140.1, 39.1, 140.11, 39.11)],
                             crs="EPSG:4326")
    zones.to_file(tmp_path / "z.geojson")
    with pytest.raises(LayerError) as err:
        load_hazards([tmp_path / "z.geojson"])
    assert err.value.row == 3 and err.value.column == "hazard"


def test_hazard_key_aliases():
    assert hazard_key("洪水") == "flood" and hazard_key("土砂災害") == "landslide"
    assert hazard_key("unknown") is None


def test_points_given_as_polygons_layer_are_refused(tmp_path):
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(140.0, 39.0)], crs="EPSG:4326").to_file(
        tmp_path / "pts.geojson")
    with pytest.raises(LayerError) as err:
        load_school_districts([tmp_path / "pts.geojson"])
    assert err.value.column == "geometry" and err.value.row == 2


def test_shapefile_without_prj_needs_crs(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[box(140.0, 39.0, 140.1, 39.1)])
    gdf.to_file(tmp_path / "noprj.shp")
    for ext in (".prj",):
        p = tmp_path / f"noprj{ext}"
        if p.exists():
            p.unlink()
    with pytest.raises(LayerError, match="座標系"):
        load_school_districts([tmp_path / "noprj.shp"])
    from pyproj import CRS

    out = load_school_districts([tmp_path / "noprj.shp"], crs=CRS.from_epsg(6668))
    assert np.allclose(out.total_bounds, [140.0, 39.0, 140.1, 39.1])
