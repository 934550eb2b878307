"""A classroom at once: many students' questions share model calls.

Each student's question runs through the ordinary pipeline (engine/pipeline.py) on its own thread. What the threads
share is one `ModelCalls` scheduler: every call to the generator, the claim verifier and the embedders goes to one
worker thread, which runs the calls of one kind that are waiting together as a single batched call (one generate
call for many students' drafts, left-padded, each prompt with its own stopping; one verifier call for all their
claims; one embedder call for their queries), the way a serving engine batches across requests. A call waits for
others to join it at most `window_ms`, and not at all once every student in the room is waiting on a model.

`Classroom.ask` is the front door the app, `ask` and a server share: beyond `max_students` questions at once a
student is told kindly to ask again in a moment; one student's bad input, safety stop or failure never fails the
others' batch (a failing batch is rerun call by call, so only the failing call fails).
"""

from __future__ import annotations

import copy
import itertools
import logging
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from engine.core.config import ClassroomConfig
from engine.core.errors import StudyBuddyError
from engine.core.vocabulary import Answer, AnswerVerdict, Verdict
from engine.models.requests import GenerationRequest
from engine.pipeline import Tutor
from engine.safety import SafetyRails

log = logging.getLogger(__name__)

BUSY = "Lots of questions right now — ask me again in a moment!"


@dataclass
class _Call:
    kind: str
    items: list
    size: int
    student: int  # the order in which its student came in: the first to come is served first
    queued: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    result: list | None = None
    error: BaseException | None = None


class ModelCalls:
    """One worker thread that runs every model call, batching the calls of one kind that wait together.

    `register(kind, run, limit, size)`: `run(items) -> results` (one result per item, in order) is the batched model
    call; `limit` caps the items of one batch, `size(item)` counts an item (a generation request counts its prompts).
    `call(kind, items)` blocks until its results are ready. Threads inside `student()` are the room: the worker stops
    waiting for more calls as soon as every one of them is waiting on a model. The call of the student who came in
    first runs next, with the waiting calls of the same kind of the students after them: first come, first
    answered (everyone progressing together would make every student wait as long as the last)."""

    def __init__(self, window_s: float):
        self.window_s = window_s
        self._kinds: dict[str, tuple[Callable[[list], list], int, Callable[[Any], int]]] = {}
        self._queues: dict[str, deque[_Call]] = {}
        self._lock = threading.Condition()
        self._students = 0  # threads inside student()
        self._waiting = 0  # threads blocked in call()
        self._local = threading.local()
        self._arrivals = itertools.count()
        self._worker: threading.Thread | None = None
        self._closed = False
        self.batches: dict[str, list[int]] = {}  # per kind, the number of calls each batch joined (for the benchmark)

    def register(self, kind: str, run: Callable[[list], list], limit: int, size: Callable[[Any], int] = lambda item: 1) -> None:
        self._kinds[kind] = (run, max(int(limit), 1), size)
        self._queues[kind] = deque()
        self.batches[kind] = []

    @contextmanager
    def student(self):
        """The current thread is a student's question being answered, for the length of the block."""
        with self._lock:
            self._students += 1
            self._local.student = next(self._arrivals)
        try:
            yield
        finally:
            self._local.student = None
            with self._lock:
                self._students -= 1
                self._lock.notify_all()

    def call(self, kind: str, items: list) -> list:
        if not items:
            return []
        if threading.current_thread() is self._worker:  # a model call made from inside a model call: run it here
            return self._kinds[kind][0](items)
        run, limit, size = self._kinds[kind]
        order = getattr(self._local, "student", None)
        alone = order is None
        with self._lock:
            job = _Call(kind, list(items), sum(size(i) for i in items), next(self._arrivals) if alone else order)
            if self._closed:
                raise StudyBuddyError("The classroom has been closed.", "Start the tutor again.")
            self._start_worker()
            self._queues[kind].append(job)
            self._waiting += 1
            self._students += alone  # a caller outside student() is a room of its own for this call
            self._lock.notify_all()
        try:
            job.done.wait()
        finally:
            with self._lock:
                self._waiting -= 1
                self._students -= alone
        if job.error is not None:
            raise job.error
        return job.result

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    # --- the worker -------------------------------------------------------------------------------------------
    def _start_worker(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._serve, name="studybuddy-model-calls", daemon=True)
            self._worker.start()

    def _serve(self) -> None:
        while True:
            with self._lock:
                while not self._closed and not any(self._queues.values()):
                    self._lock.wait()
                if self._closed:
                    self._fail_all(StudyBuddyError("The classroom has been closed.", "Start the tutor again."))
                    return
                # wait for the rest of the room, unless every student is already waiting on a model
                deadline = min(c.queued for q in self._queues.values() for c in q) + self.window_s
                while self._waiting < self._students and time.monotonic() < deadline and not self._closed:
                    self._lock.wait(max(deadline - time.monotonic(), 0.0))
                first = min((c for q in self._queues.values() for c in q), key=lambda c: c.student)
                batch = self._take(first.kind)
            kind = first.kind
            self._run(kind, batch)

    def _take(self, kind: str) -> list[_Call]:
        _, limit, _ = self._kinds[kind]
        queue, batch, size = sorted(self._queues[kind], key=lambda c: c.student), [], 0
        while queue and (not batch or size + queue[0].size <= limit):
            call = queue.pop(0)
            batch.append(call)
            size += call.size
        self._queues[kind] = deque(queue)
        return batch

    def _run(self, kind: str, batch: list[_Call]) -> None:
        run = self._kinds[kind][0]
        self.batches[kind].append(len(batch))
        try:
            results = run([item for call in batch for item in call.items])
            if len(results) != sum(len(call.items) for call in batch):
                raise RuntimeError(f"{kind}: {len(results)} results for {sum(len(c.items) for c in batch)} items")
        except BaseException as err:  # noqa: BLE001 — one bad call must not fail the others: rerun each alone
            if len(batch) == 1:
                batch[0].error = err
                batch[0].done.set()
                return
            log.warning("a batched %s call failed (%s); running its %d calls one by one", kind, err, len(batch))
            for call in batch:
                self._run(kind, [call])
            return
        start = 0
        for call in batch:
            call.result = results[start : start + len(call.items)]
            start += len(call.items)
            call.done.set()

    def _fail_all(self, err: BaseException) -> None:
        for queue in self._queues.values():
            while queue:
                call = queue.popleft()
                call.error = err
                call.done.set()


