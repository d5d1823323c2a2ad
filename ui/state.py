"""Session state: which region is open, what this user uploaded.

Regions read from disk are cached process-wide (``st.cache_resource``, keyed by
path and modification time) and treated as read-only.  Uploads live only in
this browser session's ``st.session_state``: they are never cached across
sessions and never written to ``static/``, so one user's files are never shown
to another.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd
import streamlit as st

from layers.boundaries import keep_municipalities
from layers.crs import analysis_crs_for, crs_label
from layers.data_root import data_root
from layers.demand import Demand
from layers.demo import ensure_demo
from layers.errors import LayerError, ParameterError
from layers.geocode import Geocoder, geocoder_with
from layers.provenance import Source, describe, source_table
from layers.region import LAYER_KEYS, Region, empty_region, load_region, read_config
from layers.shelters import DEFAULT_HAZARD, inherit_flags
from layers.upload import REFERENCE_KEY, TRANSIT_KEY, load_uploaded_feed
from ui.i18n import Tr, t, t_layer

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def demo_dir() -> Path:
    """Where the demo region lives (``TOMONI_DEMO_DIR`` or ``data/demo``)."""
    return Path(os.environ.get("TOMONI_DEMO_DIR", ROOT / "data" / "demo"))


@st.cache_resource(show_spinner=False, max_entries=8)
def _load(path: str, mtime: float) -> Region:
    return load_region(path)


def keep_widget(key: str) -> None:
    """Keep a widget's value when the user goes to another page and comes back.

    Streamlit forgets the state of widgets a page did not draw; a value the script assigns
    itself is kept, so :func:`init` (run on every page) assigns each kept widget's value
    to itself.  Call this just before the widget, which must take no ``value``/``index``."""
    st.session_state.setdefault("_kept_widgets", set()).add(key)


def open_region(path: Path) -> Region:
    """Load (or reuse) a region from disk; the result must not be mutated."""
    if not path.is_file():
        read_config(path)  # raises the LayerError that names the file and the fix
    return _load(str(path.resolve()), path.stat().st_mtime)


def demo_toml() -> Path:
    return ensure_demo(demo_dir())


@dataclass
class Upload:
    """One file a user added in this session."""

    layer: str
    filename: str
    data: bytes
    frame: gpd.GeoDataFrame
    options: dict[str, Any] = field(default_factory=dict)
    edited: bool = False
    """Points moved by hand on the map (saved as the edited layer, not the original file)."""
    people: Demand | None = field(default=None, repr=False)
    """An uploaded register's people, in this session's memory only (the analyses count them)."""
    reference: dict[str, Any] | None = field(default=None, repr=False)
    """An uploaded town reference: municipality → its points (:func:`layers.geocode.geocoder_with`)."""
    source: Source | None = None
    """Where the file comes from (:mod:`layers.provenance`), read when it was added."""


def start_region() -> dict[str, Any]:
    """What a new session opens: ``TOMONI_START_REGION`` (a region TOML, e.g. the council's
    own, set by ``tomoni serve --region``) or the demo."""
    path = os.environ.get("TOMONI_START_REGION")
    return {"kind": "toml", "path": str(Path(path).resolve())} if path else {"kind": "demo"}


def init() -> None:
    """Initialise this session's state (called by the entrypoint on every run)."""
    ss = st.session_state
    ss.setdefault("lang", "ja")
    ss.setdefault("source", start_region())
    ss.setdefault("uploads", [])
    ss.setdefault("hazard", DEFAULT_HAZARD)
    ss.setdefault("basemap", "none")
    for key in ss.get("_kept_widgets", ()):  # see keep_widget
        if key in ss:
            ss[key] = ss[key]
    ss.setdefault("selected", None)


def current_region() -> Region:
    """The region this session has open (the demo by default; a new one has no layer yet)."""
    src = st.session_state.get("source", {"kind": "demo"})
    if src.get("kind") == "toml":
        return open_region(Path(src["path"]))
    if src.get("kind") == "new":
        return empty_region(str(src.get("name") or t("source_new")), folder=data_root())
    return open_region(demo_toml())


def start_source(source: dict[str, Any]) -> None:
    """Open another region: the files added to the previous one stay with it (they are
    dropped), so real files never end up inside the fictional demo or another region."""
    ss = st.session_state
    ss["source"] = source
    ss["uploads"] = []
    ss.pop("muni_filter", None)


