"""The learned safety layer: a multi-label classifier over the packaged MiniLM's reading of a text, for the
question before retrieval and for the final answer before display. The rules stay as a second opinion: a message
is stopped when the classifier is confident *or* a rule fires (engine/safety/input_rails.py, output_rails.py).

Two small heads (a standardising scaler and a linear layer per label each, engine/safety/features.py for what they
read) ship in the repository (engine/safety/data/classifier_head*.npz + classifier_head.json, trained by
`scripts/train_safety_classifier` from the shipped data beside it):
- the first reads the MiniLM's layer 4 (the first four layers of six) and decides most texts alone;
- a text it is unsure of (its strongest harm probability between the band's ends) gets a second opinion from a head
  that also reads the sentence embedding (layers 5 and 6, run on from the same states), and the two heads'
  probabilities are averaged. Out of fold the pair stops as much harm as the first head alone and more of the
  red-team suite than either, and the band costs nothing: the figures equal always asking both, while a typical
  red-team file needs layers 5-6 for a sixth of its windows.
A missing or corrupt head is an error naming the file and the fix: the tutor never runs without it.

Long messages are read in windows (the first and last `window_words` words): jailbreak templates put the request
at the end, role-play frames at the start; the message's features are the mean of its windows' features.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from engine.core.errors import StudyBuddyError
from engine.safety.features import FEATURES, FULL_FEATURES, LayerFeatures

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
HEAD_NAME = "classifier_head"
SECOND_HEAD_NAME = "classifier_head_full"
# a text the first head scores inside this band (strongest harm probability) gets the second opinion; chosen out of
# fold on the training split as the narrowest band whose figures equal asking both heads about every text
SECOND_OPINION_BAND = (0.2, 0.9)
FINE = "fine"
LABELS: tuple[str, ...] = (
    "violence", "weapons_chemicals", "self_harm", "sexual_content", "drugs", "crime", "hate_harassment",
    "jailbreak", "homework_integrity", FINE,
)
HARMFUL: tuple[str, ...] = LABELS[:-1]
# what stops a question: homework integrity is predicted and recorded, but a request to do the work is the homework
# layer's (it offers step-by-step help instead of refusing), not a reason to turn a child away
INPUT_LABELS: tuple[str, ...] = tuple(label for label in HARMFUL if label != "homework_integrity")
# what an answer must never be; an answer that sounds like a jailbreak or homework request is not itself harmful
OUTPUT_LABELS: tuple[str, ...] = ("violence", "weapons_chemicals", "self_harm", "sexual_content", "drugs", "crime", "hate_harassment")
WINDOW_WORDS = 64


class SafetyClassifierError(StudyBuddyError):
    """The classifier head is missing, unreadable or does not match its manifest."""


@dataclass(frozen=True)
class ClassifierScore:
    """The classifier's reading of one text: its most likely harmful label and that label's probability."""

    score: float
    category: str
    probabilities: dict[str, float]
    view: str = "plain"
    words: int = 0  # how many words the scored text has


def windows(text: str, window_words: int = WINDOW_WORDS) -> list[str]:
    words = text.split()
    if len(words) <= window_words + window_words // 4:
        return [" ".join(words)]
    return [" ".join(words[:window_words]), " ".join(words[-window_words:])]


@dataclass(frozen=True)
class Head:
    """One logistic unit per label over standardised features: p = sigmoid(((x - mean) / scale) · weights[:, j] + bias[j])."""

    weights: np.ndarray  # (dimension, len(labels))
    bias: np.ndarray  # (len(labels),)
    labels: tuple[str, ...]
    mean: np.ndarray | None = None  # (dimension,); None: features are used as they come
    scale: np.ndarray | None = None

    def standardised(self, vectors: np.ndarray) -> np.ndarray:
        x = vectors.astype(np.float32)
        return x if self.mean is None else (x - self.mean) / self.scale

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = self.standardised(vectors) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))

    def save(self, path: Path) -> str:
        """Writes the arrays; returns their sha256 (the manifest keeps it, so a damaged file is refused)."""
        arrays = {"weights": self.weights.astype(np.float32), "bias": self.bias.astype(np.float32)}
        if self.mean is not None:
            arrays |= {"mean": self.mean.astype(np.float32), "scale": self.scale.astype(np.float32)}
        with path.open("wb") as f:
            np.savez(f, **arrays)
        return sha256(path)


def unsure_rows(p: np.ndarray, labels: Sequence[str], band: tuple[float, float]) -> np.ndarray:
    """The rows whose strongest harm probability lies strictly inside the band: those get the second opinion."""
    strongest = p[:, [list(labels).index(label) for label in HARMFUL]].max(axis=1)
    return np.flatnonzero((strongest > band[0]) & (strongest < band[1]))


def with_second_opinion(first: np.ndarray, second_of, band: tuple[float, float], labels: Sequence[str] = LABELS) -> np.ndarray:
    """The first head's probabilities, averaged with `second_of(rows)` (the second head's, for those rows) on the
    rows inside the band: what the classifier computes, and what training tunes its thresholds on."""
    out = first.copy()
    unsure = unsure_rows(first, labels, band)
    if len(unsure):
        out[unsure] = (first[unsure] + second_of(unsure)) / 2
    return out


def _read_head(arrays_path: Path, expected: str, labels: tuple[str, ...], manifest_name: str, fix: str) -> Head:
    if sha256(arrays_path) != expected:
        raise SafetyClassifierError(f"The safety classifier {arrays_path} is corrupt (its checksum does not match {manifest_name}); StudyBuddy will not answer unguarded.", fix)
    try:
        with np.load(arrays_path, allow_pickle=False) as data:
            weights, bias = np.asarray(data["weights"], dtype=np.float32), np.asarray(data["bias"], dtype=np.float32)
            mean = np.asarray(data["mean"], dtype=np.float32) if "mean" in data.files else None
            scale = np.asarray(data["scale"], dtype=np.float32) if "scale" in data.files else None
    except (OSError, ValueError, KeyError) as err:
        raise SafetyClassifierError(f"The safety classifier {arrays_path} cannot be read ({err}).", fix) from err
    if weights.ndim != 2 or weights.shape[1] != len(labels) or bias.shape != (len(labels),) or set(HARMFUL) - set(labels):
        raise SafetyClassifierError(f"The safety classifier {arrays_path} has the wrong shape {weights.shape} for labels {labels}.", fix)
    if (mean is None) != (scale is None) or (mean is not None and (mean.shape != (weights.shape[0],) or scale.shape != mean.shape or not (scale > 0).all())):
        raise SafetyClassifierError(f"The safety classifier {arrays_path} has a damaged scaler.", fix)
    return Head(weights, bias, labels, mean, scale)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class SafetyClassifier:
    """`score(texts)` reads texts in batches and returns one ClassifierScore per text. The embedder is any object
    with `embed(texts) -> (n, dimension) array` (engine.safety.features.LayerFeatures for the shipped head)."""

    def __init__(self, head: Head, embedder, manifest: dict, second_head: Head | None = None):
        self.head = head
        self.second_head = second_head
        if second_head is not None and not hasattr(embedder, "read"):
            raise SafetyClassifierError("The safety classifier's second head needs an embedder that can read on from layer 4 (LayerFeatures).",
                                        "Pass engine.safety.features.LayerFeatures, or a head without a second opinion.")
        self.band = tuple(float(b) for b in manifest.get("second_opinion", {}).get("band", SECOND_OPINION_BAND))
        self.embedder = embedder
        self.manifest = manifest
        self.input_threshold = float(manifest["thresholds"]["input"])
        self.output_threshold = float(manifest["thresholds"]["output"])
        self.window_words = int(manifest.get("window_words", WINDOW_WORDS))

    @classmethod
    def load(cls, folder: Path = DATA_DIR, embedder=None) -> "SafetyClassifier":
        """The shipped head (or one in `folder`), checked against its manifest. `embedder` defaults to the features
        of the packaged MiniLM the head was trained on; the model itself loads on first use."""
        manifest_path, arrays_path = folder / f"{HEAD_NAME}.json", folder / f"{HEAD_NAME}.npz"
        fix = "Reinstall StudyBuddy (the head ships in engine/safety/data/), or rebuild it with `scripts/train_safety_classifier`."
        if not manifest_path.exists() or not arrays_path.exists():
            missing = manifest_path if not manifest_path.exists() else arrays_path
            raise SafetyClassifierError(f"The safety classifier is missing: {missing} does not exist, so StudyBuddy will not answer unguarded.", fix)
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            labels = tuple(manifest["labels"])
            expected = manifest["sha256"]
            thresholds = manifest["thresholds"]
            float(thresholds["input"]), float(thresholds["output"])
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
            raise SafetyClassifierError(f"The safety classifier's manifest {manifest_path} is corrupt ({err}); StudyBuddy will not answer unguarded.", fix) from err
        head = _read_head(arrays_path, expected, labels, manifest_path.name, fix)
        second = manifest.get("second_opinion")
        second_head = None
        if second is not None:
            second_path = folder / f"{SECOND_HEAD_NAME}.npz"
            if not second_path.exists():
                raise SafetyClassifierError(f"The safety classifier is missing: {second_path} does not exist, so StudyBuddy will not answer unguarded.", fix)
            try:
                second_sha, (low, high) = second["sha256"], (float(b) for b in second["band"])
                if not 0.0 <= low < high <= 1.0:
                    raise ValueError(f"band {second['band']} is not two probabilities, low then high")
            except (KeyError, TypeError, ValueError) as err:
                raise SafetyClassifierError(f"The safety classifier's manifest {manifest_path} is corrupt ({err}); StudyBuddy will not answer unguarded.", fix) from err
            second_head = _read_head(second_path, second_sha, labels, manifest_path.name, fix)
        if embedder is None:
            recorded = (manifest.get("features"), (second or {}).get("features"))
            if recorded != (FEATURES, FULL_FEATURES):
                raise SafetyClassifierError(f"The safety classifier {arrays_path} was trained on features {' + '.join(map(repr, recorded))}; "
                                            f"this StudyBuddy reads {FEATURES!r} + {FULL_FEATURES!r}.", fix)
            embedder = LayerFeatures(manifest.get("embedder", "packaged:all-MiniLM-L6-v2"))
        return cls(head, embedder, manifest, second_head)

    # --- scoring ------------------------------------------------------------------------------------------------
    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """One feature vector per text for the first head: the mean of its windows' features."""
        return self.features(texts, keep=False)[0]

    def features(self, texts: Sequence[str], keep: bool = True):
        """The first head's features per text, and a function giving the second head's for chosen texts."""
        # a window is embedded once however often it occurs: red-team files repeat the same jailbreak wrapper
        # around many goals, so the same opening (or closing) 64 words come back again and again
        slot: dict[str, int] = {}
        owner, piece_of = [], []
        for i, text in enumerate(texts):
            text = text.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate would stop the tokenizer
            for w in windows(text, self.window_words):
                piece_of.append(slot.setdefault(w, len(slot)))
                owner.append(i)
        pieces = list(slot)
        owner_of, piece_ids = np.asarray(owner, dtype=np.int64), np.asarray(piece_of, dtype=np.int64)
        reading = None
        if not pieces:
            unique = np.zeros((0, self.head.weights.shape[0]), np.float32)
        elif self.second_head is not None and keep:
            reading = self.embedder.read(pieces)
            unique = reading.middle
        else:
            unique = np.asarray(self.embedder.embed(pieces), dtype=np.float32)

        def per_text(piece_features: np.ndarray, rows: np.ndarray) -> np.ndarray:
            chosen = np.isin(owner_of, rows)
            local = np.searchsorted(rows, owner_of[chosen])
            out = np.zeros((len(rows), piece_features.shape[1]), dtype=np.float32)
            np.add.at(out, local, piece_features[piece_ids[chosen]])
            return out / np.maximum(np.bincount(local, minlength=len(rows)).astype(np.float32), 1.0)[:, None]

        def second_features(rows: np.ndarray) -> np.ndarray:
            rows = np.sort(rows)
            needed = np.unique(piece_ids[np.isin(owner_of, rows)])
            full = np.zeros((len(pieces), 2 * unique.shape[1]), dtype=np.float32)
            full[needed] = np.hstack([reading.sentence_embeddings(needed), unique[needed]])
            return per_text(full, rows)

        return per_text(unique, np.arange(len(texts))), second_features

    def probabilities(self, texts: Sequence[str], chunk: int = 512) -> np.ndarray:
        """(n, labels): the first head's probabilities, averaged with the second head's for texts inside the band.
        Texts are read `chunk` at a time, so a long file never holds more than a chunk's layer states."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.head.labels)), np.float32)
        parts = []
        for start in range(0, len(texts), chunk):
            first, second_features = self.features(texts[start : start + chunk])
            p = self.head.probabilities(first)
            if self.second_head is not None:
                p = with_second_opinion(p, lambda rows: self.second_head.probabilities(second_features(rows)), self.band, self.head.labels)
            parts.append(p)
        return np.concatenate(parts)

    def score(self, texts: Sequence[str], labels: Sequence[str] = INPUT_LABELS, views: Sequence[str] | None = None) -> list[ClassifierScore]:
        """Each text's most likely label among `labels` (those that stop a question, by default) and its probability."""
        texts = list(texts)
        probs = self.probabilities(texts)
        columns = [self.head.labels.index(label) for label in labels]
        out = []
        for row, p in enumerate(probs):
            best = columns[int(np.argmax(p[columns]))]
            out.append(ClassifierScore(float(p[best]), self.head.labels[best], {label: round(float(p[j]), 4) for j, label in enumerate(self.head.labels)},
                                       views[row] if views is not None else "plain", len(texts[row].split())))
        return out

    def score_answer(self, text: str) -> ClassifierScore:
        return self.score([text], OUTPUT_LABELS)[0]


def strongest_view(scores: Sequence[ClassifierScore]) -> ClassifierScore:
    """Of one message's readings (plain, decoded…), the one the classifier finds most harmful; plain wins ties."""
    return max(scores, key=lambda s: (s.score, s.view == "plain"))
