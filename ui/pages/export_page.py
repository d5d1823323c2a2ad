"""エクスポート: the current map as PNG/PDF/SVG or offline HTML, the layers as GeoPackage,
and the region report (PDF/HTML, per-area sheets) built with a progress bar."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from geo.outputs.assets import standalone_html
from geo.outputs.layer_export import geopackage_bytes
from geo.outputs.maps import region_map
from geo.outputs.printed_map import map_bytes, static_map
from geo.outputs.report import write_report
from geo.runs.region_results import analyse_region
from layers.errors import LayerError
from layers.shelters import DEFAULT_HAZARD, HAZARD_LABELS
from ui import state
from ui.audit import logged
from ui.i18n import Tr, lang, t

state.init()
tr = Tr.current()  # for format_func: plain functions of this run's language
ss = st.session_state
region = state.session_region()
st.header(t("page_export"))

MIME = {"png": "image/png", "pdf": "application/pdf", "svg": "image/svg+xml"}

st.subheader(t("export_map"))
c1, c2, c3 = st.columns([4, 2, 1])
title = c1.text_input(t("title"), value=f"{region.name}　{t('export_title_default')}", key="export_title")
paper = c2.selectbox(t("paper"), ["A4-landscape", "A4-portrait", "A3-landscape", "A3-portrait"],
                     format_func=lambda k: tr(f"paper_{k}"), key="export_paper")
fmt = c3.selectbox(t("format"), ["png", "pdf", "svg"], key="export_fmt")
shown = state.shown_layers()  # what the map page shows
if st.button(t("make_image"), key="make_image"):
    progress = st.progress(0.0, text=t("make_image"))
    try:
        fig = static_map(state.layers(), crs=region.crs, title=title,
                         roads=region.roads if "roads" in shown else None,
                         hazard=ss.get("hazard", DEFAULT_HAZARD), paper=paper,
                         fictional=region.fictional, attribution=region.attribution(), show=shown,
                         lang=lang())
        progress.progress(0.6, text=t("make_image"))
        ss["export_file"] = (f"tomoni_map.{fmt}", map_bytes(fig, fmt=fmt, dpi=300), MIME[fmt])
        progress.progress(1.0, text=t("loaded"))
    except LayerError as err:
        st.error(err.message)
if ss.get("export_file"):
    name, data, mime = ss["export_file"]
    st.download_button(f"{t('download')}: {name}", data=data, file_name=name, **logged(name), mime=mime,
                       key="download_map")

st.subheader("HTML")
if st.button(t("make_html"), key="make_html"):
    m = region_map(state.layers(), roads=None, hazard=ss.get("hazard", DEFAULT_HAZARD),
                   fictional=region.fictional, attribution=region.attribution(), show=shown,
                   lang=lang(), localise_assets=False)
    ss["export_html"] = standalone_html(m).encode("utf-8")
if ss.get("export_html"):
    st.download_button(f"{t('download')}: tomoni_map.html", data=ss["export_html"],
                       file_name="tomoni_map.html",
                       **logged("tomoni_map.html"), mime="text/html", key="download_html")

st.subheader(t("export_layers"))
st.download_button(f"{t('download')}: tomoni_layers.gpkg", data=geopackage_bytes(state.layers()),
                   file_name="tomoni_layers.gpkg",
                   **logged("tomoni_layers.gpkg"), mime="application/geopackage+sqlite3",
                   key="download_gpkg")

st.subheader(t("report"))
r1, r2, r3 = st.columns([2, 2, 2])
rep_hazard = r1.selectbox(t("scenario_hazard"), list(HAZARD_LABELS), key="report_hazard",
                          format_func=tr.hazard)
rep_p = int(r2.number_input(t("report_recommend"), 0, 10, 0, key="report_p"))
rep_sheets = r3.selectbox(t("report_sheets"), ["", "neighbourhoods", "school_districts"],
                          key="report_sheets",
                          format_func=lambda k: tr.layer(k) if k else tr("no_sheets"))
if st.button(t("make_report"), key="make_report"):
    bar = st.progress(0.0, text=t("make_report"))

    def step(fraction: float, label: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=label)

    try:
        results = analyse_region(state.session_region(), hazard=rep_hazard, recommend_p=rep_p or None,
                                 progress=lambda f, s: step(f * 0.6, s))
        with tempfile.TemporaryDirectory(prefix="tomoni-report-") as tmp:
            files = write_report(results, Path(tmp), formats=("pdf", "html"), sheets=rep_sheets or None,
                                 progress=lambda f, s: step(0.6 + f * 0.4, s))
            ss["report_files"] = [(p.name, p.read_bytes()) for p in files]
        step(1.0, t("report_done"))
    except LayerError as err:
        st.error(err.message)
for i, (name, data) in enumerate(ss.get("report_files", [])):
    mime = "application/pdf" if name.endswith(".pdf") else "text/html"
    st.download_button(f"{t('download')}: {name}", data=data, file_name=name, **logged(name), mime=mime,
                       key=f"download_report_{i}")
