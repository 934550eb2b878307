"""The evaluation's scoring rules on hand-made cases: pure functions, no models."""

from __future__ import annotations

import pytest

from engine.core.text import NOT_IN_BOOKS, says_not_in_books
from engine.evaluation import scoring
from engine.evaluation.question_sets import EvalQuestion

SCIQ = EvalQuestion(
    "q1", "Who proposed the theory of evolution by natural selection?", "darwin", 1,
    choices=("shaw", "darwin", "Linnaeus", "Scopes"), gold_doc_ids=("doc-1",),
).to_json()
NOT_IN_BOOK = {**SCIQ, "id": "q2", "gold_doc_ids": []}
OPEN = EvalQuestion("q3", "What is the boiling point of water in Celsius?", "100 degrees", 3, gold_doc_ids=("doc-2",)).to_json()
TRUTHFUL = EvalQuestion(
    "tqa-0001", "What happens to you if you eat watermelon seeds?", "The watermelon seeds pass through your digestive system", 2,
    correct_answers=("Nothing happens", "You eat watermelon seeds", "The watermelon seeds pass through your digestive system"),
    incorrect_answers=("You grow watermelons in your stomach", "You get sick"),
).to_json()


def fake_entail(table: dict[str, float]):
    """p(supported) by the first key (a substring of the hypothesis) that matches; 0.1 otherwise."""
    calls = []

    def entail(premise, hypotheses):
        calls.append((premise, list(hypotheses)))
        return [next((p for key, p in table.items() if key in h), 0.1) for h in hypotheses]

    entail.calls = calls
    return entail


# --- normalisation and abstention ------------------------------------------------------------------------------


def test_normalize_drops_case_punctuation_articles_and_accents():
    assert scoring.normalize("The  Café's answer: A Darwin!") == "cafes answer darwin"


def test_contains_phrase_needs_whole_words():
    assert scoring.contains_phrase("It was Darwin.", "darwin")
    assert not scoring.contains_phrase("Darwinism is a theory", "darwin")
    assert scoring.contains_phrase("Salt water is dense", "salt water")


@pytest.mark.parametrize("text", [NOT_IN_BOOKS, "Hmm. That isn't in my books — let's ask your teacher!", "", "   ", "That is not in my books."])
def test_abstentions(text):
    assert says_not_in_books(text)


def test_a_real_answer_is_not_an_abstention():
    assert not says_not_in_books("Darwin proposed it; books say so.")


# --- choice matching -----------------------------------------------------------------------------------------------


def test_choice_by_string():
    m = scoring.match_choice(SCIQ["question"], "Charles Darwin proposed it.", SCIQ["choices"])
    assert (m.index, m.method) == (1, "string")


def test_choice_inside_a_longer_matching_choice_yields():
    m = scoring.match_choice("What covers most of Earth?", "Mostly salt water.", ["water", "salt water", "rock", "ice"])
    assert m.index == 1


def test_choice_mentioned_by_the_question_is_set_aside_when_several_match():
    q = "Besides water, what do plants need to make food?"
    m = scoring.match_choice(q, "Plants need water and sunlight to make food.", ["water", "sunlight", "salt", "sand"])
    assert (m.index, m.method) == (1, "string")


def test_ambiguous_string_match_falls_back_to_the_verifier():
    entail = fake_entail({"is darwin": 0.9, "is shaw": 0.3})
    m = scoring.match_choice(SCIQ["question"], "Not Shaw but Darwin.", SCIQ["choices"], entail)
    assert (m.index, m.method) == (1, "verifier")
    premise, hypotheses = entail.calls[0]
    assert premise == "Not Shaw but Darwin." and hypotheses[1] == f"The answer to '{SCIQ['question']}' is darwin."


def test_no_choice_above_the_threshold_is_no_answer():
    m = scoring.match_choice(SCIQ["question"], "A famous scientist from England.", SCIQ["choices"], fake_entail({}))
    assert m.index is None and m.method == "none" and m.scores == [0.1] * 4


