"""An OSM extract read straight into CSR arrays (layers.osm_extract + from_ways): the same
distances as osmnx's graph of the same file, one-way streets, clipping, bad files."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from geo.engine.network import from_ways
from layers.errors import LayerError
from layers.osm_extract import read_ways
from layers.roads import load_roads
from tests.osm_files import graph_as_osm, to_pbf, write_osm

CRS = "EPSG:6678"
LON0, LAT0 = 140.10, 39.70
DLON = 100.0 / (111_320.0 * np.cos(np.radians(LAT0)))  # about 100 m
DLAT = 100.0 / 110_950.0


def _grid_xml(n: int = 8) -> str:
    """An n × n street grid about 100 m apart (ids 1000·i + j), and on it: a river between
    columns 3 and 4 crossed by one bridge (row 2; the other east-west streets stop at it),
    a one-way street (row 0, eastward), a motorway along row n−1 (not walkable), a curved
    road from (0, n−2) to (2, n−2) through a bend, and a building that is not a road."""
    nodes, ways = [], []

    def node(i: int, j: int) -> int:
        return 1000 * i + j + 1

    for i, j in itertools.product(range(n), range(n)):
        nodes.append(f'<node id="{node(i, j)}" lat="{LAT0 + j * DLAT:.7f}" lon="{LON0 + i * DLON:.7f}"/>')
    wid = itertools.count(1)

    def way(refs: list[int], **tags: str) -> None:
        body = "".join(f'<nd ref="{r}"/>' for r in refs)
        tagx = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        ways.append(f'<way id="{next(wid)}">{body}{tagx}</way>')

    for j in range(n - 1):  # east-west streets, cut at the river except the bridge
        hw = {"highway": "residential"} | ({"oneway": "yes"} if j == 0 else {})
        if j == 2:
            way([node(i, j) for i in range(n)], highway="tertiary", bridge="yes", name="大橋通り")
        else:
            way([node(i, j) for i in range(4)], **hw)
            way([node(i, j) for i in range(4, n)], **hw)
    for i in range(n):  # north-south streets
        way([node(i, j) for j in range(n - 1)], highway="residential")
    way([node(i, n - 1) for i in range(n)], highway="motorway", oneway="yes")
    bend = 900_001
    nodes.append(f'<node id="{bend}" lat="{LAT0 + (n - 1.5) * DLAT:.7f}" lon="{LON0 + DLON:.7f}"/>')
    way([node(0, n - 2), bend, node(2, n - 2)], highway="unclassified", name="曲がり道")
    way([node(5, 5), node(6, 5), node(6, 6), node(5, 6), node(5, 5)], building="yes")
    return ("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n" + "\n".join(nodes) + "\n"
            + "\n".join(ways) + "\n</osm>\n")


@pytest.fixture(scope="module")
def grid_osm(tmp_path_factory):
    return write_osm(_grid_xml(), tmp_path_factory.mktemp("osm") / "grid.osm")


def _ours(path, network: str, clip=None):  # type: ignore[no-untyped-def]
    net = from_ways(read_ways(path, network=network, clip=clip), crs=CRS)
    pos = {int(i): k for k, i in enumerate(net.node_ids)}
    return net, pos


def _between(net, pos, pairs):  # type: ignore[no-untyped-def]
    src = sorted({a for a, _b in pairs})
    d = dijkstra(net.matrix(), indices=[pos[a] for a in src])
    row = {a: k for k, a in enumerate(src)}
    return np.array([d[row[a], pos[b]] for a, b in pairs])


@pytest.mark.parametrize("network", ["walk", "drive"])
def test_the_same_distances_as_osmnx_on_a_grid_with_a_river_and_a_one_way_street(grid_osm, network):
    """Random pairs of junctions: our network's shortest paths against networkx's on the graph
    osmnx builds from the same file (an independent library), within 0.1 %."""
    graph = load_roads(grid_osm, network=network)
    net, pos = _ours(grid_osm, network)
    rng = np.random.default_rng(3)
    common = sorted(set(pos) & {int(n) for n in graph.nodes})
    pairs = [(int(a), int(b)) for a, b in rng.choice(common, size=(60, 2))]
    ours = _between(net, pos, pairs)
    ref = np.array([nx.shortest_path_length(graph, a, b, weight="length") if nx.has_path(graph, a, b)
                    else np.inf for a, b in pairs])
    assert np.array_equal(np.isfinite(ours), np.isfinite(ref))
    ok = np.isfinite(ref) & (ref > 0)
    assert np.allclose(ours[ok], ref[ok], rtol=1e-3)


def test_a_route_on_the_grid_equals_the_distance_by_hand(grid_osm):
    """Walk from (0, 0) to (6, 0): the river forces the bridge on row 2, so 2 up, 6 across and
    2 down = 10 blocks; driving back west on the one-way row 0 goes round by row 1."""
    net, pos = _ours(grid_osm, "walk")
    r = 6_371_009.0  # metres along the great circle, by hand
    block_x = r * np.cos(np.radians(LAT0)) * np.radians(DLON)
    block_y = r * np.radians(DLAT)
    d = _between(net, pos, [(1, 6001)])[0]
    assert d == pytest.approx(6 * block_x + 4 * block_y, rel=1e-3)
    drive, dpos = _ours(grid_osm, "drive")
    east, west = _between(drive, dpos, [(1, 3001), (3001, 1)])
    assert east == pytest.approx(3 * block_x, rel=1e-3)
    assert west == pytest.approx(3 * block_x + 2 * block_y, rel=1e-3)  # round by row 1


def test_walk_drops_the_motorway_and_keeps_the_curve(grid_osm):
    walk = read_ways(grid_osm, network="walk")
    assert "motorway" not in set(walk.highway) and "building" not in set(walk.highway)
    assert 900_001 in set(walk.node_ids.tolist())  # the bend is a node: the road keeps its shape
    drive = read_ways(grid_osm, network="drive")
    assert "motorway" in set(drive.highway)
    net = from_ways(drive, crs=CRS)
    assert net.directed and "大橋通り" in set(net.names.tolist())


def test_a_pbf_gives_the_same_network_as_its_xml(grid_osm, tmp_path):
    pbf = to_pbf(grid_osm, tmp_path / "grid.osm.pbf")
    a, b = from_ways(read_ways(grid_osm, network="walk"), crs=CRS), \
        from_ways(read_ways(pbf, network="walk"), crs=CRS)
    assert np.array_equal(a.node_ids, b.node_ids) and np.allclose(a.weights, b.weights)


def test_only_the_ways_reaching_into_the_clip_are_kept(grid_osm):
    """A clip over the west half: ways with a node inside stay whole, the others go."""
    clip = shapely.box(LON0 - DLON / 2, LAT0 - DLAT / 2, LON0 + 2.5 * DLON, LAT0 + 8 * DLAT)
    ways = read_ways(grid_osm, network="walk", clip=clip)
    full = read_ways(grid_osm, network="walk")
    assert ways.ways < full.ways
    kept = set(ways.node_ids.tolist())
    assert 6001 not in kept  # a street wholly east of the clip
    assert 7003 in kept  # the bridge street reaches into it and is kept whole
    with pytest.raises(LayerError) as err:
        read_ways(grid_osm, network="walk", clip=shapely.box(135.0, 35.0, 135.01, 35.01))
    assert "道路" in err.value.message and err.value.fix


def test_a_truncated_pbf_is_a_clear_error(grid_osm, tmp_path):
    pbf = to_pbf(grid_osm, tmp_path / "grid.osm.pbf")
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(pbf.read_bytes()[: pbf.stat().st_size // 2])
    with pytest.raises(LayerError) as err:
        read_ways(cut, network="walk")
    assert err.value.file is not None and "cut.osm.pbf" in str(err.value.file)


def _region_with_extract(folder, osm, extra: str = ""):  # type: ignore[no-untyped-def]
    """A region whose boundary covers the grid's west columns 0–2 and whose [roads] names
    the extract."""
    import geopandas as gpd

    folder.mkdir(parents=True, exist_ok=True)
    west = shapely.box(LON0 - DLON / 2, LAT0 - DLAT / 2, LON0 + 2.5 * DLON, LAT0 + 7.5 * DLAT)
    gpd.GeoDataFrame({"N03_001": ["秋田県"], "N03_004": ["試験市"], "N03_007": ["05201"]},
                     geometry=[west], crs="EPSG:4326").to_file(folder / "boundaries.geojson")
    (folder / "region.toml").write_text(f"""[region]
