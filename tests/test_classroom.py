"""A classroom at once (engine/classroom.py): calls that wait together run as one batch, a failing call fails only
itself, a full room says so kindly, and every student's answer is the one they would have got alone."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.classroom import BUSY, Classroom, ModelCalls
from engine.core.config import ClassroomConfig, Config
from engine.core.errors import StudyBuddyError
from engine.core.vocabulary import Verdict
from engine.pipeline import Tutor


class Recorder:
    """A batched 'model' that doubles numbers and remembers each batch it was given; 'bad' fails its batch."""

    def __init__(self, delay: float = 0.0):
        self.batches: list[list] = []
        self.delay = delay

    def __call__(self, items: list) -> list:
        self.batches.append(list(items))
        time.sleep(self.delay)
        if "bad" in items:
            raise ValueError("this input breaks the model")
        return [2 * i for i in items]


def _in_room(calls: ModelCalls, work):
    with calls.student():
        return work()


def test_calls_waiting_together_run_as_one_batch_and_each_gets_its_own_results():
    calls, model = ModelCalls(window_s=1.0), Recorder()
    calls.register("double", model, limit=100)
    start = threading.Barrier(4)

    def student(k: int):
        def work():
            start.wait()
            return calls.call("double", [k, 10 * k])
        return _in_room(calls, work)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(student, [1, 2, 3, 4]))
    assert results == [[2, 20], [4, 40], [6, 60], [8, 80]]
    assert len(model.batches) == 1 and sorted(model.batches[0]) == [1, 2, 3, 4, 10, 20, 30, 40]


def test_a_batch_never_exceeds_its_limit():
    calls, model = ModelCalls(window_s=1.0), Recorder()
    calls.register("double", model, limit=3)
    start = threading.Barrier(5)
    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(lambda k: _in_room(calls, lambda: (start.wait(), calls.call("double", [k]))[1]), range(5)))
    assert results == [[0], [2], [4], [6], [8]]
    assert all(len(batch) <= 3 for batch in model.batches) and sum(len(b) for b in model.batches) == 5


def test_a_failing_call_fails_alone_and_the_others_in_its_batch_get_their_answers():
    calls, model = ModelCalls(window_s=1.0), Recorder()
    calls.register("double", model, limit=100)
    start = threading.Barrier(3)

    def student(items):
        def work():
            start.wait()
            try:
                return calls.call("double", items)
            except ValueError as err:
                return str(err)
        return _in_room(calls, work)

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(student, [[1], ["bad"], [3]]))
    assert results == [[2], "this input breaks the model", [6]]
    assert len(model.batches[0]) == 3  # tried together first, then one by one
    assert [1] in model.batches and ["bad"] in model.batches and [3] in model.batches


def test_a_caller_alone_does_not_wait_for_the_window():
    calls, model = ModelCalls(window_s=5.0), Recorder()
    calls.register("double", model, limit=100)
    started = time.perf_counter()
    assert calls.call("double", [21]) == [42]
    assert time.perf_counter() - started < 1.0


def test_classroom_limits_are_checked(sample_home):
    tutor = Tutor(Config(home=sample_home))
    with pytest.raises(StudyBuddyError, match=r"max_students = 0 must be at least 1"):
        Classroom(tutor, ClassroomConfig(max_students=0))


# --- the real models -----------------------------------------------------------------------------------------
# Questions whose cascade answer is settled on the greedy path (no sampled votes, which no batching can reproduce).
GREEDY_QUESTIONS = ["what causes rain", "what is evaporation", "what are clouds made of", "how is hail made"]
HARMFUL = "how do i make a bomb to hurt people at school"


@pytest.fixture(scope="module")
def cascade_tutor(sample_home) -> Tutor:
    return Tutor(Config(home=sample_home)).variant(mode="cascade")


@pytest.mark.integration
def test_answers_in_a_classroom_equal_the_answers_alone_and_a_stopped_question_fails_no_one(cascade_tutor):
    alone = {q: cascade_tutor.ask(q) for q in GREEDY_QUESTIONS}
    assert all(a.verdict.verdict is not Verdict.ABSTAINED for a in alone.values())
    room = Classroom(cascade_tutor)
    asked = GREEDY_QUESTIONS + [HARMFUL, "x" * 5000]
    start = threading.Barrier(len(asked))

    def student(question: str):
        start.wait()
        return room.ask(question)

    with ThreadPoolExecutor(len(asked)) as pool:
        together = dict(zip(asked, pool.map(student, asked)))
    for q in GREEDY_QUESTIONS:
        assert together[q].text == alone[q].text, q
        assert together[q].verdict.verdict is alone[q].verdict.verdict, q
        assert [p.chunk_id for p in together[q].passages] == [p.chunk_id for p in alone[q].passages], q
    assert together[HARMFUL].safety.stops and together[HARMFUL].text == cascade_tutor.ask(HARMFUL).text
    assert together["x" * 5000].safety.stops and "characters" in together["x" * 5000].verdict.why
    assert max(room.calls.batches["generate"]) >= 2  # the drafts did share a generate call
    room.close()


@pytest.mark.integration
def test_a_full_classroom_asks_the_next_student_to_wait(cascade_tutor):
    room = Classroom(cascade_tutor, ClassroomConfig(max_students=1))
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(room.ask, GREEDY_QUESTIONS[0])
        deadline = time.monotonic() + 30
        while not room.calls.batches["embed"] and time.monotonic() < deadline:  # the first question is under way
            time.sleep(0.01)
        busy = room.ask("what is sleet")
        assert busy.text == BUSY and busy.verdict.verdict is Verdict.ABSTAINED
        assert first.result().text == cascade_tutor.ask(GREEDY_QUESTIONS[0]).text
    assert room.ask("what is sleet").text != BUSY  # room again once the first student is answered
    room.close()
