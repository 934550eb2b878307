"""StudyBuddy's student page: ask a question, get an answer from the books with the passages it came from.

No tutoring logic lives here: the page calls the engine's Tutor and shows what it returns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config import Config  # noqa: E402
from engine.errors import StudyBuddyError  # noqa: E402
from engine.pipeline import Tutor  # noqa: E402

MAX_QUESTION_CHARS = 2000

st.set_page_config(page_title="StudyBuddy", page_icon="📚", layout="centered")


@st.cache_resource(show_spinner=False)
def get_tutor() -> Tutor:
    return Tutor(Config.load())


def show_answer(answer: dict) -> None:
    st.markdown(f"### {answer['answer']}")
    for number, citation in enumerate(answer.get("citations", []), start=1):
        with st.expander(f"📖 [{number}] {citation['book']} — {citation['section']}"):
            st.write(citation["text"])


st.title("📚 StudyBuddy")
st.caption("Ask me about the things in your school books!")

if "history" not in st.session_state:
    st.session_state.history = []

for turn in st.session_state.history:
    with st.chat_message("user"):
        st.write(turn["question"])
    with st.chat_message("assistant"):
        show_answer(turn)

question = st.chat_input("Type your question here")
if question is not None:
    question = question.strip()
    if not question:
        st.info("Type a question first, then press Enter.")
    elif len(question) > MAX_QUESTION_CHARS:
        st.info(f"That is a very long message! Please ask a shorter question (up to {MAX_QUESTION_CHARS} letters).")
    else:
        with st.chat_message("user"):
            st.write(question)
        with st.chat_message("assistant"):
            try:
                with st.status("Looking in your books…", expanded=False) as status:
                    answer = get_tutor().ask(question).to_json()
                    status.update(label="Done!", state="complete")
            except StudyBuddyError as err:
                st.warning(f"Sorry, something is not set up right: {err.problem} {err.fix}")
            else:
                show_answer(answer)
                st.session_state.history.append(answer)
