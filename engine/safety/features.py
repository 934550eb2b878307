"""What the safety classifier reads of a text: the packaged MiniLM's layer-4 token states (of 6), and for the texts
that reading leaves unsure of, the rest of the same pass.

- `middle`: the mean of layer 4's token states. A middle layer keeps more of *how* a thing is said than the
  sentence embedding does: the sentence embedding is trained to place "women are bad at math" next to "women in
  math", and layer 4 has not yet pooled that difference away. It needs only the first four layers.
- `sentence_embeddings(rows)`: layers 5 and 6 run on from the layer-4 states already computed (nothing is read
  twice), giving the retriever's sentence embedding (mean of the last layer, L2-normalised), which knows better
  what a text is *about*. The classifier asks for it only for texts its first head is unsure of.

The layers are the retriever's own (one copy in memory), run through two views of the model that share every
weight: one stops after layer 4, the other starts there.
"""

from __future__ import annotations

import copy
import logging
import threading

import numpy as np

from engine.core.errors import MissingModelError
from engine.core.packaged import load_embedder
from engine.core.precision import bf16_autocast

log = logging.getLogger(__name__)

MIDDLE_LAYER = 4


def features_name(layer: int) -> str:
    """What a head's manifest records it was trained on (a head is refused by features it was not trained on)."""
    return f"layer-{layer}-mean"


FEATURES = features_name(MIDDLE_LAYER)
FULL_FEATURES = f"sentence-embedding+{FEATURES}"


def _view(model, layers: slice, embeddings=None):
    """A view of a BERT-style encoder that runs only `layers` of its layers (and, given, other embeddings): the same
    modules, no weight copied, with its own module tables so the shared model is left whole."""
    import torch

    encoder = copy.copy(model.encoder)
    encoder._modules = dict(model.encoder._modules)
    encoder._modules["layer"] = torch.nn.ModuleList(list(model.encoder.layer)[layers])
    view = copy.copy(model)
    view._modules = dict(model._modules)
    view._modules["encoder"] = encoder
    view._modules["pooler"] = None
    if embeddings is not None:
        view._modules["embeddings"] = embeddings
    return view


def _passthrough():
    import torch

    class Passthrough(torch.nn.Module):
        """Stands in for the embeddings of a view that starts mid-model: its input is already a layer's states."""

        def forward(self, inputs_embeds=None, **_):
            return inputs_embeds

    return Passthrough()


def first_layers(model, layers: int):
    return _view(model, slice(0, layers))


def last_layers(model, start: int):
    """Runs the layers from `start` on, over states passed as `inputs_embeds` (the model builds its own mask)."""
    return _view(model, slice(start, None), _passthrough())


class Reading:
    """One `LayerFeatures.read`: `middle` for every text, and the layer-4 states kept to finish the pass on demand."""

    def __init__(self, middle: np.ndarray, batches: list, tail, precision: str):
        self.middle = middle
        self._batches = batches  # (text indices, layer-4 states, attention mask)
        self._tail = tail
        self._precision = precision

    def sentence_embeddings(self, rows) -> np.ndarray:
        """The sentence embedding of each text in `rows` (indices into the texts read), from layer 4 on."""
        import torch

        wanted = {int(r): k for k, r in enumerate(rows)}
        out = np.zeros((len(wanted), self.middle.shape[1]), dtype=np.float32)
        for idx, states, mask in self._batches:
            pick = [j for j, i in enumerate(idx) if int(i) in wanted]
            if not pick:
                continue
            sub_mask = mask[pick]
            length = int(sub_mask.sum(1).max())  # the chosen rows may need less padding than their batch
            with torch.no_grad(), bf16_autocast(self._precision):
                last = self._tail(inputs_embeds=states[pick][:, :length], attention_mask=sub_mask[:, :length]).last_hidden_state
            m = sub_mask[:, :length].unsqueeze(-1).float()
            pooled = (last.float() * m).sum(1) / m.sum(1).clamp(min=1.0)
            pooled = pooled / pooled.norm(dim=1, keepdim=True).clamp(min=1e-12)
            out[[wanted[int(idx[j])] for j in pick]] = pooled.numpy()
        return out


class LayerFeatures:
    """`read(texts) -> Reading`; `embed(texts) -> (n, hidden)` float32, the mean of layer `layer`'s token states
    over each text's tokens. Texts are read in length-sorted batches; the model loads on first use, offline."""

    def __init__(self, name: str = "packaged:all-MiniLM-L6-v2", layer: int = MIDDLE_LAYER, batch_size: int = 64, precision: str = "auto"):
        self.name = name
        self.layer = layer
        self.batch_size = batch_size
        self.precision = precision
        self._model = None
        self._tokenizer = None
        self._max_length = 256
        self._loading = threading.Lock()  # students' threads share one reader

    def _load(self):
        with self._loading:
            if self._model is None:
                self._load_once()

    def _load_once(self):
        # the retriever's SentenceTransformer (loaded once per process): its tokenizer and layers are shared
        sentence_model = load_embedder(self.name)
        transformer = sentence_model[0].auto_model
        layers = int(transformer.config.num_hidden_layers)
        if self.layer > layers or not hasattr(transformer, "encoder") or not hasattr(transformer.encoder, "layer"):
            raise MissingModelError(f"The embedding model '{self.name}' has no layer {self.layer} to read (it has {layers}, or is not a BERT-style encoder).",
                                    "Use the packaged all-MiniLM-L6-v2 (the one the shipped classifier was trained on), or retrain with `scripts/train_safety_classifier`.")
        # the model last: another thread sees a loaded reader only once every part of it is set
        self._hidden = int(transformer.config.hidden_size)
        self._max_length = int(sentence_model.max_seq_length or self._max_length)
        self._tokenizer, self._tail = sentence_model.tokenizer, last_layers(transformer, self.layer)
        self._model = first_layers(transformer, self.layer)

    @property
    def features(self) -> str:
        return features_name(self.layer)

    @property
    def dimension(self) -> int:
        if self._model is None:
            self._load()
        return self._hidden

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.read(texts, keep=False).middle

    def read(self, texts: list[str], keep: bool = True) -> Reading:
        """Layer 4 for every text; with `keep`, its states stay in the Reading so sentence embeddings can follow."""
        import torch

        if self._model is None:
            self._load()
        middle = np.zeros((len(texts), self.dimension), dtype=np.float32)
        batches = []
        # batches of like token counts (characters are a poor guide: a suffix of symbols is many tokens), padded
        # here, so a batch costs what its longest text does and little more
        encoded = self._tokenizer(list(texts), truncation=True, max_length=self._max_length)
        ids, types = encoded["input_ids"], encoded.get("token_type_ids")
        lengths = np.array([len(row) for row in ids])
        order = np.argsort(-lengths, kind="stable")
        pad = self._tokenizer.pad_token_id or 0
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            width = int(lengths[idx].max())
            input_ids = torch.full((len(idx), width), pad, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for row, i in enumerate(idx):
                input_ids[row, : lengths[i]] = torch.tensor(ids[i])
                mask[row, : lengths[i]] = 1
            batch = {"input_ids": input_ids, "attention_mask": mask}
            if types is not None:
                batch["token_type_ids"] = torch.zeros_like(input_ids)
            with torch.no_grad(), bf16_autocast(self.precision):
                states = self._model(**batch).last_hidden_state
            m = mask.unsqueeze(-1).float()
            middle[idx] = ((states.float() * m).sum(1) / m.sum(1).clamp(min=1.0)).numpy()
            if keep:
                batches.append((idx, states, mask))
        return Reading(middle, batches, self._tail, self.precision)
