"""新しい居場所の提案: where the next サロン should open (MCLP with the existing ones kept)."""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.analyses import SitingOptions, analyse_siting
from geo.outputs.csv_safe import csv_text
from geo.outputs.labels import japanese_table, people_gain, people_text
from geo.outputs.layer_export import geopackage_bytes
from geo.outputs.maps import add_legend, add_marks, region_map
from geo.outputs.printed_map import map_bytes, static_map
from layers.shelters import HAZARD_LABELS
from ui import state
from ui.audit import logged
from ui.controls import season_and_year
from ui.i18n import Tr, lang, t, t_layer

state.init()
tr = Tr.current()  # for format_func: plain functions of this run's language
ss = st.session_state
region = state.session_region()
st.header(f"{t('page_siting')}: {region.name}")
layers = state.layers()
if "vulnerable" not in layers:
    st.warning(t("need_vulnerable"))
    st.stop()

SOURCES = {"gap_nodes": t("cand_gap_nodes"), "gap_units": t("cand_gap_units"),
           "closed_schools": t("cand_closed_schools"),
           "shelters": t_layer("shelters"), "vc_sites": t_layer("vc_sites"),
           "places": t_layer("places")}
c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
existing_key = c1.selectbox(t("existing_sites"), [k for k in ("places", "shelters") if k in layers],
                            format_func=lambda k: tr.layer(k), key="site_existing")
source = c1.selectbox(t("candidates"), list(SOURCES), format_func=lambda k: SOURCES[k], key="site_source")
p = int(c2.number_input(t("new_sites"), 1, 20, 3, key="site_p"))
max_d = int(c3.number_input(t("threshold"), 100, 2000, 500, step=50, key="site_threshold"))
hazard = c4.selectbox(t("outside_hazard"), ["", *HAZARD_LABELS], key="site_hazard",
                      format_func=lambda k: tr.hazard(k) if k else tr("no_filter"))
cap_cols = ["", "capacity"] if source in ("shelters", "places") else [""]
capacity = c4.selectbox(t("capacity_col"), cap_cols, key="site_capacity",
                        format_func=lambda k: k or tr("no_capacity"))

season, year = season_and_year("site", region)

key = (state.data_key(), existing_key, source, p, max_d, hazard, capacity, season, year)
run = state.computed("site", key, lambda: analyse_siting(state.session_region(), SitingOptions(
    candidates=source, facilities=existing_key, p=p, max_distance=max_d, capacity=capacity or None,
    outside_hazard=hazard or None, curve_to=max(p, 5), season=season, year=year)),
    labels={"candidates": t("candidates"), "facilities": t("existing_sites"), "p": t("new_sites"),
            "max_distance": t("threshold"), "capacity": t("capacity_col"),
            "hazard": t("outside_hazard"), "season": t("season"), "year": t("year")})
rec, cands = run.recommendation, run.candidates
s = rec.summary()
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("covered_before"), f"{people_text(s.covered_before)} {t('unit_people')}")
m2.metric(t("covered_after"), f"{people_text(s.covered_after)} {t('unit_people')}",
          delta=f"{people_gain(s.covered_before, s.covered_after)} {t('unit_people')}"
          if people_gain(s.covered_before, s.covered_after) else None)
m3.metric(t("candidates"), f"{len(cands):,}")
m4.metric(t("opt_gap"), f"{s.gap * 100:.2f} %")
for note in rec.notes:
    st.caption(note)

left, right = st.columns([3, 2])
with left:
    # the density behind the sites explains the choice: they open where people are uncovered
    shown: dict[str, Any] = {k: layers[k] for k in ("vulnerable", "boundaries", existing_key)
                             if k in layers}
    m = region_map(shown, fictional=region.fictional, attribution=region.attribution(), lang=lang(),
                   layer_control=False)
    sites = rec.sites.assign(label=[f"{r}. {n}（+{pp} {t('unit_people')}）" for r, n, pp in
                                    zip(rec.sites["rank"], rec.sites["name"],
                                        rec.sites["newly_covered_people"], strict=True)])
    add_marks(m, sites, name=t("recommended"), color="#e6007e", label="label", radius=11)
    add_legend(m, [("point", "#e6007e", t("recommended"))], t("page_siting"))
    folium.LayerControl(collapsed=True).add_to(m)
    st_folium(m, key="siting_map", height=520, use_container_width=True, returned_objects=[])
with right:
    st.subheader(t("recommended"))
    st.dataframe(japanese_table(pd.DataFrame(rec.sites.drop(columns="geometry"))), hide_index=True,
                 width="stretch")
    st.subheader(t("gain_curve"))
    st.line_chart(rec.curve.set_index("p")[["covered_after"]], height=220)
    st.dataframe(japanese_table(rec.curve), hide_index=True, width="stretch")

st.subheader(t("before_after"))
st.dataframe(japanese_table(rec.before_after), hide_index=True, width="stretch")
d1, d2, d3 = st.columns(3)
d1.download_button(f"{t('download')}: recommended_sites.csv",
                   data=csv_text(japanese_table(rec.sites))
                   .encode("utf-8-sig"), file_name="recommended_sites.csv",
                   **logged("recommended_sites.csv"), mime="text/csv",
                   key="site_csv")
d2.download_button(f"{t('download')}: recommendation.gpkg",
                   data=geopackage_bytes({"recommended_sites": rec.sites}),
                   file_name="recommendation.gpkg",
                   **logged("recommendation.gpkg"), mime="application/geopackage+sqlite3",
                   key="site_gpkg")
if d3.button(t("make_image"), key="site_make_png"):
    fig = static_map({k: layers[k] for k in ("vulnerable", "boundaries", existing_key) if k in layers},
                     crs=region.crs, title=f"{region.name}　{t('siting_title')}（{p} {t('unit_sites')}）",
                     fictional=region.fictional, attribution=region.attribution(),
                     overlays=[(gpd.GeoDataFrame(rec.sites, crs=rec.sites.crs),
                                {"color": "#e6007e", "s": 140, "marker": "*", "edgecolor": "black"},
                                t("proposed_site"))])
    ss["site_png"] = map_bytes(fig, fmt="png", dpi=200)
if ss.get("site_png"):
    d3.download_button(f"{t('download')}: recommendation.png", data=ss["site_png"],
                       file_name="recommendation.png",
                       **logged("recommendation.png"), mime="image/png", key="site_png_dl")
