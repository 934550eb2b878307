"""The claim verifier: does a textbook passage support a claim, contradict it, or say nothing about it?

Four signals, combined by a small calibrated classifier (multinomial logistic regression):
  * the bi-encoder cosine between claim and passage (the packaged MiniLM; strong on paraphrase and topic),
  * a cross-encoder fine-tuned from the same MiniLM weights on SciTail and synthetic minimal-edit pairs
    (``scripts/train_verifier``; sees word-level detail the bi-encoder cannot),
  * explicit mismatch checks (numbers, units, dates, named entities, negation, opposites, word order),
  * optionally any Hugging Face NLI cross-encoder (``nli_model``), whose probabilities become extra features.

Trained parts live in one checkpoint folder in the cache:
    <cache>/claim_verifier/<key>/cross_encoder/   (HF config + safetensors + tokenizer)
    <cache>/claim_verifier/<key>/combiner.json    (feature names, scaling and weights: no pickle)
    <cache>/claim_verifier/<key>/meta.json        (what it was trained on, how long it took)
The key hashes the training data, the training code version and the base model, so a change to any of them
trains a new checkpoint, and an unchanged setup loads the existing one.

Inference is batched: every distinct text is embedded and parsed once, and all pairs go through the
cross-encoder in length-sorted batches.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from engine.core.errors import MissingModelError, StudyBuddyError
from engine.core.files import write_text_atomic
from engine.core.packaged import load_embedder
from engine.core.precision import bf16_autocast
from engine.core.vocabulary import Support
from verifiers import alignment, mismatch
from verifiers.alignment import opposite_by_prefix
from verifiers.verifier_checkpoint import (
    BASE_MODEL,
    VerifierNotReady,
    checkpoint_complete,
    checkpoint_folder,
)

log = logging.getLogger(__name__)


LABELS = ("supported", "contradicted", "unsupported")
CE_FEATURES = ("ce_supported", "ce_contradicted", "ce_unsupported")
EXT_FEATURES = ("nli_entailment", "nli_contradiction", "nli_neutral")
# verifiers/alignment.py: a copied sentence with a detail changed, a phrase moved, or a phrase lifted from elsewhere
ALIGN_FEATURES = ("substitution_sim", "role_swap", "structure_agreement", "structure_breaks", "doer_conflicts",
                  "object_conflicts", "imported")
BASE_FEATURES = ("cosine",) + CE_FEATURES + mismatch.FEATURE_NAMES + ALIGN_FEATURES
FOCUS_WORDS = 110  # passages longer than this are narrowed to the sentences that match the claim best


def _threads(default: int | None = None) -> None:
    """Set torch's thread count from STUDYBUDDY_THREADS, else to `default`; None leaves it alone.

    Training passes default=1: measured on the 2-core build machine while other work ran beside it, 2 threads gave
    2.5 training pairs/s and 1 thread 17.8 (threads that wait for a busy core stall every step). Inference leaves
    the count alone, since the generator shares the process and wants every core it has."""
    import torch

    n = int(os.environ.get("STUDYBUDDY_THREADS", "0") or 0) or default
    if n and torch.get_num_threads() != n:
        torch.set_num_threads(n)


def nli_combiner_path(folder: Path, nli_model: str, nli_mode: str) -> Path:
    """Where the combiner fitted for an extra NLI model is kept, beside the checkpoint it extends."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{nli_mode}-{nli_model}")[-80:]
    return Path(folder) / f"combiner-{slug}.json"


