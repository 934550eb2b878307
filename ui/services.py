"""The app's handles on the engine: the current config, one cached Tutor per config, the conversation log, and
a run of the pipeline in a worker thread whose stages (Tutor.ask's on_stage) the page names."""

from __future__ import annotations

import json
import queue
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import streamlit as st

from engine.classroom import Classroom
from engine.conversation_log import ConversationLog
from engine.core.config import ClassroomConfig, Config
from engine.core.vocabulary import Answer
from engine.pipeline import Tutor
from knowledge_base import library as store

STAGES = {"retrieve": "Looking in your books…", "generate": "Thinking…", "verify": "Checking the facts…"}
# every pipeline stage (engine/pipeline.py) shown as one of the three a child is told about; safety keeps the label
SHOWN_AS = {"retrieve": "retrieve", "generate": "generate", "vote": "generate", "decompose": "verify", "verify": "verify",
            "cove": "verify", "revise": "verify"}
# as many questions at once as a classroom takes (engine/classroom.py batches their model calls)
_WORKERS = ThreadPoolExecutor(max_workers=ClassroomConfig().max_students, thread_name_prefix="studybuddy-ask")


def load_config() -> Config:
    """Defaults, then the TOML file; raises StudyBuddyError with a fix when the file is broken."""
    return Config.load()


def library_version(config: Config) -> str:
    """The live version of the configured library ('' if it is missing), so a re-ingested library is reloaded."""
    try:
        version = store.current_version(store.library_dir(config.libraries_dir, config.library))
    except Exception:  # a bad name is reported by the engine when it loads the library
        return ""
    return version.name if version else ""


def get_tutor(config: Config) -> Tutor:
    key = json.dumps(config.to_dict(), sort_keys=True, default=str) + "|" + library_version(config)
    return _cached_tutor(key, config)


@st.cache_resource(show_spinner=False, max_entries=2)
def _cached_tutor(key: str, _config: Config) -> Tutor:
    """One tutor for every student of the app: a classroom (engine/classroom.py) whose students' model calls are
    batched together; `tutor.classroom.ask` is the way in."""
    room = Classroom(Tutor(_config))
    tutor = room.tutor
    tutor.classroom = room  # type: ignore[attr-defined]
    return tutor


@st.cache_resource(show_spinner=False)
def _cached_log(path: str) -> ConversationLog:
    return ConversationLog(path)


def get_log(config: Config) -> ConversationLog:
    return _cached_log(str(config.logs_dir / "conversations.sqlite3"))


def answer_with_stages(tutor: Tutor, question: str, draft: str | None, on_stage: Callable[[str], None], session=None) -> Answer:
    """Run ask (or check, for a given draft) in a worker thread; call on_stage from this thread (Streamlit's) with
    "retrieve", "generate" or "verify" as the pipeline moves on. `session` (engine.safety.SafetySession) is the
    student's conversation, for the safety layers."""
    heard: queue.SimpleQueue[str] = queue.SimpleQueue()

    def hear(stage: str) -> None:
        if stage in SHOWN_AS:
            heard.put(SHOWN_AS[stage])

    def work() -> Answer:
        if draft is not None:
            return tutor.check(question, draft, on_stage=hear)
        room = getattr(tutor, "classroom", None)
        return room.ask(question, session=session, on_stage=hear) if room is not None else tutor.ask(question, session=session, on_stage=hear)

    future: Future = _WORKERS.submit(work)
    shown = "retrieve"
    while not (future.done() and heard.empty()):
        try:
            stage = heard.get(timeout=0.15)
        except queue.Empty:
            continue
        if stage != shown:
            on_stage(stage)
            shown = stage
    return future.result()
