"""CRS rules and the generic readers: encodings, coordinate columns, datums."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS

from layers.crs import analysis_crs_for, ensure_metric, parse_crs, plane_rectangular_zone
from layers.errors import LayerError
from layers.places import load_places


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (140.1024, 39.7186, 6678),  # 秋田県庁 → zone X
        (139.41, 35.71, 6677),  # 立川 → zone IX
        (141.35, 43.06, 6680),  # 札幌 → zone XII
        (130.40, 33.59, 6670),  # 福岡 → zone II
        (127.68, 26.21, 6683),  # 那覇 → zone XV
    ],
)
def test_plane_rectangular_zone_from_location(lon, lat, epsg):
    assert plane_rectangular_zone(lon, lat).epsg == epsg


def test_zone_outside_japan_is_refused():
    with pytest.raises(LayerError, match="日本の範囲外"):
        plane_rectangular_zone(-75.0, 40.0)


def test_degrees_refused_where_metres_are_meant():
    with pytest.raises(LayerError, match="度単位"):
        ensure_metric("EPSG:4326")
    ensure_metric("EPSG:6678")


def test_parse_crs_aliases():
    assert parse_crs("JGD2000").to_epsg() == 4612
    assert parse_crs("Tokyo").to_epsg() == 4301
    assert parse_crs(6678).to_epsg() == 6678
    with pytest.raises(LayerError) as err:
        parse_crs("EPSG:not-a-code", file="r.toml")
    assert err.value.column == "crs"


def _places_csv(tmp_path, body: str, encoding="utf-8-sig"):
    f = tmp_path / "p.csv"
    f.write_bytes(body.encode(encoding))
    return f


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    f = _places_csv(tmp_path, "名称,種別,緯度,経度\nサロン「ひだまり」,サロン,39.7,140.1\n", encoding)
    gdf = load_places([f])
    assert gdf["name"].iloc[0] == "サロン「ひだまり」"


@pytest.mark.parametrize("header", ["名称,lat,lon", "名称,latitude,longitude", "名称,Lat,Lng"])
def test_lat_lon_column_names(tmp_path, header):
    gdf = load_places([_places_csv(tmp_path, f"{header}\nA,39.7,140.1\n")])
    assert gdf.geometry.x.iloc[0] == pytest.approx(140.1)


def test_swapped_lat_lon_is_detected_and_reported(tmp_path):
    gdf = load_places([_places_csv(tmp_path, "名称,緯度,経度\nA,140.1,39.7\nB,140.2,39.8\n")])
    assert gdf.geometry.y.iloc[0] == pytest.approx(39.7)
    assert any("入れ替え" in w for w in gdf.attrs["warnings"])


def test_full_width_digits_are_read(tmp_path):
    gdf = load_places([_places_csv(tmp_path, "名称,緯度,経度\nA,３９．７,１４０．１\n")])
    assert gdf.geometry.y.iloc[0] == pytest.approx(39.7)


def test_xy_columns_need_a_declared_crs(tmp_path):
    f = _places_csv(tmp_path, "名称,x,y\nA,-62667,-30986\n")
    with pytest.raises(LayerError) as err:
        load_places([f])
    assert err.value.column == "x" and "crs" in (err.value.fix or "")
    gdf = load_places([f], crs=CRS.from_epsg(6678))
    # 秋田県庁 (E -62,667 m, N -30,986 m in zone X)
    assert gdf.geometry.x.iloc[0] == pytest.approx(140.1024, abs=1e-3)
    assert gdf.geometry.y.iloc[0] == pytest.approx(39.7186, abs=1e-3)


def test_tokyo_datum_is_converted_not_ignored(tmp_path):
    f = _places_csv(tmp_path, "名称,緯度,経度\nA,39.7158,140.1058\n")
    jgd = load_places([f])
    tokyo = load_places([f], crs=CRS.from_epsg(4301))
    shift_lon = tokyo.geometry.x.iloc[0] - jgd.geometry.x.iloc[0]
    shift_lat = tokyo.geometry.y.iloc[0] - jgd.geometry.y.iloc[0]
    # Tokyo datum → JGD2011 near Akita moves about (−0.0034°, +0.0028°), ~400 m
    assert shift_lon == pytest.approx(-0.0034, abs=4e-4)
    assert shift_lat == pytest.approx(0.0028, abs=4e-4)


def test_jgd2000_declared_is_accepted(tmp_path):
    f = _places_csv(tmp_path, "名称,緯度,経度\nA,39.7,140.1\n")
    gdf = load_places([f], crs=CRS.from_epsg(4612))
    assert abs(gdf.geometry.y.iloc[0] - 39.7) < 1e-4  # JGD2000 ≈ JGD2011 (sub-metre here)


def test_places_schema_and_generated_ids(tmp_path):
    f = _places_csv(tmp_path, "名称,種別,定員,開催日,緯度,経度\nA,サロン,20,月・木,39.7,140.1\n"
                    "B,子ども食堂,,土,39.71,140.1\n")
    gdf = load_places([f])
    assert list(gdf.columns) == ["place_id", "name", "kind", "capacity", "open_days", "source",
                                 "geometry"]
    assert list(gdf["place_id"]) == ["P0001", "P0002"]
    assert gdf["capacity"].iloc[0] == 20 and gdf["capacity"].isna().iloc[1]
    assert gdf["open_days"].iloc[0] == "月・木"


def test_places_from_geojson_and_geopackage(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    src = gpd.GeoDataFrame({"name": ["A", "B"], "kind": ["サロン", "カフェ"]},
                           geometry=[Point(140.1, 39.7), Point(140.2, 39.8)], crs="EPSG:4326")
    src.to_file(tmp_path / "p.geojson")
    src.to_crs("EPSG:6678").to_file(tmp_path / "p.gpkg")
    a = load_places([tmp_path / "p.geojson"])
    b = load_places([tmp_path / "p.gpkg"])
    assert list(a["kind"]) == ["サロン", "カフェ"]
    assert np.allclose(a.geometry.x, b.geometry.x) and b.crs.to_epsg() == 4326


def test_analysis_crs_for_layers(tmp_path):
    gdf = load_places([_places_csv(tmp_path, "名称,緯度,経度\nA,39.7,140.1\n")])
    assert analysis_crs_for([gdf]) == "EPSG:6678"


def test_undecodable_in_both_encodings(tmp_path):
    f = tmp_path / "p.csv"
    f.write_bytes(b"name,lat,lon\nB,39.7,140.1\nA\xff\xff,39.7,140.1\n")
    with pytest.raises(LayerError) as err:
        load_places([f])
    assert err.value.row == 3 and err.value.column == "name"
