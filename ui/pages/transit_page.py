"""公共交通: who reaches a 居場所 (or shelter) by walking + community bus on a chosen day."""

from __future__ import annotations

import dataclasses

import streamlit as st
from streamlit_folium import st_folium

from geo.analyses import TransitOptions, analyse_transit, next_weekday
from geo.outputs.csv_safe import csv_text
from geo.outputs.files.transit import transit_map
from geo.outputs.labels import japanese_table, people_text
from layers.layer_facts import FACILITY_KEYS
from ui import state
from ui.audit import logged
from ui.i18n import Tr, lang, t

state.init()
tr = Tr.current()  # for format_func: plain functions of this run's language
ss = st.session_state
region = state.session_region()
st.header(f"{t('page_transit')}: {region.name}")
layers = state.layers()
if "vulnerable" not in layers:
    st.warning(t("need_vulnerable"))
    st.stop()
if not region.config.transit:
    st.info(t("transit_none"))
    feed = st.file_uploader(t("transit_upload"), type=["zip"], key=f"tr_upload_{ss.get('_tr_gen', 0)}")
    if feed is not None:
        problem = state.add_feed(feed.name, feed.getvalue())
        ss["_tr_gen"] = ss.get("_tr_gen", 0) + 1  # the box empties: the file is kept, or refused
        ss["_tr_problem"] = (feed.name, problem) if problem else None
        st.rerun()
    if ss.get("_tr_problem"):
        st.error(f"{t('errors')}: {ss['_tr_problem'][0]}\n\n{ss['_tr_problem'][1]}")
    st.stop()

HOURS = [f"{h:02d}:00" for h in range(5, 23)]
c1, c2, c3, c4 = st.columns([2, 2, 3, 2])
to = c1.selectbox(t("transit_to"), [k for k in FACILITY_KEYS if k in layers],
                  format_func=tr.layer, key="tr_to")
day = c2.date_input(t("transit_date"), value=next_weekday(), key="tr_date")
start, end = c3.select_slider(t("transit_window"), HOURS, value=("08:00", "12:00"), key="tr_window")
minutes = int(c4.slider(t("transit_minutes"), 10, 120, 45, step=5, key="tr_minutes"))
c5, c6 = st.columns(2)
profile = c5.radio(t("profile"), ["elderly", "walk"], horizontal=True, key="tr_profile",
                   format_func=lambda p: tr(f"profile_{p}"))
rule = c6.radio(t("transit_rule"), ["trip", "median"], horizontal=True, key="tr_rule",
                format_func=lambda r: tr(f"rule_{r}"))

options = TransitOptions(facilities=to, date=day.isoformat(), window=f"{start}-{end}",
                         max_minutes=float(minutes), profile=profile, rule=rule)
labels = {"window": t("transit_window"), "date": t("transit_date"), "max_minutes": t("transit_minutes"),
          "facilities": t("transit_to")}
key = (state.data_key(), options)
run = state.computed("transit", key, lambda: analyse_transit(state.session_region(), options), labels=labels)
s = run.summary()
m = st.columns(6)
m[0].metric(t("total"), f"{people_text(s['total'])} {t('unit_people')}")
m[1].metric(t("transit_reach_walk"), f"{people_text(s['covered_walk'])} {t('unit_people')}")
m[2].metric(t("transit_reach_bus"), f"{people_text(s['covered'])} {t('unit_people')}",
            delta=f"+{people_text(s['gained'])}")
m[3].metric(t("transit_lost_weekend"), f"{people_text(s.get('lost_weekend', 0))} {t('unit_people')}")
m[4].metric(t("transit_lost_winter"), f"{people_text(s.get('lost_winter', 0))} {t('unit_people')}")
m[5].metric(t("transit_trips"), f"{s['trips_on_date']:,}")
st.caption(t("transit_caption"))
for note in run.notes:
    st.caption(note)

left, right = st.columns([3, 2])
with left:
    density = run.density
    shown = {"boundaries": layers["boundaries"]} if "boundaries" in layers else {}
    fmap = transit_map(run.result, density, run.gaps, {**shown, to: run.destinations},
                       title=run.destination_label, fictional=region.fictional,
                       attribution=region.attribution(), lang=lang())
    st_folium(fmap, key="transit_map", height=560, use_container_width=True, returned_objects=[])
with right:
    st.subheader(t("transit_routes"))
    st.dataframe(japanese_table(run.routes), hide_index=True, width="stretch")
    st.download_button(f"{t('download')}: transit_routes.csv",
                       data=csv_text(japanese_table(run.routes)).encode("utf-8-sig"),
                       file_name="transit_routes.csv", mime="text/csv", key="tr_routes_csv",
                       **logged("transit_routes.csv"))

st.subheader(t("transit_areas"))
by_area = run.by_area
areas = by_area[by_area["area_layer"] == "neighbourhoods"] if "neighbourhoods" in layers else by_area
st.dataframe(japanese_table(areas), hide_index=True, width="stretch")
st.download_button(f"{t('download')}: transit_by_area.csv",
                   data=csv_text(japanese_table(run.by_area)).encode("utf-8-sig"),
                   file_name="transit_by_area.csv", mime="text/csv", key="tr_area_csv",
                   **logged("transit_by_area.csv"))

st.subheader(t("transit_whatif"))
if st.button(t("transit_whatif_run"), key="tr_whatif"):
    ss["tr_whatif_for"] = key
if ss.get("tr_whatif_for") == key:
    trial = dataclasses.replace(options, what_if=True, compare=False)
    tried = state.computed("transit_whatif", key,
                           lambda: analyse_transit(state.session_region(), trial), labels=labels)
    w1, w2 = st.columns(2)
    for col, title, table in ((w1, "transit_new_stops", tried.new_stops),
                              (w2, "transit_extra_trips", tried.extra_trips)):
        col.markdown(f"**{t(title)}**")
        if table is not None:
            col.dataframe(japanese_table(table), hide_index=True, width="stretch")
