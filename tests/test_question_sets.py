"""Loading and validating evaluation question sets: good lines are kept, bad ones named by line and field."""

from __future__ import annotations

import json

import pytest

from engine.core.errors import StudyBuddyError
from engine.evaluation.question_sets import check_gold_ids, load_questions
from tests.conftest import SHARED_DATA


def write_lines(path, lines):
    path.write_text("\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "a", "question": "Who proposed evolution?", "choices": ["shaw", "darwin"], "answer": "darwin", "gold_doc_id": "d1"}


def test_jsonl_fields_and_gold_ids(tmp_path):
    path = write_lines(tmp_path / "q.jsonl", [
        GOOD,
        {**GOOD, "id": "b", "gold_doc_id": None},
        {"id": "c", "question": "Q?", "answer": "x", "gold_doc_ids": ["d1", "d2"]},
        {"question": "No id or gold?", "answer": "y"},
    ])
    qs = load_questions(path)
    assert qs.format == "jsonl" and qs.skipped_lines == 0
    a, b, c, d = qs.questions
    assert a.in_book is True and a.choices == ("shaw", "darwin") and a.gold_doc_ids == ("d1",)
    assert b.in_book is False and b.gold_doc_ids == ()  # present but null: not in the books
    assert c.gold_doc_ids == ("d1", "d2")
    assert d.id == "line-4" and d.in_book is None


def test_malformed_line_and_missing_field_are_named_and_skipped(tmp_path):
    path = write_lines(tmp_path / "q.jsonl", [
        GOOD,
        '{"id": "broken", "question": ',
        {"id": "nq", "answer": "x"},
        {"id": "badchoice", "question": "Q?", "answer": "z", "choices": ["x", "y"]},
        {**GOOD, "id": "a"},
        {**GOOD, "id": "e", "gold_doc_id": 5},
    ])
    qs = load_questions(path)
    assert [q.id for q in qs.questions] == ["a"]
    assert qs.skipped_lines == 5
    assert qs.problems[0].startswith("q.jsonl line 2: not valid JSON")
    assert qs.problems[1] == "q.jsonl line 3: missing required field 'question'"
    assert "line 4" in qs.problems[2] and "'choices'" in qs.problems[2]
    assert "line 5" in qs.problems[3] and "appears twice" in qs.problems[3]
    assert "line 6" in qs.problems[4] and "'gold_doc_id'" in qs.problems[4]


def test_unknown_extension(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("Who?\n")
    with pytest.raises(StudyBuddyError, match="Unknown question-set format '.txt'") as err:
        load_questions(path)
    assert "JSONL" in err.value.fix


def test_empty_file(tmp_path):
    (tmp_path / "q.jsonl").write_text("\n  \n")
    with pytest.raises(StudyBuddyError, match="is empty"):
        load_questions(tmp_path / "q.jsonl")


def test_missing_file(tmp_path):
    with pytest.raises(StudyBuddyError, match="does not exist"):
        load_questions(tmp_path / "nope.jsonl")


def test_no_usable_line_names_the_first_problems(tmp_path):
    path = write_lines(tmp_path / "q.jsonl", ["not json", {"id": "x", "question": "Q?"}])
    with pytest.raises(StudyBuddyError, match=r"line 1: not valid JSON.*line 2: missing required field 'answer'"):
        load_questions(path)


def test_gold_ids_not_in_the_kb(tmp_path):
    path = write_lines(tmp_path / "q.jsonl", [GOOD, {**GOOD, "id": "b", "gold_doc_id": "missing"}, {**GOOD, "id": "c", "gold_doc_id": None}])
    qs = check_gold_ids(load_questions(path), {"d1"}, "lib")
    assert [q.id for q in qs.questions] == ["a", "c"] and qs.skipped_lines == 1
    assert "line 2" in qs.problems[0] and "missing" in qs.problems[0] and "library 'lib'" in qs.problems[0]


def test_gold_ids_none_in_the_kb_is_an_error(tmp_path):
    path = write_lines(tmp_path / "q.jsonl", [GOOD, {**GOOD, "id": "b", "gold_doc_id": "d9"}])
    with pytest.raises(StudyBuddyError, match="None of the gold document ids") as err:
        check_gold_ids(load_questions(path), {"other"}, "lib")
    assert "line 1" in err.value.problem and "--kb" in err.value.fix


CSV_HEADER = "Type,Category,Question,Best Answer,Best Incorrect Answer,Correct Answers,Incorrect Answers,Source\n"


def test_truthfulqa_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        CSV_HEADER
        + 'Adversarial,Misconceptions,What happens if you eat seeds?,They pass through,You grow plants,"Nothing happens; They pass through",You grow plants; You get sick,src\n'
        + "Adversarial,Misconceptions,,,,,,src\n",
        encoding="utf-8",
    )
    qs = load_questions(path)
    assert qs.format == "truthfulqa" and len(qs.questions) == 1 and qs.skipped_lines == 1
    q = qs.questions[0]
    assert q.id == "tqa-0001" and q.in_book is None and q.is_truthfulqa
    assert q.correct_answers == ("Nothing happens", "They pass through")
    assert q.incorrect_answers == ("You grow plants", "You get sick")
    assert "t.csv line 3: missing required field 'Question'" == qs.problems[0]


def test_csv_without_truthfulqa_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("question,answer\nWho?,Me\n")
    with pytest.raises(StudyBuddyError, match="missing column"):
        load_questions(path)


@pytest.mark.parametrize("name", ["sciq_valid_questions.jsonl", "qasc_dev_questions.jsonl", "truthfulqa_dev.csv"])
def test_shared_sets_load_cleanly(name):
    path = SHARED_DATA / "eval" / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data folder is not here)")
    qs = load_questions(path)
    assert qs.questions and qs.skipped_lines == 0, qs.problems[:3]


