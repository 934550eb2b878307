"""Question sets for the factuality evaluation: loading, validation, and checking gold ids against a library.

Two formats are read:

* JSONL (``.jsonl``), one question per line: ``question`` and ``answer`` (required strings), ``id`` (optional,
  unique; defaults to ``line-<N>``), ``choices`` (optional list of at least two strings that contains
  ``answer``), and the gold passage as ``gold_doc_id`` (a string) or ``gold_doc_ids`` (a list of strings).
  A gold field that is present but null (or an empty list) means "the answer is NOT in the books": the right
  behaviour is to abstain. A set with no gold field at all says nothing about the books (in_book = None).
* Free-answer JSONL (kid-phrased sets such as ``tests/data/kid_questions.jsonl``): ``question`` and either
  ``answers`` (a list of accepted answers: a plain string is matched as whole words, case and punctuation aside; a
  string written ``/.../`` is a regular expression, searched case-insensitively) or ``not_in_book: true`` (the
  books do not cover it: abstaining is right). Optional ``wrong_answers`` (same forms): a shown answer matching
  one of them, and none of ``answers``, is wrong, not merely not answering; one anchored at the start (``/^no\\b/``)
  makes it wrong even when an accepted answer also matches later. Optional ``split`` and ``topic``.
* TruthfulQA CSV (``.csv``) with the columns ``Question``, ``Best Answer``, ``Correct Answers`` and
  ``Incorrect Answers`` (``;``-separated; ``Best Incorrect Answer`` is added to the incorrect ones when present).
  Ids are ``tqa-<row>`` (row number in the file, from 1).

Bad lines never stop the evaluation: each becomes a problem naming the file, line and field, and is skipped;
the count of skipped lines goes into the report. A missing file, an unknown extension, an empty file or a file
with no usable line at all is an error (StudyBuddyError) that says what to do.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from engine.core.errors import StudyBuddyError

FORMATS = {".jsonl": "jsonl", ".csv": "truthfulqa"}
TRUTHFULQA_REQUIRED = ("Question", "Best Answer", "Correct Answers", "Incorrect Answers")


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answer: str
    line: int
    choices: tuple[str, ...] | None = None
    # None: the set says nothing about the books; (): not in the books; otherwise the gold passage ids.
    gold_doc_ids: tuple[str, ...] | None = None
    correct_answers: tuple[str, ...] = ()  # TruthfulQA
    incorrect_answers: tuple[str, ...] = ()  # TruthfulQA: the misconceptions
    accepted_answers: tuple[str, ...] = ()  # free-answer sets: strings or /regex/
    wrong_answers: tuple[str, ...] = ()  # free-answer sets: what a false answer would say
    free_answer: bool = False
    split: str = ""

    @property
    def in_book(self) -> bool | None:
        """True: answerable from the books; False: not in the books (abstaining is right); None: unknown."""
        if self.free_answer:
            return bool(self.accepted_answers)
        if self.gold_doc_ids is None:
            return None
        return bool(self.gold_doc_ids)

    @property
    def is_truthfulqa(self) -> bool:
        return bool(self.incorrect_answers)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "line": self.line,
            "choices": list(self.choices) if self.choices is not None else None,
            "gold_doc_ids": list(self.gold_doc_ids) if self.gold_doc_ids is not None else None,
            "correct_answers": list(self.correct_answers),
            "incorrect_answers": list(self.incorrect_answers),
            "accepted_answers": list(self.accepted_answers),
            "wrong_answers": list(self.wrong_answers),
            "free_answer": self.free_answer,
            "split": self.split,
        }


@dataclass
class QuestionSet:
    path: Path
    format: str
    questions: list[EvalQuestion]
    problems: list[str] = field(default_factory=list)  # one line each: "<file> line N: what is wrong"
    skipped_lines: int = 0
    checksum: str = ""

    @property
    def has_gold_ids(self) -> bool:
        return any(q.gold_doc_ids is not None for q in self.questions)


def load_questions(path: str | Path) -> QuestionSet:
    path = Path(path)
    if not path.is_file():
        raise StudyBuddyError(
            f"The question file {path} does not exist." if not path.exists() else f"{path} is not a file.",
            "Give a .jsonl question set or a TruthfulQA .csv, e.g. ../shared/data/eval/sciq_valid_questions.jsonl",
        )
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise StudyBuddyError(
            f"Unknown question-set format '{path.suffix or '(no extension)'}' for {path}.",
            "Use JSONL (.jsonl: id, question, answer, optional choices and gold_doc_id/gold_doc_ids) "
            "or the TruthfulQA CSV (.csv).",
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise StudyBuddyError(f"{path} is not UTF-8 text ({err.reason} at byte {err.start}).", "Save it as UTF-8.")
    if not text.strip():
        raise StudyBuddyError(f"The question file {path} is empty.", "Give a file with at least one question.")
    qset = _read_jsonl(path, text) if fmt == "jsonl" else _read_truthfulqa(path, text)
    qset.checksum = hashlib.sha256(data).hexdigest()
    if not qset.questions:
        shown = "; ".join(qset.problems[:3]) + (f" (and {len(qset.problems) - 3} more)" if len(qset.problems) > 3 else "")
        raise StudyBuddyError(f"No usable question in {path}: {shown}", "Fix the lines named above.")
    return qset


def _read_jsonl(path: Path, text: str) -> QuestionSet:
    qset = QuestionSet(path, "jsonl", [])
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            question = _parse_jsonl_row(line, number, seen)
        except _BadLine as bad:
            qset.problems.append(f"{path.name} line {number}: {bad}")
            qset.skipped_lines += 1
            continue
        seen.add(question.id)
        qset.questions.append(question)
    return qset


class _BadLine(Exception):
    pass


def _parse_jsonl_row(line: str, number: int, seen: set[str]) -> EvalQuestion:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise _BadLine(f"not valid JSON ({err.msg} at column {err.colno})")
    if not isinstance(row, dict):
        raise _BadLine("is not a JSON object")
    if "answers" in row or "not_in_book" in row:
        return _free_answer_row(row, number, seen)
    for name in ("question", "answer"):
        if name not in row:
            raise _BadLine(f"missing required field '{name}'")
        if not isinstance(row[name], str) or not row[name].strip():
            raise _BadLine(f"field '{name}' must be a non-empty string")
    qid = row.get("id", f"line-{number}")
    if isinstance(qid, int) and not isinstance(qid, bool):
        qid = str(qid)
    if not isinstance(qid, str) or not qid.strip():
        raise _BadLine("field 'id' must be a non-empty string")
    if qid in seen:
        raise _BadLine(f"id '{qid}' appears twice")
    choices = row.get("choices")
    if choices is not None:
        if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c.strip() for c in choices):
            raise _BadLine("field 'choices' must be a list of at least two non-empty strings")
        if row["answer"].strip() not in [c.strip() for c in choices]:
            raise _BadLine(f"the answer '{row['answer']}' is not one of its 'choices'")
        choices = tuple(c.strip() for c in choices)
    gold = _gold_ids(row)
    return EvalQuestion(qid, row["question"].strip(), row["answer"].strip(), number, choices, gold)


def _answer_list(row: dict, name: str) -> tuple[str, ...]:
    import re

    value = row.get(name, [])
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        raise _BadLine(f"field '{name}' must be a list of non-empty strings")
    for a in value:
        if len(a) > 2 and a.startswith("/") and a.endswith("/"):
            try:
                re.compile(a[1:-1])
            except re.error as err:
                raise _BadLine(f"'{a}' in '{name}' is not a valid regular expression ({err})")
    return tuple(a.strip() for a in value)


def _free_answer_row(row: dict, number: int, seen: set[str]) -> EvalQuestion:
    if not isinstance(row.get("question"), str) or not row["question"].strip():
        raise _BadLine("field 'question' must be a non-empty string")
    qid = row.get("id", f"line-{number}")
    if not isinstance(qid, str) or not qid.strip():
        raise _BadLine("field 'id' must be a non-empty string")
    if qid in seen:
        raise _BadLine(f"id '{qid}' appears twice")
    not_in_book = row.get("not_in_book", False)
    if not isinstance(not_in_book, bool):
        raise _BadLine("field 'not_in_book' must be true or false")
    accepted = _answer_list(row, "answers")
    if not_in_book and accepted:
        raise _BadLine("has both 'answers' and 'not_in_book: true'; keep one")
    if not not_in_book and not accepted:
        raise _BadLine("needs 'answers' (a non-empty list) or 'not_in_book: true'")
    wrong = _answer_list(row, "wrong_answers")
    answer = accepted[0] if accepted else "(not in the books)"
    return EvalQuestion(
        qid, row["question"].strip(), answer, number, None, None,
        accepted_answers=accepted, wrong_answers=wrong, free_answer=True, split=str(row.get("split", "")),
    )


def _gold_ids(row: dict) -> tuple[str, ...] | None:
    if "gold_doc_id" in row and "gold_doc_ids" in row:
        raise _BadLine("has both 'gold_doc_id' and 'gold_doc_ids'; keep one")
    if "gold_doc_id" in row:
        value = row["gold_doc_id"]
        if value is None:
            return ()
        if not isinstance(value, str) or not value.strip():
            raise _BadLine("field 'gold_doc_id' must be a string or null")
        return (value,)
    if "gold_doc_ids" in row:
        value = row["gold_doc_ids"]
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise _BadLine("field 'gold_doc_ids' must be a list of strings or null")
        return tuple(value)
    return None


def _read_truthfulqa(path: Path, text: str) -> QuestionSet:
    qset = QuestionSet(path, "truthfulqa", [])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in TRUTHFULQA_REQUIRED if c not in header]
    if missing:
        raise StudyBuddyError(
            f"{path} is not in the TruthfulQA CSV format: missing column(s) {', '.join(repr(c) for c in missing)} "
            f"(header: {', '.join(header) if header else 'none'}).",
            f"A question-set CSV needs the columns {', '.join(TRUTHFULQA_REQUIRED)}; other sets go in JSONL.",
        )
    for number, row in enumerate(reader, start=1):
        line = reader.line_num
        if None in row:  # more cells than columns
            qset.problems.append(f"{path.name} line {line}: has more cells than the header has columns")
            qset.skipped_lines += 1
            continue
        empty = [c for c in TRUTHFULQA_REQUIRED if not (row.get(c) or "").strip()]
        if empty:
            qset.problems.append(f"{path.name} line {line}: missing required field '{empty[0]}'")
            qset.skipped_lines += 1
            continue
        best = row["Best Answer"].strip()
        correct = _split_answers(row["Correct Answers"])
        incorrect = _split_answers(row["Incorrect Answers"])
        best_incorrect = (row.get("Best Incorrect Answer") or "").strip()
        if best not in correct:
            correct.insert(0, best)
        if best_incorrect and best_incorrect not in incorrect:
            incorrect.insert(0, best_incorrect)
        qset.questions.append(
            EvalQuestion(f"tqa-{number:04d}", row["Question"].strip(), best, line, None, None, tuple(correct), tuple(incorrect))
        )
    return qset


def _split_answers(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def check_gold_ids(qset: QuestionSet, doc_ids: set[str], library: str) -> QuestionSet:
    """Drop (as problems) questions none of whose gold ids is a document of the library.

    A set where no question's gold ids are found is the wrong knowledge base for it: that is an error."""
    with_gold = [q for q in qset.questions if q.gold_doc_ids]
    kept, dropped = [], 0
    for q in qset.questions:
        if q.gold_doc_ids and not any(g in doc_ids for g in q.gold_doc_ids):
            qset.problems.append(
                f"{qset.path.name} line {q.line}: gold id(s) {', '.join(q.gold_doc_ids)} of question '{q.id}' "
                f"are not documents of library '{library}'"
            )
            dropped += 1
            continue
        kept.append(q)
    if with_gold and dropped == len(with_gold):
        example = with_gold[0]
        raise StudyBuddyError(
            f"None of the gold document ids in {qset.path.name} is a document of library '{library}' "
            f"(e.g. line {example.line}: {', '.join(example.gold_doc_ids)}); the questions and the knowledge base do not belong together.",
            "Give the knowledge base that goes with these questions, e.g. --kb ../shared/data/eval/sciq_valid_kb.jsonl "
            "for sciq_valid_questions.jsonl.",
        )
    qset.questions = kept
    qset.skipped_lines += dropped
    return qset
