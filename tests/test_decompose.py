"""Claim decomposition: sentence and verb-phrase splitting, chatter skipping, spans into the original answer."""

from __future__ import annotations

import random

import pytest

from engine.core.packaged import load_spacy
from engine.core.vocabulary import Claim
from verifiers.decompose import ClaimDecomposer


@pytest.fixture(scope="module")
def decomposer() -> ClaimDecomposer:
    return ClaimDecomposer(load_spacy())


def texts(claims: list[Claim]) -> list[str]:
    return [c.text for c in claims]


def assert_spans_valid(answer: str, claims: list[Claim]) -> None:
    for claim in claims:
        start, end = claim.span
        assert 0 <= start < end <= len(answer)
        covered = answer[start:end]
        assert covered == covered.strip()
        # Every word of the covered original text appears in the claim text (markdown aside).
        for word in covered.replace("*", " ").split():
            assert word.strip(".,!") in claim.text


def test_verb_phrase_coordination_carries_subject(decomposer):
    answer = "The Amazon flows through Brazil and empties into the Pacific Ocean."
    claims = decomposer.decompose(answer)
    assert texts(claims) == ["The Amazon flows through Brazil.", "The Amazon empties into the Pacific Ocean."]
    assert answer[slice(*claims[0].span)] == "The Amazon flows through Brazil"
    assert answer[slice(*claims[1].span)] == "empties into the Pacific Ocean"


def test_copula_and_verb_phrase_split(decomposer):
    answer = "Abraham Lincoln was the 16th president and wrote the Declaration of Independence"
    claims = decomposer.decompose(answer)
    assert texts(claims) == [
        "Abraham Lincoln was the 16th president.",
        "Abraham Lincoln wrote the Declaration of Independence.",
    ]
    assert answer[slice(*claims[1].span)] == "wrote the Declaration of Independence"


def test_coordinated_main_clauses_split(decomposer):
    answer = "Germany surrendered in May 1945, and Japan surrendered in September 1945."
    claims = decomposer.decompose(answer)
    assert texts(claims) == ["Germany surrendered in May 1945.", "Japan surrendered in September 1945."]
    assert answer[slice(*claims[1].span)] == "Japan surrendered in September 1945"


def test_passive_auxiliary_is_carried(decomposer):
    claims = decomposer.decompose("The Eiffel Tower was designed by Gustave Eiffel and completed in 1889.")
    assert texts(claims) == ["The Eiffel Tower was designed by Gustave Eiffel.", "The Eiffel Tower was completed in 1889."]


def test_modal_is_carried(decomposer):
    assert texts(decomposer.decompose("Birds can fly and sing.")) == ["Birds can fly.", "Birds can sing."]


def test_leading_phrase_is_shared(decomposer):
    claims = decomposer.decompose("In 1492, Columbus sailed across the Atlantic and reached the Caribbean.")
    assert texts(claims) == ["In 1492, Columbus sailed across the Atlantic.", "In 1492, Columbus reached the Caribbean."]


def test_noun_list_kept_together(decomposer):
    answer = "Mercury, Venus, Earth and Mars are rocky planets."
    assert texts(decomposer.decompose(answer)) == ["Mercury, Venus, Earth and Mars are rocky planets."]


def test_multiple_sentences(decomposer):
    answer = "The Sun is a star. The Moon orbits the Earth."
    claims = decomposer.decompose(answer)
    assert texts(claims) == ["The Sun is a star.", "The Moon orbits the Earth."]
    assert_spans_valid(answer, claims)


@pytest.mark.parametrize(
    "chatter",
    [
        "Great question!",
        "Hi there!",
        "Want to learn more?",
        "Keep up the good work!",
        "Let's explore!",
        "I hope this helps.",
        "According to the passage.",
        "You are doing great!",
        "Look at the sky tonight.",
        "Thank you for asking!",
        "What a great question!",
        "Did you know that bees make honey?",
    ],
)
def test_chatter_is_skipped(decomposer, chatter):
    assert decomposer.decompose(chatter) == []


def test_chatter_around_facts(decomposer):
    answer = "Great question! Hi there! The Sun is a star. Want to learn more? Keep up the good work! I hope this helps."
    claims = decomposer.decompose(answer)
    assert texts(claims) == ["The Sun is a star."]
    assert answer[slice(*claims[0].span)] == "The Sun is a star"


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("So, the Sun is a star.", "The Sun is a star."),
        ("Also, bees make honey.", "Bees make honey."),
        ("Yes, whales are mammals!", "Whales are mammals."),
        ("According to the passage, plants need sunlight.", "Plants need sunlight."),
        ("Remember that plants need sunlight.", "Plants need sunlight."),
    ],
)
def test_discourse_markers_stripped(decomposer, answer, expected):
    claims = decomposer.decompose(answer)
    assert texts(claims) == [expected]
    covered = answer[slice(*claims[0].span)]
    assert covered.lower() == expected.rstrip(".").lower()