name = "抽出の試験"
fictional = true
[layers.boundaries]
path = "boundaries.geojson"
[roads]
path = "{osm}"
network = "walk"
{extra}""", encoding="utf-8")
    return folder / "region.toml"


def test_a_region_keeps_only_the_roads_within_its_buffer(grid_osm, tmp_path):
    """[roads] buffer = 0: the streets reaching into the boundary; 1000 m: the whole grid (the
    east columns are within 500 m); the cache holds one network per outline."""
    from geo.engine.network_cache import load_network, region_network
    from layers.region import load_region

    tight = load_region(_region_with_extract(tmp_path / "a", grid_osm, "buffer = 0\n"))
    wide = load_region(_region_with_extract(tmp_path / "b", grid_osm, "buffer = 1000\n"))
    n_tight, n_wide = region_network(tight), region_network(wide)
    assert n_tight is not None and n_wide is not None
    whole = load_network(grid_osm, network="walk", crs=n_wide.crs)
    assert n_tight.n < n_wide.n == whole.n
    assert 6001 not in set(n_tight.node_ids.tolist()) and 6001 in set(n_wide.node_ids.tolist())
    assert tight.roads is not None and tight.roads.number_of_nodes() < wide.roads.number_of_nodes()


def test_a_bad_buffer_names_the_line(grid_osm, tmp_path):
    from layers.region import load_region

    toml = _region_with_extract(tmp_path / "c", grid_osm, 'buffer = "3km"\n')
    with pytest.raises(LayerError) as err:
        load_region(toml)
    assert err.value.column == "roads.buffer" and err.value.row is not None
    assert "3000" in (err.value.fix or "")


def test_tomoni_roads_builds_once_and_writes_the_region_entry(grid_osm, tmp_path, run_cli, monkeypatch):
    """``tomoni roads REGION --from FILE --write``: built the first time, from the cache the
    second; the region file then names the extract and loads it."""
    import json

    monkeypatch.setenv("TOMONI_CACHE_DIR", str(tmp_path / "cache"))
    toml = _region_with_extract(tmp_path / "r", tmp_path / "none.graphml")
    toml.write_text(toml.read_text("utf-8").replace('[roads]\npath = "' + str(tmp_path / "none.graphml")
                                                    + '"\nnetwork = "walk"\n', ""), "utf-8")
    code, out, err = run_cli("roads", toml, "--from", grid_osm, "--buffer", "0", "--write")
    assert code == 0, err
    first = json.loads(out)
    assert first["nodes"] > 0 and not first["from_cache"] and "OpenStreetMap" in first["credit"]
    code, out, err = run_cli("roads", toml)
    assert code == 0, err
    second = json.loads(out)
    assert second["from_cache"] and second["nodes"] == first["nodes"] and second["buffer_m"] == 0
    assert "[roads]" in toml.read_text("utf-8")
    code, out, err = run_cli("roads", toml, "--rebuild")
    assert code == 0, err
    assert not json.loads(out)["from_cache"] and json.loads(out)["nodes"] == first["nodes"]
    code, _out, err = run_cli("roads", toml, "--from", tmp_path / "missing.osm.pbf")
    assert code == 2 and "missing.osm.pbf" in err and "Traceback" not in err


def test_tomoni_roads_download_from_a_standin_overpass(grid_osm, tmp_path, run_cli, monkeypatch):
    """``--download`` asks the endpoint (a stand-in on 127.0.0.1 serving the grid) for the
    region's outline, saves the OSM file and SOURCE.txt (source, date, ODbL) beside the
    region, and builds the same network as the file itself gives."""
    import json

    from tests.standin_servers import overpass_standin

    monkeypatch.setenv("TOMONI_CACHE_DIR", str(tmp_path / "cache"))
    toml = _region_with_extract(tmp_path / "r", grid_osm, "buffer = 0\n")
    with overpass_standin(grid_osm) as (url, queries):
        monkeypatch.setenv("TOMONI_OVERPASS_URL", url)
        code, out, err = run_cli("roads", toml, "--download", "--write")
    assert code == 0, err
    got = json.loads(out)
    assert len(queries) == 1 and 'way["highway"]' in queries[0]
    saved = sorted((tmp_path / "r" / "roads").glob("osm-*.osm"))
    assert len(saved) == 1 and got["file"] == str(saved[0])
    source = (tmp_path / "r" / "roads" / "SOURCE.txt").read_text("utf-8")
    assert url in source and "ODbL" in source and "retrieved:" in source
    from layers.provenance import describe

    dated = describe("roads", saved[0])  # the data's own date: Overpass's osm_base timestamp
    assert dated.data_date == "2026-11-30" and dated.url == url and dated.retrieved
    code, out, _err = run_cli("roads", toml, "--from", grid_osm, "--buffer", "0")
    assert json.loads(out)["nodes"] == got["nodes"]
    assert "roads/osm-" in toml.read_text("utf-8")


def test_tomoni_roads_download_offline_says_which_extract_to_get(grid_osm, tmp_path, run_cli, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("TOMONI_OVERPASS_URL", f"http://127.0.0.1:{port}/api/interpreter")
    toml = _region_with_extract(tmp_path / "r", grid_osm)
    code, _out, err = run_cli("roads", toml, "--download")
    assert code == 2 and "geofabrik" in err.lower() and "--from" in err and "Traceback" not in err
    assert not list((tmp_path / "r" / "roads").glob("*.osm"))


def test_real_tachikawa_roads_give_the_same_distances_from_the_extract(shared_data, tmp_path):
    """立川市's real OSM drive graph, written as an OSM file and read back through the
    extract path: shortest paths between 200 random junctions equal networkx's on the
    original graph within 0.1 % (one-way streets included)."""
    from geo.engine.network import from_graph

    path = shared_data / "tachikawa/roads_drive_osm_2021.graphml"
    graph = load_roads(path, network="drive")
    osm = graph_as_osm(graph, tmp_path / "tachikawa.osm")
    net, pos = _ours(osm, "drive")
    rng = np.random.default_rng(11)
    junctions = sorted(int(n) for n in graph.nodes)
    pairs = [(int(a), int(b)) for a, b in rng.choice(junctions, size=(200, 2))]
    ours = _between(net, pos, pairs)
    lengths = {a: nx.single_source_dijkstra_path_length(graph, a, weight="length")
               for a in sorted({a for a, _ in pairs})}
    ref = np.array([lengths[a].get(b, np.inf) for a, b in pairs])
    assert np.array_equal(np.isfinite(ours), np.isfinite(ref))
    ok = np.isfinite(ref) & (ref > 0)
    assert ok.sum() > 150 and np.allclose(ours[ok], ref[ok], rtol=1e-3)
    old = from_graph(graph, crs=CRS)
    assert abs(net.n - old.n) <= 0.01 * old.n  # the same roads, vertex for vertex


def test_an_extract_of_another_country_is_a_clear_error(tmp_path):
    """Roads around Berlin: refused for what they are, with the extract to get instead."""
    xml = _grid_xml(4).replace(f'lon="{LON0:.0f}', 'lon="13').replace(f'lat="{LAT0:.0f}', 'lat="52')
    osm = write_osm(xml, tmp_path / "berlin.osm")
    with pytest.raises(LayerError) as err:
        read_ways(osm, network="walk", cache=False)
    assert "日本の範囲外" in err.value.message and "japan" in (err.value.fix or "")


def _pb_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _pb_bytes(number: int, payload: bytes) -> bytes:
    return _pb_varint(number << 3 | 2) + _pb_varint(len(payload)) + payload


def _pbf_bomb(path, blobs: int):  # type: ignore[no-untyped-def]
    """A PBF of blobs that each decompress to 32 MiB of zeros (written by hand, protobuf
    field by field, as the OSM PBF format lays them out)."""
    import struct
    import zlib

    raw = 32 << 20
    blob = _pb_varint(2 << 3) + _pb_varint(raw) + _pb_bytes(3, zlib.compress(bytes(raw), 9))
    header = _pb_bytes(1, b"OSMData") + _pb_varint(3 << 3) + _pb_varint(len(blob))
    with open(path, "wb") as f:
        for _ in range(blobs):
            f.write(struct.pack(">I", len(header)) + header + blob)
    return path


def test_a_pbf_bomb_is_refused_before_it_is_read(tmp_path):
    """Three blobs of 32 MiB zeros (a 100 kB file claiming 96 MiB): refused from the blob
    headers, before libosmium decompresses anything."""
    bomb = _pbf_bomb(tmp_path / "bomb.osm.pbf", 3)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(LayerError) as err:
        read_ways(bomb, network="walk", cache=False)
    assert "展開" in err.value.message and "bomb.osm.pbf" in str(err.value.file)


def test_a_compressed_xml_bomb_is_refused(tmp_path, monkeypatch):
    """A gzip of 8 MiB of blanks inside an <osm> element, with the floor lowered to 1 MiB
    so the test stays small: refused while counting, not parsed."""
    import gzip

    import layers.osm_size

    monkeypatch.setattr(layers.osm_size, "_FLOOR", 1 << 20)
    bomb = tmp_path / "bomb.osm.gz"
    bomb.write_bytes(gzip.compress(b"<osm version='0.6'>" + b" " * (8 << 20) + b"</osm>"))
    with pytest.raises(LayerError) as err:
        read_ways(bomb, network="walk", cache=False)
    assert "展開" in err.value.message


def test_real_extracts_pass_the_expansion_check(grid_osm, tmp_path):
    """A PBF written by libosmium and a bz2 XML of the same grid: measured and passed."""
    import bz2

    from layers.osm_size import _pbf_raw_size, check_expansion

    pbf = to_pbf(grid_osm, tmp_path / "grid.osm.pbf")
    check_expansion(pbf)
    assert 0 < _pbf_raw_size(pbf, 1 << 30) < 50 * pbf.stat().st_size
    xml_bz2 = tmp_path / "grid.osm.bz2"
    xml_bz2.write_bytes(bz2.compress(grid_osm.read_bytes()))
    check_expansion(xml_bz2)
    assert read_ways(xml_bz2, network="walk", cache=False).ways == read_ways(grid_osm, network="walk",
                                                                              cache=False).ways


def test_barriers_come_from_the_same_pass_and_keep_to_the_clip(tmp_path):
    """By hand: a pond drawn as a multipolygon relation, a lake as a closed way, a river
    with a bridge over it, a railway in a tunnel and a far railway: the barriers are the
    pond, the lake, the river (not its bridge) and — inside the clip only — not the far
    railway; a building is not a barrier."""
    nodes = {1: (140.000, 39.700), 2: (140.002, 39.700), 3: (140.002, 39.702), 4: (140.000, 39.702),
             5: (140.010, 39.700), 6: (140.012, 39.700), 7: (140.012, 39.702), 8: (140.010, 39.702),
             9: (140.020, 39.690), 10: (140.020, 39.710), 11: (140.030, 39.690), 12: (140.030, 39.710),
             13: (140.500, 39.700), 14: (140.510, 39.700), 15: (140.004, 39.704), 16: (140.006, 39.704),
             17: (140.006, 39.706), 18: (140.004, 39.706), 19: (140.040, 39.700), 20: (140.041, 39.700)}
    body = "".join(f'<node id="{i}" lat="{y}" lon="{x}"/>' for i, (x, y) in nodes.items())

    def way(wid: int, refs: list[int], tags: dict[str, str]) -> str:
        return (f'<way id="{wid}">' + "".join(f'<nd ref="{r}"/>' for r in refs)
                + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()) + "</way>")

    body += way(1, [1, 2, 3, 4, 1], {})  # the pond's outer ring (the relation holds the tags)
    body += way(2, [5, 6, 7, 8, 5], {"natural": "water", "name": "大池"})
    body += way(3, [9, 10], {"waterway": "river", "name": "雄物川"})
    body += way(4, [9, 11], {"highway": "residential", "bridge": "yes", "waterway": "river"})
    body += way(5, [11, 12], {"railway": "rail", "tunnel": "yes"})
    body += way(6, [13, 14], {"railway": "rail", "name": "遠い線"})
    body += way(7, [15, 16, 17, 18, 15], {"building": "yes"})
    body += way(8, [19, 20], {"highway": "residential"})
    body += ('<relation id="1"><member type="way" ref="1" role="outer"/><tag k="type" v="multipolygon"/>'
             '<tag k="natural" v="water"/><tag k="name" v="蓮池"/></relation>')
    osm = write_osm(f"<?xml version='1.0' encoding='UTF-8'?><osm version=\"0.6\">{body}</osm>",
                    tmp_path / "water.osm")
    clip = shapely.box(139.99, 39.68, 140.1, 39.72)
    got = read_ways(to_pbf(osm, tmp_path / "water.osm.pbf"), network="walk", clip=clip).barriers("water")
    assert sorted(zip(got["kind"], got["name"], strict=True)) == [
        ("river", "雄物川"), ("water", "大池"), ("water", "蓮池")]
    pond = got.loc[got["name"] == "蓮池", "geometry"].iloc[0]
    assert pond.geom_type in ("Polygon", "MultiPolygon") and pond.contains(shapely.Point(140.001, 39.701))
    everything = read_ways(osm, network="walk", cache=False).barriers("water")
    assert "遠い線" in set(everything["name"])
