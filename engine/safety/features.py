"""What the safety classifier reads of a text: two views from one forward pass of the packaged MiniLM.

- the sentence embedding (mean of the last layer's token states, L2-normalised: what the retriever uses), which
  knows what a text is *about*;
- the mean of a middle layer's token states (layer 4 of 6), which keeps more of *how* it is said: the sentence
  embedding is trained to place "women are bad at math" next to "women in math", and a middle layer has not yet
  pooled that difference away.

Both come from `output_hidden_states` of the same pass, so reading two views costs what reading one does.
"""

from __future__ import annotations

import logging

import numpy as np

from engine.core.errors import MissingModelError
from engine.core.packaged import load_embedder
from engine.core.precision import bf16_autocast

log = logging.getLogger(__name__)

MIDDLE_LAYER = 4


def features_name(layer: int) -> str:
    """What a head's manifest records it was trained on (a head is refused by features it was not trained on)."""
    return f"sentence-embedding+layer-{layer}-mean"


FEATURES = features_name(MIDDLE_LAYER)


class LayerFeatures:
    """`embed(texts) -> (n, 2 * hidden)` float32: [sentence embedding, mean of layer `layer`'s token states].
    Texts are read in length-sorted batches; the model loads on first use, offline."""

    def __init__(self, name: str = "packaged:all-MiniLM-L6-v2", layer: int = MIDDLE_LAYER, batch_size: int = 64, precision: str = "auto"):
        self.name = name
        self.layer = layer
        self.batch_size = batch_size
        self.precision = precision
        self._model = None
        self._tokenizer = None
        self._max_length = 256

    def _load(self):
        # the retriever's SentenceTransformer (loaded once per process): its tokenizer and transformer are shared,
        # not loaded a second time
        sentence_model = load_embedder(self.name)
        self._tokenizer, self._model = sentence_model.tokenizer, sentence_model[0].auto_model
        self._max_length = int(sentence_model.max_seq_length or self._max_length)
        layers = int(self._model.config.num_hidden_layers)
        if self.layer > layers:
            raise MissingModelError(f"The embedding model '{self.name}' has {layers} layers; the safety classifier reads layer {self.layer}.",
                                    "Use the packaged all-MiniLM-L6-v2 (the one the shipped classifier was trained on), or retrain with `scripts/train_safety_classifier`.")

    @property
    def features(self) -> str:
        return features_name(self.layer)

    @property
    def dimension(self) -> int:
        if self._model is None:
            self._load()
        return 2 * int(self._model.config.hidden_size)

    def embed(self, texts: list[str]) -> np.ndarray:
        import torch

        if self._model is None:
            self._load()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            batch = self._tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=self._max_length, return_tensors="pt")
            with torch.no_grad(), bf16_autocast(self.precision):
                states = self._model(**batch, output_hidden_states=True).hidden_states
            mask = batch["attention_mask"].unsqueeze(-1).float()
            count = mask.sum(1).clamp(min=1.0)
            last = (states[-1].float() * mask).sum(1) / count
            middle = (states[self.layer].float() * mask).sum(1) / count
            last = last / last.norm(dim=1, keepdim=True).clamp(min=1e-12)
            out[idx] = torch.cat([last, middle], dim=1).numpy()
        return out
