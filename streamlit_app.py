"""ともにマップ — the interactive app.

Run with ``bash scripts/run.sh`` (or ``.venv/bin/streamlit run streamlit_app.py``).
Pages only call ``geo``/``layers`` functions; see ``ui/``.
"""

from __future__ import annotations

import streamlit as st

from layers.ledger import ledger_scope
from ui import state
from ui.auth import logged_in, require_login
from ui.i18n import TEXT, md_plain, t, widget_words

st.set_page_config(page_title=TEXT["app_name"][0], layout="wide")
state.init()
widget_words()
with st.sidebar:
    st.radio(t("language"), ["ja", "en"], key="lang", horizontal=True,
             format_func=lambda k: TEXT["lang_ja"][0] if k == "ja" else "English")

# No page icons: Streamlit fetches Material icon favicons from the internet, and
# the app must make zero outside requests (tests/e2e checks it).
pages = [
    st.Page("ui/pages/map_page.py", title=t("page_map"), url_path="map", default=True),
    st.Page("ui/pages/coverage_page.py", title=t("page_coverage"), url_path="coverage"),
    st.Page("ui/pages/transit_page.py", title=t("page_transit"), url_path="transit"),
    st.Page("ui/pages/consolidation_page.py", title=t("page_consolidation"),
            url_path="consolidation"),
    st.Page("ui/pages/siting_page.py", title=t("page_siting"), url_path="siting"),
    st.Page("ui/pages/shelters_page.py", title=t("page_shelters"), url_path="shelters"),
    st.Page("ui/pages/vc_route_page.py", title=t("page_vc"), url_path="vc"),
    st.Page("ui/pages/crossborder_page.py", title=t("page_cross"), url_path="crossborder"),
    st.Page("ui/pages/data_page.py", title=t("page_data"), url_path="data"),
    st.Page("ui/pages/export_page.py", title=t("page_export"), url_path="export"),
]
# the pages are known before the login, so a typed page URL (/coverage) is found after it
nav = st.navigation(pages, position="sidebar" if logged_in() else "hidden")
require_login()  # a shared deployment: nothing runs before the user logs in
ledger_scope(st.session_state.get("user"))  # this user's releases are checked against their own

source_key = repr(st.session_state.get("source"))
if st.session_state.get("_ready") != source_key:
    with st.status(t("loading"), expanded=False) as status:
        state.current_region()
        status.update(label=t("loaded"), state="complete")
    st.session_state["_ready"] = source_key

region = state.session_region()
with st.sidebar:
    st.markdown(f"**{t('region')}:** {md_plain(region.name)}")
    if region.fictional:
        st.markdown(f":red-background[{t('fictional')}]")
    st.caption(md_plain(" / ".join(region.attribution())))

nav.run()
