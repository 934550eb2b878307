"""The student page: a chat where every answer is checked against the books before it is shown."""

from __future__ import annotations

import logging
import os
import uuid

import streamlit as st

from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from engine.core.vocabulary import Answer
from engine.safety import SafetySession
from engine.safety.rails import load_classifier
from ui import components, services
from ui.settings_store import read_ui_settings
from verifiers.verifier_checkpoint import VerifierNotReady, not_ready

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
DRAFT_HOOK = "draft_answer_for_test"  # tests put a fixed draft here; the page then checks it instead of generating
TEST_HOOKS_ENV = "STUDYBUDDY_UI_TEST_HOOKS"  # =1 lets browser tests pass that draft as ?draft=... (never set for users)


def render(config: Config) -> None:
    components.use_large_text()
    st.title("📚 StudyBuddy")
    if _paused(config):
        st.info("😴 StudyBuddy is resting right now. Please ask your teacher.")
        return
    unguarded = safety_problem(config)
    if unguarded is not None:  # never answer a child without the safety classifier
        st.error(f"StudyBuddy cannot start: {unguarded.problem} {unguarded.fix}")
        return

    unchecked = not_ready(config.cache_dir)
    if unchecked is not None:  # no answer goes out unchecked: without the claim verifier the page waits for set-up
        components.getting_ready(unchecked)
        return
    st.markdown("Ask me about the things in your school books! I check every answer in your books.")
    session = st.session_state.setdefault("session_id", uuid.uuid4().hex)
    st.session_state.setdefault("safety_session", SafetySession(session))  # this conversation's turns, for the safety layers
    history: list[dict] = st.session_state.setdefault("history", [])
    for turn in history:
        _show_turn(turn)
    question = st.chat_input("Type your question here")
    if question is None:
        return
    problem = question_problem(question)
    if problem:
        st.info(problem, icon="💡")
        return
    answer = _answer(config, question.strip())
    if answer is not None:
        history.append({"question": question.strip(), "answer": answer.to_json()})
        _log(config, session, answer)


def safety_problem(config: Config) -> StudyBuddyError | None:
    """Why the safety classifier cannot guard this page (missing or corrupt head), or None."""
    if not (config.safety.enabled and config.safety.classifier):
        return None

    try:
        load_classifier(config.safety)
    except StudyBuddyError as err:
        return err
    return None


def question_problem(question: str) -> str:
    """A kind sentence when the message cannot be a question, else ''."""
    if not question.strip():
        return "Type a question first, then press Enter."
    if len(question.strip()) > MAX_QUESTION_CHARS:
        return f"That is a very long message! Please ask one short question (up to {MAX_QUESTION_CHARS} letters)."
    return ""


def _show_turn(turn: dict) -> None:
    with st.chat_message("user", avatar="🧒"):
        st.write(turn["question"])
    with st.chat_message("assistant", avatar="📚"):
        components.show_answer(turn["answer"])


def _answer(config: Config, question: str) -> Answer | None:
    """Run the pipeline behind a status that names the stage; show the answer only once it is checked."""
    with st.chat_message("user", avatar="🧒"):
        st.write(question)
    with st.chat_message("assistant", avatar="📚"):
        draft = _test_draft()
        try:
            with st.status(services.STAGES["retrieve"], expanded=False) as status:
                tutor = services.get_tutor(config)
                answer = services.answer_with_stages(
                    tutor, question, draft, lambda stage: status.update(label=services.STAGES[stage]),
                    session=st.session_state.get("safety_session"),
                )
                status.update(label="All checked!", state="complete")
        except VerifierNotReady as err:
            components.getting_ready(err)
            return None
        except StudyBuddyError as err:
            components.friendly_error(err)
            return None
        except Exception:  # never a traceback on a child's screen
            log.exception("the pipeline failed for a question")
            st.warning("Oops! My brain got stuck. Please try again, or ask your teacher.", icon="🙈")
            return None
        components.show_answer(answer.to_json())
    return answer


def _test_draft() -> str | None:
    """The fixed draft a test supplied, if any: from session state (AppTest) or, with the env hook on, the URL."""
    if st.session_state.get(DRAFT_HOOK):
        return st.session_state[DRAFT_HOOK]
    if os.environ.get(TEST_HOOKS_ENV) == "1" and st.query_params.get("draft"):
        return st.query_params["draft"]
    return None


def _paused(config: Config) -> bool:
    try:
        return read_ui_settings(config).paused
    except StudyBuddyError:
        return True  # a broken settings file must not switch the student page back on


def _log(config: Config, session: str, answer: Answer) -> None:
    try:
        services.get_log(config).log_answer(session, config.library, answer)
    except Exception:
        log.exception("could not log a conversation")
