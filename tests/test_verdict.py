"""The verdict policy and the refutation check, on hand-made claim verdicts (no models)."""

import numpy as np
import pytest

from engine.core.config import VerificationConfig
from engine.core.text import NOT_IN_BOOKS
from engine.core.vocabulary import Check, Claim, ClaimVerdict, Passage, Support, Verdict
from verifiers.arithmetic import check_claim
from verifiers.refutation import refutes
from verifiers.verdict import apply_cove, apply_slot_conflict, decide_claim, finish, passage_sentences, quote_book

CONFIG = VerificationConfig()
P = [Passage("The Amazon empties into the Atlantic Ocean.", "Book", "Rivers", "d1", chunk_id=1),
     Passage("The Amazon rainforest is huge.", "Book", "Rivers", "d1", chunk_id=2)]


def cv(text, support, score, correction=None):
    return ClaimVerdict(Claim(text, (0, len(text))), support, score, correction=correction)


def test_support_from_one_passage_outweighs_a_neighbour_that_seems_to_disagree():
    verdict = decide_claim(Claim("x", (0, 1)), P, np.array([[0.7, 0.2, 0.1], [0.05, 0.9, 0.05]]), None, CONFIG)
    assert verdict.support is Support.SUPPORTED and verdict.evidence.passage.chunk_id == 1


