"""The conversation log: answers in, the review queue out, marks stored and exported; no models needed."""

from __future__ import annotations

import io
import json
import sqlite3
import threading

import pytest

from engine.conversation_log import ConversationLog, default_path
from engine.core.errors import StudyBuddyError
from engine.core.vocabulary import Answer, AnswerVerdict, Claim, ClaimVerdict, Evidence, Passage, Support, Verdict

PASSAGE = Passage("7 × 8 is 56.", "Sample Book", "Chapter 8: Multiplication", "Sample Book/ch08.md", chunk_id=3)


def answer(verdict: Verdict, text: str = "7 × 8 is 56.", question: str = "What is 7 × 8?") -> Answer:
    claim = ClaimVerdict(Claim("7 × 8 is 54.", (0, 12)), Support.CONTRADICTED, 0.1, Evidence(PASSAGE, 0.1, 0.8, 0.1), "7 × 8 is 56.")
    return Answer(question, text, [PASSAGE], "test-model", {}, AnswerVerdict(verdict, 0.7, [claim], text, "why"))


@pytest.fixture
def log(tmp_path) -> ConversationLog:
    return ConversationLog(tmp_path / "logs" / "conversations.sqlite3")


def test_default_path_is_in_the_logs_folder(config):
    assert default_path(config) == config.logs_dir / "conversations.sqlite3"


def test_database_uses_wal(log):
    with sqlite3.connect(log.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_logged_answer_keeps_verdict_claims_and_citations(log):
    conversation = log.log_answer("session-1", "sample", answer(Verdict.CORRECTED))
    [row] = log.recent(10)
    assert row["id"] == conversation and row["session_id"] == "session-1" and row["library"] == "sample"
    assert row["verdict"] == "corrected" and row["confidence"] == pytest.approx(0.7)
    assert row["claims"][0]["correction"] == "7 × 8 is 56." and row["claims"][0]["verdict"] == "contradicted"
    assert row["citations"][0]["section"] == "Chapter 8: Multiplication"
    assert row["model"] == "test-model" and row["mark"] is None


def test_queue_holds_only_unreviewed_doubtful_answers(log):
    grounded = log.log_answer("s", "sample", answer(Verdict.GROUNDED))
    ids = [log.log_answer("s", "sample", answer(v)) for v in (Verdict.CORRECTED, Verdict.FLAGGED, Verdict.ABSTAINED)]
    assert [r["id"] for r in log.review_queue(10)] == ids
    log.mark(ids[0], "correct", "  fine  ")
    assert [r["id"] for r in log.review_queue(10)] == ids[1:]
    assert grounded not in [r["id"] for r in log.review_queue(10)]


def test_marking_again_replaces_and_bad_marks_are_refused(log):
    conversation = log.log_answer("s", "sample", answer(Verdict.FLAGGED))
    log.mark(conversation, "correct")
    log.mark(conversation, "wrong", "says 54")
    assert [(m["mark"], m["note"]) for m in log.marks()] == [("wrong", "says 54")]
    with pytest.raises(StudyBuddyError):
        log.mark(conversation, "maybe")
    with pytest.raises(StudyBuddyError):
        log.mark(9999, "correct")


def test_export_writes_one_golden_question_per_mark(log, tmp_path):
    first = log.log_answer("s", "sample", answer(Verdict.CORRECTED))
    log.log_answer("s", "sample", answer(Verdict.FLAGGED))
    log.mark(first, "wrong", "check the table")
    buffer = io.StringIO()
    assert log.export_marks_jsonl(buffer) == 1
    [line] = buffer.getvalue().splitlines()
    record = json.loads(line)
    assert record["question"] == "What is 7 × 8?" and record["mark"] == "wrong" and record["note"] == "check the table"
    assert record["citations"] == [{"book": "Sample Book", "section": "Chapter 8: Multiplication", "doc_id": "Sample Book/ch08.md"}]
    assert log.export_marks_jsonl(tmp_path / "marks.jsonl") == 1
    assert json.loads((tmp_path / "marks.jsonl").read_text())["id"] == first


def test_no_student_names_are_stored(log):
    with sqlite3.connect(log.path) as db:
        columns = {row[1] for table in ("conversations", "reviews") for row in db.execute(f"PRAGMA table_info({table})")}
    assert not {"name", "student", "student_name", "user"} & columns


def test_threads_can_share_one_log(log):
    def write(n: int) -> None:
        for _ in range(5):
            log.log_answer(f"s{n}", "sample", answer(Verdict.GROUNDED))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(log.recent(100)) == 20
