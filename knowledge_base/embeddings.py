"""Sentence embeddings (sentence-transformers), L2-normalised so that inner product is cosine similarity."""

from __future__ import annotations

import logging

import numpy as np

from engine.core.packaged import embedder_path, load_embedder
from engine.core.precision import bf16_autocast

log = logging.getLogger(__name__)


class Embedder:
    """precision "auto" runs the model under bfloat16 autocast where the CPU has native bf16: measured here
    2.1x faster than float32 with cosine >= 0.99997 to the float32 vectors, so libraries built either way agree."""

    def __init__(self, name: str, batch_size: int = 64, precision: str = "auto"):
        self.name = name
        self.path = embedder_path(name)
        self.batch_size = batch_size
        self.precision = precision
        self._model = None

    def _autocast(self):
        return bf16_autocast(self.precision)

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
                with self._autocast():
                    vectors = self.model.encode(
                        [texts[i] for i in idx],
                        batch_size=self.batch_size,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    )
                out[idx] = _normalised(vectors)
                bar.update(len(idx))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        with self._autocast():
            vector = self.model.encode([text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return _normalised(vector)[0]


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
