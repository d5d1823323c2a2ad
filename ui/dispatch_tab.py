"""The 災害VC page's ボランティア派遣 tab: upload the needs and teams, plan, map, download.

Only translates inputs and shows results: the plan is :func:`geo.analyses.dispatch.analyse_dispatch`,
the files are :mod:`geo.outputs.files.dispatch`, as in ``tomoni dispatch``.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st
from streamlit_folium import st_folium

from geo.analyses import DispatchOptions, analyse_dispatch, usable_vc_sites
from geo.outputs.csv_safe import csv_text
from geo.outputs.files.dispatch import (
    day_table,
    dispatch_map,
    gpx_name,
    kintone_table,
    reasons_table,
    run_routes,
    team_gpx,
    team_stops,
    teams_table,
    unassigned_table,
    walk_note,
    write_run_outputs,
)
from layers.errors import LayerError, ParameterError
from layers.needs import read_needs
from layers.teams import read_teams
from ui.audit import logged
from ui.i18n import lang, t
from ui.state import keep_widget

if TYPE_CHECKING:
    from layers.region import RegionLike


def _demo_files(region: RegionLike) -> tuple[Path, Path] | None:
    folder = region.config.path.parent
    needs, teams = folder / "private" / "vc_needs_flood.csv", folder / "vc_teams.csv"
    return (needs, teams) if region.fictional and needs.is_file() and teams.is_file() else None


def _inputs(region: RegionLike) -> tuple[Any, Any] | None:
    """(needs source, teams source) as paths or ``(name, bytes)`` uploads."""
    ss = st.session_state
    c1, c2 = st.columns(2)
    up_needs = c1.file_uploader(t("dispatch_needs"), type=["csv", "xlsx", "xls"], key="dispatch_needs_file")
    up_teams = c2.file_uploader(t("dispatch_teams"), type=["csv", "xlsx", "xls"], key="dispatch_teams_file")
    # the day's lists stay with this session (memory only) when the user visits another page
    kept = ss.setdefault("dispatch_kept_lists", {})
    for name, up in (("needs", up_needs), ("teams", up_teams)):
        if up is not None:
            kept[name] = (up.name, up.getvalue())
    demo = _demo_files(region)
    keep_widget("dispatch_demo")
    if demo is not None and st.checkbox(t("dispatch_use_demo"), key="dispatch_demo"):
        return demo
    if "needs" not in kept or "teams" not in kept:
        st.caption(t("dispatch_upload_both"))
        return None
    if up_needs is None or up_teams is None:
        st.caption(t("dispatch_kept").format(needs=kept["needs"][0], teams=kept["teams"][0]))
        if st.button(t("dispatch_forget"), key="dispatch_forget"):
            kept.clear()
            ss.pop("dispatch_result", None)
            st.rerun()
    return kept["needs"], kept["teams"]


def dispatch_tab(region: RegionLike, hazard: str) -> None:
    """The whole tab (``hazard``: the page's scenario)."""
    ss = st.session_state
    st.caption(t("dispatch_intro"))
    sources = _inputs(region)
    sites = region.layers.get("vc_sites")
    if sources is None or sites is None:
        return
    try:
        ids, flooded = usable_vc_sites(region, hazard or None)
    except LayerError as err:
        st.error(err.message)
        return
    if flooded:
        st.caption(t("dispatch_vc_flooded").format(sites=", ".join(flooded)))
    if not ids:
        st.warning(t("dispatch_no_vc"))
        return
    c1, c2 = st.columns(2)
    names = sites.set_index(sites["site_id"].astype(str))["name"]
    keep_widget("dispatch_vc")
    keep_widget("dispatch_limit")
    if ss.get("dispatch_vc") not in ("", *ids):
        ss["dispatch_vc"] = ""
    choice = c1.selectbox(t("dispatch_vc"), ["", *ids], key="dispatch_vc",
                          format_func=lambda i: f"{names.loc[i]}（{i}）" if i else t("dispatch_vc_auto"))
    vc = choice or None
    ss.setdefault("dispatch_limit", 5.0)
    limit = c2.number_input(t("dispatch_time_limit"), min_value=1.0, max_value=120.0, step=1.0,
                            key="dispatch_limit")
    key = (str(sources[0]) if isinstance(sources[0], Path) else sources[0][0],
           str(sources[1]) if isinstance(sources[1], Path) else sources[1][0], vc, hazard, float(limit))
    if st.button(t("dispatch_run"), key="dispatch_run", type="primary"):
        try:
            needs = read_needs(sources[0], geocoder=region.geocoder)
            teams = read_teams(sources[1])
            run = analyse_dispatch(region, needs, teams, DispatchOptions(vc=vc, hazard=hazard,
                                                                         time_limit=float(limit)))
        except LayerError as err:
            if isinstance(err, ParameterError):
                err = err.labelled({"vc": t("dispatch_vc"), "time_limit": t("dispatch_time_limit")})
            st.error(err.message)
            return
        lines, walks = run_routes(run, crs=region.crs)
        ss["dispatch_result"] = (key, run, lines, walks)
        ss["dispatch_needs_notes"] = list(needs.notes)  # how finely the addresses were placed
    held = ss.get("dispatch_result")
    if not held or held[0] != key:
        return
    for note in ss.get("dispatch_needs_notes", []):
        st.caption(note)
    _show(region, held[1], held[2], held[3])


def _show(region: RegionLike, run: Any, lines: Any, walks: Any) -> None:
    plan = run.plan
    s = plan.summary()
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("dispatch_assigned"), f"{s.assigned} / {s.needs}")
    m2.metric(t("dispatch_unassigned"), s.unassigned)
    m3.metric(t("dispatch_teams_used"), s.teams_used)
    m4.metric(t("dispatch_total_km"), f"{s.total_km:,.1f}")
    st.caption(t("dispatch_solver").format(solver=s.solver, time=s.time_s))
    m = dispatch_map(plan, lines, region.layers, title=t("dispatch_legend"), fictional=region.fictional,
                     attribution=region.attribution(), lang=lang(), walks=walks)
    st_folium(m, key="dispatch_map", height=520, use_container_width=True, returned_objects=[])
    if note := walk_note(plan.stops.loc[~plan.stops["care"], "walk_m"]):
        st.caption(note)
    st.subheader(t("dispatch_teams_table"))
    st.dataframe(teams_table(plan), hide_index=True, width="stretch")
    st.subheader(t("dispatch_day_table"))
    st.dataframe(day_table(plan), hide_index=True, width="stretch")
    if len(plan.unassigned):
        st.subheader(t("dispatch_reasons_table"))
        st.dataframe(reasons_table(plan), hide_index=True, width="stretch")
        st.subheader(t("dispatch_unassigned_table"))
        st.dataframe(unassigned_table(plan), hide_index=True, width="stretch")
    _downloads(region, run, lines, team_stops(plan))


