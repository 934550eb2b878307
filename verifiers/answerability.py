"""Do the books talk about this question at all, and which sentence of theirs answers it best?

Retrieval always returns its nearest passages, even for a question the books never discuss ("Who proposed the
theory of evolution?" against a library whose page on Darwin was left out still finds pages on evolution). So
before any answer is generated, each sentence of the top passages is scored against the question:

    relevance = 0.45 · coverage + 0.55 · similarity

coverage is the share of the question's content words (lemmas) the sentence contains, read with the headings of
its section (a book says "He died the next morning" under "Lincoln's Death": the heading names who "he" is),
similarity the bi-encoder cosine. The weights are a logistic regression's, fitted on SciQ dev (before headings were
read) to tell answerable questions from those whose passage is not in the knowledge base; at the default threshold
(0.6) it turned away 82% of the not-in-book questions and 8% of the answerable ones (``engine.core.config.VerificationConfig.answerable_threshold``).

The best sentence doubles as the tutor's last resort: when none of the generated answer's claims survives
verification, a question the books clearly cover is answered with the book's own words, cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from engine.core.vocabulary import Passage
from verifiers import mismatch
from verifiers.answers_question import answers, clean_sentence, is_belief, join_initials, kid_words
from verifiers.verdict import passage_sentences

COVERAGE_WEIGHT = 0.45
# a sentence that opens by pointing back ("Because of this, …", "That is why …", "He died …")
BACK_REFERENCE = re.compile(r"^(?:because of (?:this|that)|for this reason|that is why|this is why|this|that|these|those|he|she|it|they|his|her|its|their)\b", re.I)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the of to in on at for by with from and or but is are was were be been being it its this that these those "
    "what which who whom whose when where why how do does did can could will would should may might as into than then "
    "there their they them he she his her you your we our i me my not no so if about".split()
)


@dataclass(frozen=True)
class BookSentence:
    """A sentence of an approved passage, scored against a question."""

    text: str
    passage: Passage
    relevance: float
    coverage: float
    similarity: float


class Answerability:
    def __init__(self, embedder, docs: mismatch.DocCache, passages_to_read: int = 3):
        self.embedder = embedder
        self.docs = docs
        self.passages_to_read = passages_to_read

    def best_sentence(self, question: str, passages: list[Passage]) -> BookSentence | None:
        """The sentence of the top passages that answers the question best; its relevance is the
        best coverage and best similarity over all those sentences, weighted (see the module docstring)."""
        candidates = [(s, p) for p in passages[: self.passages_to_read] for s in passage_sentences(p)]
        if not question.strip() or not candidates:
            return None
        texts = [s for s, _ in candidates]
        coverage = self._coverage(question, candidates)
        vectors = self.embedder.embed([question] + texts)
        similarity = vectors[1:] @ vectors[0]
        per_sentence = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * similarity
        best = int(np.argmax(per_sentence))
        relevance = COVERAGE_WEIGHT * float(coverage.max()) + (1 - COVERAGE_WEIGHT) * float(similarity.max())
        text, passage = candidates[best]
        return BookSentence(text, passage, relevance, float(coverage[best]), float(similarity[best]))

    def _coverage(self, question: str, candidates: list[tuple[str, Passage]]) -> np.ndarray:
        """Per sentence: the share of the question's content lemmas in the sentence or its section's headings."""
        question = join_initials(question)
        texts = [join_initials(t) for t, _ in candidates]
        headings = [join_initials(section_headings(p)) for _, p in candidates]
        self.docs.parse([question] + texts + [h for h in headings if h])
        wanted = set(mismatch.content_lemmas(self.docs[question]))
        out = []
        for text, heading in zip(texts, headings):
            found = set(mismatch.content_lemmas(self.docs[text])) | (set(mismatch.content_lemmas(self.docs[heading])) if heading else set())
            out.append(len(wanted & found) / max(1, len(wanted)))
        return np.array(out)

    def best_answer(self, question: str, passages: list[Passage], min_relevance: float = 0.0) -> BookSentence | None:
        ranked = self.answers(question, passages, min_relevance)
        return ranked[0] if ranked else None

    def answers(self, question: str, passages: list[Passage], min_relevance: float = 0.0) -> list[BookSentence]:
        """The clean sentences of the top passages that answer the question, best first (verifiers/answers_question.py: what
        it asks for, about its subject), ranked by the same relevance; None when no sentence answers it. A
        reported belief ("Some people think …") is never one: the book's refutation of it is."""
        question = kid_words(question)
        candidates = []
        for p in passages[: self.passages_to_read + 1]:
            previous = None
            for raw in passage_sentences(p):
                text = clean_sentence(raw)
                context = section_headings(p)
                points_back = bool(text and BACK_REFERENCE.match(text) and previous)
                if points_back:
                    context = f"{context} {previous}"
                if text and not is_belief(text) and answers(question, text, context=context):
                    # "Because of this, it was allowed to stay." means nothing alone: it is shown after the
                    # sentence it points back to
                    candidates.append((f"{previous} {text}" if points_back and not is_belief(previous) else text, p))
                previous = text
        if not question.strip() or not candidates:
            return []
        texts = list(dict.fromkeys(t for t, _ in candidates))
        where = {t: p for t, p in reversed(candidates)}
        coverage = self._coverage(question, [(t, where[t]) for t in texts])
        vectors = self.embedder.embed([question] + texts)
        similarity = vectors[1:] @ vectors[0]
        scores = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * similarity
        order = [i for i in np.argsort(-scores) if scores[i] >= min_relevance]
        return [BookSentence(texts[i], where[texts[i]], float(scores[i]), float(coverage[i]), float(similarity[i])) for i in order]


def section_headings(passage: Passage, depth: int = 2) -> str:
    """The last `depth` headings of a passage's section path ("Chapter 3: Abraham Lincoln › The End of the War and
    Lincoln's Death" → both), without chapter numbering."""
    parts = [part.strip() for part in (passage.section or "").split("›") if part.strip()]
    return " ".join(re.sub(r"^(?:chapter|unit|section|part)\s+[\d.]+\s*:\s*", "", part, flags=re.I) for part in parts[-depth:])


def narrow(passage: Passage, query: str, max_sentences: int = 3) -> Passage:
    """The passage cut to the run of up to `max_sentences` sentences sharing most words with the query: a shorter
    prompt for chain-of-verification's independent answers (prefill is most of a small model's time on CPU)."""
    sentences = passage_sentences(passage)
    if len(sentences) <= max_sentences:
        return passage
    wanted = _words(query)
    overlap = [len(wanted & _words(s)) for s in sentences]
    start = max(range(len(sentences) - max_sentences + 1), key=lambda i: (sum(overlap[i : i + max_sentences]), overlap[i], -i))
    return replace(passage, text=" ".join(sentences[start : start + max_sentences]))


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}