@pytest.mark.parametrize(
    "answer",
    [
        "Plants need sunlight [1].",
        "Plants need sunlight [1, 2].",
        "Plants need sunlight (Passage 2).",
        "Plants need [3] sunlight.",
    ],
)
def test_citations_removed(decomposer, answer):
    claims = decomposer.decompose(answer)
    assert texts(claims) == ["Plants need sunlight."]
    assert "[" not in answer[claims[0].span[0] : claims[0].span[0] + 6]


def test_markdown_bullets(decomposer):
    answer = "Here are the planets:\n- Mercury is closest to the Sun\n- Venus is the hottest planet\n* **Earth** has one moon\n1. Mars is red"
    claims = decomposer.decompose(answer)
    assert texts(claims)[-4:] == [
        "Mercury is closest to the Sun.",
        "Venus is the hottest planet.",
        "Earth has one moon.",
        "Mars is red.",
    ]
    assert answer[slice(*claims[-4].span)] == "Mercury is closest to the Sun"
    assert answer[slice(*claims[-1].span)] == "Mars is red"
    assert "Earth" in answer[slice(*claims[-2].span)]


def test_semicolons_split(decomposer):
    claims = decomposer.decompose("Plants make food; animals eat plants.")
    assert texts(claims) == ["Plants make food.", "Animals eat plants."]


def test_claim_text_is_clean_sentence(decomposer):
    answer = "the moon orbits the earth and reflects sunlight!!"
    for claim in decomposer.decompose(answer):
        assert claim.text[0].isupper()
        assert claim.text.endswith(".") and not claim.text.endswith("..")


@pytest.mark.parametrize("answer", ["", "   ", "\n\n\t", "!!!", "?"])
def test_empty_and_blank(decomposer, answer):
    assert decomposer.decompose(answer) == []


def test_unicode(decomposer):
    answer = "Café owners in Paris sell croissants. The Río Grande forms a border — it is long. 水は100度で沸騰する。"
    claims = decomposer.decompose(answer)
    assert claims
    assert_spans_valid(answer, [c for c in claims if "Café" in c.text])
    for claim in claims:
        assert 0 <= claim.span[0] < claim.span[1] <= len(answer)


def test_spans_index_original_with_leading_whitespace(decomposer):
    answer = "   \n  Whales are mammals.   Sharks are fish.  "
    claims = decomposer.decompose(answer)
    assert texts(claims) == ["Whales are mammals.", "Sharks are fish."]
    assert [answer[slice(*c.span)] for c in claims] == ["Whales are mammals", "Sharks are fish"]


def test_very_long_answer(decomposer):
    sentence = "The Moon orbits the Earth and reflects light from the Sun. "
    answer = sentence * 400
    claims = decomposer.decompose(answer)
    assert len(claims) == 800
    assert claims[-1].text == "The Moon reflects light from the Sun."
    assert_spans_valid(answer, claims)


def test_long_line_without_punctuation_does_not_crash(decomposer):
    answer = "word " * 30_000
    claims = decomposer.decompose(answer)
    for claim in claims:
        assert 0 <= claim.span[0] < claim.span[1] <= len(answer)


def test_batch_matches_single(decomposer):
    answers = [
        "The Amazon flows through Brazil and empties into the Pacific Ocean.",
        "",
        "Great question! Bees make honey.",
    ]
    batch = decomposer.decompose_batch(answers)
    assert len(batch) == 3
    assert batch == [decomposer.decompose(a) for a in answers]
    assert batch[1] == []
    assert texts(batch[2]) == ["Bees make honey."]


def test_batch_empty_list(decomposer):
    assert decomposer.decompose_batch([]) == []


def test_default_nlp_loads():
    assert ClaimDecomposer().decompose("Whales are mammals.") == [Claim("Whales are mammals.", (0, 18))]


def test_random_unicode_robustness(decomposer):
    rng = random.Random(1234)
    alphabet = "abcXYZ 0123 .,!?;:-*[]()\n\t éü漢字🙂—'\"#"
    answers = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200))) for _ in range(60)]
    for answer, claims in zip(answers, decomposer.decompose_batch(answers)):
        for claim in claims:
            assert isinstance(claim, Claim)
            assert 0 <= claim.span[0] < claim.span[1] <= len(answer)
            assert claim.text.endswith(".")


def test_remarks_about_the_text_are_not_claims(decomposer):
    for remark in ("The passage is about the importance of hydrocarbons in fossil fuels.",
                   "The textbook provides a detailed explanation of arteries, veins, and capillaries.",
                   "The passage is trying to answer the question of what pigment is found in slow fibers."):
        assert decomposer.decompose(remark) == [], remark
    assert [c.text for c in decomposer.decompose("The main source of energy for your body is carbohydrates.")] == [
        "The main source of energy for your body is carbohydrates."]


def test_claims_that_only_repeat_the_question_are_left_out(decomposer):
    question = "What was probably the earliest way of making ATP from glucose?"
    echo = decomposer.decompose("The earliest way of making ATP from glucose is likely the earliest way of making ATP from glucose.")
    answer = decomposer.decompose("The earliest way of making ATP from glucose was glycolysis.")
    assert decomposer.beyond_question(echo, question) == []
    assert decomposer.beyond_question(answer, question) == answer
    sums = decomposer.decompose("7 × 8 is 54.")
    assert decomposer.beyond_question(sums, "What is 7 × 8?") == sums