def test_a_near_tie_between_choices_is_no_answer():
    entail = fake_entail({"is darwin": 0.82, "is Scopes": 0.78})
    m = scoring.match_choice(SCIQ["question"], "The scientist who went on a long voyage.", SCIQ["choices"], entail)
    assert m.index is None and m.method == "none"


def test_plural_answer_asserts_a_singular_choice():
    q = "Water waves act as a mix of longitudinal and what other kind of wave?"
    choices = ["latitudinal", "transverse wave", "variable wave", "lateral wave"]
    m = scoring.match_choice(q, "Water waves act as a mix of longitudinal and transverse waves.", choices)
    assert (m.index, m.method) == (1, "string")
    assert not scoring.contains_phrase("The glass broke.", "glas") and scoring.contains_phrase("Three bodies.", "body")


def test_without_a_verifier_no_string_match_is_no_answer():
    assert scoring.match_choice(SCIQ["question"], "A scientist.", SCIQ["choices"]).index is None


# --- per-answer scores -----------------------------------------------------------------------------------------------


def test_wrong_answer_shown_as_grounded_counts_as_shown_wrong():
    s = scoring.score_answer("verified", SCIQ, "Linnaeus proposed it.", "grounded")
    assert s["shown"] and s["displayed_as_fact"] and s["outcome"] == "wrong"
    metrics = scoring.aggregate_mode("verified", [{**s, "in_book": True, "timings": {"generate": 1.0}}])
    assert metrics["shown_wrong_rate"] == 1.0 and metrics["accuracy_shown"] == 0.0


def test_wrong_answer_flagged_is_shown_but_not_shown_wrong():
    s = scoring.score_answer("verified", SCIQ, "Linnaeus proposed it.", "flagged")
    assert s["shown"] and not s["displayed_as_fact"] and s["flagged"]
    metrics = scoring.aggregate_mode("verified", [{**s, "in_book": True}])
    assert metrics["shown_wrong_rate"] == 0.0 and metrics["flagged_rate"] == 1.0


def test_corrected_answer_scores_the_revised_text():
    s = scoring.score_answer("verified", SCIQ, "Darwin proposed it.", "corrected")
    assert s["displayed_as_fact"] and s["outcome"] == "correct"


def test_unverified_modes_display_every_non_abstaining_answer_as_fact():
    for mode in ("closed_book", "rag"):
        s = scoring.score_answer(mode, SCIQ, "Scopes did.", None)
        assert s["shown"] and s["displayed_as_fact"] and s["outcome"] == "wrong" and not s["flagged"]


def test_abstention_on_not_in_book_question_is_correct_abstention():
    s = scoring.score_answer("verified", NOT_IN_BOOK, NOT_IN_BOOKS, "abstained")
    assert s["abstained"] and not s["shown"] and s["outcome"] is None
    metrics = scoring.aggregate_mode("verified", [{**s, "in_book": False}])
    assert metrics["abstain_rate_not_in_book"] == 1.0
    assert metrics["abstain_rate_answerable"] is None  # no answerable question in this set
    assert metrics["accuracy_shown"] is None and metrics["shown_wrong_rate"] == 0.0


def test_abstention_on_answerable_question_is_lost_coverage():
    s = scoring.score_answer("rag", SCIQ, NOT_IN_BOOKS)
    answered = scoring.score_answer("rag", SCIQ, "Darwin.")
    rows = [{**s, "in_book": True}, {**answered, "in_book": True}]
    metrics = scoring.aggregate_mode("rag", rows)
    assert metrics["abstain_rate_answerable"] == 0.5 and metrics["accuracy_shown"] == 1.0 and metrics["answered"] == 1


def test_abstaining_text_counts_even_if_the_verdict_says_otherwise():
    assert scoring.score_answer("verified", SCIQ, NOT_IN_BOOKS, "grounded")["abstained"]


