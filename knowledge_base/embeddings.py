"""Sentence embeddings (sentence-transformers), L2-normalised so that inner product is cosine similarity."""

from __future__ import annotations

import logging

import numpy as np

from engine.models import embedder_path, load_embedder

log = logging.getLogger(__name__)


class Embedder:
    def __init__(self, name: str, batch_size: int = 64):
        self.name = name
        self.path = embedder_path(name)
        self.batch_size = batch_size
        self._model = None

    @property
    def model(self):
        if self._model is None:
            self._model = load_embedder(self.name)
        return self._model

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def embed(self, texts: list[str], progress: bool = False, desc: str = "Embedding passages") -> np.ndarray:
        """Embed in large length-sorted batches; one outer progress bar for the whole job."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        from tqdm.auto import tqdm

        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        step = self.batch_size * 4
        with tqdm(total=len(texts), desc=desc, unit="chunk", disable=not progress) as bar:
            for start in range(0, len(texts), step):
                idx = order[start : start + step]
                vectors = self.model.encode(
                    [texts[i] for i in idx],
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                out[idx] = vectors.astype(np.float32, copy=False)
                bar.update(len(idx))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.model.encode([text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)[0].astype(np.float32)
