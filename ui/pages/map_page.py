"""地図: every layer of the open region on one map."""

from __future__ import annotations

import folium
import streamlit as st
from streamlit_folium import st_folium

from geo.outputs.maps import BASEMAPS, crowded, region_map, shelter_layer
from geo.outputs.style import LAYER_TITLES
from layers.shelters import HAZARD_LABELS
from ui import state
from ui.clicks import clicked_name
from ui.i18n import Tr, lang, t

state.init()
tr = Tr.current()  # for format_func: plain functions of this run's language
region = state.session_region()
st.header(f"{t('page_map')}: {region.name}")

keys = state.layer_keys()

def _layer_label(key: str, language: str = lang()) -> str:
    ja, en = LAYER_TITLES.get(key, (key, key))
    return ja if language == "ja" else en


c1, c2, c3 = st.columns([2, 2, 4])
state.keep_widget("hazard")  # the export page prints what was chosen here
state.keep_widget("basemap")
hazard = c1.selectbox(t("hazard"), list(HAZARD_LABELS), format_func=tr.hazard,
                      key="hazard")
basemap = c2.selectbox(
    t("basemap"), ["none", *BASEMAPS],
    format_func=lambda k: tr("basemap_none") if k == "none" else BASEMAPS[k][0], key="basemap")
shown = c3.multiselect(t("layers"), keys, default=state.shown_layers(), format_func=_layer_label,
                       key="shown_layers")
st.session_state["layers_shown"] = shown  # outlives this widget: other pages and the export read it
st.session_state["layers_offered"] = list(keys)

layers = state.layers()
# only the chosen layers go into the page: a layer whose chip is removed is not sent at all (on
# all of Akita the 町字 areas are 2 MB the browser would parse again on every rerun)
drawn = {k: v for k, v in layers.items() if k in shown}
# the shelters are a layer of their own: switching the hazard redraws them, not the whole map
m = region_map(
    drawn,
    roads=region.roads if "roads" in shown else None,
    hazard=hazard,
    basemap=basemap,
    fictional=region.fictional,
    attribution=region.attribution(),
    show=shown,
    lang=lang(),
    layer_control=False,
    shelters_apart=True,
)
shelters = None
if "shelters" in layers and "shelters" in shown:
    shelters = shelter_layer(layers["shelters"], hazards=layers.get("hazards"), hazard=hazard,
                             lang=lang(), small=crowded(layers))
result = st_folium(m, key="main_map", height=620, use_container_width=True,
                   feature_group_to_add=shelters, layer_control=folium.LayerControl(collapsed=True),
                   returned_objects=["last_object_clicked_tooltip"])
name = clicked_name(result)
if name:
    st.session_state["selected"] = name
if st.session_state.get("selected"):
    st.info(f"{t('selected')}: {st.session_state['selected']}")
else:
    st.caption(t("click_hint"))