def _source_toml() -> Path:
    src = st.session_state.get("source", {"kind": "demo"})
    return Path(src["path"]) if src.get("kind") == "toml" else demo_toml()




def data_key() -> tuple[Any, ...]:
    """What this session's data are: the region opened and the uploads added (part of
    every computed result's key, so a result never outlives the data it was made from)."""
    ups = tuple((u.layer, u.filename, id(u.frame)) for u in uploads())
    return (repr(st.session_state.get("source")), ups)


def session_region() -> Region:
    """The open region with this session's uploads in its layers: what every analysis
    entry (:mod:`geo.analyses`) is given."""
    ss = st.session_state
    key = (data_key(), tuple(ss.get("muni_filter") or ()))
    cached = ss.get("_session_region")
    if cached is None or cached[0] != key:
        base = current_region()
        lay = layers()
        crs = base.crs if base.layers or not lay else analysis_crs_for(list(lay.values()))
        added = tuple(u.source or describe(u.layer, u.filename, data=u.data) for u in uploads())
        feeds = tuple(Path(u.options["path"]) for u in uploads() if u.layer == TRANSIT_KEY)
        config = dataclasses.replace(base.config, transit=(*base.config.transit, *feeds)) if feeds \
            else base.config
        cached = (key, dataclasses.replace(base, config=config, layers=lay, crs=crs,
                                           demand=session_people(base, lay),
                                           geocoder=session_geocoder(base, lay), added=added))
        ss["_session_region"] = cached
    return cached[1]  # type: ignore[no-any-return]




def computed(name: str, key: tuple[Any, ...], compute: Callable[[], T], *,
             labels: dict[str, str] | None = None) -> T:
    """``compute()`` once per ``key`` in this session, under a status line; an input problem
    is shown as its plain message and the page stops.  ``labels`` maps the entry's parameter
    names to the widgets' labels, so a parameter error names the widget a person set."""
    ss = st.session_state
    if ss.get(f"_{name}_key") != key:
        with st.status(t("computing"), expanded=False) as status:
            try:
                ss[f"_{name}"] = compute()
            except ParameterError as err:
                st.error(err.labelled(labels or {}).message)
                st.stop()
            except LayerError as err:
                st.error(in_app_words(err))
                st.stop()
            ss[f"_{name}_key"] = key
            status.update(label=t("loaded"), state="complete")
    return ss[f"_{name}"]  # type: ignore[no-any-return]


TOML_WORDS = (Tr("ja")("origin_config"), "[layers.", "TOML", "[roads]")
"""Words of a fix that speak of the region file, which a browser user does not edit."""


def in_app_words(err: LayerError) -> str:
    """An error as a browser user can act on it: a fix that says to edit the region TOML
    becomes "add the file on the データ page" (the file and row stay named)."""
    fix = err.fix or ""
    if any(word in fix for word in TOML_WORDS):
        return LayerError(err.problem, file=err.file if err.row is not None else None, row=err.row,
                          column=None if (err.column or "").startswith("layers.") else err.column,
                          fix=t("fix_in_app"), layer=err.layer).message
    return err.message


def session_geocoder(base: Region, lay: dict[str, gpd.GeoDataFrame]) -> Geocoder | None:
    """The region's 町字 points with those added in this session (an uploaded file of a
    municipality replaces the region's own)."""
    extra: dict[str, Any] = {}
    for up in uploads():
        extra |= up.reference or {}
    if not extra:
        return base.geocoder
    return geocoder_with(base.geocoder, extra, boundaries=lay.get("boundaries"))


def session_people(base: Region, lay: dict[str, gpd.GeoDataFrame]) -> Demand | None:
    """The people the session's analyses count: the last uploaded register's, else the
    region's (kept to the chosen municipalities)."""
    people = base.demand
    for up in uploads():
        if up.layer == "vulnerable":
            people = up.people
    chosen = st.session_state.get("muni_filter")
    if people is not None and chosen and "boundaries" in lay:
        people = people.within(lay["boundaries"])
    return people


def uploads() -> list[Upload]:
    return list(st.session_state.get("uploads", []))