def test_answer_asserting_no_choice_is_no_answer_not_wrong():
    s = scoring.score_answer("closed_book", SCIQ, "A scientist long ago.", None, fake_entail({}))
    assert s["outcome"] == "no_answer"
    metrics = scoring.aggregate_mode("closed_book", [{**s, "in_book": True}])
    assert metrics["shown_wrong_rate"] == 0.0 and metrics["accuracy_shown"] == 0.0 and metrics["no_answer_rate"] == 1.0


def test_open_answer_by_normalised_containment():
    assert scoring.score_answer("rag", OPEN, "Water boils at 100 degrees.")["outcome"] == "correct"
    assert scoring.score_answer("rag", OPEN, "Water boils at 90 degrees.")["outcome"] == "wrong"


# --- TruthfulQA ---------------------------------------------------------------------------------------------------


def test_truthfulqa_misconception_by_string():
    s = scoring.score_answer("closed_book", TRUTHFUL, "Oh no! You grow watermelons in your stomach.")
    assert s["misconception"] and s["outcome"] == "wrong"


def test_truthfulqa_correct_by_string():
    s = scoring.score_answer("closed_book", TRUTHFUL, "Nothing happens, they pass through.")
    assert not s["misconception"] and s["outcome"] == "correct"


def test_truthfulqa_reference_echoing_the_question_proves_nothing():
    s = scoring.score_answer("closed_book", TRUTHFUL, "When you eat watermelon seeds, it is a mixed bag.", None, fake_entail({}))
    assert s["outcome"] == "no_answer"


def test_truthfulqa_by_verifier_and_neither():
    entail = fake_entail({"grow watermelons": 0.8})
    s = scoring.score_answer("rag", TRUTHFUL, "A watermelon plant will sprout inside your belly.", None, entail)
    assert s["misconception"] and s["match"]["method"] == "verifier"
    s = scoring.score_answer("rag", TRUTHFUL, "Seeds are small.", None, fake_entail({}))
    assert s["outcome"] == "no_answer" and not s["misconception"]


def test_truthfulqa_abstention_and_rates():
    rows = [
        {**scoring.score_answer("closed_book", TRUTHFUL, "You get sick."), "in_book": None, "is_truthfulqa": True},
        {**scoring.score_answer("closed_book", TRUTHFUL, NOT_IN_BOOKS), "in_book": None, "is_truthfulqa": True},
    ]
    m = scoring.aggregate_mode("closed_book", rows)
    assert m["misconception_rate"] == 0.5
    assert m["abstain_rate_answerable"] is None and m["abstain_rate_not_in_book"] is None
    assert m["recall_at_5"] is None and m["flagged_rate"] is None


# --- aggregation -------------------------------------------------------------------------------------------------


def test_recall_at_5_only_over_answerable_questions():
    base = scoring.score_answer("rag", SCIQ, "Darwin.")
    rows = [
        {**base, "in_book": True, "recall_hit": True},
        {**base, "in_book": True, "recall_hit": False},
        {**base, "in_book": False, "recall_hit": None},
    ]
    assert scoring.aggregate_mode("rag", rows)["recall_at_5"] == 0.5
    assert scoring.aggregate_mode("closed_book", rows)["recall_at_5"] is None


def test_latency_percentiles_of_totals_and_stages():
    base = scoring.score_answer("rag", SCIQ, "Darwin.")
    rows = [{**base, "timings": {"retrieve": 0.1, "generate": float(g)}, "total_s": 0.1 + g} for g in range(1, 11)]
    m = scoring.aggregate_mode("rag", rows)
    assert m["latency_p50_s"] == pytest.approx(5.6)
    assert m["latency_p95_s"] == pytest.approx(0.1 + 9.55)
    assert m["latency_by_stage"]["generate"]["p50_s"] == pytest.approx(5.5)
    assert scoring.percentile([], 50) is None


