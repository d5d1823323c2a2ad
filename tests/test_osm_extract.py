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
from tests.osm_files import to_pbf, write_osm

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


def _graphml_as_osm(graph, path):  # type: ignore[no-untyped-def]
    """The real graph written back as an OSM file: each edge a way through its geometry's
    vertices (new node ids), one-way where only one direction exists."""
    from xml.sax.saxutils import quoteattr

    nodes = {int(n): (float(d["x"]), float(d["y"])) for n, d in graph.nodes(data=True)}
    new = itertools.count(10**12)
    ways, seen = [], set()
    for u, v, k, d in graph.edges(keys=True, data=True):
        if (v, u, k) in seen:
            continue
        coords = list(d["geometry"].coords) if "geometry" in d else [nodes[u], nodes[v]]
        back = graph.get_edge_data(v, u, k)
        back_coords = (list(back["geometry"].coords) if "geometry" in back else [nodes[v], nodes[u]]) \
            if back is not None else None
        both = back_coords is not None and len(back_coords) == len(coords) \
            and np.allclose(back_coords[::-1], coords)
        seen.add((u, v, k))
        if not both:
            seen.discard((u, v, k))  # the way back, if any, is its own road
        refs = [int(u)]
        for x, y in coords[1:-1]:
            refs.append(next(new))
            nodes[refs[-1]] = (x, y)
        refs.append(int(v))
        hw = d["highway"][0] if isinstance(d["highway"], list) else d["highway"]
        tags = {"highway": hw, **({} if both else {"oneway": "yes"})}
        ways.append((refs, tags))
    with open(path, "w", encoding="utf-8") as f:
        f.write("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n")
        for n, (x, y) in nodes.items():
            f.write(f'<node id="{n}" lat="{y:.7f}" lon="{x:.7f}"/>\n')
        for i, (refs, tags) in enumerate(ways, 1):
            body = "".join(f'<nd ref="{r}"/>' for r in refs)
            t = "".join(f"<tag k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in tags.items())
            f.write(f'<way id="{i}">{body}{t}</way>\n')
        f.write("</osm>\n")
    return path


def test_real_tachikawa_roads_give_the_same_distances_from_the_extract(shared_data, tmp_path):
    """立川市's real OSM drive graph, written as an OSM file and read back through the
    extract path: shortest paths between 200 random junctions equal networkx's on the
    original graph within 0.1 % (one-way streets included)."""
    from geo.engine.network import from_graph

    path = shared_data / "tachikawa/roads_drive_osm_2021.graphml"
    graph = load_roads(path, network="drive")
    osm = _graphml_as_osm(graph, tmp_path / "tachikawa.osm")
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
