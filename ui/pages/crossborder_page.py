"""広域連携: people better served across a municipal border, and partner municipalities."""

from __future__ import annotations

import folium
import numpy as np
import streamlit as st
from streamlit_folium import st_folium

from geo.analyses import CrossBorderOptions, analyse_crossborder
from geo.outputs.csv_safe import csv_text
from geo.outputs.labels import japanese_table, people_text
from geo.outputs.maps import add_legend, add_lines, region_map
from layers.boundaries import municipality_names
from layers.shelters import DEFAULT_HAZARD, HAZARD_LABELS
from ui import state
from ui.audit import logged
from ui.i18n import Tr, lang, t

state.init()
tr = Tr.current()  # for format_func: plain functions of this run's language
ss = st.session_state
region = state.session_region()
st.header(f"{t('page_cross')}: {region.name}")
layers = state.layers()
if "boundaries" not in layers or not ({"shelters", "places"} & set(layers)):
    st.warning(t("need_shelters"))
    st.stop()

state.keep_widget("cb_hazard")
st.session_state.setdefault("cb_hazard", DEFAULT_HAZARD)  # the report's default: the same figures
hazard = st.selectbox(t("scenario_hazard"), ["", *HAZARD_LABELS], key="cb_hazard",
                      format_func=lambda k: tr.hazard(k) if k else tr("no_hazard"))
key = (state.data_key(), hazard)
res = state.computed("cb", key, lambda: analyse_crossborder(
    state.session_region(), CrossBorderOptions(hazard=hazard or None)),
    labels={"hazard": t("scenario_hazard")})
s = res.summary()
flows_label = t("cross_flows_areas") if s.proxy else t("cross_flows")  # areas are never called people
m1, m2, m3 = st.columns(3)
m1.metric(flows_label, f"{people_text(s.cross_any)} {t('unit_areas') if s.proxy else t('unit_people')}")
m2.metric(t("muni_pairs"), f"{s.pairs}")
m3.metric(t("partners"), f"{len(s.partners)}")
for note in res.notes:
    st.caption(note)

layer_pick = st.radio(t("cross_layer"), sorted(res.pairs["layer"].unique()) or ["shelters"],
                      horizontal=True, key="cb_layer",
                      format_func=tr.layer)
flows = res.flows[res.flows["layer"] == layer_pick] if len(res.flows) else res.flows
shown = {k: layers[k] for k in ("boundaries",) if k in layers}
m = region_map(shown, fictional=region.fictional, attribution=region.attribution(), lang=lang(),
               layer_control=False)
if len(flows):
    people = flows["people"].astype("Int64").to_numpy(float, na_value=1.0)  # 「k未満」: thinnest
    widths = np.round(2 + 10 * np.sqrt(people / max(people.max(), 1.0)), 0)
    unit = t("unit_areas") if res.proxy else t("unit_people")
    lines = flows.assign(label=[f"{a} → {b}: {people_text(p)} {unit}" for a, b, p in
                                zip(flows["from_muni"], flows["to_muni"], flows["people"], strict=True)])
    add_lines(m, lines, name=flows_label, color="#8e24aa", weight=widths, tooltip="label",
              class_name="tomoni-flow", arrows=True)  # width: people; arrowhead: towards the nearer side
    add_legend(m, [("line", "#8e24aa", flows_label)], t("page_cross"))
folium.LayerControl(collapsed=True).add_to(m)
st_folium(m, key="cross_map", height=520, use_container_width=True, returned_objects=[])

st.subheader(t("partners"))
munis = municipality_names(layers.get("boundaries"))
partners, pairs = res.display_tables()  # with a proxy: areas, never people
st.dataframe(japanese_table(partners, municipalities=munis), hide_index=True, width="stretch")
st.subheader(flows_label)
st.dataframe(japanese_table(pairs, municipalities=munis), hide_index=True, width="stretch")
st.subheader(t("vc_matrix"))
st.dataframe(res.vc_matrix.rename(index=munis, columns=munis), width="stretch")
st.download_button(f"{t('download')}: partners.csv",
                   data=csv_text(japanese_table(partners, municipalities=munis)).encode("utf-8-sig"),
                   file_name="partners.csv", **logged("partners.csv"), mime="text/csv", key="cb_csv")
