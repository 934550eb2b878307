"""Issue 14 end to end on the bundled sample library with the real models: whatever is shown answers the question
(the examples of the issue's table), yes/no questions get "Yes."/"No." with the book's sentence, a quoted belief is
never shown alone, short answers are checked as claims, and bad input gets a clear result."""

from __future__ import annotations

import pytest

from engine.core.config import Config
from engine.core.text import NOT_IN_BOOKS
from engine.core.vocabulary import Verdict
from engine.pipeline import Tutor
from knowledge_base.ingest import ingest
from verifiers.answers_question import answers, clean_sentence

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tutor(sample_home) -> Tutor:
    return Tutor(Config(home=sample_home))


# (question, what the tutor showed before this issue, what must be in what is shown now)
ISSUE_TABLE = [
    ("why is mars red", "Uranus is the seventh planet from the Sun.", ("iron", "rust")),
    ("What year was Lincoln born?", "He issued the Emancipation Proclamation on January 1, 1863.", ("1809",)),
    ("When did world war 2 end?", "The war began in Europe in 1939, when Germany invaded Poland.", ("1945",)),
    ("how tall is the eiffel tower", "The Eiffel Tower is the tallest building in the world.", ("300", "330")),
]


@pytest.mark.parametrize("question, before, expected", ISSUE_TABLE)
def test_an_answer_that_does_not_answer_is_replaced_by_the_book_sentence_that_does(tutor, question, before, expected):
    answer = tutor.check(question, before)
    assert answer.verdict.verdict is Verdict.CORRECTED, answer.verdict.why
    assert any(e in answer.text for e in expected), answer.text
    assert before not in answer.text
    assert answer.verdict.claims[-1].evidence is not None  # cited: the book's passage


# a wrong or empty model answer to a kid question: the book's sentence that states what is asked (a place for where,
# a count for how many, the thing itself for what is), even when the sentence names its subject only in its heading
KID_CASES = [
    ("when did lincoln die", "Lincoln was a president.", ("1865",)),
    ("where was lincoln shot", "Lincoln was shot on April 14, 1865.", ("Ford's Theatre",)),
    ("where did the continental congress meet", "The Continental Congress met on July 4, 1776.", ("Philadelphia",)),
    ("how many colonies were there", "In 1776, the colonies talked about breaking away.", ("thirteen",)),
    ("what is a river delta", "The Nile River is a long river in Africa.", ("delta",)),
    # a sentence that points back ("Because of this, …") is shown after the sentence it points to
    ("why didnt they tear down the eiffel tower", "The Eiffel Tower is in Paris.", ("radio",)),
]


@pytest.mark.parametrize("question, draft, expected", KID_CASES)
def test_a_kid_question_gets_the_sentence_that_states_what_it_asks(tutor, question, draft, expected):
    answer = tutor.check(question, draft)
    assert answer.verdict.verdict in (Verdict.CORRECTED, Verdict.GROUNDED), answer.verdict.why
    assert any(e in answer.text for e in expected), answer.text
    assert answer.verdict.claims[-1].evidence is not None


def test_a_quoted_belief_is_answered_no_with_the_books_refutation(tutor):
    answer = tutor.check(
        "Did Abraham Lincoln write the Declaration of Independence?",
        "Some people think Abraham Lincoln wrote the Declaration of Independence.",
    )
    assert answer.text.startswith("No. "), answer.text
    assert "Some people think" not in answer.text
    assert answer.verdict.verdict is Verdict.CORRECTED


def test_a_right_answer_stays_grounded(tutor):
    answer = tutor.check("What year was Lincoln born?", "Abraham Lincoln was born on February 12, 1809.")
    assert answer.verdict.verdict is Verdict.GROUNDED and "1809" in answer.text


def test_a_correction_answers_the_question_not_the_claim(tutor):
    answer = tutor.check("Where does the Amazon River end?", "The Amazon empties into the Pacific Ocean.")
    assert answer.verdict.verdict is Verdict.CORRECTED and "Atlantic" in answer.text, answer.text


def test_short_answer_is_checked_as_a_claim(tutor):
    right = tutor.check("Which planet is the largest planet in the solar system?", "Jupiter")
    assert right.verdict.verdict is Verdict.GROUNDED and "Jupiter" in right.text
    wrong = tutor.check("Which planet is the largest planet in the solar system?", "Saturn")
    assert wrong.verdict.verdict is Verdict.CORRECTED and "Jupiter" in wrong.text and "Saturn" not in wrong.text


@pytest.fixture(scope="module")
def hotel_tutor(tmp_path_factory) -> Tutor:
    home = tmp_path_factory.mktemp("hotel-home")
    book = tmp_path_factory.mktemp("hotel-book") / "oberoi.md"
    book.write_text(
        "# The Oberoi Group\n\nThe Oberoi Group is a hotel company. The Oberoi family runs the Oberoi Group. "
        "The Oberoi Group has its head office in Delhi, India. The company was founded in 1934 and runs "
        "hotels in several countries.\n",
        encoding="utf-8",
    )
    config = Config(home=home)
    ingest(config, [book], "hotels")
    return Tutor(config.with_overrides(library="hotels"))


QUESTION = "The Oberoi family is part of a hotel company that has a head office in what city?"


def test_short_answer_delhi_is_grounded(hotel_tutor):
    answer = hotel_tutor.check(QUESTION, "Delhi")
    assert answer.verdict.verdict is Verdict.GROUNDED, answer.verdict.why
    assert "Delhi" in answer.text


def test_short_answer_mumbai_is_corrected_to_delhi(hotel_tutor):
    answer = hotel_tutor.check(QUESTION, "Mumbai")
    assert answer.verdict.verdict is Verdict.CORRECTED, answer.verdict.why
    assert "Delhi" in answer.text and "Mumbai" not in answer.text


# --- bad input: a clear result, never a crash or an unrelated "correction" ----------------------------------


@pytest.mark.parametrize("question", ["planets", "42"])
def test_one_word_or_number_question(tutor, question):
    answer = tutor.check(question, "Jupiter is the largest planet.")
    assert answer.verdict.why
    if answer.verdict.verdict is Verdict.CORRECTED:
        assert answers(question, answer.text)


def test_punctuation_only_answer_abstains_with_a_reason(tutor):
    answer = tutor.check("What is the largest planet?", "?!...")
    assert answer.verdict.verdict is Verdict.ABSTAINED and answer.text == NOT_IN_BOOKS
    assert "no factual claim" in answer.verdict.why


def test_answer_in_another_language_is_not_passed_as_fact(tutor):
    answer = tutor.check("What is the largest planet?", "La Tierra es el planeta más grande del sistema solar.")
    assert "Tierra" not in answer.text or answer.verdict.verdict not in (Verdict.GROUNDED, Verdict.CORRECTED)
    assert answer.verdict.why


def test_answer_longer_than_the_passages(tutor):
    long = " ".join(["Jupiter is the largest planet in the solar system."] * 60)
    answer = tutor.check("What is the largest planet?", long)
    assert answer.verdict.verdict is Verdict.GROUNDED and "Jupiter" in answer.text
    assert len(answer.text) < 200  # the same claim once, not sixty times


def test_shown_book_sentences_are_clean(tutor):
    answer = tutor.check("what is evaporation", "Evaporation is when ice melts.")
    for sentence in answer.text.split(". "):
        assert "**" not in sentence and "#" not in sentence
    assert clean_sentence(answer.text) is not None