def _downloads(region: RegionLike, run: Any, lines: Any, stops: Any) -> None:
    plan = run.plan
    d1, d2, d3, d4 = st.columns(4)
    d1.download_button("dispatch_day.csv", data=csv_text(day_table(plan)).encode("utf-8-sig"),
                       file_name="dispatch_day.csv", mime="text/csv", key="dispatch_day_dl",
                       **logged("dispatch_day.csv"))
    d2.download_button("dispatch_kintone.csv", data=csv_text(kintone_table(plan)).encode("utf-8-sig"),
                       file_name="dispatch_kintone.csv", mime="text/csv", key="dispatch_kintone_dl",
                       **logged("dispatch_kintone.csv"))
    if len(plan.unassigned):
        d2.download_button("dispatch_reasons.csv", data=csv_text(reasons_table(plan)).encode("utf-8-sig"),
                           file_name="dispatch_reasons.csv", mime="text/csv", key="dispatch_reasons_dl",
                           **logged("dispatch_reasons.csv"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i, row in enumerate(lines.itertuples(), start=1):
            z.writestr(gpx_name(i, str(row.team)), team_gpx(str(row.team), row.geometry,
                                                         stops[stops["team"] == row.team]))
    d3.download_button("GPX (zip)", data=buf.getvalue(), file_name="dispatch_gpx.zip",
                       mime="application/zip", key="dispatch_gpx_dl", **logged("dispatch_gpx.zip"))
    if d4.button(t("dispatch_make_sheets"), key="dispatch_sheets_make"):
        with tempfile.TemporaryDirectory(prefix="tomoni-dispatch-") as tmp:
            write_run_outputs(run, Path(tmp), crs=region.crs, fictional=region.fictional)
            st.session_state["dispatch_sheets"] = (id(run), (Path(tmp) / "dispatch_sheets.pdf").read_bytes())
    sheets = st.session_state.get("dispatch_sheets")
    if sheets and sheets[0] == id(run):
        d4.download_button("dispatch_sheets.pdf", data=sheets[1], file_name="dispatch_sheets.pdf",
                           mime="application/pdf", key="dispatch_sheets_dl", **logged("dispatch_sheets.pdf"))
