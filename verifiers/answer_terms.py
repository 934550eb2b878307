"""What a claim adds to the question must be in the passage that backs it.

A small generator often restates the book's sentence with another word in the answer slot: "The ratio of the
mass of an object to its volume is 4/3" against "Density is the ratio of mass to volume", or "Cellular
respiration in the absence of oxygen is called aerobic respiration" against "… is anaerobic respiration". The
claim verifier sees the shared wording and leans towards *supported*. Yet the words a claim adds to the
question are its answer, and a passage that never uses them cannot be what backs that answer.

The answer terms of a claim are its nouns, proper nouns, adjectives and numbers that the question does not
already contain (minus a few words that carry no answer, such as "example" or "main"). A passage grounds the
claim's answer when it contains every one of them, as a lemma, as the word itself, or as a close variant of the
same stem ("cellular" / "cell", "replication" / "replicate"; never "aerobic" / "anaerobic").

A claim that gives a reason ("Mars is red because it is the fourth planet from the Sun") adds a link as well as
words: the passage must state the reason as a reason. Such a claim is grounded only by a passage with one sentence
that both states a reason ("because", "which makes", "due to", "so", ... : answers_question.REASON) and contains
every answer term of the claim's reason clause. A true fact joined to a true fact by a false "because" is not
backed by the two sentences that state them apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.core.text import sentence_spans
from verifiers.answers_question import REASON

if TYPE_CHECKING:
    from verifiers.mismatch import DocCache

ANSWER_POS = frozenset({"NOUN", "PROPN", "ADJ", "NUM"})
# Words that frame an answer without being part of it.
FRAMING_WORDS = frozenset(
    {
        "answer", "question", "textbook", "book", "passage", "text", "figure", "chapter", "lesson", "example",
        "correct", "main", "important", "different", "same", "other", "certain", "many", "several", "various",
        "specific", "particular", "common", "type", "kind", "way", "part", "thing", "term", "name", "word",
        "process", "fact", "case", "lot", "number", "amount", "form", "called", "known", "also",
    }
)
# "X because Y": what follows the connective is the claim's reason clause
BECAUSE = re.compile(r"\b(?:because(?: of)?|due to|thanks to|as a result of)\b", re.I)
MIN_STEM = 4
STEM_SHARE = 0.75


def content_tokens(doc) -> list:
    """The tokens that can carry an answer: nouns, proper nouns, adjectives and numbers, less stop and framing words."""
    return [
        t
        for t in doc
        if (t.pos_ in ANSWER_POS or t.like_num)
        and (t.is_alpha or t.like_num)
        and not t.is_stop
        and t.lemma_.lower() not in FRAMING_WORDS
    ]


def _terms(doc) -> list[str]:
    return [t.lemma_.lower() for t in content_tokens(doc)]


def _vocabulary(doc) -> set[str]:
    return {t.lemma_.lower() for t in doc} | {t.lower_ for t in doc}


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def found(term: str, vocabulary: set[str]) -> bool:
    if term in vocabulary:
        return True
    if len(term) < MIN_STEM or not term.isalpha():
        return False
    for word in vocabulary:
        if len(word) < MIN_STEM or word[0] != term[0]:
            continue
        if _common_prefix(term, word) >= max(MIN_STEM, STEM_SHARE * min(len(term), len(word))):
            return True
    return False


class AnswerTerms:
    """Which answer terms of each claim each of its passages lacks. Texts are read through a `DocCache`: the claim
    verifier's own, so the claims and passages it has just parsed are not parsed again."""

    def __init__(self, docs: DocCache):
        self.docs = docs

    def answer_terms(self, question: str, claims: Sequence[str]) -> list[list[str]]:
        self.docs.parse([question, *claims])
        asked = _vocabulary(self.docs[question])
        return [list(dict.fromkeys(t for t in _terms(self.docs[c]) if not found(t, asked))) for c in claims]

    def missing(self, question: str, claims: Sequence[str], passages: Sequence[Sequence[str]]) -> list[list[tuple[str, ...]]]:
        """missing[i][j]: the answer terms of claims[i] that passages[i][j] does not contain."""
        terms = self.answer_terms(question, claims)
        self.docs.parse(p for ps in passages for p in ps)
        vocab = {p: _vocabulary(self.docs[p]) for ps in passages for p in ps}
        reasons = self.reason_terms(question, claims)
        out = []
        for ts, reason, ps in zip(terms, reasons, passages):
            row = []
            for p in ps:
                lacking = tuple(t for t in ts if not found(t, vocab[p]))
                if reason and not lacking and not self.states_reason(p, reason):
                    lacking = ("(the reason: " + " ".join(reason) + ")",)
                row.append(lacking)
            out.append(row)
        return out

    def reason_terms(self, question: str, claims: Sequence[str]) -> list[list[str]]:
        """Per claim, the answer terms of its reason clause ("… because <clause>"); empty when it gives no reason."""
        clauses = []
        for claim in claims:
            m = BECAUSE.search(claim)
            clauses.append(claim[m.end():].strip(" .,;") if m and len(claim[: m.start()].split()) >= 2 else "")
        terms = self.answer_terms(question, [c for c in clauses if c]) if any(clauses) else []
        found_terms = iter(terms)
        return [next(found_terms) if c else [] for c in clauses]

    def states_reason(self, passage: str, reason: Sequence[str]) -> bool:
        """Whether one sentence of the passage states a reason and contains every one of the reason terms."""
        doc = self.docs[passage]
        for begin, end in sentence_spans(passage):
            if not REASON.search(passage[begin:end]):
                continue
            vocabulary = _vocabulary([t for t in doc if begin <= t.idx < end])
            if all(found(t, vocabulary) for t in reason):
                return True
        return False
