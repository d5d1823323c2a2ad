"""The login of a shared deployment (``tomoni serve --users FILE``).

Without ``TOMONI_USERS_FILE`` the app runs for this machine's user alone (it binds
to 127.0.0.1) and asks nothing.  With it, every session must log in before any
page runs; the user's name goes to the audit log, never a password.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from layers.data_root import data_user
from layers.errors import LayerError
from layers.users import FAIL_DELAY_S, LOCK_S, audit_name, read_users, throttle, verify
from ui.audit import audit
from ui.i18n import t

__all__ = ["logged_in", "require_login"]


def logged_in() -> bool:
    """True when this session may use the app (no login needed, or logged in)."""
    return not os.environ.get("TOMONI_USERS_FILE") or bool(st.session_state.get("user"))


def require_login() -> None:
    """Stop the page with a login form until this session has logged in."""
    users_file = os.environ.get("TOMONI_USERS_FILE")
    data_user(st.session_state.get("user") if users_file else None)  # this user's folder
    if not users_file or logged_in():
        return
    st.header(t("login_title"))
    with st.form("login"):
        name = st.text_input(t("login_user"))
        password = st.text_input(t("login_password"), type="password")
        submitted = st.form_submit_button(t("login_button"))
    if submitted:
        _try_login(users_file, name, password)
    st.stop()


def _try_login(users_file: str, name: str, password: str) -> None:
    """Check a login: a locked name is refused (audited), a failure waits and is counted."""
    try:
        users = read_users(users_file)
    except LayerError as err:
        st.error(err.message)
        st.stop()
    who = audit_name(users, name)
    wait = throttle.wait(name)
    if wait > 0:
        audit("login_locked", user=who)
        st.error(t("login_locked").format(minutes=max(1, round(wait / 60))))
        return
    if verify(users, name, password):
        throttle.succeeded(name)
        audit("login", user=who)
        st.session_state["user"] = name
        st.rerun()
    time.sleep(FAIL_DELAY_S)
    locked = throttle.failed(name)
    audit("login_failed", user=who)
    st.error(t("login_locked").format(minutes=round(LOCK_S / 60)) if locked else t("login_failed"))
