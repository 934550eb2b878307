"""When the books name another answer: a claim whose name or number is not the one the books pair with the question.

The claim verifier is a small model trained here, and it is weakest where a claim swaps one name for another in a
sentence the books otherwise support: "The largest planet is Saturn" scores as supported against the Saturn
passage ("Saturn's rings are the biggest"), and "Neptune is the largest planet" against a list that names both
Neptune and "the largest planet". Chain-of-verification answers the question again without the draft in sight
("The largest planet is Jupiter"), but the verifier cannot tell that this disagrees either.

This check reads the answer slot directly. The question's *focus* is what the claim shares with it ("largest",
"planet"); the claim's *answer* is the names and numbers it adds (Saturn); the independent answer's names and
numbers are its answer (Jupiter). The claim conflicts with the books when the two answers share nothing, some
sentence of the passages states the whole focus with (part of) the independent answer ("Jupiter is the largest
planet in the solar system."), and no sentence states it with any part of the claim's answer. That sentence is then the correction. A question
with several right answers ("Which planets have rings?") is safe: a sentence pairing the focus with the claim's
own answer clears it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from verifiers.answer_terms import FRAMING_WORDS, _vocabulary, content_tokens, found

if TYPE_CHECKING:
    from verifiers.mismatch import DocCache

SLOT_POS = frozenset({"PROPN", "NUM"})  # names and numbers (and capitalised nouns: "Earth"): answers that exclude one another
MAX_SLOT_TERMS = 3  # a claim adding more than this is more than one answer; it is left to the verifier
NEGATIONS = frozenset({"not", "never", "no", "n't"})
NEGATION_REACH = 4


@dataclass(frozen=True)
class Conflict:
    passage: int  # index into the passages given
    sentence: str  # the book's sentence that pairs the focus with another answer
    claim_answer: tuple[str, ...]
    book_answer: tuple[str, ...]


def _negated(token) -> bool:
    """"…the Atlantic Ocean, not the Pacific Ocean": a word a negation governs names what is *not* the answer. Read
    from the words before it (the checker's spaCy pipeline has no parser): a "not", "no", "never" or "n't" at most
    NEGATION_REACH words back, with no punctuation between."""
    doc = token.doc
    for i in range(token.i - 1, max(token.i - 1 - NEGATION_REACH, -1), -1):
        word = doc[i]
        if word.is_punct:
            return False
        if word.lower_ in NEGATIONS:
            return True
    return False


def _slot(doc, asked: set[str]) -> tuple[str, ...]:
    """The names and numbers of `doc` ("Saturn", "Earth", "1945", "first", "16th") the question does not already
    contain, leaving out those under a negation."""
    terms = []
    for t in doc:
        name = t.pos_ in SLOT_POS or (t.pos_ == "NOUN" and t.text[:1].isupper())
        if not (t.like_num or (name and t.is_alpha and not t.is_stop)):
            continue
        if t.lemma_.lower() in FRAMING_WORDS or found(t.lemma_.lower(), asked) or _negated(t):
            continue
        terms.append(t.lemma_.lower())
    return tuple(dict.fromkeys(terms))


def _affirmed(doc) -> set[str]:
    """The words of a sentence, less those it negates."""
    return {w for t in doc if not _negated(t) for w in (t.lemma_.lower(), t.lower_)}


def _focus(claim_doc, asked: set[str]) -> list[tuple[str, ...]]:
    """What the claim shares with the question, as groups: the words of one name ("Amazon River", "United States")
    form one group, which a sentence mentions when it uses any of them ("The Amazon empties into…")."""
    groups: list[list[str]] = []
    last_name = -2
    for t in content_tokens(claim_doc):
        if not found(t.lemma_.lower(), asked):
            continue
        if t.pos_ == "PROPN" and last_name == t.i - 1:
            groups[-1].append(t.lemma_.lower())
        else:
            groups.append([t.lemma_.lower()])
        last_name = t.i if t.pos_ == "PROPN" else -2
    return [tuple(dict.fromkeys(g)) for g in groups]


def _has_focus(focus: Sequence[tuple[str, ...]], vocabulary: set[str]) -> bool:
    return all(any(found(t, vocabulary) for t in group) for group in focus)


class SlotConflicts:
    """`find(question, claim, independent_answer, passage_sentences)`: the Conflict, or None. Texts are parsed
    through the claim verifier's DocCache."""

    def __init__(self, docs: DocCache):
        self.docs = docs

    def find(self, question: str, claim: str, independent: str, passages: Sequence[Sequence[str]]) -> Conflict | None:
        if not question.strip() or not independent.strip():
            return None
        self.docs.parse([question, claim, independent])
        asked = _vocabulary(self.docs[question])
        claim_doc = self.docs[claim]
        focus = _focus(claim_doc, asked)
        claimed = _slot(claim_doc, asked)
        if not focus or not claimed or len(claimed) > MAX_SLOT_TERMS:
            return None
        independent_doc = self.docs[independent]
        # what each answer names that the other does not ("Pacific" / "Atlantic", both "Ocean")
        claim_vocabulary = _vocabulary(claim_doc)
        theirs = tuple(t for t in _slot(independent_doc, asked) if not found(t, claim_vocabulary))
        independent_affirms = _affirmed(independent_doc)
        mine = tuple(t for t in claimed if not found(t, independent_affirms))
        if not mine or not theirs:
            return None  # the independent answer names the claim's answer too, or nothing else: no disagreement to read
        self.docs.parse(s for ss in passages for s in ss)
        against: tuple[int, str] | None = None
        for index, sentences in enumerate(passages):
            for sentence in sentences:
                vocabulary = _affirmed(self.docs[sentence])
                if not _has_focus(focus, _vocabulary(self.docs[sentence])):
                    continue
                if any(found(t, vocabulary) for t in mine):
                    return None  # the books pair the focus with (part of) the claim's answer somewhere
                if against is None and any(found(t, vocabulary) for t in theirs):
                    against = (index, sentence)
        if against is None:
            return None
        return Conflict(against[0], against[1], mine, theirs)