class Combiner:
    """A small calibrated classifier over standardised features, stored as JSON (no pickle).

    ``layers``: [(W, b), ...]; ReLU between layers, softmax (with a fitted temperature) at the end. One layer is
    multinomial logistic regression; the trained verifier uses one hidden layer of 32 units (chosen by 5-fold
    cross-validation on the combiner's training split: it captures interactions such as "a mismatch flag
    matters when the passage is on topic", which a linear model cannot). ``members``: several such stacks whose
    probabilities are averaged (the trained verifier averages five MLPs started from different seeds).
    """

    def __init__(self, features: Sequence[str], mean, scale, layers: Sequence[tuple], temperature: float = 1.0,
                 members: Sequence[Sequence[tuple]] | None = None):
        self.features = list(features)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        stacks = members if members else [layers]
        self.members = [[(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)) for W, b in stack] for stack in stacks]
        self.temperature = float(temperature)

    @property
    def layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return self.members[0]

    def _member_logits(self, X: np.ndarray) -> list[np.ndarray]:
        z0 = (np.asarray(X, dtype=np.float64) - self.mean) / self.scale
        out = []
        for stack in self.members:
            h = z0
            for k, (W, b) in enumerate(stack):
                h = h @ W + b
                if k < len(stack) - 1:
                    h = np.maximum(h, 0.0)
            out.append(h)
        return out

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Logits of the first member (the only one, unless the combiner is an ensemble)."""
        return self._member_logits(X)[0]

    def proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities: each member's softmax at the fitted temperature, averaged."""
        total = 0.0
        for z in self._member_logits(X):
            z = z / self.temperature
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            total = total + e / e.sum(axis=1, keepdims=True)
        return total / len(self.members)

    def to_json(self) -> dict:
        stack_json = [[{"W": W.tolist(), "b": b.tolist()} for W, b in stack] for stack in self.members]
        return {"type": "mlp" if len(self.layers) > 1 else "multinomial_logistic_regression", "labels": list(LABELS),
                "features": self.features, "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "layers": stack_json[0], "members": stack_json, "activation": "relu", "temperature": self.temperature}

    @classmethod
    def from_json(cls, d: dict) -> "Combiner":
        if d.get("labels") != list(LABELS):
            raise StudyBuddyError("The claim verifier's combiner file has unexpected labels.", "Retrain with `scripts/train_verifier`.")
        members = [[(lay["W"], lay["b"]) for lay in stack] for stack in d["members"]] if d.get("members") else None
        if "layers" in d:
            layers = [(lay["W"], lay["b"]) for lay in d["layers"]]
        else:  # coef (3, n) / intercept (3)
            layers = [(np.asarray(d["coef"]).T, d["intercept"])]
        return cls(d["features"], d["mean"], d["scale"], layers, d.get("temperature", 1.0), members=members)

    def save(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(self.to_json()))


class _SeqClassifier:
    """A Hugging Face sequence-classification model used as an NLI cross-encoder (ours or an external one)."""

    def __init__(self, path: str, max_length: int = 256, batch_size: int = 64):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        _threads()
        local = Path(path).expanduser()
        src = str(local) if local.exists() else path
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(src)
            self.model = AutoModelForSequenceClassification.from_pretrained(src)
        except (OSError, ValueError) as err:
            raise MissingModelError(f"Could not load the NLI cross-encoder '{path}': {err}",
                                    "Give a local model folder, or a hub id already in the local Hugging Face cache.") from err
        self.model.eval()
        self.name = path
        self.max_length = max_length
        self.batch_size = batch_size
        id2label = {int(k): str(v).lower() for k, v in self.model.config.id2label.items()}
        self.order = []  # model output index for entailment/supported, contradiction, neutral/unsupported
        for want in (("entail", "support"), ("contradict",), ("neutral", "unsupport", "not_entail")):
            idx = next((i for i, lab in id2label.items() if any(w in lab for w in want)), None)
            self.order.append(idx)
        if None in self.order[:1] or (self.order[1] is None and self.order[2] is None):
            if len(id2label) == 3:
                log.warning("NLI model %s has unnamed labels %s; assuming [contradiction, entailment, neutral]", path, id2label)
                self.order = [1, 0, 2]
            else:
                raise StudyBuddyError(f"Cannot tell the labels of the NLI model '{path}' ({id2label}).",
                                      "Use a model whose config names entailment / contradiction / neutral labels.")

    def probs(self, premises: Sequence[str], hypotheses: Sequence[str]) -> np.ndarray:
        """(n, 3) probabilities [supported, contradicted, unsupported]; batched, length-sorted."""
        import torch

        n = len(premises)
        out = np.zeros((n, 3), dtype=np.float64)
        if n == 0:
            return out
        lengths = [len(p) + len(h) for p, h in zip(premises, hypotheses)]
        order = np.argsort(lengths)
        with torch.inference_mode():
            for s in range(0, n, self.batch_size):
                idx = order[s:s + self.batch_size]
                enc = self.tokenizer([premises[i] for i in idx], [hypotheses[i] for i in idx], truncation="only_first",
                                     max_length=self.max_length, padding=True, return_tensors="pt")
                logits = self.model(**enc).logits.float()
                p = torch.softmax(logits, dim=-1).numpy()
                for col, j in enumerate(self.order):
                    if j is not None:
                        out[idx, col] = p[:, j]
                if self.order[1] is None:  # two-way model: "not entailed" split evenly
                    out[idx, 1] = out[idx, 2] = (1 - out[idx, 0]) / 2
                elif self.order[2] is None:
                    out[idx, 2] = 1 - out[idx, 0] - out[idx, 1]
        return out


def _opposite_words(a: str, b: str) -> bool:
    """Two replaced phrases that differ by a negating prefix on one word ('aerobic respiration' / 'anaerobic …')."""
    wa, wb = a.split(), b.split()
    return len(wa) == len(wb) and any(opposite_by_prefix(x, y) for x, y in zip(wa, wb))


def _most_shared_sentence(claim_doc, passage_doc):
    """The passage sentence that contains the most of the claim's content words (None for an empty passage)."""
    words = set(mismatch.content_lemmas(claim_doc))
    sents = list(passage_doc.sents) if passage_doc.has_annotation("SENT_START") else [passage_doc[:]]
    return max(sents, key=lambda s: len(words & set(mismatch.content_lemmas(s))), default=None)


def _log_probs(p: np.ndarray) -> np.ndarray:
    return np.log(np.clip(p, 1e-4, 1.0))


class ClaimVerifier:
    def __init__(self, folder: Path | None, cross_encoder: _SeqClassifier | None, combiner: Combiner | None,
                 embedder_name: str = BASE_MODEL, nli: _SeqClassifier | None = None, nli_mode: str = "add",
                 fast_spacy: bool = True, precision: str = "auto"):
        self.folder = folder
        self.precision = precision
        self.cross_encoder = cross_encoder
        self.combiner = combiner
        self.embedder = load_embedder(embedder_name)
        self.nli = nli
        self.nli_mode = nli_mode
        self.docs = mismatch.DocCache(fast=fast_spacy)
        self.parsed = mismatch.DocCache(fast=False)  # dependency parses, for the role check only (claims, one sentence each)
        self.batch_size = 64

    # ---- loading ------------------------------------------------------------------------------------------

    @classmethod
    def load(cls, cache_dir: Path | None = None, nli_model: str | None = None, data: str | Path | None = None,
             nli_mode: str = "add", precision: str = "auto") -> "ClaimVerifier":
        """Load the trained verifier from the cache. Without a complete checkpoint it raises VerifierNotReady (what is
        missing and `make setup`): loading never trains (`verifier_training.train.load_or_train` does, for
        `prepare` and `scripts/train_verifier`).

        ``nli_model``: path or hub id of a Hugging Face NLI cross-encoder. ``nli_mode="add"`` uses its
        probabilities as extra features (with a combiner fitted once for it by `prepare`, stored beside the
        checkpoint); ``"replace"`` uses it instead of the MiniLM cross-encoder.
        """
        try:
            folder = checkpoint_folder(cache_dir, data)
        except StudyBuddyError as err:
            raise VerifierNotReady(f"The claim verifier has not been built yet, and its training data cannot be read: {err.problem}",
                                   "Restore verifiers/data (`git checkout -- verifiers/data`), then run `make setup`.") from err
        if not checkpoint_complete(folder):
            what = "is incomplete (an interrupted build)" if folder.exists() else "has not been built yet"
            raise VerifierNotReady(f"The claim verifier {what}: no complete checkpoint in {folder}.",
                                   "Run `make setup` (or `studybuddy prepare`) once; it builds the verifier in a few minutes.")
        return cls.from_folder(folder, nli_model=nli_model, nli_mode=nli_mode, precision=precision)

    @classmethod
    def from_folder(cls, folder: Path, nli_model: str | None = None, nli_mode: str = "add", precision: str = "auto",
                    combiner: "Combiner | None" = None) -> "ClaimVerifier":
        """The verifier in a checkpoint folder. With ``nli_model`` its combiner is read from beside the checkpoint
        (``combiner`` given instead: training is fitting it); a missing one raises VerifierNotReady."""
        folder = Path(folder)
        meta = json.loads((folder / "meta.json").read_text())
        ce = None
        if not (nli_model and nli_mode == "replace"):
            ce = _SeqClassifier(str(folder / "cross_encoder"), max_length=meta.get("max_length_infer", 256))
        nli = _SeqClassifier(nli_model) if nli_model else None
        if combiner is None:
            path = nli_combiner_path(folder, nli_model, nli_mode) if nli_model else folder / "combiner.json"
            if not path.exists():
                raise VerifierNotReady(f"No combiner has been fitted for the NLI model '{nli_model}' ({nli_mode}) yet: {path} is missing.",
                                       "Run `studybuddy prepare` once with this configuration; it fits one in a few minutes.")
            combiner = Combiner.from_json(json.loads(path.read_text()))
        return cls(folder, ce, combiner, meta.get("embedder", BASE_MODEL), nli, nli_mode,
                   fast_spacy=meta.get("spacy_pipeline", "full") == "fast", precision=precision)

    def _autocast(self):
        """bfloat16 autocast for the two transformers where the CPU multiplies bf16 natively ("auto"): measured here
        on 300 SciTail pairs, 1.6x faster, p(supported) within 0.012 of float32 and no label changed."""

        return bf16_autocast(self.precision)

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length bi-encoder vectors (float32) for `texts`, in batches."""
        with self._autocast():
            vectors = self.embedder.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                           convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def clear_cache(self) -> None:
        """Forget every parsed text (a benchmark's one-pair-at-a-time loop shares nothing between calls)."""
        self.docs.clear()
        self.parsed.clear()

    # ---- features -----------------------------------------------------------------------------------------

    @property
    def feature_names(self) -> list[str]:
        names = ["cosine"]
        if self.cross_encoder is not None:
            names += CE_FEATURES
        if self.nli is not None:
            names += EXT_FEATURES
        return names + list(mismatch.FEATURE_NAMES) + list(ALIGN_FEATURES)

    def _focus(self, claim_doc, passage_doc) -> str:
        """The passage itself, or (if long) the run of up to three sentences that covers the claim best."""
        if len(passage_doc) <= FOCUS_WORDS * 1.3:
            return passage_doc.text
        sents = list(passage_doc.sents)
        lem = [mismatch.content_lemmas(s) for s in sents]
        i, j, _ = mismatch.best_window(mismatch.content_lemmas(claim_doc), lem, max_sents=3)
        return " ".join(s.text.strip() for s in sents[i:max(j, i + 1)])

    def features(self, claims: Sequence[str], passages: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Feature matrix (n, n_features) for claims[i] vs passages[i], computed in batches."""
        _threads()
        claims, passages = [c.strip() for c in claims], [p.strip() for p in passages]
        n = len(claims)
        if len(self.docs._docs) > 20000:
            self.docs.clear()
            self.parsed.clear()
        self.docs.parse(claims + passages)
        # 1. bi-encoder: each distinct text embedded once
        uniq = list(dict.fromkeys(claims + passages))
        emb = self._embed(uniq)
        pos = {t: i for i, t in enumerate(uniq)}
        ci = np.array([pos[c] for c in claims], dtype=int)
        pi = np.array([pos[p] for p in passages], dtype=int)
        cos = np.einsum("ij,ij->i", emb[ci], emb[pi]) if n else np.zeros(0)
        # 2. cross-encoder(s) on the focused passage
        focused = [self._focus(self.docs[c], self.docs[p]) for c, p in zip(claims, passages)]
        parts = {"cosine": cos[:, None]}
        with self._autocast():
            if self.cross_encoder is not None:
                parts["ce"] = _log_probs(self.cross_encoder.probs(focused, claims))
            if self.nli is not None:
                parts["nli"] = _log_probs(self.nli.probs(focused, claims))
        # 3. explicit checks
        mm = np.array([mismatch.feature_vector(mismatch.check_pair(self.docs[c], self.docs[p])) for c, p in zip(claims, passages)],
                      dtype=np.float64).reshape(n, len(mismatch.FEATURE_NAMES))
        aligned = self._alignment_features(claims, passages)
        cols = [parts["cosine"]] + ([parts["ce"]] if "ce" in parts else []) + ([parts["nli"]] if "nli" in parts else []) + [mm, aligned]
        return np.hstack(cols), parts

    def _alignment_features(self, claims: Sequence[str], passages: Sequence[str]) -> np.ndarray:
        """(n, len(ALIGN_FEATURES)) against the passage sentence each claim copies (verifiers/alignment.py): the least
        similar replaced phrase pair (1 when nothing was replaced), whether roles were swapped, the share of the
        claim's core links the sentence keeps and the number it lacks, verbs whose doer / object differs, and the share
        of claim words lifted from another sentence of the passage. A claim that copies no sentence in order is
        compared with the sentence sharing most of its words. Phrases are embedded in one batch."""
        n = len(claims)
        out = np.zeros((n, len(ALIGN_FEATURES)))
        out[:, 0] = 1.0
        out[:, 2] = 1.0
        phrase_pairs: list[list[tuple[str, str]]] = []
        sentences: list[tuple[str, bool] | None] = []  # (sentence text, whether the claim copies it in order)
        for k, (c, p) in enumerate(zip(claims, passages)):
            claim_doc, passage_doc = self.docs[c], self.docs[p]
            found = alignment.aligned_sentence(claim_doc, passage_doc)
            sentence = found[0] if found else _most_shared_sentence(claim_doc, passage_doc)
            sentences.append((sentence.text, bool(found)) if sentence is not None else None)
            phrase_pairs.append(alignment.replaced_phrases(claim_doc, *found) if found else [])
            if sentence is not None:
                out[k, 6] = alignment.imported_share(claim_doc, sentence, passage_doc)
        phrases = list(dict.fromkeys(x for pairs in phrase_pairs for pair in pairs for x in pair))
        if phrases:
            vectors = self._embed(phrases)
            at = {t: i for i, t in enumerate(phrases)}
            for k, pairs in enumerate(phrase_pairs):
                if pairs:
                    out[k, 0] = min(0.0 if _opposite_words(a, b) else float(vectors[at[a]] @ vectors[at[b]]) for a, b in pairs)
        todo = [(k, c, sent) for k, (c, sent) in enumerate(zip(claims, sentences)) if sent and sent[0].strip()]
        if todo:
            self.parsed.parse([c for _, c, _ in todo] + [sent for _, _, (sent, _) in todo])
            for k, c, (sent, copied) in todo:
                claim_doc, sent_doc = self.parsed[c], self.parsed[sent]
                out[k, 1] = float(copied and alignment.role_swap(claim_doc, sent_doc))
                out[k, 2], out[k, 3] = alignment.structure_agreement(claim_doc, sent_doc)
                out[k, 4], out[k, 5] = alignment.role_conflicts(claim_doc, sent_doc)
        return out

    # ---- scoring --------------------------------------------------------------------------------------------

    def _probs(self, claims: Sequence[str], passages: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        X, parts = self.features(claims, passages)
        if self.combiner is None:
            raise StudyBuddyError("The claim verifier has no combiner.", "Retrain with `scripts/train_verifier`.")
        if self.combiner.features != self.feature_names:
            if self.nli is not None and "nli" in parts and self.cross_encoder is not None:
                # a combiner without the external model: average its output with the external model's probabilities
                base = [i for i, f in enumerate(self.feature_names) if f not in EXT_FEATURES]
                P = 0.5 * self.combiner.proba(X[:, base]) + 0.5 * np.exp(parts["nli"])
                return P / P.sum(axis=1, keepdims=True), X
            raise StudyBuddyError("The claim verifier's combiner does not match its features.", "Retrain with `scripts/train_verifier`.")
        return self.combiner.proba(X), X

    def predict(self, claims: list[str], passages: list[str]) -> list[tuple[Support, float, dict]]:
        """claims[i] vs passages[i] -> (label, probability of that label, details) for every pair, in batches."""
        if len(claims) != len(passages):
            raise ValueError("predict() takes as many passages as claims (pairwise); use score_matrix() for all pairs")
        if not claims:
            return []
        P, X = self._probs(claims, passages)
        out = []
        names = self.feature_names
        for k in range(len(claims)):
            j = int(np.argmax(P[k]))
            info = {"p_supported": float(P[k, 0]), "p_contradicted": float(P[k, 1]), "p_unsupported": float(P[k, 2])}
            for name, val in zip(names, X[k]):
                info[name] = float(math.exp(val)) if name in CE_FEATURES + EXT_FEATURES else float(val)
            info["mismatches"] = [f for f in ("num_conflict", "date_conflict", "unit_conflict", "ent_conflict", "neg_mismatch", "antonym",
                                                      "role_swap") if info.get(f, 0) > 0]
            out.append((Support(LABELS[j]), float(P[k, j]), info))
        return out

    def score_matrix(self, claims: list[str], passages: list[str]) -> np.ndarray:
        """(len(claims), len(passages), 3) probabilities [supported, contradicted, unsupported] for every pair."""
        nc, np_ = len(claims), len(passages)
        if nc == 0 or np_ == 0:
            return np.zeros((nc, np_, 3))
        cc = [c for c in claims for _ in range(np_)]
        pp = [p for _ in range(nc) for p in passages]
        P, _ = self._probs(cc, pp)
        return P.reshape(nc, np_, 3)