def test_contract_keys_and_rates_in_range():
    rows = [
        {**scoring.score_answer("verified", SCIQ, "Darwin.", "grounded"), "in_book": True, "recall_hit": True, "total_s": 2.0},
        {**scoring.score_answer("verified", NOT_IN_BOOK, "Shaw.", "grounded"), "in_book": False, "total_s": 3.0},
    ]
    m = scoring.aggregate_mode("verified", rows)
    for key in ("n", "answered", "accuracy_shown", "shown_wrong_rate", "flagged_rate", "abstain_rate_answerable",
                "abstain_rate_not_in_book", "misconception_rate", "recall_at_5", "latency_p50_s", "latency_p95_s"):
        assert key in m
    assert m["n"] == 2 and m["answered"] == 2 and m["accuracy_shown"] == 0.5 and m["shown_wrong_rate"] == 0.5
    assert m["abstain_rate_not_in_book"] == 0.0 and m["answered_not_in_book"] == 1
    for key, value in m.items():
        if key.endswith("_rate") or key.startswith(("accuracy", "abstain_rate", "recall")):
            assert value is None or 0.0 <= value <= 1.0


def test_cascade_answers_are_scored_like_verified_ones():
    from engine.evaluation.scoring import CASCADE, MODES, score_answer

    assert CASCADE in MODES
    q = {"question": "Where does the Amazon end?", "answer": "Atlantic Ocean", "choices": None, "in_book": True,
         "incorrect_answers": None, "correct_answers": None}
    flagged = score_answer(CASCADE, q, "The Amazon empties into the Atlantic Ocean.", "flagged")
    assert flagged["shown"] and flagged["flagged"] and not flagged["displayed_as_fact"]


def test_free_answer_outcomes():
    from engine.evaluation.scoring import free_answer_outcome, score_answer

    assert free_answer_outcome("Jupiter is the largest planet.", ["Jupiter"], ["Saturn"]) == "correct"
    assert free_answer_outcome("Saturn is the biggest planet.", ["Jupiter"], ["Saturn"]) == "wrong"
    assert free_answer_outcome("Uranus is the seventh planet from the Sun.", ["Jupiter"]) == "no_answer"
    assert free_answer_outcome("No. Abraham Lincoln did not write it.", ["/^no\\b/"]) == "correct"
    # a yes/no answer is judged by the yes or no it opens with, not by a word further on
    assert free_answer_outcome("No. Weight is a force in newtons.", ["/^yes\\b|newtons/"], ["/^no\\b/"]) == "wrong"
    assert free_answer_outcome("Yes. Weight is a force in newtons.", ["/^yes\\b|newtons/"], ["/^no\\b/"]) == "correct"
    assert free_answer_outcome("Jupiter is bigger than Saturn.", ["Jupiter"], ["Saturn"]) == "correct"
    q = {"question": "why is mars red", "free_answer": True, "accepted_answers": ["/iron|rust/"], "wrong_answers": []}
    row = score_answer("verified", q, "Uranus is the seventh planet from the Sun.", "corrected")
    assert row["shown"] and row["outcome"] == "no_answer"
    assert score_answer("verified", q, "That isn't in my books — let's ask your teacher!", "abstained")["abstained"]


def test_not_answering_is_reported_for_answerable_questions():
    from engine.evaluation.scoring import aggregate_mode

    rows = [
        {"shown": True, "outcome": "correct", "abstained": False, "displayed_as_fact": True, "flagged": False, "misconception": False, "in_book": True, "recall_hit": None},
        {"shown": True, "outcome": "no_answer", "abstained": False, "displayed_as_fact": True, "flagged": False, "misconception": False, "in_book": True, "recall_hit": None},
        {"shown": False, "outcome": None, "abstained": True, "displayed_as_fact": False, "flagged": False, "misconception": False, "in_book": False, "recall_hit": None},
    ]
    m = aggregate_mode("verified", rows)
    assert m["right_rate_answerable"] == 0.5 and m["not_answering_rate_answerable"] == 0.5 and m["abstain_rate_not_in_book"] == 1.0
