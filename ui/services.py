"""The app's handles on the engine: the current config, one cached Tutor per config, the conversation log, and
a run of the pipeline in a worker thread that reports which stage it is in."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import streamlit as st

from engine.classroom import Classroom
from engine.config import ClassroomConfig, Config
from engine.conversation_log import ConversationLog
from engine.pipeline import Tutor
from engine.vocabulary import Answer
from knowledge_base import library as store

STAGES = {"retrieve": "Looking in your books…", "generate": "Thinking…", "verify": "Checking the facts…"}
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
    tutor = _instrument(room.tutor)
    tutor.classroom = room  # type: ignore[attr-defined]
    return tutor


@st.cache_resource(show_spinner=False)
def _cached_log(path: str) -> ConversationLog:
    return ConversationLog(path)


def get_log(config: Config) -> ConversationLog:
    return _cached_log(str(config.logs_dir / "conversations.sqlite3"))


class _StageProbe:
    """Which pipeline stage each worker thread is in."""

    def __init__(self) -> None:
        self._stages: dict[int, str] = {}

    def enter(self, stage: str) -> None:
        self._stages[threading.get_ident()] = stage

    def stage_of(self, thread_id: int) -> str:
        return self._stages.get(thread_id, "retrieve")


def _instrument(tutor: Tutor) -> Tutor:
    """Wrap the Tutor's stage methods (on this instance only) so the page can name the stage it is in."""
    probe = _StageProbe()
    for method, stage in (("generate_answers", "generate"), ("verify", "verify")):
        original = getattr(tutor, method)

        def wrapped(*args, _original=original, _stage=stage, **kwargs):
            probe.enter(_stage)
            return _original(*args, **kwargs)

        setattr(tutor, method, wrapped)
    tutor.stage_probe = probe  # type: ignore[attr-defined]
    return tutor


def answer_with_stages(tutor: Tutor, question: str, draft: str | None, on_stage: Callable[[str], None], session=None) -> Answer:
    """Run ask (or check, for a given draft) in a worker thread; call on_stage from this thread as stages change.
    `session` (engine.safety.SafetySession) is the student's conversation, for the safety layers."""
    started = threading.Event()
    ident: list[int] = []

    def work() -> Answer:
        ident.append(threading.get_ident())
        tutor.stage_probe.enter("retrieve")
        started.set()
        if draft is not None:
            return tutor.check(question, draft)
        room = getattr(tutor, "classroom", None)
        return room.ask(question, session=session) if room is not None else tutor.ask(question, session=session)

    future: Future = _WORKERS.submit(work)
    started.wait(timeout=5)
    shown = ""
    while not future.done():
        stage = tutor.stage_probe.stage_of(ident[0]) if ident else "retrieve"
        if stage != shown:
            on_stage(stage)
            shown = stage
        time.sleep(0.15)
    return future.result()
