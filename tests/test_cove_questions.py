"""Chain-of-verification question planning: open questions that ask for the claim's key detail without giving it away."""

from __future__ import annotations

import random

import pytest

from engine.core.packaged import load_spacy
from verifiers.cove_questions import key_detail, plan, plan_question, plan_questions


@pytest.fixture(scope="module")
def nlp():
    return load_spacy()


@pytest.mark.parametrize(
    "claim, accepted, detail",
    [
        ("Thomas Jefferson wrote the Declaration of Independence.", {"Who wrote the Declaration of Independence?"}, "Thomas Jefferson"),
        (
            "The Amazon empties into the Pacific Ocean.",
            {"Where does the Amazon empty into?", "What does the Amazon empty into?"},
            "Pacific Ocean",
        ),
        ("The Eiffel Tower was completed in 1889.", {"When was the Eiffel Tower completed?"}, "1889"),
        ("Abraham Lincoln was born in Kentucky.", {"Where was Abraham Lincoln born?"}, "Kentucky"),
        ("Lincoln was the 16th president.", {"Which president was Lincoln?", "What number president was Lincoln?"}, "16th"),
        ("7 × 8 = 56", {"What is 7 × 8?"}, "56"),
        ("seven times eight is fifty-six", {"What is seven times eight?"}, "fifty-six"),
        ("A spider has eight legs.", {"How many legs does a spider have?"}, "eight"),
        ("Plants need sunlight.", {"What do plants need?"}, "sunlight"),
        ("Germany surrendered in May 1945.", {"When did Germany surrender?"}, "May 1945"),
        ("In 1492, Columbus sailed across the Atlantic.", {"When did Columbus sail across the Atlantic?"}, "1492"),
        ("The telephone was invented by Alexander Graham Bell.", {"Who was the telephone invented by?"}, "Alexander Graham Bell"),
        ("Mercury is the closest planet to the Sun.", {"Which planet is the closest to the Sun?"}, "Mercury"),
    ],
)
def test_examples(claim, accepted, detail, nlp):
    question = plan_question(claim, nlp)
    assert question in accepted
    assert key_detail(claim, nlp) == detail
    assert detail.lower() not in question.lower()


def test_question_does_not_leak_detail():
    question = plan_question("The Amazon empties into the Pacific Ocean.")
    assert "Pacific" not in question and question.endswith("?")


@pytest.mark.parametrize("claim", ["It is cold.", "Photosynthesis happens in the leaves.", "Wow.", "???", "水は100度で沸騰する。"])
def test_fallback_is_yes_no(claim, nlp):
    question = plan_question(claim, nlp)
    assert question.startswith("Is it true that ")
    assert question.endswith("?")
    assert key_detail(claim, nlp) is None


def test_fallback_lowercases_function_word():
    assert plan_question("It is cold.") == "Is it true that it is cold?"


@pytest.mark.parametrize("claim", ["", "   "])
def test_empty(claim):
    assert plan_question(claim) == ""
    assert key_detail(claim) is None


def test_batch_matches_single(nlp):
    claims = [
        "Thomas Jefferson wrote the Declaration of Independence.",
        "7 × 8 = 56",
        "",
        "The Eiffel Tower was completed in 1889.",
        "It is cold.",
    ]
    assert plan_questions(claims, nlp) == [plan_question(c, nlp) for c in claims]
    assert plan_questions([]) == []


def test_plan_returns_question_and_detail(nlp):
    planned = plan("Abraham Lincoln was born in Kentucky.", nlp)
    assert planned.question == "Where was Abraham Lincoln born?"
    assert planned.key_detail == "Kentucky"


def test_every_question_hides_its_detail(nlp):
    claims = [
        "George Washington was the first president of the United States.",
        "The Nile is the longest river in Africa.",
        "Bees make honey.",
        "The Sun is a star.",
        "The heart pumps blood through the body.",
        "Water boils at 100 degrees Celsius.",
        "Marie Curie discovered radium.",
    ]
    for claim, question in zip(claims, plan_questions(claims, nlp)):
        detail = key_detail(claim, nlp)
        assert question.endswith("?")
        if detail is not None:
            assert detail.lower() not in question.lower(), (claim, question)
        else:
            assert question.startswith("Is it true that")


def test_random_unicode_robustness(nlp):
    rng = random.Random(7)
    alphabet = "abc XYZ 0123 .,!?;:-×=()\n éü漢字🙂—'"
    claims = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120))) for _ in range(60)]
    questions = plan_questions(claims, nlp)
    assert len(questions) == len(claims)
    for claim, question in zip(claims, questions):
        assert isinstance(question, str)
        assert question == "" if not claim.strip() else question.endswith("?")
