"""避難所と要配慮者: per hazard, which shelters can be used and whether they can hold everyone."""

from __future__ import annotations

from typing import Any

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.analyses import ShelterOptions, analyse_shelter_needs, analyse_shelter_tables, analyse_shelters
from geo.outputs.closed_roads import closed_roads_frame
from geo.outputs.csv_safe import csv_text
from geo.outputs.files.shelter_needs import japanese_table as needs_table
from geo.outputs.labels import japanese_table, people_text
from geo.outputs.maps import add_legend, add_lines, region_map
from layers.shelters import HAZARD_LABELS
from ui import state
from ui.audit import logged
from ui.controls import season_and_year
from ui.i18n import Tr, lang, t, t_hazard

state.init()
tr = Tr.current()  # for format_func: plain functions of this run's language
ss = st.session_state
region = state.session_region()
st.header(f"{t('page_shelters')}: {region.name}")
layers = state.layers()
if "shelters" not in layers:
    st.warning(t("need_shelters"))
    st.stop()


def _public_tables() -> None:
    """Shelters per 市町村 from public data: shown with or without a 要配慮者 layer."""
    tables = state.computed("sh_public", (state.data_key(),),
                            lambda: analyse_shelter_tables(state.session_region()))
    st.subheader(t("public_tables"))
    st.dataframe(japanese_table(tables.by_municipality), hide_index=True, width="stretch")
    for note in tables.rests_on:
        st.caption(note)
    st.subheader(t("public_by_hazard"))
    st.dataframe(japanese_table(tables.by_hazard), hide_index=True, width="stretch")
    st.download_button(t("download_public"),
                       data=csv_text(japanese_table(tables.by_municipality)).encode("utf-8-sig"),
                       file_name="shelters_by_municipality.csv",
                       **logged("shelters_by_municipality.csv"), mime="text/csv", key="sh_pub_csv")


if "vulnerable" not in layers:
    st.info(t("public_only"))
    _public_tables()
    st.stop()

def _needs() -> None:
    """Toilets, floor area and baths per shelter for every evacuee (the 要配慮者 apart), on the
    same scenario as the page: the report's chapter, here."""
    needs = state.computed("sh_needs", key, lambda: analyse_shelter_needs(
        state.session_region(), ShelterOptions(hazard=hazard, season=season, year=year), care=run)[1])
    st.subheader(t("shelter_needs"))
    n = needs.summary()
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric(t("needs_evacuees"), f"{people_text(n.evacuees)} {t('unit_people')}")
    c2.metric(t("needs_care"), f"{people_text(res.summary().demand_assigned)} {t('unit_people')}")
    c3.metric(t("needs_toilets_first"), f"{n.toilets_first:,}")
    c4.metric(t("needs_toilets_later"), f"{n.toilets_later:,}")
    c5.metric(t("needs_area_short"), f"{n.area_short}")
    table = needs_table(needs)
    st.dataframe(table, hide_index=True, width="stretch", height=260)
    for note in needs.notes:
        st.caption(note)
    st.download_button(f"{t('download')}: shelter_needs_{hazard}.csv",
                       data=csv_text(table).encode("utf-8-sig"), file_name=f"shelter_needs_{hazard}.csv",
                       **logged(f"shelter_needs_{hazard}.csv"), mime="text/csv", key="sh_needs_csv")


hazard = st.selectbox(t("scenario_hazard"), list(HAZARD_LABELS), key="sh_hazard",
                      format_func=tr.hazard)
season, year = season_and_year("sh", region, caption="season_caption_closures")
key = (state.data_key(), hazard, season, year)
run = state.computed("sh", key, lambda: analyse_shelters(
    state.session_region(), ShelterOptions(hazard=hazard, season=season, year=year)),
    labels={"hazard": t("scenario_hazard"), "season": t("season"), "year": t("year")})
scen, res = run.scenario, run.load
sc, s = scen.summary(), res.summary()
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric(t("usable_shelters"), f"{s.shelters_usable} / {s.shelters_usable + s.shelters_unusable}")
m2.metric(t("closed_roads"), f"{sc.closed_segments:,}")
m3.metric(t("assigned"), f"{people_text(s.demand_assigned)} {t('unit_people')}")
m4.metric(t("unreachable"), f"{people_text(s.demand_unreachable)} {t('unit_people')}")
m5.metric(t("overloaded"), f"{s.overloaded}")
for note in res.notes:
    st.caption(note)

left, right = st.columns([3, 2])
with left:
    shown: dict[str, Any] = {k: layers[k] for k in ("boundaries", "hazards", "shelters", "vulnerable")
                             if k in layers}
    m = region_map(shown, hazard=hazard, fictional=region.fictional,
                   attribution=region.attribution(), lang=lang(), layer_control=False,
                   show=["boundaries", "hazards", "shelters"])
    closed = closed_roads_frame(scen)
    add_lines(m, closed, name=t("closed_roads"), color="#5a1e00", weight=2.5, class_name="tomoni-closed")
    add_legend(m, [("line", "#5a1e00", t("closed_roads"))], t_hazard(hazard))
    folium.LayerControl(collapsed=True).add_to(m)
    st_folium(m, key="shelters_map", height=560, use_container_width=True, returned_objects=[])
with right:
    st.subheader(t("unreachable_list"))
    # units some of whose people reach no usable shelter (「k未満」 included)
    unreach = res.units[res.units["unreachable_n"].astype("Int64").fillna(1) > 0]
    st.dataframe(japanese_table(pd.DataFrame(unreach.drop(columns="geometry"))[
        ["unit_id", "count", "unreachable_n"]]),
                 hide_index=True, width="stretch", height=180)
    st.subheader(t("overloaded_list"))
    over = res.shelters[res.shelters["overloaded"]]
    st.dataframe(japanese_table(pd.DataFrame(over.drop(columns="geometry"))[
        ["name", "capacity", "demand", "load_ratio"]]), hide_index=True, width="stretch", height=180)

st.subheader(t("capacity_bars"))
usable = res.shelters[(res.shelters["status"] == "usable")
                      & (res.shelters["demand"].astype("Int64").fillna(1) > 0).to_numpy(bool)]
assigned = usable["demand"].astype("Int64").to_numpy(float, na_value=float("nan"))
bars = pd.DataFrame({t("bar_assigned"): assigned,
                     t("bar_capacity"): usable["capacity"].astype("Float64").fillna(0).to_numpy(float)},
                    index=[f"{n}（{i}）" for n, i in zip(usable["name"], usable["shelter_id"],
                                                        strict=True)]).head(30)
st.bar_chart(bars, stack=False, horizontal=True, height=max(220, 22 * len(bars)))
_needs()
st.subheader(t("welfare"))
wel = res.shelters[res.shelters["welfare"]]
st.dataframe(japanese_table(pd.DataFrame(wel.drop(columns="geometry"))[
    ["name", "capacity", "welfare_available", "welfare_demand"]]), hide_index=True, width="stretch")
st.subheader(t("shelter_table"))
table = pd.DataFrame(res.shelters.drop(columns="geometry"))
st.dataframe(japanese_table(table), hide_index=True, width="stretch")
st.download_button(f"{t('download')}: shelter_load_{hazard}.csv",
                   data=csv_text(japanese_table(table)).encode("utf-8-sig"),
                   file_name=f"shelter_load_{hazard}.csv",
                   **logged(f"shelter_load_{hazard}.csv"), mime="text/csv", key="sh_csv")
_public_tables()
