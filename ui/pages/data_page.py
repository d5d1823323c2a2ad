"""データ: choose the region, add files to layers, see what loaded, save the region."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.outputs.layer_export import DENSITY_COLUMNS, geojson_text
from geo.outputs.maps import add_marks, region_map
from geo.runs.roads import build_roads
from layers.atomic import atomic_write_bytes
from layers.boundaries import municipality_names
from layers.data_root import (
    OutsideDataRoot,
    claim_shared,
    home,
    inside_data_root,
    may_read_outside,
    region_files_inside,
    safe_folder,
)
from layers.errors import LayerError
from layers.fetch import DEFAULT_PREFECTURE, PREFECTURES, fetch_region
from layers.geocode import HAND_PLACED, LEVELS, set_point
from layers.provenance import describe
from layers.region import Region, read_config
from layers.region_io import SavedFile, copy_region_in, save_region
from layers.shelters import DEFAULT_HAZARD, HAZARD_LABELS
from layers.upload import (
    REFERENCE_KEY,
    TRANSIT_KEY,
    UPLOAD_KEYS,
    load_uploaded,
    load_uploaded_reference,
    load_uploaded_register,
)
from ui import state
from ui.audit import audit
from ui.clicks import picked_point
from ui.i18n import Tr, lang, t, t_layer

state.init()
tr = Tr.current()  # for format_func: plain functions of this run's language
ss = st.session_state
st.header(t("page_data"))

# ---------------------------------------------------------------- source
st.subheader(t("source"))
KINDS = ["demo", "toml", "new"]
kind = st.radio(t("source"), KINDS, horizontal=True, label_visibility="collapsed",
                index=KINDS.index(ss["source"].get("kind", "demo")),
                format_func=lambda k: tr(f"source_{k}"))
if kind == "demo" and ss["source"].get("kind") != "demo":
    state.start_source({"kind": "demo"})
    st.rerun()
if kind == "new":
    with st.expander(t("fetch_title"), expanded=False):
        st.caption(t("fetch_help"))
        f1, f2, f3 = st.columns([2, 3, 1])
        pref = f1.selectbox(t("fetch_pref"), PREFECTURES, index=PREFECTURES.index(DEFAULT_PREFECTURE),
                            key="fetch_pref")
        muni = f2.text_input(t("fetch_muni"), key="fetch_muni", placeholder=t("fetch_muni_example"))
        if f3.button(t("fetch_go"), key="fetch_go", disabled=not muni.strip()) and muni.strip():
            try:
                fetch_into = inside_data_root(home() / safe_folder(muni.strip()), what=t("fetch_muni"),
                                              write=True)
                with st.spinner(t("fetch_running")):
                    got = fetch_region(pref, muni.strip(), fetch_into)
                audit("fetch", region=f"{pref} {got.name}")
                state.start_source({"kind": "toml", "path": str(got.toml)})
                st.rerun()
            except LayerError as err:
                st.error(err.message + (f"　{err.fix}" if err.fix else ""))
    st.caption(t("new_region_help"))
    n1, n2 = st.columns([3, 1])
    new_name = n1.text_input(t("new_region_name"), value=ss["source"].get("name", ""),
                             key="new_region_name")
    if n2.button(t("new_region_start"), key="new_region_start",
                 disabled=not new_name.strip()) and new_name.strip():
        state.start_source({"kind": "new", "name": new_name.strip()})
        st.rerun()
if kind == "toml":
    st.caption(t("data_root_hint").format(root=home()))
    path = st.text_input(t("toml_path"), value=ss["source"].get("path", ""),
                         placeholder="my_region/region.toml")
    if st.button(t("open"), key="open_toml") and path:
        try:
            toml = inside_data_root(path, what=t("region_file"))
            region_files_inside(read_config(toml).input_files())  # every file it reads, too
            with st.status(t("loading"), expanded=False) as status:
                state.open_region(toml)
                status.update(label=t("loaded"), state="complete")
            state.start_source({"kind": "toml", "path": str(toml)})
            st.rerun()
        except OutsideDataRoot as err:
            if may_read_outside():  # on one's own machine only; a shared server never reads outside
                ss["_outside"] = path  # offered below: copied in with one click, never read in place
            st.error(err.message)
        except LayerError as err:
            st.error(err.message)
        except OSError:
            st.error(f"{t('cannot_open')}: {Path(path).name}")

if kind == "toml" and ss.get("_outside"):
    st.info(t("copy_in_help"))
    if st.button(t("copy_in"), key="copy_in"):
        try:
            outside = Path(ss["_outside"]).expanduser()
            src = outside / "region.toml" if outside.is_dir() else outside
            copy_to = inside_data_root(home() / safe_folder(src.parent.name or "region"), write=True)
            with st.spinner(t("copy_in_running")):
                copied = copy_region_in(src, copy_to)
                state.open_region(copied)
            audit("copy_region_in", region=copied.parent.name)
            ss.pop("_outside", None)
            state.start_source({"kind": "toml", "path": str(copied)})
            st.rerun()
        except LayerError as err:
            st.error(err.message + (f"　{err.fix}" if err.fix else ""))
        except OSError:
            st.error(f"{t('cannot_open')}: {Path(ss['_outside']).name}")

region = state.session_region()
st.caption(f"{t('region')}: {region.name}" + (f"　【{t('fictional')}】" if region.fictional else ""))
if region.fictional and state.uploads():
    st.warning(t("demo_with_uploads"))

# ---------------------------------------------------------------- municipalities
every = state.layers(chosen_only=False).get("boundaries")
if every is not None and len(every) > 1:
    names = municipality_names(every)
    twice = {n for n in names.values() if list(names.values()).count(n) > 1}  # the code only to tell apart

    def muni_label(c: str) -> str:
        return f"{names[c]}（{c}）" if names.get(c) in twice or c not in names else names[c]

    picked = st.multiselect(t("municipalities"), list(names), default=ss.get("muni_filter") or list(names),
                            format_func=muni_label, key="muni_pick",
                            help=t("municipalities_help"))
    chosen = None if not picked or len(picked) == len(names) else list(picked)
    if chosen != ss.get("muni_filter"):
        ss["muni_filter"] = chosen
        st.rerun()

# ---------------------------------------------------------------- uploads
st.subheader(t("upload"))
TARGETS = [*UPLOAD_KEYS, REFERENCE_KEY, TRANSIT_KEY]  # 町字 points place any list; GTFS: timetables
TARGET_WORDS = {REFERENCE_KEY: "machiaza_target", TRANSIT_KEY: "transit_target"}
layer = st.selectbox(t("upload_layer"), TARGETS, index=TARGETS.index("shelters"),
                     format_func=lambda k: tr(TARGET_WORDS[k]) if k in TARGET_WORDS else tr.layer(k),
                     key="upload_layer")
options: dict[str, object] = {}
if layer == REFERENCE_KEY:
    st.caption(t("machiaza_help"))
elif layer == "vulnerable":
    st.info(t("vulnerable_help"))
    c1, c2, c3 = st.columns(3)
    by = c1.selectbox(t("unit"), ["mesh", "neighbourhoods"], key="vul_by",
                      format_func=lambda v: tr("unit_mesh") if v == "mesh" else tr("unit_jichikai"))
    mesh = c2.selectbox(t("mesh_size"), [500, 1000, 250], key="vul_mesh",
                        format_func=lambda v: f"{v} m", disabled=by != "mesh")
    k = c3.number_input("k", min_value=3, value=5, step=1, key="vul_k", help=t("k_help"))
    options = {"mesh": mesh, "k": int(k), "by": None if by == "mesh" else by,
               "region_areas": {k2: v for k2, v in region.layers.items() if k2 != "vulnerable"}}
else:
    if layer == "hazards":
        options["hazard"] = st.selectbox(t("hazard_of_file"), ["", *HAZARD_LABELS], key="upload_hazard",
                                         format_func=lambda k: tr.hazard(k) if k else tr("hazard_in_file"))
    with st.expander(t("mapping")):
        st.caption(t("mapping_help"))
        m1, m2, m3, m4 = st.columns(4)
        options |= {"name": m1.text_input(t("col_name"), key="map_name"),
                   "lat": m2.text_input(t("col_lat"), key="map_lat"),
                   "lon": m3.text_input(t("col_lon"), key="map_lon"),
                   "id": m4.text_input(t("col_id"), key="map_id")}
        options = {k: v.strip() for k, v in options.items() if isinstance(v, str) and v.strip()}
files = st.file_uploader(t("upload"), accept_multiple_files=True, help=t("upload_help"),
                         key=f"uploader_{ss.get('_uploader_gen', 0)}", label_visibility="collapsed")
done: set[str] = ss.setdefault("_upload_ids", set())
errors: dict[str, str] = ss.setdefault("_upload_errors", {})
# a file is imported once, into the layer chosen when it was added: changing the target
# layer later does not import the files still in the box again
new_files = [f for f in files or [] if f.file_id not in done]
if new_files:
    errors.clear()  # a new batch answers the old messages
refused = False
for f in new_files:
    done.add(f.file_id)
    data = f.getvalue()
    if layer == TRANSIT_KEY:  # a timetable: kept as a file the 公共交通 page reads
        if problem := state.add_feed(f.name, data):
            errors[f.name] = problem
            refused = True
        continue
    people, reference = None, None
    try:
        if layer == REFERENCE_KEY:
            frame, reference = load_uploaded_reference(f.name, data,
                                                       boundaries=region.layers.get("boundaries"))
        elif layer == "vulnerable":
            frame, people = load_uploaded_register(f.name, data, boundaries=region.layers.get("boundaries"),
                                                   options=options, geocoder=region.geocoder)
        else:
            frame = load_uploaded(layer, f.name, data, boundaries=region.layers.get("boundaries"),
                                  options=options, geocoder=region.geocoder)
    except LayerError as err:
        errors[f.name] = err.message
        refused = True
        continue
    errors.pop(f.name, None)
    if layer == "vulnerable":
        # keep only the anonymised density: the register's bytes are dropped and
        # the upload widget is reset so Streamlit releases the file too
        data = b""
        ss["_uploader_gen"] = ss.get("_uploader_gen", 0) + 1
        kept = {"anonymised": True, "kind": "density", "k": int(str(options["k"]))}
        ss["uploads"] = [*ss["uploads"], state.Upload(layer, f.name, data, frame, kept, people=people,
                                                      source=describe(layer, f.name))]
        st.rerun()
    added = state.Upload(layer, f.name, data, frame, dict(options), reference=reference,
                         source=describe(layer, f.name, data=data))
    ss["uploads"] = [*ss["uploads"], added]
if refused:  # a refused file leaves the box (its message stays until the next file)
    ss["_uploader_gen"] = ss.get("_uploader_gen", 0) + 1
    st.rerun()
if new_files and layer in ("boundaries", REFERENCE_KEY):  # the picker above / placing: at once
    st.rerun()
for name, message in errors.items():
    st.error(f"{t('errors')}: {name}\n\n{message}")
for i, up in enumerate(state.uploads()):
    c1, c2 = st.columns([6, 1])
    if up.layer == "vulnerable":
        s_ = up.frame.attrs.get("summary", {})
        line = t("upload_density_line").format(
            geo=s_.get("geography", ""), k=s_.get("k"), units=s_.get("units_published"),
            merged=s_.get("units_absorbed"), read=s_.get("records_read"), inside=s_.get("in_region"),
            outside=s_.get("outside_region"))
        c1.success(f"{t('uploaded')}: {up.filename} → {t_layer(up.layer)}: {line}")
    elif up.layer == TRANSIT_KEY:
        c1.success(t("transit_added").format(name=up.filename, stops=len(up.frame)))
    elif up.layer == REFERENCE_KEY:
        c1.success(f"{t('uploaded')}: {up.filename} → {t('machiaza_target')}: "
                   + t("machiaza_line").format(muni=next(iter(up.reference or {}), ""), n=len(up.frame)))
    elif not len(up.frame):  # nothing added is not a success
        c1.warning(f"{up.filename} → {t_layer(up.layer)}: {t('upload_empty')}")
    else:
        c1.success(f"{t('uploaded')}: {up.filename} → {t_layer(up.layer)}"
                   f"（{t('upload_rows').format(n=len(up.frame))}）")
        for w in up.frame.attrs.get("warnings", []):  # e.g. how finely addresses were placed
            c1.caption(w)
    if c2.button(t("remove"), key=f"rm_{i}"):
        ss["uploads"] = [u for j, u in enumerate(state.uploads()) if j != i]
        st.rerun()

# ---------------------------------------------------------------- points fixed by hand
FIXABLE = ("places", "vc_sites", "shelters")  # lists of places; never a register


def _fix_points(i: int, up: state.Upload) -> None:
    """Move one row of an uploaded list to where the user clicks on the map."""
    frame = up.frame
    coarse_first = {lvl: n for n, lvl in enumerate((*reversed(LEVELS), HAND_PLACED))}
    order = sorted(range(len(frame)), key=lambda r: coarse_first.get(frame["match_level"].iloc[r], 0))
    row = st.selectbox(t("fix_row"), order, key=f"fix_row_{i}",
                       format_func=lambda r: f"{frame['name'].iloc[r]}（{frame['match_level'].iloc[r]}）")
    st.caption(t("fix_help"))
    point = frame.geometry.to_crs("EPSG:4326").iloc[row]
    shown = {k: v for k, v in state.layers().items() if k == "boundaries"}
    m = region_map(shown, lang=lang(), layer_control=False)
    add_marks(m, frame.iloc[[row]], name=t("fix_row"), color="#d81b60", label="name")
    result = st_folium(m, key=f"fix_map_{i}", height=380, use_container_width=True,
                       center=[point.y, point.x], zoom=15, returned_objects=["last_clicked"])
    pick = picked_point({"last_clicked": (result or {}).get("last_clicked")},
                        ss.get(f"_fix_prev_{i}"))
    if pick is None:
        return
    ss[f"_fix_prev_{i}"] = pick.raw
    try:
        moved = set_point(frame, row, pick.lon, pick.lat)
    except LayerError as err:  # a click outside Japan: nothing moves
        st.error(state.in_app_words(err))
        return
    ups = state.uploads()
    ups[i] = dataclasses.replace(up, frame=moved, edited=True)
    ss["uploads"] = list(ups)
    ss["_fix_done"] = str(frame["name"].iloc[row])
    st.rerun()


for i, up in enumerate(state.uploads()):
    if up.layer in FIXABLE and "match_level" in up.frame and len(up.frame):
        with st.expander(f"{t('fix_points')}: {up.filename}", expanded=bool(ss.get("_fix_done"))):
            if ss.get("_fix_done"):
                st.success(t("fix_done").format(name=ss.pop("_fix_done")))
            _fix_points(i, up)

# ---------------------------------------------------------------- roads from OSM
if ss["source"].get("kind") == "toml" and ss["source"].get("path"):
    st.subheader(t("roads_build"))
    st.caption(t("roads_build_help"))
    r1, r2, r3 = st.columns([3, 1, 1])
    extract = r1.text_input(t("roads_extract"), key="roads_extract", placeholder="tohoku-latest.osm.pbf")
    make = r2.button(t("roads_make"), key="roads_make", disabled=not extract.strip())
    fetch = r3.button(t("roads_download"), key="roads_download")
    given = st.file_uploader(t("roads_upload"), type=["pbf", "osm", "bz2"], key="roads_upload")
    if given is not None and given.file_id == ss.get("_roads_upload_done"):
        given = None  # built once; the file stays in the box until removed
    if make or fetch or given is not None:
        source = None
        try:
            source = None if fetch else inside_data_root(extract.strip(), what=t("roads_extract"))
            if given is not None:  # kept beside the region, like an extract named in its file
                ss["_roads_upload_done"] = given.file_id
                source = Path(ss["source"]["path"]).parent / "roads" / safe_folder(given.name)
                source.parent.mkdir(exist_ok=True)
                atomic_write_bytes(source, given.getvalue())
            with st.spinner(t("roads_building")):
                built = build_roads(Path(ss["source"]["path"]), source=source, download=fetch, write=True)
            st.success(t("roads_built").format(nodes=built.nodes, edges=built.edges, seconds=built.seconds))
            st.caption(built.credit)
        except LayerError as err:
            if given is not None and source is not None:
                source.unlink(missing_ok=True)  # a refused upload is not kept beside the region
            st.error(err.message + (f"　{err.fix}" if err.fix else ""))

# ---------------------------------------------------------------- summary
st.subheader(t("summary"))
st.dataframe(pd.DataFrame(state.summary_rows()), hide_index=True, width="stretch")
st.subheader(t("sources"))  # where each file comes from, with the data's own date
st.dataframe(pd.DataFrame(state.source_rows()), hide_index=True, width="stretch")

# ---------------------------------------------------------------- save


def _saved(u: state.Upload) -> SavedFile:
    if u.layer == TRANSIT_KEY:  # the feed itself, under [layers.transit]
        return SavedFile(u.layer, u.filename, u.data, {})
    if u.layer == REFERENCE_KEY:  # named by its municipality: the geocoder reads the name from the file's
        return SavedFile(u.layer, f"{next(iter(u.reference or {}), Path(u.filename).stem)}.json", u.data, {})
    if u.edited:  # points moved by hand: the layer as it is now, not the original file
        text = geojson_text(u.frame, properties=[c for c in u.frame.columns if c != "geometry"])
        return SavedFile(u.layer, f"{Path(u.filename).stem}_edited.geojson", text.encode("utf-8"), {})
    if u.layer == "vulnerable":  # only the anonymised density is ever saved
        text = geojson_text(u.frame, properties=[c for c in DENSITY_COLUMNS if c in u.frame])
        return SavedFile("vulnerable", f"{Path(u.filename).stem}_density.geojson",
                         text.encode("utf-8"), u.options)
    return SavedFile(u.layer, u.filename, u.data, u.options)


def _files_to_save(region: Region) -> list[SavedFile]:
    files = [_saved(u) for u in state.uploads()]
    has_upload = any(f.layer == "vulnerable" for f in files)
    dens = region.layers.get("vulnerable")
    if dens is not None and not has_upload:  # the region's register goes as its density only
        text = geojson_text(dens, properties=[c for c in DENSITY_COLUMNS if c in dens])
        k = int(dens.attrs.get("summary", {}).get("k", 5))
        files.append(SavedFile("vulnerable", "vulnerable_density.geojson", text.encode("utf-8"),
                               {"anonymised": True, "kind": "density", "k": k}))
    return files


st.subheader(t("save_region"))
st.caption(t("data_root_hint").format(root=home()))
target = st.text_input(t("save_path"), value=str(Path("saved") / "region"), key="save_target")
replace_ok = True
folder: Path | None = None
try:
    folder = inside_data_root(target, what=t("save_folder"), write=True)
    if folder.is_dir() and any(folder.iterdir()):
        st.warning(t("replace_folder"))
        replace_ok = st.checkbox(t("replace_yes"), key="save_replace")
except LayerError as err:
    st.error(err.message)
clicked = st.button(t("save"), key="save_region", disabled=folder is None or not replace_ok)
if clicked and folder is not None:
    try:
        toml = save_region(
            folder,
            name=region.name,
            base=region.config,
            files=_files_to_save(region),
            parameters={"hazard": ss.get("hazard", DEFAULT_HAZARD)},
            fictional=region.fictional,
            municipalities=ss.get("muni_filter") or (),
        )
        read_config(toml)  # the saved folder must reopen
        claim_shared(folder)  # a folder shared under shared/ is this user's to replace
        audit("save_region", region=region.name)
        st.success(f"{t('saved')}: {toml}")
    except LayerError as err:
        st.error(err.message)