class SharedGenerator:
    """The tutor's generator, its calls batched with other students' (same interface as engine.models.generator)."""

    def __init__(self, inner, calls: ModelCalls, limit: int):
        self.inner, self.calls = inner, calls
        self.name, self.manifest = inner.name, inner.manifest
        calls.register("generate", inner.generate, limit, size=lambda request: request.n)

    def generate(self, requests: list[GenerationRequest]) -> list[list[str]]:
        return self.calls.call("generate", list(requests))

    def __getattr__(self, name):
        return getattr(self.inner, name)


class SharedVerifier:
    """The claim verifier, its (claim, premise) pairs scored together with other students'."""

    def __init__(self, inner, calls: ModelCalls, limit: int):
        self.inner, self.calls = inner, calls
        calls.register("verify", lambda pairs: inner.predict([c for c, _ in pairs], [p for _, p in pairs]), limit)

    def predict(self, claims: list[str], premises: list[str]):
        return self.calls.call("verify", list(zip(claims, premises)))

    def __getattr__(self, name):
        return getattr(self.inner, name)


class SharedEmbedder:
    """An embedder whose texts are embedded together with other students'."""

    def __init__(self, inner, calls: ModelCalls, kind: str, limit: int):
        self.inner, self.calls, self.kind = inner, calls, kind
        calls.register(kind, lambda texts: list(inner.embed(texts)), limit)

    def embed(self, texts: list[str], progress: bool = False, desc: str = "Embedding passages") -> "Any":
        if progress or not texts:  # a long job with a progress bar (ingestion) runs on its own
            return self.inner.embed(texts, progress=progress, desc=desc)
        return np.stack(self.calls.call(self.kind, list(texts)))

    def embed_query(self, text: str):
        return self.embed([text])[0]

    def __getattr__(self, name):
        return getattr(self.inner, name)


class Classroom:
    """One tutor serving a room of students at once; `ask` is safe to call from many threads."""

    def __init__(self, tutor: Tutor, config: ClassroomConfig | None = None):
        config = config or tutor.config.classroom
        for name in ("max_generate_prompts", "max_pairs", "max_texts", "max_students"):
            if getattr(config, name) < 1:
                raise StudyBuddyError(f"[classroom] {name} = {getattr(config, name)} must be at least 1.", "Set it to a whole number of 1 or more.")
        self.config = config
        self.calls = ModelCalls(config.window_ms / 1000.0)
        embedder = SharedEmbedder(tutor.retriever.embedder, self.calls, "embed", config.max_texts)
        self.tutor = tutor.sharing(
            retriever=tutor.retriever.with_embedder(embedder),
            generator=SharedGenerator(tutor.generator, self.calls, config.max_generate_prompts),
            verifier=SharedVerifier(tutor.verifier, self.calls, config.max_pairs),
            safety=self._shared_safety(tutor),
        )
        self._admitted = threading.BoundedSemaphore(config.max_students)

    def _shared_safety(self, tutor: Tutor):
        """The tutor's safety layers, the learned classifier's embedder shared between students."""
        if not tutor.config.safety.enabled:
            return None
        classifier = tutor.safety.classifier
        if classifier is None:
            return tutor.safety
        shared = copy.copy(classifier)
        shared.embedder = SharedEmbedder(classifier.embedder, self.calls, "safety embed", self.config.max_texts)
        return SafetyRails(tutor.config.safety, shared)

    def ask(self, question: str, session=None, on_stage=None) -> Answer:
        """Tutor.ask for one student of the classroom (`on_stage` as there), or BUSY when the room is full."""
        if not self._admitted.acquire(blocking=False):
            log.info("classroom full (%d questions at once): asked to wait", self.config.max_students)
            verdict = AnswerVerdict(Verdict.ABSTAINED, 1.0, [], BUSY, f"{self.config.max_students} questions were already being answered.")
            return Answer(question, BUSY, [], self.tutor.model_name, {}, verdict)
        try:
            with self.calls.student():
                return self.tutor.ask(question, session, on_stage)
        finally:
            self._admitted.release()

    def close(self) -> None:
        self.calls.close()
