"""The text toolkit every package splits sentences and recognises "not in my books" through."""

from engine.core.text import (
    NOT_IN_BOOKS,
    SENTENCE_OR_PARAGRAPH_END,
    plain_apostrophes,
    says_not_in_books,
    sentence_spans,
    sentences,
)


def test_sentences_end_at_punctuation_and_at_line_breaks_in_book_prose():
    text = "Mars is red.  Its soil holds iron oxide!\nJupiter is the largest planet"
    assert sentences(text) == ["Mars is red.", "Its soil holds iron oxide!", "Jupiter is the largest planet"]


def test_sentences_without_line_breaks_keep_a_wrapped_line_together():
    text = "The Amazon empties into\nthe Atlantic Ocean. It is long."
    assert sentences(text, line_breaks=False) == ["The Amazon empties into\nthe Atlantic Ocean.", "It is long."]


def test_sentences_of_empty_or_blank_text_are_none():
    assert sentences("") == []
    assert sentences("  \n\n ") == []


def test_sentence_spans_point_at_each_sentence_without_the_space_between():
    text = "Cells divide. Roots drink water?  Leaves make food."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Cells divide.", "Roots drink water?", "Leaves make food."]


def test_sentence_spans_by_paragraph_keep_soft_wrapped_lines():
    text = "A plant needs light\nand water.\n\nA seed grows."
    assert [text[a:b] for a, b in sentence_spans(text, SENTENCE_OR_PARAGRAPH_END)] == [
        "A plant needs light\nand water.", "A seed grows."]


def test_the_tutors_own_abstention_is_recognised():
    assert says_not_in_books(NOT_IN_BOOKS)


def test_an_abstention_with_a_curly_apostrophe_is_recognised():
    assert says_not_in_books("That isn’t in my books — let’s ask your teacher!")
    assert says_not_in_books("that is NOT in my books, please ask a teacher")


def test_an_empty_reply_counts_as_no_answer():
    assert says_not_in_books("")
    assert says_not_in_books(None)
    assert says_not_in_books("   ")


def test_an_answer_is_not_an_abstention():
    assert not says_not_in_books("Mars looks red because its soil holds iron oxide.")
    assert not says_not_in_books("The book says the Nile is in Africa.")


def test_plain_apostrophes_replace_curly_ones_only():
    assert plain_apostrophes("Earth’s moon ‘shines’") == "Earth's moon 'shines'"