def layers(*, chosen_only: bool = True) -> dict[str, gpd.GeoDataFrame]:
    """The region's layers with this session's uploads appended per kind, kept to the chosen
    municipalities (an N03 file brings a whole prefecture) unless ``chosen_only`` is False."""
    region = current_region()
    out = dict(region.layers)
    for up in uploads():
        if up.layer in (REFERENCE_KEY, TRANSIT_KEY):  # they place addresses / hold timetables
            continue
        if up.layer == "vulnerable":
            out["vulnerable"] = up.frame  # an uploaded register replaces the density shown
        elif up.layer in out:
            combined = pd.concat([out[up.layer], up.frame.to_crs(out[up.layer].crs)],
                                 ignore_index=True)
            out[up.layer] = gpd.GeoDataFrame(combined, crs=out[up.layer].crs)
        else:
            out[up.layer] = up.frame
    if any(up.layer == "shelters" for up in uploads()) and "shelters" in out:
        out["shelters"] = inherit_flags(out["shelters"])  # the GSI files, uploaded one by one
    chosen = st.session_state.get("muni_filter")
    return keep_municipalities(out, chosen) if chosen and chosen_only else out


def add_feed(name: str, data: bytes) -> str | None:
    """Add an uploaded GTFS-JP zip to this session's region (the データ and 公共交通 pages);
    the problem's message when it is refused."""
    try:
        stops, path = load_uploaded_feed(name, data)
    except LayerError as err:
        return err.message
    ss = st.session_state
    ss["uploads"] = [*uploads(), Upload(TRANSIT_KEY, name, data, stops, {"path": str(path)},
                                        source=describe(TRANSIT_KEY, path))]
    return None


def source_rows() -> list[dict[str, str]]:
    """Rows of the データ page's sources table: every file of the session's region, its
    publisher, the data's own date, retrieval date and licence (:mod:`layers.provenance`)."""
    labels = {k: t_layer(k) for k in LAYER_KEYS} | {
        REFERENCE_KEY: t("machiaza_target"), "roads": t("roads"), "transit": t("page_transit"),
        "projection": t("projection")}
    return source_table(session_region().sources, labels)


def summary_rows() -> list[dict[str, Any]]:
    """Rows of the データ summary table (like ``tomoni check``)."""
    region = current_region()
    summary = region.summary()
    rows = []
    cols = [t(k) for k in ("col_layer", "col_origin", "col_rows", "col_crs", "col_extent", "col_warnings")]

    def row(*values: Any) -> dict[str, Any]:
        return dict(zip(cols, values, strict=True))

    for key, entry in summary["layers"].items():
        rows.append(row(t_layer(key), t("origin_config"), entry["rows"], crs_label(entry["crs"]),
                        ", ".join(f"{v:.4f}" for v in entry["bbox"]), " / ".join(entry["warnings"])))
    for up in uploads():
        b = up.frame.total_bounds
        rows.append(row(t_layer(up.layer), f"{t('origin_upload')}: {up.filename}",
                        _kept_rows(up), crs_label("EPSG:4326"), ", ".join(f"{v:.4f}" for v in b),
                        " / ".join(up.frame.attrs.get("warnings", []))))
    if "roads" in summary:
        r = summary["roads"]
        rows.append(row(t("roads_row"), t("origin_config"), r["nodes"], crs_label("EPSG:4326"),
                        t("nodes_links").format(nodes=r["nodes"], edges=r["edges"]), ""))
    return rows


def _kept_rows(up: Upload) -> str | int:
    """An upload's rows, and when municipalities are chosen, how many of them are kept."""
    chosen = st.session_state.get("muni_filter")
    every = layers(chosen_only=False).get("boundaries")
    if not chosen or every is None or up.layer == "vulnerable":
        return len(up.frame)
    own = {"boundaries": up.frame} if up.layer == "boundaries" else {"boundaries": every, up.layer: up.frame}
    kept = len(keep_municipalities(own, chosen).get(up.layer, up.frame))
    return t("rows_kept").format(kept=kept, total=len(up.frame))


def shown_layers() -> list[str]:
    """The layers this user chose to show on the map (all by default); kept across pages, so
    the export draws what the map showed."""
    keys = layer_keys()
    chosen = st.session_state.get("layers_shown")
    if chosen is None:  # roads show from zoom 14 only and weigh megabytes: on when asked
        return [k for k in keys if k != "roads"]
    # a layer added since the map was last drawn is shown: the choice covers what was offered
    offered = st.session_state.get("layers_offered", keys)
    new = [k for k in keys if k not in offered and k != "roads"]
    return [k for k in keys if k in chosen or k in new]


def layer_keys() -> list[str]:
    present = set(layers())
    keys = [k for k in LAYER_KEYS if k in present]
    if current_region().roads is not None:
        keys.append("roads")
    return keys
