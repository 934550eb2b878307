"""A claim's answer terms (what it adds to the question) must be in the passage that backs it."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.config import VerificationConfig
from engine.core.vocabulary import Claim, Passage, Support
from verifiers.answer_terms import AnswerTerms, found
from verifiers.mismatch import DocCache
from verifiers.verdict import apply_cove, decide_claim

DENSITY = "Density is the ratio of the mass of an object to its volume."
RESPIRATION = "Cellular respiration that proceeds without oxygen is anaerobic respiration."


@pytest.fixture(scope="module")
def terms() -> AnswerTerms:
    return AnswerTerms(DocCache())


def test_a_term_in_the_answer_slot_the_passage_never_uses_is_missing(terms):
    question = "What is the ratio of the mass of an object to its volume?"
    [[wrong], [right]] = terms.missing(
        question,
        ["The ratio of the mass of an object to its volume is 4/3.", "The ratio of the mass of an object to its volume is density."],
        [[DENSITY], [DENSITY]],
    )
    assert wrong == ("4/3",)
    assert right == ()


def test_a_prefix_that_reverses_the_meaning_is_not_a_variant_of_the_word(terms):
    question = "Cellular respiration that proceeds in the absence of oxygen is called what?"
    [[aerobic], [anaerobic]] = terms.missing(
        question,
        ["Cellular respiration in the absence of oxygen is called aerobic respiration.",
         "Cellular respiration in the absence of oxygen is called anaerobic respiration."],
        [[RESPIRATION], [RESPIRATION]],
    )
    assert aerobic == ("aerobic",)
    assert anaerobic == ()


def test_each_passage_is_judged_on_its_own(terms):
    question = "What kind of light bulb has a tungsten filament?"
    [missing] = terms.missing(
        question,
        ["A fluorescent light bulb has a tungsten filament."],
        [["An incandescent light bulb has a thin tungsten filament.", "Fluorescent lights glow when gas inside them is excited."]],
    )
    assert missing == [("fluorescent",), ()]


def test_words_of_the_question_and_framing_words_are_not_answer_terms(terms):
    [claim_terms] = terms.answer_terms("What is the main source of energy for your body?", ["The correct answer is that the main source of energy for your body is carbohydrates."])
    assert claim_terms == ["carbohydrate"]


MARS = "Mars is the fourth planet from the Sun. Its soil and dust contain iron that has rusted, which makes the planet look red."


def test_a_reason_is_backed_only_by_a_sentence_that_states_it_as_a_reason(terms):
    # two true facts joined by a false "because": each is in the passage, the link is not
    [[false_link], [true_reason], [plain_fact]] = terms.missing(
        "why is mars red",
        ["Mars is red because it is the fourth planet from the Sun.", "Mars looks red because its soil contains rusted iron.",
         "Mars is the fourth planet from the Sun."],
        [[MARS], [MARS], [MARS]],
    )
    assert false_link == ("(the reason: fourth planet sun)",)
    assert true_reason == () and plain_fact == ()


def test_a_reason_stated_with_happens_when_backs_a_because_claim(terms):
    book = "Rain happens when tiny water droplets in a cloud join together and become too heavy to float."
    [[backed]] = terms.missing("why does it rain", ["It rains because the water droplets become too heavy to float."], [[book]])
    assert backed == ()


@pytest.mark.parametrize(
    ("term", "vocabulary", "expected"),
    [
        ("cellular", {"cell"}, True),
        ("replication", {"replicate"}, True),
        ("lymphoid", {"lymph"}, True),
        ("aerobic", {"anaerobic"}, False),
        ("trioxide", {"dioxide"}, False),
        ("chemistry", {"chemical"}, False),
        ("4/3", {"4", "3"}, False),
        ("1945", {"1945"}, True),
    ],
)
def test_word_variants(term, vocabulary, expected):
    assert found(term, vocabulary) is expected


def _passages(*texts: str) -> list[Passage]:
    return [Passage(text, "book", "section", f"doc-{i}", chunk_id=i) for i, text in enumerate(texts)]


def test_only_a_passage_with_the_answer_terms_backs_the_claim():
    config = VerificationConfig()
    claim = Claim("A fluorescent light bulb has a tungsten filament.", (0, 49))
    passages = _passages("An incandescent light bulb has a thin tungsten filament.", "Fluorescent lights glow.")
    probs = np.array([[0.82, 0.10, 0.08], [0.30, 0.05, 0.65]])

    unchecked = decide_claim(claim, passages, probs, None, config)
    assert unchecked.support is Support.SUPPORTED

    checked = decide_claim(claim, passages, probs, None, config, [("fluorescent",), ()])
    assert checked.support is Support.UNSUPPORTED
    assert checked.missing_terms == ("fluorescent",) and checked.score == pytest.approx(0.82)
    assert checked.evidence.passage is passages[0]

    grounded = decide_claim(claim, passages, np.array([[0.82, 0.1, 0.08], [0.7, 0.05, 0.25]]), None, config, [("fluorescent",), ()])
    assert grounded.support is Support.SUPPORTED and grounded.evidence.passage is passages[1]


def test_a_claim_the_passage_contradicts_is_still_contradicted_when_terms_are_missing():
    config = VerificationConfig()
    claim = Claim("Respiration without oxygen is called aerobic respiration.", (0, 57))
    passages = _passages(RESPIRATION)
    verdict = decide_claim(claim, passages, np.array([[0.76, 0.6, 0.0]]), None, config, [("aerobic",)])
    assert verdict.support is Support.CONTRADICTED


def test_cove_passages_must_hold_the_answer_terms_too():
    config = VerificationConfig()
    claim = Claim("A fluorescent light bulb has a tungsten filament.", (0, 49))
    passages = _passages("An incandescent light bulb has a thin tungsten filament.")
    verdict = decide_claim(claim, passages, np.array([[0.82, 0.1, 0.08]]), None, config, [("fluorescent",)])
    verdict = apply_cove(verdict, "What has a tungsten filament?", "An incandescent bulb.", np.array([0.4, 0.3, 0.3]),
               passages, np.array([[0.9, 0.05, 0.05]]), config, [("fluorescent",)])
    assert verdict.support is Support.UNSUPPORTED
    verdict = apply_cove(verdict, "What has a tungsten filament?", "A fluorescent bulb.", np.array([0.4, 0.3, 0.3]),
               passages, np.array([[0.9, 0.05, 0.05]]), config, [()])
    assert verdict.support is Support.SUPPORTED and verdict.missing_terms == ()
