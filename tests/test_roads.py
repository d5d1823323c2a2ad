"""Road graphs from GraphML, OSM XML (.osm, .osm.bz2) and OSM PBF."""

from __future__ import annotations

import bz2

import networkx as nx
import pytest

from layers.errors import LayerError
from layers.roads import graph_summary, load_roads
from tests.osm_files import to_pbf, write_osm

# A tiny street block near 秋田駅 written by hand: a one-way residential street,
# a footway and a two-way secondary road.
OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="tomoni-tests">
  <node id="1" lat="39.7170" lon="140.1200" version="1"/>
  <node id="2" lat="39.7170" lon="140.1220" version="1"/>
  <node id="3" lat="39.7185" lon="140.1220" version="1"/>
  <node id="4" lat="39.7185" lon="140.1200" version="1"/>
  <node id="5" lat="39.7200" lon="140.1200" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="oneway" v="yes"/><tag k="name" v="中通り"/></way>
  <way id="11" version="1"><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="highway" v="secondary"/><tag k="name" v="県道1号"/></way>
  <way id="12" version="1"><nd ref="4"/><nd ref="5"/><tag k="highway" v="footway"/></way>
  <way id="13" version="1"><nd ref="3"/><nd ref="5"/><tag k="building" v="yes"/></way>
</osm>
"""


@pytest.fixture
def osm_file(tmp_path):
    return write_osm(OSM_XML, tmp_path / "block.osm")


def test_osm_xml_walk_is_bidirectional_with_footways(osm_file):
    g = load_roads(osm_file, network="walk")
    assert isinstance(g, nx.MultiDiGraph)
    assert g.graph["crs"] == "epsg:4326" and g.graph["network"] == "walk"
    for u, v in g.edges():
        assert g.has_edge(v, u)
    assert any(d.get("highway") == "footway" for *_, d in g.edges(data=True))
    assert all(d["length"] > 0 for *_, d in g.edges(data=True))


def test_osm_xml_drive_keeps_one_way_and_drops_footways(osm_file):
    g = load_roads(osm_file, network="drive")
    assert not any(d.get("highway") is None for *_, d in g.edges(data=True))  # no buildings
    assert not any(d.get("highway") == "footway" for *_, d in g.edges(data=True))
    oneway = [(u, v) for u, v, d in g.edges(data=True) if d.get("name") == "中通り"]
    assert oneway == [(1, 2)]


def test_osm_bz2(osm_file, tmp_path):
    target = tmp_path / "block.osm.bz2"
    target.write_bytes(bz2.compress(osm_file.read_bytes()))
    assert graph_summary(load_roads(target, network="walk"))["nodes"] == graph_summary(
        load_roads(osm_file, network="walk"))["nodes"]


def test_osm_pbf(osm_file, tmp_path):
    pbf = to_pbf(osm_file, tmp_path / "block.osm.pbf")
    g = load_roads(pbf, network="drive")
    assert g.number_of_edges() == load_roads(osm_file, network="drive").number_of_edges()


def test_bad_network_and_broken_file(osm_file, tmp_path):
    with pytest.raises(LayerError) as err:
        load_roads(osm_file, network="bicycle")
    assert err.value.column == "network"
    broken = tmp_path / "broken.graphml"
    broken.write_text("<graphml><oops", encoding="utf-8")
    with pytest.raises(LayerError, match="道路データを読み込めません"):
        load_roads(broken)


def test_demo_graphs_have_a_real_hierarchy(demo_dir):
    walk = load_roads(demo_dir / "roads_walk.graphml", network="walk")
    drive = load_roads(demo_dir / "roads_drive.graphml", network="drive")
    for g in (walk, drive):
        assert g.number_of_nodes() >= 5000
        kinds = {d["highway"] for *_, d in g.edges(data=True) if isinstance(d["highway"], str)}
        assert {"trunk", "secondary", "residential", "unclassified"} <= kinds
    assert any(d.get("oneway") for *_, d in drive.edges(data=True))
    assert any(d.get("highway") == "footway" for *_, d in walk.edges(data=True))


def test_real_tachikawa_graphml(shared_data):
    path = shared_data / "tachikawa/roads_drive_osm_2021.graphml"
    drive = load_roads(path, network="drive")
    assert graph_summary(drive) == {"nodes": 4106, "edges": 10515, "network": "drive"}
    walk = load_roads(path, network="walk")
    assert walk.number_of_nodes() == 4106 and walk.number_of_edges() > 10515


def test_a_graphml_parse_that_meets_the_compiler_race_is_read_again(demo_dir, monkeypatch):
    """CPython 3.11's compiler is not thread-safe (gh-106905): while osmnx's literal_eval runs,
    another thread importing a module can make it raise SystemError. The parse is tried
    again instead of failing the region (a fresh checkout's first threaded run met it)."""
    import osmnx as ox

    real = ox.load_graphml
    calls = []

    def flaky(path, *a, **k):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=48, after=47)")
        return real(path, *a, **k)

    monkeypatch.setattr(ox, "load_graphml", flaky)
    graph = load_roads(demo_dir / "roads_walk.graphml", network="walk")
    assert len(calls) == 2 and graph.number_of_nodes() > 100
