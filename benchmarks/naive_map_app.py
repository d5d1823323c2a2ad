"""The plain way, for benchmarks/bench_app.py: one Streamlit page that reads the region and
builds a folium map with every layer as GeoJSON on each rerun, shown with st_folium.

Offline like the app (local Leaflet assets); otherwise what a first version does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import folium
import streamlit as st
from streamlit_folium import st_folium

sys.path.insert(0, os.environ.get("BENCH_ROOT", str(Path(__file__).resolve().parents[1])))

from geo.outputs.assets import localise
from geo.outputs.maps import shelters_display
from layers.region import load_region
from layers.shelters import HAZARDS

region = load_region(os.environ["BENCH_REGION"])  # every rerun: no cache
hazard = st.selectbox("hazard", list(HAZARDS))
bounds = region.layers["boundaries"].total_bounds
m = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=10,
               tiles=None)
COLOURS = {"usable": "#1a9850", "in_zone": "#d73027", "not_designated": "#999999"}
for key, frame in region.layers.items():
    if key == "shelters":
        disp = shelters_display(frame, region.layers.get("hazards"), hazard)
        for status, colour in COLOURS.items():
            part = disp[disp["status"] == status][["name", "geometry"]]
            folium.GeoJson(part.to_json(), marker=folium.CircleMarker(radius=5, fill=True),
                           style_function=lambda _f, c=colour: {"color": c, "fillColor": c,
                                                                "fillOpacity": 0.9}).add_to(m)
    elif key != "vulnerable" or "members" not in frame:
        folium.GeoJson(frame.drop(columns=[c for c in ("members",) if c in frame]).to_json(),
                       marker=folium.CircleMarker(radius=4)).add_to(m)
localise(m)
st_folium(m, height=620, use_container_width=True)
