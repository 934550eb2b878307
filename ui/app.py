"""StudyBuddy's Streamlit app. The student page is the default; `?staff` in the address opens the staff pages
(behind a passcode), so a child's page never shows a staff control.

Run with `make run` (or `streamlit run ui/app.py`). No tutoring logic lives in ui/: the pages call the engine.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.core.errors import StudyBuddyError  # noqa: E402
from ui import services, staff, student  # noqa: E402

log = logging.getLogger("studybuddy.ui")


def main() -> None:
    st.set_page_config(page_title="StudyBuddy", page_icon="📚", layout="centered")
    st.set_option("client.toolbarMode", "minimal")  # no developer menu on a child's screen
    st.set_option("client.showErrorDetails", "none")  # and never a traceback, whatever slips past the pages
    try:
        config = services.load_config()
    except StudyBuddyError as err:
        st.error(f"StudyBuddy cannot start: {err.problem} {err.fix}".strip())
        return
    wants_staff = "staff" in st.query_params
    try:
        (staff.render if wants_staff else student.render)(config)
    except StudyBuddyError as err:
        st.warning(f"Sorry, something went wrong: {err.problem} {err.fix}".strip())
    except Exception:  # the last safety net: a friendly line, the details in the server log
        log.exception("a page failed")
        st.warning("Oops! Something went wrong on this page. Please reload it, or tell your teacher.")


main()
