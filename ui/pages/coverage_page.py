"""カバー率: who can walk to a 居場所 (or another facility), and where the gaps are."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo.analyses import CoverageOptions, analyse_coverage, minutes_for
from geo.outputs.csv_safe import csv_text
from geo.outputs.labels import japanese_table, people_text
from geo.outputs.maps import COVERAGE_PALETTE, add_coverage, coverage_classes, region_map
from geo.outputs.printed_map import map_bytes, static_map
from layers.layer_facts import FACILITY_KEYS
from ui import state
from ui.audit import logged
from ui.controls import season_and_year
from ui.i18n import Tr, lang, t, t_layer

state.init()
tr = Tr.current()  # for format_func: plain functions of this run's language
ss = st.session_state
region = state.session_region()
st.header(f"{t('page_coverage')}: {region.name}")
layers = state.layers()
if "vulnerable" not in layers:
    st.warning(t("need_vulnerable"))
    st.stop()

c1, c2, c3 = st.columns([2, 3, 2])
choices = [k for k in FACILITY_KEYS if k in layers]
fac_layer = c1.selectbox(t("facility_layer"), choices, format_func=tr.layer,
                         key="cov_facilities")
max_d = c2.slider(t("threshold"), 100, 2000, 500, step=50, key="cov_threshold")
profile = c3.radio(t("profile"), ["walk", "elderly"], horizontal=True, key="cov_profile",
                   format_func=lambda p: tr(f"profile_{p}"))
st.caption(t("threshold_minutes").format(minutes=minutes_for(max_d, profile)))
season, year = season_and_year("cov", region)

key = (state.data_key(), fac_layer, max_d, profile, season, year)
run = state.computed("coverage", key, lambda: analyse_coverage(
    state.session_region(), CoverageOptions(
        facilities=fac_layer, max_distance=float(max_d), profile=profile, season=season,
        # winter: the threshold is the profile's walking time, which snow slows
        max_minutes=minutes_for(max_d, profile) if season == "winter" else None,
        year=year)),
    labels={"facilities": t("facility_layer"), "max_distance": t("threshold"), "season": t("season"),
            "year": t("year")})
result, table, gap = run.result, run.by_area, run.gaps
s = result.summary()
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("total"), f"{people_text(s.total)} {t('unit_people')}")
m2.metric(t("covered"), f"{people_text(s.covered)} {t('unit_people')}")
m3.metric(t("rate"), f"{s.rate * 100:.1f} %")
m4.metric(t("gaps"), f"{len(gap)}")
for note in result.notes:
    st.caption(note)

left, right = st.columns([3, 2])
with right:
    st.subheader(t("gap_list"))
    options = ["—", *gap["gap_id"].tolist()]
    chosen = st.selectbox(t("gap_focus"), options, key="cov_gap",
                          format_func=lambda g: g if g == "—" else
                          f"{g}: {people_text(gap.loc[gap['gap_id'] == g, 'uncovered'].iloc[0])} "
                          f"{tr('unit_people')}")
    st.dataframe(japanese_table(gap), hide_index=True, width="stretch")
with left:
    shown = {k: layers[k] for k in ("boundaries", fac_layer) if k in layers}
    m = region_map(shown, fictional=region.fictional, attribution=region.attribution(), lang=lang(),
                   layer_control=False)
    add_coverage(m, result.units, layers["vulnerable"], gap, max_distance=float(max_d))
    center = zoom = None
    if chosen != "—":
        c = gap.loc[gap["gap_id"] == chosen].geometry.iloc[0].centroid
        center, zoom = (c.y, c.x), 14
    st_folium(m, key="coverage_map", height=560, use_container_width=True, center=center,
              zoom=zoom, returned_objects=[])

if st.button(t("make_image"), key="cov_make_png"):
    cls, labels = coverage_classes(result.units["distance_m"].to_numpy(float), float(max_d))
    fig = static_map(
        {k: layers[k] for k in ("boundaries", fac_layer) if k in layers}, crs=region.crs,
        title=f"{region.name}　{t_layer(fac_layer)} {t('route_to_label')}（{max_d} m）",
        fictional=region.fictional, attribution=region.attribution(),
        choropleth=(layers["vulnerable"], [COVERAGE_PALETTE[c] for c in cls],
                    list(zip(COVERAGE_PALETTE, labels, strict=True))),
        outlines=(gap, t("gap_outline")))
    ss["cov_png"] = map_bytes(fig, fmt="png", dpi=200)
if ss.get("cov_png"):
    st.download_button(f"{t('download')}: coverage_map.png", data=ss["cov_png"],
                       file_name="coverage_map.png",
                       **logged("coverage_map.png"), mime="image/png", key="cov_png_dl")

st.subheader(t("by_area"))
st.dataframe(japanese_table(table), hide_index=True, width="stretch")
st.download_button(f"{t('download')}: coverage_by_area.csv",
                   data=csv_text(japanese_table(table)).encode("utf-8-sig"),
                   file_name="coverage_by_area.csv",
                   **logged("coverage_by_area.csv"), mime="text/csv", key="cov_csv")
