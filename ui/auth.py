"""The login of a shared deployment (``tomoni serve --users FILE``).

Without ``TOMONI_USERS_FILE`` the app runs for this machine's user alone (it binds
to 127.0.0.1) and asks nothing.  With it, every session must log in before any
page runs; the user's name goes to the audit log, never a password.
"""

from __future__ import annotations

import os

import streamlit as st

from layers.errors import LayerError
from layers.users import read_users, verify
from ui.i18n import t

__all__ = ["logged_in", "require_login"]


def logged_in() -> bool:
    """True when this session may use the app (no login needed, or logged in)."""
    return not os.environ.get("TOMONI_USERS_FILE") or bool(st.session_state.get("user"))


def require_login() -> None:
    """Stop the page with a login form until this session has logged in."""
    users_file = os.environ.get("TOMONI_USERS_FILE")
    if not users_file or logged_in():
        return
    st.header(t("login_title"))
    with st.form("login"):
        name = st.text_input(t("login_user"))
        password = st.text_input(t("login_password"), type="password")
        submitted = st.form_submit_button(t("login_button"))
    if submitted:
        try:
            ok = verify(read_users(users_file), name, password)
        except LayerError as err:
            st.error(err.message)
            st.stop()
        if ok:
            st.session_state["user"] = name
            st.rerun()
        st.error(t("login_failed"))
    st.stop()
