"""災害VC・ルート: where to open the VC, and normal vs hazard routes drawn together."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.analyses import RouteOptions, VCPlanOptions, analyse_route, analyse_vc_plan, has_roads
from geo.outputs.files.route import to_geojson, to_gpx
from geo.outputs.labels import japanese_table
from geo.outputs.maps import add_legend, add_lines, add_marks, region_map
from geo.outputs.route_sheet import ROUTE_STYLES, route_frames, route_sheet
from layers.boundaries import municipality_names
from layers.crs import STORAGE_CRS, transform_xy
from layers.errors import LayerError
from layers.layer_facts import FACILITY_KEYS, LAYERS
from layers.shelters import HAZARD_LABELS
from ui import state
from ui.audit import logged
from ui.clicks import picked_point
from ui.dispatch_tab import dispatch_tab
from ui.i18n import Tr, lang, t

state.init()
tr = Tr.current()  # for format_func: plain functions of this run's language
ss = st.session_state
region = state.session_region()
st.header(f"{t('page_vc')}: {region.name}")
layers = state.layers()
if not has_roads(region):
    st.warning(t("need_roads"))
    st.stop()

c1, c2 = st.columns(2)
state.keep_widget("vc_hazard")  # the VC's morning stays when they look at another page
state.keep_widget("vc_profile")
hazard = c1.selectbox(t("scenario_hazard"), list(HAZARD_LABELS), key="vc_hazard",
                      format_func=tr.hazard)
profile = c2.radio(t("travel_profile"), ["walk", "elderly", "drive"], horizontal=True,
                   key="vc_profile", format_func=lambda p: tr(f"profile_{p}"))

tab_plan, tab_dispatch = st.tabs([t("vc_tab_plan"), t("vc_tab_dispatch")])
with tab_dispatch:
    dispatch_tab(state.session_region(), hazard)
with tab_plan:
    # ---- VC plan
    if "vc_sites" in layers and "vulnerable" in layers:
        st.subheader(t("vc_plan"))
        key = (state.data_key(), hazard)
        plan = state.computed("vc", key, lambda: analyse_vc_plan(
            state.session_region(), VCPlanOptions(hazard=hazard)),
            labels={"hazard": t("scenario_hazard")}).plan
        munis = municipality_names(layers.get("boundaries"))
        st.dataframe(japanese_table(plan.plan, municipalities=munis), hide_index=True, width="stretch")
        st.dataframe(japanese_table(pd.DataFrame(plan.candidates.drop(columns="geometry"))), hide_index=True,
                     width="stretch")
        for note in plan.notes:
            st.caption(note)

    # ---- route: choose from the named points or click on the map
    st.subheader(t("route"))
    choices: dict[str, tuple[float, float]] = {}
    for layer_key in reversed(FACILITY_KEYS):  # VC sites first
        id_col = LAYERS[layer_key].id_column
        if layer_key in layers and id_col:
            frame = layers[layer_key].to_crs(region.crs)
            for pid, name, geom in zip(frame[id_col].astype(str), frame["name"], frame.geometry, strict=True):
                choices[f"{name}（{pid}）"] = (float(geom.x), float(geom.y))
    options = [t("click_point"), *choices]
    names = list(choices)
    pending = ss.pop("_vc_pending_end", None)
    if pending:  # a click on the map or a marker chose this end (set before its widget exists)
        ss[f"vc_{pending}"] = t("click_point")
    r1, r2, r3 = st.columns(3)
    for end_key, default in (("vc_from", options[1 if names else 0]),
                             ("vc_to", options[min(2, len(options) - 1)])):
        if ss.get(end_key) not in options:  # first visit, or another region / language
            ss[end_key] = default
    start_name = r1.selectbox(t("route_from"), options, key="vc_from")
    end_name = r2.selectbox(t("route_to"), options, key="vc_to")
    r3.radio(t("click_sets"), ["to", "from"], key="vc_click_target", horizontal=True,
             format_func=lambda k: tr("route_from") if k == "from" else tr("route_to"))


    def _point(name: str, which: str) -> tuple[float, float] | None:
        if name != t("click_point"):
            return choices[name]
        xy = ss.get(f"vc_click_{which}")
        return None if xy is None else (float(xy[0]), float(xy[1]))


    start, end = _point(start_name, "from"), _point(end_name, "to")
    routes: dict[str, Any] = {}
    result: dict[str, Any] = {}
    run = None
    if start is not None and end is not None:
        try:
            run = analyse_route(state.session_region(), start, end,
                                RouteOptions(hazard=hazard, profile=profile))
        except LayerError as err:
            st.error(err.message)
            st.stop()
        routes, result = run.routes, run.comparison
        rows = []
        for k, label in (("normal", t("normal")), ("hazard", t("hazard_route"))):
            c = result[k]
            hz = k == "hazard"  # the detour and the closed sections belong to the hazard row only
            rows.append({"": label, t("col_distance_m"): c["length_m"],
                         t("col_time_min"): "" if c["time_s"] is None else f"{c['time_s'] / 60:.1f}",
                         t("col_detour"): f"{c['detour_ratio']:.2f}" if hz and c.get("detour_ratio") else "",
                         t("col_closed_avoided"): str(c.get("closed_edges_avoided") or 0) if hz else "",
                         t("col_reason"): c.get("reason") or ""})
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        if result["hazard"].get("note"):
            st.caption(result["hazard"]["note"])
    else:
        st.caption(t("no_click"))

    shown: dict[str, Any] = {k: layers[k] for k in ("boundaries", "hazards", "shelters", "vc_sites")
                             if k in layers}
    m = region_map(shown, hazard=hazard, fictional=region.fictional, attribution=region.attribution(),
                   lang=lang(), layer_control=False)
    frames = route_frames(routes, crs=region.crs)
    legend = []
    for k in ("normal", "hazard"):
        if k in frames:
            style, label = ROUTE_STYLES[k]
            add_lines(m, frames[k], name=label, color=str(style["color"]), weight=5 if k == "normal" else 3,
                      dash="8 6" if k == "hazard" else None, class_name=f"tomoni-route-{k}")
            legend.append(("line" if k == "normal" else "dash", str(style["color"]), label))
    if start is not None and end is not None:
        import geopandas as gpd
        import shapely

        ends = gpd.GeoDataFrame({"label": [t("route_from"), t("route_to")]},
                                geometry=shapely.points(np.array([start, end])), crs=region.crs)
        add_marks(m, ends, name=t("route"), color="#ffbf00", label="label")
    if legend:
        add_legend(m, legend, t("route"))
    folium.LayerControl(collapsed=True).add_to(m)
    out = st_folium(m, key="vc_map", height=560, use_container_width=True,
                    returned_objects=["last_clicked", "last_object_clicked"])
    clicked = picked_point(out, ss.get("_vc_last_pick"))
    if clicked is not None:
        ss["_vc_last_pick"] = clicked.raw
        x, y = transform_xy(np.array([clicked.lon]), np.array([clicked.lat]), STORAGE_CRS, region.crs)
        target = ss.get("vc_click_target", "to")
        ss[f"vc_click_{target}"] = (float(x[0]), float(y[0]))
        ss["_vc_pending_end"] = target  # one click: that end becomes the clicked point (next run)
        st.rerun()

    if run is not None and routes and any(r.found for r in routes.values()):
        d1, d2, d3 = st.columns(3)
        d1.download_button("GeoJSON", data=to_geojson(routes).encode("utf-8"), file_name="route.geojson",
        **logged("route.geojson"),
                           mime="application/geo+json", key="vc_geojson")
        d2.download_button("GPX", data=to_gpx(routes).encode("utf-8"), file_name="route.gpx",
        **logged("route.gpx"),
                           mime="application/gpx+xml", key="vc_gpx")
        if d3.button(t("route_sheet"), key="vc_sheet_make"):
            with tempfile.TemporaryDirectory(prefix="tomoni-sheet-") as tmp:
                path = route_sheet(routes, Path(tmp) / "route_sheet.pdf", net=run.network,
                                   title=f"{t('route_title')}: {start_name} → {end_name}", comparison=result,
                                   zones=run.scenario.zones if run.scenario is not None else None,
                                   closed=run.closed, fictional=region.fictional,
                                   attribution=region.attribution())
                ss["vc_sheet"] = ((start, end, hazard, profile), path.read_bytes())
        sheet = ss.get("vc_sheet")
        if sheet and sheet[0] == (start, end, hazard, profile):
            d3.download_button(f"{t('download')}: route_sheet.pdf", data=sheet[1],
                               file_name="route_sheet.pdf",
                               **logged("route_sheet.pdf"), mime="application/pdf", key="vc_sheet_dl")