def test_free_answer_set_reads_answers_and_not_in_book(tmp_path):
    path = tmp_path / "kids.jsonl"
    path.write_text(
        '{"id": "a", "question": "whats the biggest planet", "answers": ["Jupiter"], "wrong_answers": ["Saturn"]}\n'
        '{"id": "b", "question": "what do pandas eat", "not_in_book": true}\n'
        '{"id": "c", "question": "bad", "answers": []}\n'
        '{"id": "d", "question": "bad regex", "answers": ["/(unclosed/"]}\n',
        encoding="utf-8",
    )
    qset = load_questions(path)
    a, b = qset.questions
    assert a.free_answer and a.in_book is True and a.accepted_answers == ("Jupiter",) and a.wrong_answers == ("Saturn",)
    assert b.in_book is False
    assert qset.skipped_lines == 2
    assert "line 3" in qset.problems[0] and "line 4" in qset.problems[1] and "regular expression" in qset.problems[1]


def test_the_committed_kid_sets_load_and_split_30_percent():
    from pathlib import Path

    data = Path(__file__).parent / "data"
    full = load_questions(data / "kid_questions_sample.jsonl").questions + load_questions(data / "kid_questions_physics.jsonl").questions
    assert len(full) >= 150 and sum(q.in_book is False for q in full) >= 30
    held = [q for q in full if q.split == "heldout"]
    assert 0.2 <= len(held) / len(full) <= 0.4


def test_the_fresh_sample_set_is_new_questions_over_the_same_book():
    from pathlib import Path

    data = Path(__file__).parent / "data"
    fresh = load_questions(data / "kid_questions_sample.fresh.jsonl")
    assert not fresh.problems and len(fresh.questions) == 45
    assert sum(q.in_book is False for q in fresh.questions) == 12 and all(q.split == "fresh" for q in fresh.questions)
    older = {q.question.lower().strip(" ?") for q in load_questions(data / "kid_questions_sample.jsonl").questions}
    assert not older & {q.question.lower().strip(" ?") for q in fresh.questions}