def test_contradiction_without_support_cites_the_contradicting_passage():
    verdict = decide_claim(Claim("x", (0, 1)), P, np.array([[0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]), None, CONFIG)
    assert verdict.support is Support.CONTRADICTED and verdict.evidence.passage.chunk_id == 1


def test_wrong_arithmetic_is_corrected_exactly_whatever_the_passages_say():
    verdict = decide_claim(Claim("7 × 8 is 54", (0, 11)), P, np.array([[0.9, 0.0, 0.1], [0.9, 0.0, 0.1]]), check_claim("7 × 8 is 54"), CONFIG)
    assert verdict.support is Support.CONTRADICTED and verdict.correction == "7 × 8 is 56."


def test_verdicts():
    assert finish([], False, CONFIG).verdict is Verdict.ABSTAINED
    grounded = finish([cv("A.", Support.SUPPORTED, 0.9), cv("B.", Support.SUPPORTED, 0.8)], True, CONFIG)
    assert grounded.verdict is Verdict.GROUNDED and grounded.revised_text == "A. B."
    corrected = finish([cv("A.", Support.SUPPORTED, 0.9), cv("Pacific.", Support.CONTRADICTED, 0.9, "Atlantic.")], True, CONFIG)
    assert corrected.verdict is Verdict.CORRECTED and corrected.revised_text == "A. Atlantic."
    flagged = finish([cv("A.", Support.SUPPORTED, 0.9), cv("Maybe.", Support.UNSUPPORTED, 0.4)], True, CONFIG)
    assert flagged.verdict is Verdict.FLAGGED and "Maybe." in flagged.revised_text
    dropped = finish([cv("A.", Support.SUPPORTED, 0.9), cv("Nonsense.", Support.UNSUPPORTED, 0.05)], True, CONFIG)
    assert dropped.verdict is Verdict.CORRECTED and dropped.revised_text == "A."
    nothing = finish([cv("Nonsense.", Support.UNSUPPORTED, 0.4)], True, CONFIG)
    assert nothing.verdict is Verdict.ABSTAINED and nothing.revised_text == NOT_IN_BOOKS


def test_drop_policy_never_flags():
    from dataclasses import replace

    result = finish([cv("A.", Support.SUPPORTED, 0.9), cv("Maybe.", Support.UNSUPPORTED, 0.4)], True, replace(CONFIG, unsupported_policy="drop"))
    assert result.verdict is Verdict.CORRECTED and result.revised_text == "A."


def test_cove_disagreement_marks_an_unbacked_claim_and_finds_the_contradicting_passage():
    claim = cv("Lincoln wrote the Declaration.", Support.UNSUPPORTED, 0.3)
    claim = apply_cove(claim, "Who wrote it?", "Jefferson.", np.array([0.1, 0.8, 0.1]), P[:1], np.array([[0.05, 0.9, 0.05]]), CONFIG)
    assert claim.support is Support.CONTRADICTED and claim.cove_answer == "Jefferson."


def test_cove_never_overrules_a_claim_the_books_back():
    claim = cv("The Amazon flows through Brazil.", Support.SUPPORTED, 0.77)
    claim = apply_cove(claim, "What does it flow through?", "The rainforest.", np.array([0.0, 0.9, 0.1]), P[1:], np.array([[0.0, 0.9, 0.1]]), CONFIG)
    assert claim.support is Support.SUPPORTED


@pytest.mark.parametrize(
    "passage, expected",
    [
        ("Some people think Abraham Lincoln wrote the Declaration of Independence. That is not true.", True),
        ("Many people believe that Lincoln wrote the Declaration of Independence.", True),
        ("Abraham Lincoln wrote the Declaration of Independence. That is not true.", True),
        ("Thomas Jefferson wrote the Declaration of Independence. It was adopted in 1776.", False),
        ("Abraham Lincoln was the 16th president. That is true.", False),
    ],
)
def test_refuted_beliefs(passage, expected):
    assert refutes("Abraham Lincoln wrote the Declaration of Independence.", passage) is expected


def test_the_book_is_quoted_when_no_claim_survives_and_the_question_is_covered():
    from verifiers.answerability import BookSentence

    abstained = finish([cv("The text explains rivers.", Support.UNSUPPORTED, 0.1)], True, CONFIG)
    assert abstained.verdict is Verdict.ABSTAINED
    book = BookSentence("the Amazon empties into the Atlantic Ocean", P[0], relevance=0.8, coverage=1.0, similarity=0.7)
    quoted = quote_book(book, abstained, CONFIG)
    assert quoted.verdict is Verdict.GROUNDED and quoted.revised_text == "The Amazon empties into the Atlantic Ocean."
    (claim,) = quoted.claims
    assert claim.support is Support.SUPPORTED and claim.evidence.passage is P[0] and claim.claim.span == (0, len(quoted.revised_text))
    assert "book's own sentence" in quoted.why and "Rivers" in quoted.why


def test_no_quote_for_a_sentence_below_the_answerable_threshold():
    from verifiers.answerability import BookSentence

    abstained = finish([], True, CONFIG)
    weak = BookSentence("The Amazon rainforest is huge.", P[1], relevance=CONFIG.answerable_threshold - 0.01, coverage=0.3, similarity=0.5)
    assert quote_book(weak, abstained, CONFIG) is abstained
    assert quote_book(None, abstained, CONFIG) is abstained


def test_cascade_settles_only_firm_claims():
    from engine.core.vocabulary import AnswerVerdict
    from engine.pipeline import _settled

    def answer(*claims):
        return AnswerVerdict(Verdict.CORRECTED, 0.9, list(claims), "x", "")

    backed = cv("The Amazon flows through Brazil.", Support.SUPPORTED, 0.95)
    fixed = cv("It empties into the Pacific.", Support.CONTRADICTED, 0.9, correction="It empties into the Atlantic.")
    clearly_not = cv("It is pink.", Support.UNSUPPORTED, 0.05)
    unsure = cv("It is long.", Support.UNSUPPORTED, 0.45)
    assert _settled(answer(backed, fixed, clearly_not), threshold=0.8)
    assert not _settled(answer(backed, unsure), threshold=0.8)
    assert not _settled(answer(cv("x", Support.SUPPORTED, 0.6)), threshold=0.8)
    assert not _settled(answer(cv("x", Support.CONTRADICTED, 0.9)), threshold=0.8)  # no correction to show
    # a weakly contradicted claim already replaced by the book's sentence shows the book: nothing left to check
    assert _settled(answer(cv("x", Support.CONTRADICTED, 0.55, correction="The book's sentence.")), threshold=0.8)
    assert not _settled(answer(), threshold=0.8)


def test_narrow_keeps_the_sentences_that_match_the_question():
    from verifiers.answerability import narrow

    text = ("Plants need light. Roots take up water. Leaves are green. "
            "The Amazon empties into the Atlantic Ocean. It carries more water than any other river. Fish live there.")
    passage = Passage(text, "Book", "Rivers", "d1", chunk_id=3)
    narrowed = narrow(passage, "Which ocean does the Amazon empty into?", max_sentences=2)
    assert narrowed.text.startswith("The Amazon empties into the Atlantic Ocean.") and "Plants" not in narrowed.text
    assert narrowed.chunk_id == 3 and narrowed.section == "Rivers"
    assert narrow(P[0], "anything") is P[0]  # short passages stay whole


def test_passage_sentences_keep_years_and_drop_headings_and_questions():
    text = "# The End of the War\n\nWhat ended the war?\nThe war lasted from 1939 to 1945. It ended in 1945.\n- Japan surrendered on a ship.\n2. Peace came."
    sentences = passage_sentences(Passage(text, "Book", "War", "d1"))
    assert sentences == ["The End of the War", "The war lasted from 1939 to 1945.", "It ended in 1945.", "Japan surrendered on a ship."]


# --- which check decided: every verdict says so ---------------------------------------------------------------

def test_a_backed_claim_is_decided_by_the_claim_verifier_naming_the_passage():
    verdict = decide_claim(Claim("x", (0, 1)), P, np.array([[0.7, 0.2, 0.1], [0.05, 0.9, 0.05]]), None, CONFIG)
    assert verdict.decided_by is Check.CLAIM_VERIFIER and verdict.why == '"Rivers" backs it (p=0.70).'


def test_a_sum_is_decided_by_arithmetic_whatever_the_passages_say():
    verdict = decide_claim(Claim("7 × 8 is 54", (0, 11)), P, np.array([[0.9, 0.0, 0.1], [0.9, 0.0, 0.1]]), check_claim("7 × 8 is 54"), CONFIG)
    assert verdict.decided_by is Check.ARITHMETIC and verdict.why == "Computed, the sum is wrong: 7 × 8 is 56."


def test_a_contradiction_from_a_refuting_passage_is_decided_by_the_refutation_check():
    probs = np.array([[0.02, 0.95, 0.03], [0.1, 0.1, 0.8]])
    refuted = decide_claim(Claim("x", (0, 1)), P, probs, None, CONFIG, refuted=[True, False])
    plain = decide_claim(Claim("x", (0, 1)), P, probs, None, CONFIG, refuted=[False, False])
    assert refuted.support is plain.support is Support.CONTRADICTED
    assert refuted.decided_by is Check.REFUTATION and "only to say it is not true" in refuted.why
    assert plain.decided_by is Check.CLAIM_VERIFIER and plain.why == '"Rivers" contradicts it (p=0.95).'


def test_a_claim_whose_backing_passage_lacks_its_answer_terms_is_decided_by_the_answer_terms_check():
    verdict = decide_claim(Claim("The Amazon empties into the Pacific.", (0, 36)), P[:1], np.array([[0.9, 0.05, 0.05]]), None, CONFIG,
                           missing=[("pacific",)])
    assert verdict.support is Support.UNSUPPORTED and verdict.decided_by is Check.ANSWER_TERMS
    assert verdict.why == "\"Rivers\" matches its wording (p=0.90) but does not say 'pacific'."


def test_no_passage_means_retrieval_decided():
    verdict = decide_claim(Claim("x", (0, 1)), [], np.zeros((0, 3)), None, CONFIG)
    assert verdict.decided_by is Check.RETRIEVAL and verdict.support is Support.UNSUPPORTED


def test_cove_records_that_it_changed_the_verdict_and_with_what_answer():
    claim = cv("Lincoln wrote the Declaration.", Support.UNSUPPORTED, 0.3)
    claim = apply_cove(claim, "Who wrote it?", "Jefferson.", np.array([0.1, 0.8, 0.1]), P[:1], np.array([[0.05, 0.9, 0.05]]), CONFIG)
    assert claim.decided_by is Check.COVE
    assert claim.why == 'Asked "Who wrote it?", the books answer "Jefferson.", and "Rivers" contradicts it (p=0.90).'


def test_cove_that_changes_nothing_leaves_the_deciding_check_alone():
    claim = decide_claim(Claim("The Amazon flows through Brazil.", (0, 31)), P, np.array([[0.77, 0.1, 0.13], [0.1, 0.1, 0.8]]), None, CONFIG)
    claim = apply_cove(claim, "What does it flow through?", "The rainforest.", np.array([0.0, 0.9, 0.1]), P[1:], np.array([[0.0, 0.9, 0.1]]), CONFIG)
    assert claim.support is Support.SUPPORTED and claim.decided_by is Check.CLAIM_VERIFIER


def test_a_slot_conflict_records_both_answers():
    from verifiers.slot_conflict import Conflict

    claim = cv("The Amazon empties into the Pacific Ocean.", Support.UNSUPPORTED, 0.4)
    conflict = Conflict(0, "The Amazon empties into the Atlantic Ocean.", ("Pacific", "Ocean"), ("Atlantic", "Ocean"))
    claim = apply_slot_conflict(claim, conflict, P[:1], np.array([[0.3, 0.4, 0.3]]), CONFIG)
    assert claim.support is Support.CONTRADICTED and claim.correction == "The Amazon empties into the Atlantic Ocean."
    assert claim.decided_by is Check.SLOT_CONFLICT and claim.why == 'The books answer its question with "Atlantic Ocean", not "Pacific Ocean".'


def test_a_claim_verdict_is_frozen_and_a_check_returns_a_new_one():
    import dataclasses

    claim = cv("Lincoln wrote the Declaration.", Support.UNSUPPORTED, 0.3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        claim.support = Support.SUPPORTED
    after = apply_cove(claim, "Who wrote it?", "Jefferson.", np.array([0.1, 0.8, 0.1]), P[:1], np.array([[0.05, 0.9, 0.05]]), CONFIG)
    assert after.support is Support.CONTRADICTED and claim.support is Support.UNSUPPORTED and claim.cove_answer is None


def test_a_quoted_book_sentence_is_decided_by_the_question_answer_check():
    from verifiers.answerability import BookSentence

    book = BookSentence("the Amazon empties into the Atlantic Ocean", P[0], relevance=0.8, coverage=1.0, similarity=0.7)
    (quote,) = quote_book(book, finish([], True, CONFIG), CONFIG).claims
    assert quote.decided_by is Check.QUESTION_ANSWER and "answers the question (Rivers)" in quote.why


def test_the_deciding_check_reaches_the_json():
    verdict = decide_claim(Claim("7 × 8 is 54", (0, 11)), P, np.array([[0.9, 0.0, 0.1], [0.9, 0.0, 0.1]]), check_claim("7 × 8 is 54"), CONFIG)
    assert verdict.to_json()["decided_by"] == "arithmetic" and verdict.to_json()["why"].startswith("Computed, the sum is wrong")
