"""Retrieval: dense FAISS search fused with BM25, a relevance floor, passages with citations out."""

from __future__ import annotations

import logging
import re

import numpy as np

from engine.core.config import RetrievalConfig
from engine.core.vocabulary import Passage
from knowledge_base.embeddings import Embedder
from knowledge_base.ingest import EmbedderMismatch
from knowledge_base.library import LibraryData

log = logging.getLogger(__name__)

TOKEN = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a an and are as at be been but by can did do does for from had has have how i if in into is it its of on or "
    "so than that the their them then there these they this to was were what when where which who whom why will "
    "with would you your about after all also any because before between both called during each most much "
    "other over same some such through under up very".split()
)


def _stem(word: str) -> str:
    for suffix in ("ies", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def tokenize(text: str) -> list[str]:
    return [_stem(t) for t in TOKEN.findall(text.lower()) if t not in STOPWORDS]


class Retriever:
    def __init__(self, library: LibraryData, embedder: Embedder, config: RetrievalConfig):
        if library.embedder != embedder.name:
            raise EmbedderMismatch(library.name, library.embedder, library.dimension, embedder.name)
        if embedder.dimension != library.dimension:
            raise EmbedderMismatch(library.name, library.embedder, library.dimension, embedder.name, embedder.dimension)
        self.library = library
        self.embedder = embedder
        self.config = config
        self._bm25 = None

    @property
    def bm25(self):
        if self._bm25 is None:
            import bm25s

            logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import
            self._bm25 = bm25s.BM25()
            self._bm25.index([tokenize(f"{c.section} {c.text}") for c in self.library.chunks], show_progress=False)
        return self._bm25

    def with_embedder(self, embedder) -> "Retriever":
        """The same books and index, queries embedded by `embedder` (the same model, e.g. one whose calls are batched)."""
        twin = Retriever(self.library, embedder, self.config)
        twin._bm25 = self.bm25
        return twin

    def retrieve(self, question: str, top_k: int | None = None) -> list[Passage]:
        """The top-k passages that are about the question; none at all when nothing in the books is."""
        k = top_k or self.config.top_k
        n = len(self.library.chunks)
        if n == 0 or not question.strip():
            return []
        query = self.embedder.embed_query(question)
        pool = min(n, max(50, 10 * k))
        dense_scores, dense_ids = self.library.index.search(query[None, :], pool)
        candidates = {int(i) for i in dense_ids[0] if i >= 0}
        bm25_scores = None
        if self.config.hybrid:
            bm25_scores = self._bm25_scores(question)
            if bm25_scores is not None:
                candidates.update(int(i) for i in np.argsort(-bm25_scores)[:pool] if bm25_scores[i] > 0)
        ids = np.fromiter(candidates, dtype=np.int64)
        cosine = self.library.embeddings[ids] @ query  # exact cosine for every candidate, whichever list found it
        fused = cosine.copy()
        if bm25_scores is not None and bm25_scores.max() > 0:
            fused = (1 - self.config.bm25_weight) * cosine + self.config.bm25_weight * (bm25_scores[ids] / bm25_scores.max())
        order = np.argsort(-fused)
        passages: list[Passage] = []
        for j in order:
            if cosine[j] < self.config.min_relevance:
                continue
            chunk = self.library.chunks[int(ids[j])]
            passages.append(
                Passage(
                    text=chunk.text,
                    book=chunk.book,
                    section=chunk.section,
                    doc_id=chunk.doc_id,
                    file=chunk.file,
                    start_char=chunk.start_char,
                    end_char=chunk.end_char,
                    chunk_id=int(ids[j]),
                    score=float(fused[j]),
                )
            )
            if len(passages) == k:
                break
        return passages

    def _bm25_scores(self, question: str) -> np.ndarray | None:
        tokens = tokenize(question)
        if not tokens:
            return None
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)
