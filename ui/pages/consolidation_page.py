"""校区再編: the way to school before and after a consolidation, per 自治会."""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit_folium import st_folium

from geo.analyses import ConsolidationOptions, analyse_consolidation
from geo.outputs.csv_safe import csv_text
from geo.outputs.labels import japanese_table, people_text
from geo.outputs.maps import region_map
from layers.school_districts import before_after
from ui import state
from ui.audit import logged
from ui.i18n import lang, t

state.init()
ss = st.session_state
region = state.session_region()
st.header(f"{t('page_consolidation')}: {region.name}")
layers = state.layers()
if "school_districts" not in layers or "vulnerable" not in layers:
    st.warning(t("need_districts"))
    st.stop()
periods = list(dict.fromkeys(layers["school_districts"]["period"].astype(str)))
if len(periods) < 2:
    st.warning(t("need_periods"))
    st.stop()
first, last = before_after(layers["school_districts"])
c1, c2, c3 = st.columns(3)
before = c1.selectbox(t("before"), periods, index=periods.index(first), key="cons_before")
after = c2.selectbox(t("after"), periods, index=periods.index(last), key="cons_after")
threshold = c3.number_input(t("school_threshold"), 500, 10000, 4000, step=500, key="cons_threshold")
key = (state.data_key(), before, after, threshold)
res = state.computed("cons", key, lambda: analyse_consolidation(
    state.session_region(), ConsolidationOptions(before=before, after=after, threshold=float(threshold))),
    labels={"before / after": f"{t('before')} / {t('after')}", "before": t("before"),
            "after": t("after"), "threshold": t("school_threshold")})
s = res.summary()
m1, m2, m3 = st.columns(3)
m1.metric(t("mean_change"), f"{s.mean_change_m or 0:+,.0f} m")
m2.metric(t("past_after"), f"{people_text(s.people_past_threshold_after)} {t('unit_people')}")
m3.metric(t("pushed"), f"{people_text(s.people_pushed_past_threshold)} {t('unit_people')}")
for note in res.notes:
    st.caption(note)
shown: dict[str, Any] = {k: layers[k] for k in ("boundaries", "school_districts") if k in layers}
st_folium(region_map(shown, fictional=region.fictional, attribution=region.attribution(),
                     lang=lang()), key="cons_map", height=480, use_container_width=True,
          returned_objects=[])
st.subheader(t("pushed_areas"))
st.dataframe(japanese_table(res.pushed), hide_index=True, width="stretch")
st.subheader(t("by_area"))
st.dataframe(japanese_table(res.by_area), hide_index=True, width="stretch")
st.download_button(f"{t('download')}: consolidation_by_area.csv",
                   data=csv_text(japanese_table(res.by_area)).encode("utf-8-sig"),
                   file_name="consolidation_by_area.csv",
                   **logged("consolidation_by_area.csv"), mime="text/csv", key="cons_csv")
