"""The staff area (open with ?staff in the address): a passcode, then Library, Evaluation, Review and Settings."""

from __future__ import annotations

import streamlit as st

from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from ui import staff_evaluation, staff_library, staff_review, staff_settings
from ui.settings_store import PASSCODE_ENV, passcode_matches, staff_passcode, ui_settings_path

PAGES = {
    "Library": staff_library.render,
    "Evaluation": staff_evaluation.render,
    "Review": staff_review.render,
    "Settings": staff_settings.render,
}


def render(config: Config) -> None:
    st.title("🔒 StudyBuddy — staff")
    if not st.session_state.get("staff_ok"):
        _login(config)
        return
    page = st.sidebar.radio("Staff pages", list(PAGES), key="staff_page")
    if st.sidebar.button("Lock staff pages", key="staff_logout"):
        st.session_state.staff_ok = False
        st.rerun()
    try:
        PAGES[page](config)
    except StudyBuddyError as err:
        st.error(f"{err.problem} {err.fix}".strip())


def _login(config: Config) -> None:
    try:
        configured = bool(staff_passcode(config))
    except StudyBuddyError as err:
        st.error(f"{err.problem} {err.fix}".strip())
        return
    if not configured:
        st.warning(
            f"No staff passcode is set, so the staff pages stay locked. Set the environment variable "
            f"`{PASSCODE_ENV}` before starting the app, or put `staff_passcode = \"...\"` in "
            f"`{ui_settings_path(config)}`."
        )
        return
    with st.form("staff_login_form"):
        attempt = st.text_input("Staff passcode", type="password", key="staff_passcode")
        submitted = st.form_submit_button("Open staff pages")
    if submitted:
        if passcode_matches(config, attempt):
            st.session_state.staff_ok = True
            st.rerun()
        else:
            st.error("That passcode is not right. Try again, or ask whoever set up StudyBuddy.")
