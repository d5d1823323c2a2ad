"""Barriers to walking access read from OSM files, GraphML graphs and [layers.barriers] files."""

from __future__ import annotations

import numpy as np
import pytest

from geo.engine.access import snap
from geo.engine.network_cache import forget_loaded, load_network
from layers.barriers import load_barriers
from layers.errors import LayerError
from layers.roads import load_roads_and_barriers
from tests.osm_files import to_pbf, write_osm

# Two streets 秋田市 style, with a river between them (and a bridge over it), a railway,
# a culverted stream, a pond (a closed way) and an expressway.
OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="tomoni-tests">
  <node id="1" lat="39.7000" lon="140.1000" version="1"/>
  <node id="2" lat="39.7000" lon="140.1100" version="1"/>
  <node id="3" lat="39.7030" lon="140.1000" version="1"/>
  <node id="4" lat="39.7030" lon="140.1100" version="1"/>
  <node id="21" lat="39.7025" lon="140.0950" version="1"/>
  <node id="22" lat="39.7025" lon="140.1150" version="1"/>
  <node id="31" lat="39.7040" lon="140.0950" version="1"/>
  <node id="32" lat="39.7040" lon="140.1150" version="1"/>
  <node id="41" lat="39.6990" lon="140.0950" version="1"/>
  <node id="42" lat="39.6990" lon="140.1150" version="1"/>
  <node id="51" lat="39.7005" lon="140.1070" version="1"/>
  <node id="52" lat="39.7005" lon="140.1080" version="1"/>
  <node id="53" lat="39.7010" lon="140.1080" version="1"/>
  <node id="61" lat="39.6980" lon="140.0950" version="1"/>
  <node id="62" lat="39.6980" lon="140.1150" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
  <way id="11" version="1"><nd ref="3"/><nd ref="4"/><tag k="highway" v="residential"/></way>
  <way id="12" version="1"><nd ref="1"/><nd ref="3"/><tag k="highway" v="residential"/>
    <tag k="bridge" v="yes"/></way>
  <way id="20" version="1"><nd ref="21"/><nd ref="22"/><tag k="waterway" v="river"/>
    <tag k="name" v="旭川"/></way>
  <way id="30" version="1"><nd ref="31"/><nd ref="32"/><tag k="railway" v="rail"/></way>
  <way id="40" version="1"><nd ref="41"/><nd ref="42"/><tag k="waterway" v="stream"/>
    <tag k="tunnel" v="culvert"/></way>
  <way id="50" version="1"><nd ref="51"/><nd ref="52"/><nd ref="53"/><nd ref="51"/>
    <tag k="natural" v="water"/></way>
  <way id="60" version="1"><nd ref="61"/><nd ref="62"/><tag k="highway" v="motorway"/></way>
</osm>
"""


@pytest.fixture
def osm_file(tmp_path):
    return write_osm(OSM_XML, tmp_path / "town.osm")


def test_osm_file_gives_its_rivers_railways_water_and_motorways(osm_file):
    graph, barriers = load_roads_and_barriers(osm_file, network="walk")
    kinds = sorted(barriers["kind"])
    assert kinds == ["motorway", "railway", "river", "water"]  # the culvert is passable
    assert "旭川" in set(barriers["name"])
    # the walk graph has no motorway; the bridge road stays a road
    assert not any(d.get("highway") == "motorway" for *_, d in graph.edges(data=True))


def test_osm_pbf_reads_the_same_barriers(osm_file, tmp_path):
    pbf = to_pbf(osm_file, tmp_path / "town.osm.pbf")
    _, barriers = load_roads_and_barriers(pbf, network="walk")
    assert sorted(barriers["kind"]) == ["motorway", "railway", "river", "water"]


def test_network_from_an_osm_file_keeps_its_barriers_in_the_cache(osm_file, tmp_path):
    first = load_network(osm_file, network="walk", crs="EPSG:6678", cache_dir=tmp_path / "c")
    forget_loaded()  # the second load reads the on-disk cache
    again = load_network(osm_file, network="walk", crs="EPSG:6678", cache_dir=tmp_path / "c")
    assert first.n_barriers == again.n_barriers == 4
    # a point 55 m south of the river joins street 1–2 (222 m) on its own bank, not
    # street 3–4 (111 m) across the river
    from layers.crs import transform_xy

    x, y = transform_xy(np.array([140.105]), np.array([39.7020]), "EPSG:4326", "EPSG:6678")
    s = snap(again, x, y)
    a, b = again.seg_a[s.segment[0]], again.seg_b[s.segment[0]]
    lat_road = transform_xy(again.x[[a, b]], again.y[[a, b]], "EPSG:6678", "EPSG:4326")[1]
    assert np.allclose(lat_road, 39.7000, atol=1e-4)
    assert s.access[0] == pytest.approx(222, abs=2)


def test_barrier_layer_file_and_bad_input(tmp_path):
    good = tmp_path / "water.geojson"
    good.write_text('{"type": "FeatureCollection", "features": ['
                    '{"type": "Feature", "properties": {"種別": "河川", "名称": "雄物川"}, "geometry":'
                    ' {"type": "LineString", "coordinates": [[140.1, 39.7], [140.2, 39.71]]}},'
                    '{"type": "Feature", "properties": {"種別": "", "名称": "沼"}, "geometry":'
                    ' {"type": "Polygon", "coordinates": [[[140.1, 39.7], [140.11, 39.7], [140.11, 39.71],'
                    ' [140.1, 39.7]]]}}]}', encoding="utf-8")
    out = load_barriers([good], kind="water")
    assert list(out["kind"]) == ["river", "water"] and list(out["barrier_id"]) == ["B0001", "B0002"]
    points = tmp_path / "points.geojson"
    points.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},'
                      ' "geometry": {"type": "Point", "coordinates": [140.1, 39.7]}}]}', encoding="utf-8")
    with pytest.raises(LayerError) as err:
        load_barriers([points])
    assert err.value.row == 2 and "ライン" in err.value.fix


def test_region_barrier_layer_reaches_the_network(demo_region):
    from geo.engine.network_cache import region_network

    net = region_network(demo_region)
    assert net is not None and net.n_barriers == len(demo_region.layers["barriers"]) == 3
    assert set(demo_region.layers["barriers"]["kind"]) == {"water", "river", "railway"}
