"""What is shown must answer the question: answer types, subject, clean book text, short answers (fast, no models)."""

from __future__ import annotations

import pytest

from engine.core.vocabulary import Passage
from verifiers.answerability import section_headings
from verifiers.answers_question import (
    answers,
    as_statement,
    clean_sentence,
    defined_term,
    is_belief,
    kid_words,
    polarity_no,
    question_kind,
    short_answer_claim,
)


@pytest.mark.parametrize(
    "question, kind",
    [
        ("why is mars red", "why"),
        ("What year was Lincoln born?", "when"),
        ("When did world war 2 end?", "when"),
        ("Did Abraham Lincoln write the Declaration of Independence?", "yesno"),
        ("how tall is the eiffel tower", "number"),
        ("where does the amazon river end", "where"),
        ("who wrote the declaration of independance", "who"),
        ("what is friction", "what"),
    ],
)
def test_question_kind(question, kind):
    assert question_kind(question) == kind


@pytest.mark.parametrize(
    "question, shown, answering",
    [
        ("why is mars red", "Uranus is the seventh planet from the Sun.", "Its soil and dust contain iron that has rusted, which makes the planet look red."),
        ("What year was Lincoln born?", "He issued the Emancipation Proclamation on January 1, 1863.", "Abraham Lincoln was born on February 12, 1809, in a log cabin in Kentucky."),
        ("When did world war 2 end?", "The war began in Europe in 1939, when Germany invaded Poland.", "World War II ended on September 2, 1945, when Japan signed the surrender aboard the USS Missouri."),
        ("how tall is the eiffel tower", "The Eiffel Tower is the tallest building in the world.", "When it was finished, the Eiffel Tower was about 300 meters tall."),
        ("who wrote the declaration of independance", "The Declaration has three main parts.", "The Declaration of Independence was written mainly by Thomas Jefferson."),
    ],
)
def test_the_issue_examples_do_not_answer_and_the_book_sentence_does(question, shown, answering):
    assert not answers(question, shown)
    assert answers(question, answering)


@pytest.mark.parametrize(
    "question, shown, answering",
    [  # a date is not a place, a year is not a count, a sentence about rivers does not say what a delta is
        ("where did the continental congress meet", "The Declaration of Independence was adopted by the Continental Congress on July 4, 1776.",
         "The Continental Congress met in the city of Philadelphia, Pennsylvania."),
        ("where did japan sign the surrender", "Japan formally signed the surrender on September 2, 1945.",
         "Japan signed the surrender aboard the USS Missouri."),
        ("how many colonies were there", "In 1776, they talked about whether the colonies should break away from Great Britain.",
         "Long ago, the land along the east coast of North America had thirteen colonies."),
        ("what is a river delta", "The Nile River is a river that originates in Africa, flows north, and empties into the Mediterranean Sea.",
         "This wide, flat, triangle-shaped area of land near a river's mouth is called a delta."),
        ("what is the mouth of a river", "A river is a large stream of fresh water that flows downhill across the land.",
         "The place where a river ends is called its mouth."),
    ],
)
def test_what_the_question_asks_for_must_be_in_the_sentence(question, shown, answering):
    assert not answers(question, shown)
    assert answers(question, answering)


def test_the_defined_term_is_the_head_of_what_is_asked_about():
    assert defined_term("what is a river delta") == "delta"
    assert defined_term("what is the mouth of a river") == "mouth"
    assert defined_term("whats the biggest planet") == "planet"
    assert defined_term("when did lincoln die") is None
    assert answers("what is any number times zero", "Any number times 0 is 0.")  # a number is not a term to find by spelling


def test_a_book_sentence_is_read_with_the_headings_it_stands_under():
    passage = Passage("Leaders from the colonies met in the city of Philadelphia, Pennsylvania.", "Book",
                      "Chapter 4: The Declaration of Independence › The Continental Congress", "book/ch04.md")
    assert section_headings(passage) == "The Declaration of Independence The Continental Congress"
    question = "where did the continental congress meet"
    assert not answers(question, passage.text)  # alone it never names the Congress
    assert answers(question, passage.text, context=section_headings(passage))
    assert not answers("when did the continental congress meet", passage.text, context=section_headings(passage))  # no date in it


