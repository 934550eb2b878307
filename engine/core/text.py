"""The text toolkit: where a sentence ends, and whether a reply says "not in my books". Every part of the project
that splits sentences or recognises an abstention does it through here.

Sentences are split on punctuation, not with spaCy's parser: the split runs on every retrieved passage, every
sample and every claim, in places with no parse at hand (safety, voting), and a regex split gives the same
sentences the verifier was trained and measured on."""

from __future__ import annotations

import re

NOT_IN_BOOKS = "That isn't in my books — let's ask your teacher!"

# a sentence ends after . ! or ? and white space; in prose from a book a line break ends one too
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
SENTENCE_END_IN_LINE = re.compile(r"(?<=[.!?])\s+")  # a line break alone ends nothing (generated answers, long segments)
SENTENCE_OR_PARAGRAPH_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")  # soft-wrapped lines of a paragraph stay together

# "That isn't in my books — let's ask your teacher!" and the ways a model or a person words it
ABSTENTION = re.compile(
    r"(?:that(?:'s| is)? |it(?:'s| is)? )?(?:isn'?t|is not|not) in my books\W*(?:(?:so )?(?:let'?s|please) )?(?:ask (?:your|a) teacher(?: together)?)?\W*",
    re.I,
)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'"})


def sentences(text: str, line_breaks: bool = True) -> list[str]:
    """The sentences of a text, stripped, empty ones dropped. ``line_breaks=False``: a line break alone does not end
    a sentence."""
    pattern = SENTENCE_END if line_breaks else SENTENCE_END_IN_LINE
    return [s.strip() for s in pattern.split(text.strip()) if s.strip()]


def sentence_spans(text: str, pattern: re.Pattern = SENTENCE_END) -> list[tuple[int, int]]:
    """(start, end) character offsets of each sentence of ``text`` (white space between them left out)."""
    spans, start = [], 0
    for match in pattern.finditer(text):
        if text[start:match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def plain_apostrophes(text: str) -> str:
    return text.translate(_APOSTROPHES)


def says_not_in_books(text: str | None) -> bool:
    """An empty reply, or one that says the books do not hold the answer (any apostrophe, any case)."""
    text = plain_apostrophes(text or "")
    return not text.strip() or ABSTENTION.search(text) is not None
