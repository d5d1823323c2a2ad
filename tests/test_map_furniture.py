"""What a planner meets on the interactive map: layers that hide, a metric scale, an offline
notice, flows with a direction, and picks on the map (the browser side is in tests/e2e)."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.outputs.maps import arrowheads, region_map
from ui.clicks import picked_point


def _control_overlays(html: str) -> dict[str, str]:
    block = re.search(r"overlays\s*:\s*\{(.*?)\}", html, re.S)
    assert block, "no layer control"
    return dict(re.findall(r'"([^"]+)"\s*:\s*(\w+)', block.group(1)))


@pytest.mark.parametrize("shown", [True, False])
def test_the_density_is_in_the_layer_switcher_and_hides(demo_region, shown):
    keys = [k for k in demo_region.layers if shown or k != "vulnerable"]
    html = region_map(demo_region.layers, show=keys).get_root().render()
    overlays = _control_overlays(html)
    title = json.dumps("要配慮者（匿名化）")[1:-1]
    name = next((v for k, v in overlays.items() if k in ("要配慮者（匿名化）", title)), None)
    assert name and name.startswith("mesh_canvas_layer"), overlays
    body = html[html.index(f"var {name} = "):]
    body = body[:body.index("})(")]
    assert ("layer.addTo(map)" in body) is shown


def test_the_scale_is_metric_only(demo_region):
    html = region_map(demo_region.layers).get_root().render()
    assert "imperial: false" in html and "L.control.scale()" not in html


def test_a_tile_basemap_says_when_it_cannot_load(demo_region):
    offline = region_map(demo_region.layers).get_root().render()
    tiles = region_map(demo_region.layers, basemap="gsi_pale").get_root().render()
    assert "tileerror" not in offline
    assert "tileerror" in tiles and "tomoni-offline" in tiles
    assert json.dumps("背景地図を読み込めません")[1:-1] in tiles or "背景地図を読み込めません" in tiles


def test_the_legend_keeps_to_a_corner(demo_region):
    html = region_map(demo_region.layers).get_root().render()
    legend = html[html.index('class="tomoni-legend"'):][:400]
    assert "max-height:35%" in legend and "max-width:38%" in legend and "<details" in legend


def test_flow_arrowheads_point_to_where_people_go():
    lines = gpd.GeoDataFrame({"people": [5, 9]}, crs="EPSG:4326", geometry=[
        shapely.LineString([(140.0, 39.0), (140.2, 39.0)]),  # eastwards
        shapely.LineString([(140.0, 39.2), (140.0, 39.0)])])  # southwards
    heads = arrowheads(lines)
    east = np.asarray(heads.geometry.iloc[0].coords)
    south = np.asarray(heads.geometry.iloc[1].coords)
    # the tip sits three quarters along; both wings trail behind it
    assert east[1] == pytest.approx((140.15, 39.0))
    assert (east[[0, 2], 0] < east[1, 0]).all()
    assert south[1] == pytest.approx((140.0, 39.05))
    assert (south[[0, 2], 1] > south[1, 1]).all()
    assert heads["people"].tolist() == [5, 9]


MARKER = {"lat": 39.64, "lng": 140.43}
MAP_CLICK = {"lat": 39.60, "lng": 140.40}


def test_a_marker_click_picks_the_marker_itself():
    pick = picked_point({"last_object_clicked": MARKER, "last_clicked": MARKER}, None)
    assert pick is not None and (pick.lat, pick.lon) == (39.64, 140.43)


def test_a_later_map_click_wins_over_the_old_marker():
    first = picked_point({"last_object_clicked": MARKER, "last_clicked": MARKER}, None)
    assert first is not None
    later = picked_point({"last_object_clicked": MARKER, "last_clicked": MAP_CLICK}, first.raw)
    assert later is not None and (later.lat, later.lon) == (39.60, 140.40)


def test_the_same_answer_on_a_rerun_is_not_a_new_pick():
    first = picked_point({"last_object_clicked": None, "last_clicked": MAP_CLICK}, None)
    assert first is not None
    assert picked_point({"last_object_clicked": None, "last_clicked": MAP_CLICK}, first.raw) is None
    assert picked_point(None, None) is None
    assert picked_point({"last_object_clicked": None, "last_clicked": None}, None) is None


def test_every_layer_kind_has_a_style_and_a_place_in_both_draw_orders():
    """The geo-side registry is complete for the fact table: a new layer kind is drawn once it
    has a style (and the interactive and the printed map both find it)."""
    from geo.outputs.style import LAYER_ORDER, PRINT_ORDER, STYLES
    from layers.layer_facts import LAYERS

    for key in LAYERS:
        assert key in STYLES and key in LAYER_ORDER and key in PRINT_ORDER, key


@pytest.mark.parametrize("key", ["barriers", "places", "boundaries", "hazards", "shelters", "vc_sites",
                                 "neighbourhoods", "school_districts", "vulnerable"])
def test_each_layer_kind_is_drawn_on_both_maps(demo_region, key):
    """One layer alone: the interactive map lists it in its layer switcher and the printed map in
    its legend (barriers used to be left off the printed map)."""
    import matplotlib.pyplot as plt

    from geo.outputs.printed_map import static_map
    from geo.outputs.style import STYLES

    assert key in demo_region.layers, f"the demo region has no {key}"
    frames = {key: demo_region.layers[key]}
    html = region_map(frames).get_root().render()
    overlays = " ".join(_control_overlays(html))
    assert json.dumps(STYLES[key].label)[1:-1] in overlays or STYLES[key].label in overlays \
        or key in ("shelters", "vulnerable", "school_districts"), overlays
    fig = static_map(frames, crs=demo_region.crs, title="t")
    labels = [t.get_text() for ax in fig.axes for leg in ([ax.get_legend()] if ax.get_legend() else [])
              for t in leg.get_texts()]
    labels += [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    plt.close(fig)
    assert labels, f"the printed map of {key} has no legend"
    if key == "barriers":
        assert STYLES["barriers"].label in labels, labels


def test_place_names_on_the_prefecture_map_never_overlap(shared_data):
    """All 25 Akita municipalities (real N03): 八郎潟・五城目・井川・潟上 sit close together.
    Every printed name's box is measured in the drawn figure; no two overlap, and the four
    small neighbours are all named."""
    from geo.outputs.printed_map import static_map

    src = shared_data / "akita" / "boundaries" / "n03_akita_2021_simplified.geojson"
    n03 = gpd.read_file(src)
    frame = n03.dissolve(by="N03_007", as_index=False).rename(columns={"N03_004": "name"})
    fig = static_map({"boundaries": frame[["name", "geometry"]]}, crs="EPSG:6678", title="秋田県",
                     paper="A4-landscape")
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    names = {t.get_text(): t.get_window_extent(r) for t in fig.axes[0].texts
             if t.get_text() in set(frame["name"])}
    boxes = list(names.values())
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert {"八郎潟町", "五城目町", "井川町", "潟上市"} <= set(names)
    assert len(names) >= 23


def test_place_names_are_placed_on_a_figure_without_a_drawing_backend():
    """In the app's server thread a figure's canvas is matplotlib's bare base canvas (no
    renderer): the place names are still measured and placed, side by side."""
    from matplotlib.figure import Figure

    from geo.outputs.printed_map import _place_labels

    fig = Figure()
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    _place_labels(fig, ax, [(5.0, 5.0, "潟上市"), (5.0, 5.0, "八郎潟町")])
    assert [t.get_text() for t in ax.texts] == ["潟上市", "八郎潟町"]
    assert ax.texts[0].get_position() != ax.texts[1].get_position()