@pytest.mark.parametrize(
    "question, answer, no_reason",
    [
        ("What causes rain?", "Rain happens when tiny water droplets in a cloud join together and become too heavy to float.",
         "Rain is water that falls from clouds."),
        ("why do earthquakes happen", "An earthquake occurs when rocks deep underground suddenly slip past each other.",
         "Earthquakes happen in many countries."),
    ],
)
def test_x_happens_when_y_is_a_reason(question, answer, no_reason):
    assert answers(question, answer)
    assert not answers(question, no_reason)


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("Mathematically, saying that electric field is the force per unit charge is written as", None),
        ("*Figure: The meter is defined to be the distance light travels in 1/299,792,458 of a second through a vacuum.", None),
        ("Table: Units of force", None),
        ("**friction**: an external force that acts opposite to the direction of motion", "Friction is an external force that acts opposite to the direction of motion."),
        ("Within this context, you will learn the difference between distance and displacement as well as the difference between speed and velocity.", None),
        ("The time for the echo to return is directly proportional to the distance.*.", "The time for the echo to return is directly proportional to the distance."),
        ("The force is given by $F = ma$.", None),
        ("> Sound travels faster in water than in air.", "Sound travels faster in water than in air."),
        ("> > **Friction** slows a sliding box down.", "Friction slows a sliding box down."),
        ("The unit of force is the newton (N.", None),
        ("Jupiter is the largest planet in the solar system.", "Jupiter is the largest planet in the solar system."),
    ],
)
def test_clean_sentence(raw, shown):
    assert clean_sentence(raw) == shown


def test_a_reported_belief_is_never_an_answer_alone():
    assert is_belief("Some people think Abraham Lincoln wrote the Declaration of Independence.")
    assert is_belief("It is a common mistake to think that the Sun goes around Earth.")
    assert not is_belief("The Declaration of Independence was written mainly by Thomas Jefferson.")


def test_kid_words():
    assert kid_words("when did world war 2 end") == "when did World War II end"
    assert kid_words("whats the biggest planet") == "what is the largest planet"
    assert answers("whats the biggest planet", "Jupiter is the largest planet in the solar system.")


def test_yes_no_statement_and_polarity():
    q = "Did Abraham Lincoln write the Declaration of Independence?"
    assert as_statement(q) == "Abraham Lincoln write the Declaration of Independence."
    assert polarity_no(q, "Abraham Lincoln did not write the Declaration of Independence.")
    assert not polarity_no("is the sun a star", "The Sun is a star.")


@pytest.mark.parametrize(
    "question, answer, claim",
    [
        ("The Oberoi family is part of a hotel company that has a head office in what city?", "Delhi",
         "The Oberoi family is part of a hotel company that has a head office in Delhi."),
        ("The Oberoi Group has its head office in what city?", "Mumbai", "The Oberoi Group has its head office in Mumbai."),
        ("What is the largest planet?", "Jupiter", "The largest planet is Jupiter."),
        ("Who wrote the Declaration of Independence?", "Thomas Jefferson", "Thomas Jefferson wrote the Declaration of Independence."),
        ("Where is the Eiffel Tower?", "Paris", "The Eiffel Tower is in Paris."),
    ],
)
def test_short_answer_becomes_a_claim(question, answer, claim):
    assert short_answer_claim(question, answer) == claim


@pytest.mark.parametrize("answer", ["", "?!", "...", "The Amazon empties into the Atlantic Ocean, not the Pacific Ocean, as the book says."])
def test_no_short_answer_claim_for_punctuation_or_a_sentence(answer):
    assert short_answer_claim("Where does the Amazon end?", answer) is None
