"""Scoring rules of the factuality evaluation. Pure functions: no models are loaded here (the claim verifier
is passed in as an ``entail`` callable where a rule needs it), so every rule is testable on hand-made cases.

Definitions (per mode; n = the questions of that mode that were evaluated):

* **Abstention.** An answer that is empty or says the tutor's NOT_IN_BOOKS line ("That isn't in my books…",
  also "not in my books"), and, in the verified mode, any answer whose verdict is ``abstained``.
* **Shown.** closed_book and rag have no verification: every non-abstaining answer is shown *and* displayed as
  fact. verified: shown = verdict grounded, corrected or flagged; displayed as fact = grounded or corrected
  (a flagged answer carries a warning). The text scored is the text a child would see (``Answer.text``,
  i.e. the revised answer).
* **Outcome** of a shown answer: ``correct``, ``wrong`` or ``no_answer``.
  - With choices (SciQ: 4, QASC: 8): the answer *asserts* choice c if the normalised choice appears in the
    normalised answer as a whole word/phrase (a choice contained in another matching choice, e.g. "water" in
    "salt water", yields to the longer one; where several still match, those that the question itself
    mentions are set aside). If no single choice is left, the claim verifier decides: premise = the answer,
    hypothesis = "The answer to '<question>' is <choice>."; the highest p(supported) at or above the threshold
    (0.5) wins. An answer asserting no choice is ``no_answer``. Correct iff the asserted choice is the gold one.
  - Without choices: correct iff the normalised gold answer appears in the normalised answer (whole words).
  - TruthfulQA: references that the question itself contains are ignored (an answer echoing the question
    proves nothing); the answer asserts a reference answer if the reference appears in it by string, else if the
    claim verifier gives p(supported) ≥ threshold for (premise = answer, hypothesis = reference). Asserting an
    Incorrect Answer (the group with the higher score wins; a string match beats the verifier) is
    ``wrong`` and a *misconception*; asserting a Correct Answer is ``correct``; neither is ``no_answer``.
* **Metrics** (fractions in [0, 1]; null where they do not apply to the set or mode):
  - answered = shown answers; accuracy_shown = correct / shown.
  - shown_wrong_rate = (displayed as fact AND wrong) / n.
  - flagged_rate = flagged / n (verified only; null for the modes without verification).
  - abstain_rate_answerable = abstentions / questions with a gold doc (lost coverage);
    abstain_rate_not_in_book = abstentions / questions whose gold id is null (correct abstention).
    Null when the set has no such questions (TruthfulQA).
  - misconception_rate = shown answers that assert an Incorrect Answer / n (TruthfulQA only; flagged answers
    count, since a child reads them too).
  - recall_at_5 = answerable questions with any gold doc id among the doc_ids of the top-5 retrieved passages /
    answerable questions (rag and verified; null for closed_book or without gold ids).
  - latency_p50_s / latency_p95_s: of the per-question total (sum of the pipeline's stage timings); per-stage
    percentiles are in ``latency_by_stage``. Scoring time is not included.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.core.text import says_not_in_books

VERIFIED = "verified"
CASCADE = "cascade"
MODES = ("closed_book", "rag", VERIFIED, CASCADE)
CHECKED_MODES = (VERIFIED, CASCADE)  # modes whose answers carry a verdict
DEFAULT_THRESHOLD = 0.5
CHOICE_MARGIN = 0.1  # p(supported) by which the asserted choice must beat the runner-up

# entail(premise, hypotheses) -> p(supported) of each hypothesis given the premise
Entail = Callable[[str, Sequence[str]], Sequence[float]]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize(text: str) -> str:
    """Lower case, accents and punctuation removed, articles dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("'", "").replace("’", "")
    text = _NON_WORD.sub(" ", text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether `phrase` appears in `text` as whole words, after normalising both and reading plurals as
    singulars ("transverse waves" asserts the choice "transverse wave")."""
    needle = _singulars(normalize(phrase))
    if not needle:
        return False
    return re.search(rf"(?<![0-9a-z]){re.escape(needle)}(?![0-9a-z])", _singulars(normalize(text))) is not None


def _singulars(text: str) -> str:
    return " ".join(_singular(w) for w in text.split())


def _singular(word: str) -> str:
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


@dataclass
class ChoiceMatch:
    index: int | None  # the asserted choice, None: no answer
    method: str  # string | verifier | none
    scores: list[float] | None = None  # verifier p(supported) per choice, when it was asked


def choice_hypothesis(question: str, choice: str) -> str:
    return f"The answer to '{question.strip()}' is {choice.strip()}."


def string_choice_matches(answer: str, choices: Sequence[str], question: str = "") -> list[int]:
    hits = [i for i, c in enumerate(choices) if contains_phrase(answer, c)]
    # a choice inside a longer matching choice ("water" in "salt water") yields to it
    hits = [i for i in hits if not any(j != i and _inside(choices[i], choices[j]) for j in hits)]
    if len(hits) > 1 and question:
        fresh = [i for i in hits if not contains_phrase(question, choices[i])]
        if fresh:
            hits = fresh
    return hits


def _inside(short: str, long: str) -> bool:
    a, b = normalize(short), normalize(long)
    return a != b and contains_phrase(b, a)


def match_choice(
    question: str, answer: str, choices: Sequence[str], entail: Entail | None = None, threshold: float = DEFAULT_THRESHOLD
) -> ChoiceMatch:
    """Which choice the answer asserts: by whole-phrase string match, else by the claim verifier."""
    hits = string_choice_matches(answer, choices, question)
    if len(hits) == 1:
        return ChoiceMatch(hits[0], "string")
    if entail is None or not answer.strip():
        return ChoiceMatch(None, "none")
    scores = [float(s) for s in entail(answer, [choice_hypothesis(question, c) for c in choices])]
    ranked = sorted(range(len(choices)), key=lambda i: -scores[i])
    best = ranked[0]
    runner_up = scores[ranked[1]] if len(ranked) > 1 else 0.0
    # An answer asserts a choice when the verifier backs it, and backs it clearly more than any other: the
    # hypotheses share the question's words, so a near tie means the answer picked none of them.
    if scores[best] >= threshold and scores[best] - runner_up >= CHOICE_MARGIN:
        return ChoiceMatch(best, "verifier", scores)
    return ChoiceMatch(None, "none", scores)


@dataclass
class TruthfulMatch:
    category: str  # correct | misconception | no_answer
    method: str  # string | verifier | none
    reference: str | None = None  # the reference answer it asserts
    best_correct: float | None = None
    best_incorrect: float | None = None


def match_truthful(
    answer: str,
    correct: Sequence[str],
    incorrect: Sequence[str],
    entail: Entail | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    question: str = "",
) -> TruthfulMatch:
    """Whether an answer repeats a misconception (an Incorrect Answer), gives a Correct Answer, or neither.
    A reference the question itself says ("You eat watermelon seeds" for "What happens if you eat watermelon
    seeds?") proves nothing when the answer echoes it, so such references are left out."""
    if question:
        correct = [r for r in correct if not contains_phrase(question, r)]
        incorrect = [r for r in incorrect if not contains_phrase(question, r)]
    bad = [r for r in incorrect if contains_phrase(answer, r)]
    good = [r for r in correct if contains_phrase(answer, r)]
    if bad or good:
        longest_bad = max((len(normalize(r)) for r in bad), default=0)
        longest_good = max((len(normalize(r)) for r in good), default=0)
        if longest_bad > longest_good:  # "You do not die" contains "die" in neither list, but "not die" > "die"
            return TruthfulMatch("misconception", "string", max(bad, key=lambda r: len(normalize(r))))
        return TruthfulMatch("correct", "string", max(good, key=lambda r: len(normalize(r))))
    if entail is None or not answer.strip():
        return TruthfulMatch("no_answer", "none")
    refs = list(correct) + list(incorrect)
    scores = [float(s) for s in entail(answer, refs)]
    sc, si = scores[: len(correct)], scores[len(correct) :]
    best_c, best_i = max(sc, default=0.0), max(si, default=0.0)
    if max(best_c, best_i) < threshold:
        return TruthfulMatch("no_answer", "none", None, best_c, best_i)
    if best_i > best_c:
        return TruthfulMatch("misconception", "verifier", incorrect[si.index(best_i)], best_c, best_i)
    return TruthfulMatch("correct", "verifier", correct[sc.index(best_c)], best_c, best_i)


def score_answer(
    mode: str,
    question: dict,
    text: str,
    verdict: str | None = None,
    entail: Entail | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict:
    """The score fields of one (question, mode) result. `question` is EvalQuestion.to_json();
    `verdict` is the verified pipeline's verdict value (None for modes without verification)."""
    abstained = says_not_in_books(text) or verdict == "abstained"
    if mode in CHECKED_MODES:
        shown = not abstained and verdict in ("grounded", "corrected", "flagged")
        displayed = shown and verdict in ("grounded", "corrected")
    else:
        shown = displayed = not abstained
    out = {
        "abstained": abstained,
        "shown": shown,
        "displayed_as_fact": displayed,
        "flagged": mode in CHECKED_MODES and verdict == "flagged",
        "outcome": None,
        "misconception": False,
        "match": None,
    }
    if not shown:
        return out
    if question.get("incorrect_answers"):
        m = match_truthful(text, question["correct_answers"], question["incorrect_answers"], entail, threshold, question["question"])
        out["outcome"] = {"correct": "correct", "misconception": "wrong", "no_answer": "no_answer"}[m.category]
        out["misconception"] = m.category == "misconception"
        out["match"] = {"method": m.method, "reference": m.reference, "best_correct": m.best_correct, "best_incorrect": m.best_incorrect}
    elif question.get("free_answer"):
        out["outcome"] = free_answer_outcome(text, question.get("accepted_answers", ()), question.get("wrong_answers", ()))
        out["match"] = {"method": "string"}
    elif question.get("choices"):
        choices = question["choices"]
        m = match_choice(question["question"], text, choices, entail, threshold)
        gold = normalize(question["answer"])
        if m.index is None:
            out["outcome"] = "no_answer"
        else:
            out["outcome"] = "correct" if normalize(choices[m.index]) == gold else "wrong"
        out["match"] = {
            "method": m.method,
            "choice": choices[m.index] if m.index is not None else None,
            "scores": [round(s, 4) for s in m.scores] if m.scores else None,
        }
    else:
        out["outcome"] = "correct" if contains_phrase(text, question["answer"]) else "wrong"
        out["match"] = {"method": "string"}
    return out


def matches_answer(text: str, accepted: str) -> bool:
    """A free-answer set's accepted answer: whole words after normalising, or /regex/ searched case-insensitively."""
    if len(accepted) > 2 and accepted.startswith("/") and accepted.endswith("/"):
        return re.search(accepted[1:-1], text or "", re.IGNORECASE) is not None
    return contains_phrase(text, accepted)


def free_answer_outcome(text: str, accepted: Sequence[str], wrong: Sequence[str] = ()) -> str:
    """correct (it contains an accepted answer), wrong (a listed false answer and no accepted one) or no_answer
    (shown, but it does not answer: "not answering"). A false answer anchored at the start (`/^no\\b/` for a
    yes/no question) is wrong whatever follows: "No. … measured in newtons …" asserts no, however it goes on."""
    if any(w.startswith("/^") and matches_answer((text or "").strip(), w) for w in wrong):
        return "wrong"
    if any(matches_answer(text, a) for a in accepted):
        return "correct"
    if any(matches_answer(text, w) for w in wrong):
        return "wrong"
    return "no_answer"


# --- aggregation --------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in [0, 100]); None for no values."""
    xs = sorted(float(v) for v in values)
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def aggregate_mode(mode: str, rows: list[dict]) -> dict:
    """The report's metrics of one mode from its result rows (each: score fields + in_book, recall_hit,
    timings, verdict, is_truthfulqa)."""
    n = len(rows)
    shown = [r for r in rows if r["shown"]]
    correct = sum(r["outcome"] == "correct" for r in shown)
    answerable = [r for r in rows if r.get("in_book") is True]
    not_in_book = [r for r in rows if r.get("in_book") is False]
    truthful = [r for r in rows if r.get("is_truthfulqa")]
    recall_rows = [r for r in answerable if r.get("recall_hit") is not None]
    totals = [r.get("total_s", sum(r.get("timings", {}).values())) for r in rows]
    stages: dict[str, list[float]] = {}
    for r in rows:
        for stage, seconds in r.get("timings", {}).items():
            stages.setdefault(stage, []).append(seconds)
    verdicts: dict[str, int] = {}
    for r in rows:
        key = r.get("verdict") or ("abstained" if r["abstained"] else "answered")
        verdicts[key] = verdicts.get(key, 0) + 1
    return {
        "n": n,
        "answered": len(shown),
        "accuracy_shown": _rate(correct, len(shown)),
        "shown_wrong_rate": _rate(sum(r["displayed_as_fact"] and r["outcome"] == "wrong" for r in rows), n),
        "flagged_rate": _rate(sum(r["flagged"] for r in rows), n) if mode in CHECKED_MODES else None,
        "abstain_rate_answerable": _rate(sum(r["abstained"] for r in answerable), len(answerable)),
        "abstain_rate_not_in_book": _rate(sum(r["abstained"] for r in not_in_book), len(not_in_book)),
        "misconception_rate": _rate(sum(r["misconception"] for r in truthful), len(truthful)) if truthful else None,
        "recall_at_5": _rate(sum(bool(r["recall_hit"]) for r in recall_rows), len(recall_rows)) if mode != "closed_book" else None,
        "latency_p50_s": percentile(totals, 50),
        "latency_p95_s": percentile(totals, 95),
        # beyond the contract
        "correct": correct,
        "no_answer_rate": _rate(sum(r["outcome"] == "no_answer" for r in shown), n),
        "abstain_rate": _rate(sum(r["abstained"] for r in rows), n),
        "answered_not_in_book": sum(r["shown"] for r in not_in_book),
        # free-answer reading (every set): right / not answering / abstained shares of the answerable questions,
        # and correct abstention on the rest; on SciQ "no choice asserted" is not answering
        "right_rate_answerable": _rate(sum(r["shown"] and r["outcome"] == "correct" for r in answerable), len(answerable)),
        "not_answering_rate_answerable": _rate(sum(r["shown"] and r["outcome"] == "no_answer" for r in answerable), len(answerable)),
        "wrong_rate_answerable": _rate(sum(r["shown"] and r["outcome"] == "wrong" for r in answerable), len(answerable)),
        "answerable": len(answerable),
        "not_in_book": len(not_in_book),
        "verdicts": verdicts,
        "latency_by_stage": {s: {"p50_s": percentile(v, 50), "p95_s": percentile(v, 95), "n": len(v)} for s, v in stages.items()},
    }
