"""データ: choose the region, add files to layers, see what loaded, save the region."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from layers.errors import LayerError
from layers.region import LAYER_LABELS, read_config
from layers.region_io import SavedFile, save_region
from layers.upload import UPLOAD_KEYS, load_uploaded
from ui import state
from ui.i18n import t

state.init()
ss = st.session_state
st.header(t("page_data"))

# ---------------------------------------------------------------- source
st.subheader(t("source"))
kind = st.radio(t("source"), ["demo", "toml"], horizontal=True, label_visibility="collapsed",
                index=0 if ss["source"].get("kind") == "demo" else 1,
                format_func=lambda k: t("source_demo") if k == "demo" else t("source_toml"))
if kind == "demo" and ss["source"].get("kind") != "demo":
    ss["source"] = {"kind": "demo"}
    st.rerun()
if kind == "toml":
    path = st.text_input(t("toml_path"), value=ss["source"].get("path", ""),
                         placeholder="data/my_region/region.toml")
    if st.button(t("open"), key="open_toml") and path:
        try:
            with st.status(t("loading"), expanded=False) as status:
                state.open_region(Path(path).expanduser())
                status.update(label=t("loaded"), state="complete")
            ss["source"] = {"kind": "toml", "path": str(Path(path).expanduser())}
            st.rerun()
        except LayerError as err:
            st.error(err.message)
        except OSError:
            st.error(f"ファイルを開けません: {Path(path).name}")

region = state.current_region()
st.caption(f"{t('region')}: {region.name}" + (f"　【{t('fictional')}】" if region.fictional else ""))

# ---------------------------------------------------------------- uploads
st.subheader(t("upload"))
layer = st.selectbox(t("upload_layer"), list(UPLOAD_KEYS), index=UPLOAD_KEYS.index("shelters"),
                     format_func=lambda k: f"{LAYER_LABELS[k]}（{k}）", key="upload_layer")
files = st.file_uploader(t("upload"), accept_multiple_files=True, help=t("upload_help"),
                         key="uploader", label_visibility="collapsed")
done: set[str] = ss.setdefault("_upload_ids", set())
errors: dict[str, str] = ss.setdefault("_upload_errors", {})
for f in files or []:
    fid = f"{layer}:{f.file_id}"
    if fid in done:
        continue
    done.add(fid)
    data = f.getvalue()
    try:
        frame = load_uploaded(layer, f.name, data, boundaries=region.layers.get("boundaries"))
    except LayerError as err:
        errors[f.name] = err.message
        continue
    errors.pop(f.name, None)
    ss["uploads"] = [*ss["uploads"], state.Upload(layer, f.name, data, frame)]
for name, message in errors.items():
    st.error(f"{t('errors')}: {name}\n\n{message}")
for i, up in enumerate(state.uploads()):
    c1, c2 = st.columns([6, 1])
    c1.success(f"{t('uploaded')}: {up.filename} → {LAYER_LABELS[up.layer]}（{len(up.frame)} 件）")
    if c2.button(t("remove"), key=f"rm_{i}"):
        ss["uploads"] = [u for j, u in enumerate(state.uploads()) if j != i]
        st.rerun()

# ---------------------------------------------------------------- summary
st.subheader(t("summary"))
st.dataframe(pd.DataFrame(state.summary_rows()), hide_index=True, width="stretch")

# ---------------------------------------------------------------- save
st.subheader(t("save_region"))
default = str(Path("data") / "saved" / "region")
target = st.text_input(t("save_path"), value=default, key="save_target")
if st.button(t("save"), key="save_region"):
    try:
        toml = save_region(
            target,
            name=region.name,
            base=region.config,
            files=[SavedFile(u.layer, u.filename, u.data, u.options) for u in state.uploads()],
            parameters={"hazard": ss.get("hazard", "flood")},
            fictional=region.fictional,
        )
        read_config(toml)  # the saved folder must reopen
        st.success(f"{t('saved')}: {toml}")
    except LayerError as err:
        st.error(err.message)
