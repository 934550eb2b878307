"""A claim naming another answer than the one the books pair with its question (verifiers/slot_conflict.py)."""

from __future__ import annotations

import pytest

from verifiers.mismatch import DocCache
from verifiers.slot_conflict import SlotConflicts

PLANETS = [
    ["Jupiter is the fifth planet from the Sun.", "Jupiter is the largest planet in the solar system.", "More than 1,000 Earths could fit inside it."],
    ["Saturn is the sixth planet from the Sun.", "Saturn is famous for its rings.", "Saturn's rings are the biggest and easiest to see."],
    ["The eight planets in order are Mercury, Venus, Earth, Mars, Jupiter, Saturn, Uranus, and Neptune.", "Venus is the hottest planet."],
]
WAR = [["World War II ended on September 2, 1945, when Japan signed the surrender aboard the USS Missouri."]]


@pytest.fixture(scope="module")
def slots():
    return SlotConflicts(DocCache())


@pytest.mark.parametrize("claim", ["The largest planet is Saturn.", "Neptune is the largest planet.", "The largest planet in the solar system is Mars."])
def test_another_planet_in_the_answer_slot_is_caught_with_the_books_sentence(slots, claim):
    conflict = slots.find("What is the largest planet?", claim, "The largest planet is Jupiter.", PLANETS)
    assert conflict is not None and conflict.passage == 0
    assert conflict.sentence == "Jupiter is the largest planet in the solar system."
    assert "jupiter" in conflict.book_answer and "jupiter" not in conflict.claim_answer


def test_a_wrong_year_is_caught(slots):
    conflict = slots.find("When did World War II end?", "World War II ended in 1950.", "World War II ended on September 2, 1945.", WAR)
    assert conflict is not None and "1950" in conflict.claim_answer and "September 2, 1945" in conflict.sentence


@pytest.mark.parametrize(
    "question, claim, independent, passages",
    [
        # right answer, whatever the independent answer says
        ("What is the largest planet?", "Jupiter is the largest planet.", "The largest planet is Neptune.", PLANETS),
        # the independent answer agrees
        ("What is the largest planet?", "The largest planet is Jupiter.", "Jupiter is the largest planet in the solar system.", PLANETS),
        # several right answers: a sentence pairs the question's focus with the claim's answer too
        ("Which planet is famous for its rings?", "Saturn is famous for its rings.", "Jupiter is famous for its rings.", PLANETS),
        # the books never pair the focus with the other answer: nothing to correct from
        ("What is the coldest planet?", "The coldest planet is Uranus.", "The coldest planet is Neptune.", PLANETS),
        # no name or number in the answer slot: left to the claim verifier
        ("What causes rain?", "Rain is caused by heavy droplets.", "Clouds cause rain.", [["Rain falls when droplets become heavy."]]),
        # no independent answer
        ("What is the largest planet?", "The largest planet is Saturn.", "", PLANETS),
    ],
)
def test_no_conflict_where_the_books_do_not_name_another_answer(slots, question, claim, independent, passages):
    assert slots.find(question, claim, independent, passages) is None


def test_a_wrong_ordinal_is_caught(slots):
    conflict = slots.find(
        "Which president of the United States was Abraham Lincoln?", "Abraham Lincoln was the first president of the United States.",
        "Abraham Lincoln was the 16th president of the United States.", [["Abraham Lincoln was the 16th president of the United States."]],
    )
    assert conflict is not None and conflict.claim_answer == ("first",) and conflict.book_answer == ("16th",)


def test_a_capitalised_noun_in_the_slot_is_caught(slots):
    conflict = slots.find("Which planet is the largest in the solar system?", "Earth is the largest planet in the solar system.",
                          "The largest planet in the solar system is Jupiter.", PLANETS)
    assert conflict is not None and "earth" in conflict.claim_answer


def test_what_a_sentence_negates_is_not_its_answer(slots):
    amazon = [["The Amazon River flows east across South America and empties into the Atlantic Ocean, not the Pacific Ocean."]]
    question = "What does the Amazon River empty into?"
    independent = "The Amazon River empties into the Atlantic Ocean, not the Pacific Ocean."
    conflict = slots.find(question, "The Amazon River empties into the Pacific Ocean.", independent, amazon)
    assert conflict is not None and conflict.claim_answer == ("pacific",) and conflict.book_answer == ("atlantic",)
    assert slots.find(question, "The Amazon River empties into the Atlantic Ocean.", independent, amazon) is None
