"""The verdict policy and the refutation check, on hand-made claim verdicts (no models)."""

import numpy as np
import pytest

from engine.config import VerificationConfig
from engine.prompts import NOT_IN_BOOKS
from engine.vocabulary import Claim, ClaimVerdict, Passage, Support, Verdict
from verifiers.arithmetic import check_claim
from verifiers.refutation import refutes
from verifiers.verdict import apply_cove, decide_claim, finish

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
    apply_cove(claim, "Who wrote it?", "Jefferson.", np.array([0.1, 0.8, 0.1]), P[:1], np.array([[0.05, 0.9, 0.05]]), CONFIG)
    assert claim.support is Support.CONTRADICTED and claim.cove_answer == "Jefferson."


def test_cove_never_overrules_a_claim_the_books_back():
    claim = cv("The Amazon flows through Brazil.", Support.SUPPORTED, 0.77)
    apply_cove(claim, "What does it flow through?", "The rainforest.", np.array([0.0, 0.9, 0.1]), P[1:], np.array([[0.0, 0.9, 0.1]]), CONFIG)
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
