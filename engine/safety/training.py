"""Training the safety classifier (engine/safety/classifier.py) from the data shipped in engine/safety/data/.

Harmful side: JailbreakBench attack prompts (86 behaviours, labelled by their behaviour), ToxiGen hateful
sentences, the project's red-team suite. Fine side: QASC questions, OpenStax sentences, ToxiGen neutral
sentences, kid-style questions and questions near the line ("How do I kill a Python process?"), and what is said of
groups of people without hate: US-history sentences about women, enslaved people, immigrants, religions …, and
children's questions about them ("Why do some people wear a hijab?").

Every set is split 70/30 by a hash of its group — a JailbreakBench behaviour, a ToxiGen target group, an OpenStax
file, a question's id — so no behaviour or group is on both sides. Thresholds are tuned on out-of-fold scores of
the 70% only; the 30% is for measurement (scripts/bench_safety).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.safety.classifier import (
    DATA_DIR,
    FINE,
    HEAD_NAME,
    INPUT_LABELS,
    LABELS,
    OUTPUT_LABELS,
    SECOND_HEAD_NAME,
    SECOND_OPINION_BAND,
    WINDOW_WORDS,
    Head,
    SafetyClassifier,
    sha256,
    unsure_rows,
    with_second_opinion,
)
from engine.safety.features import FULL_FEATURES

log = logging.getLogger(__name__)

HELD_OUT_SHARE = 30  # percent
# picked among 0.0125-0.05 by out-of-fold figures on the training split (README, safety): the first head (layer 4)
# and the second (sentence embedding + layer 4)
REGULARISATION_C = 0.0125
SECOND_REGULARISATION_C = 0.025
TRAIN, HELD_OUT = "train", "held_out"
REDTEAM_DIR = Path(__file__).resolve().parents[2] / "scripts" / "redteam_data"

_JBB_CATEGORY = {
    "Harassment/Discrimination": "hate_harassment", "Malware/Hacking": "crime", "Fraud/Deception": "crime",
    "Economic harm": "crime", "Privacy": "crime", "Government decision-making": "crime", "Disinformation": "crime",
    "Expert advice": "crime", "Physical harm": "violence", "Sexual/Adult content": "sexual_content",
}
# a behaviour's wording can name a more specific harm than its JailbreakBench category
_GOAL_LABELS = [
    (re.compile(r"\b(?:suicid\w*|self-harm|anorexi\w*|bulimi\w*|eating disorder)", re.I), "self_harm"),
    (re.compile(r"\b(?:bomb|explosive|weapon|firearm|gun|poison|nerve agent|chemical|biological|nuclear)", re.I), "weapons_chemicals"),
    (re.compile(r"\b(?:heroin|cocaine|opioid|oxycontin|vicodin|drugs?|meth\w*)\b", re.I), "drugs"),
    (re.compile(r"\b(?:shoot|kill|torture|genocide|violence|stalk\w*|cannibal\w*)", re.I), "violence"),
]
_REDTEAM_CATEGORY = {
    "violence": "violence", "weapons_chemicals": "weapons_chemicals", "self_harm": "self_harm", "sexual_content": "sexual_content",
    "drugs": "drugs", "homework_integrity": "homework_integrity",
}  # every other red-team category is an attempt on the tutor itself: jailbreak


@dataclass(frozen=True)
class Example:
    text: str
    labels: tuple[str, ...]  # the harmful labels, or ("fine",)
    source: str  # jailbreakbench | toxigen | redteam | qasc | qasc_choices | openstax | openstax_groups | near_line | kid | group_questions
    group: str  # what the split is by
    split: str

    @property
    def harmful(self) -> bool:
        return FINE not in self.labels


def _rank(source: str, group: str) -> str:
    return hashlib.sha1(f"{source}:{group}".encode()).hexdigest()


def assign_splits(rows: list[tuple[str, tuple[str, ...], str, str]]) -> list[Example]:
    """(text, labels, source, group) rows as Examples: within each source, whole groups in the order of a hash of
    their name go to the held-out side until it holds HELD_OUT_SHARE% of that source's rows (a fixed split: the
    same data always splits the same way, and a group is never on both sides)."""
    sizes: dict[str, dict[str, int]] = {}
    for _, _, source, group in rows:
        sizes.setdefault(source, {}).setdefault(group, 0)
        sizes[source][group] += 1
    held: set[tuple[str, str]] = set()
    for source, groups in sizes.items():
        total, taken = sum(groups.values()), 0
        for group in sorted(groups, key=lambda g: _rank(source, g)):
            if taken + groups[group] / 2 > total * HELD_OUT_SHARE / 100:
                continue
            held.add((source, group))
            taken += groups[group]
    return [Example(text, labels, source, group, HELD_OUT if (source, group) in held else TRAIN) for text, labels, source, group in rows]


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _example(text: str, labels: tuple[str, ...], source: str, group: str) -> tuple[str, tuple[str, ...], str, str]:
    return text, labels, source, group


def jailbreakbench_labels(row: dict) -> tuple[str, ...]:
    labels = {_JBB_CATEGORY[row["category"]]}
    for pattern, label in _GOAL_LABELS:
        if pattern.search(row["goal"]):
            labels.add(label)
    if row["method"] != "GCG" or len(row["prompt"]) > len(row["goal"]) + 20:  # a wrapped request: role play, suffix, template
        labels.add("jailbreak")
    return tuple(sorted(labels))


def load_examples(data: Path = DATA_DIR, redteam: Path = REDTEAM_DIR) -> list[Example]:
    out: list[tuple[str, tuple[str, ...], str, str]] = []
    for row in _read_jsonl(data / "jailbreakbench_prompts.jsonl"):
        out.append(_example(row["prompt"], jailbreakbench_labels(row), "jailbreakbench", row["behavior"]))
    goals = {row["goal"]: row for row in _read_jsonl(data / "jailbreakbench_prompts.jsonl")}
    for goal, row in goals.items():  # the bare request, as a child could type it
        labels = tuple(label for label in jailbreakbench_labels(row) if label != "jailbreak") or ("crime",)
        out.append(_example(goal, labels, "jailbreakbench", row["behavior"]))
    for row in _read_jsonl(data / "toxigen_sentences.jsonl"):
        out.append(_example(row["text"], ("hate_harassment",) if row["label"] == "hate" else (FINE,), "toxigen", row["group"]))
    prompts = redteam / "prompts.jsonl"
    if prompts.exists():
        for row in _read_jsonl(prompts):
            out.append(_example(row["prompt"], (_REDTEAM_CATEGORY.get(row["category"], "jailbreak"),), "redteam", row["id"]))
        benign = redteam / "benign.jsonl"
        for row in _read_jsonl(benign) if benign.exists() else []:
            out.append(_example(row["question"], (FINE,), "near_line", row["id"]))
    for row in _read_jsonl(data / "qasc_questions.jsonl"):
        out.append(_example(row["text"], (FINE,), "qasc", row["id"]))
    for name, source in (("openstax_sentences.jsonl", "openstax"), ("openstax_group_sentences.jsonl", "openstax_groups")):
        for row in _read_jsonl(data / name):
            out.append(_example(row["text"], (FINE,), source, row["source"]))
    for name, source in (("near_line_benign.jsonl", "near_line"), ("kid_questions.jsonl", "kid"), ("qasc_choices.jsonl", "qasc_choices"),
                         ("group_questions.jsonl", "group_questions")):
        for row in _read_jsonl(data / name):
            out.append(_example(row["text"], (FINE,), source, row["id"]))
    return assign_splits(out)


def label_matrix(examples: list[Example]) -> np.ndarray:
    y = np.zeros((len(examples), len(LABELS)), dtype=np.int8)
    for i, ex in enumerate(examples):
        for label in ex.labels:
            y[i, LABELS.index(label)] = 1
    return y


def fit_head(x: np.ndarray, y: np.ndarray, c: float = REGULARISATION_C) -> Head:
    """One class-balanced logistic regression per label over features standardised on `x` (a middle layer's
    dimensions differ in scale by an order of magnitude; standardised, one C regularises them alike)."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0).astype(np.float32)
    scale = np.maximum(x.std(axis=0), 1e-6).astype(np.float32)
    x = (x - mean) / scale
    weights = np.zeros((x.shape[1], y.shape[1]), dtype=np.float32)
    bias = np.zeros(y.shape[1], dtype=np.float32)
    for j in range(y.shape[1]):
        if y[:, j].min() == y[:, j].max():
            bias[j] = 40.0 if y[0, j] else -40.0
            continue
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        model.fit(x, y[:, j])
        weights[:, j], bias[j] = model.coef_[0], model.intercept_[0]
    return Head(weights, bias, LABELS, mean, scale)


def harm_scores(head: Head, x: np.ndarray, labels: tuple[str, ...] = INPUT_LABELS) -> np.ndarray:
    return harm_of(head.probabilities(x), labels)


def out_of_fold_probabilities(x: np.ndarray, y: np.ndarray, groups: list[str], folds: int = 5, c: float = REGULARISATION_C) -> np.ndarray:
    """(n, labels) probabilities for every training example from a head that never saw its group."""
    fold = np.array([int(hashlib.sha1(g.encode()).hexdigest(), 16) % folds for g in groups])
    out = np.zeros((len(x), len(LABELS)))
    for k in range(folds):
        out[fold == k] = fit_head(x[fold != k], y[fold != k], c).probabilities(x[fold == k])
    return out


def harm_of(p: np.ndarray, labels: tuple[str, ...] = INPUT_LABELS) -> np.ndarray:
    return p[:, [LABELS.index(label) for label in labels]].max(axis=1)


def tune_threshold(scores: np.ndarray, harmful: np.ndarray, benign_budget: float) -> float:
    """The lowest threshold that stops at most `benign_budget` of the benign examples (out of fold)."""
    benign = np.sort(scores[~harmful])[::-1]
    allowed = int(np.floor(benign_budget * len(benign)))
    return float(min(0.99, max(0.5, benign[allowed] + 1e-4))) if len(benign) > allowed else 0.5


def data_fingerprint(data: Path = DATA_DIR, redteam: Path = REDTEAM_DIR) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in data.glob("*.jsonl")) + [p for p in (redteam / "prompts.jsonl", redteam / "benign.jsonl") if p.exists()]
    for path in files + [Path(__file__), Path(__file__).with_name("classifier.py"), Path(__file__).with_name("features.py")]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


CHILD_QUESTIONS = ("qasc", "qasc_choices", "kid", "near_line", "openstax", "openstax_groups", "group_questions")  # what a child asks, or a book says: the false-refusal budget


def train(embedder, folder: Path = DATA_DIR, examples: list[Example] | None = None, progress: bool = False, c: float = REGULARISATION_C,
          second_c: float = SECOND_REGULARISATION_C, input_budget: float = 0.02, near_line_budget: float = 0.08, output_budget: float = 0.005) -> dict:
    """Read the training split, tune thresholds out of fold (both heads, combined as the classifier combines them),
    fit both heads on the whole training split and write them (classifier_head*.npz + classifier_head.json) into
    `folder`. Returns the manifest."""
    examples = examples if examples is not None else load_examples()
    trainset = [ex for ex in examples if ex.split == TRAIN]
    blank = Head(np.zeros((1, len(LABELS)), np.float32), np.zeros(len(LABELS), np.float32), LABELS)
    reader = SafetyClassifier(blank, embedder, {"thresholds": {"input": 0.5, "output": 0.5}, "window_words": WINDOW_WORDS}, second_head=blank)
    x, x_second = _features(reader, trainset, progress)
    y = label_matrix(trainset)
    harmful = np.array([ex.harmful for ex in trainset])
    groups = [f"{ex.source}:{ex.group}" for ex in trainset]
    second = out_of_fold_probabilities(x_second, y, groups, c=second_c)
    p = with_second_opinion(out_of_fold_probabilities(x, y, groups, c=c), lambda rows: second[rows], SECOND_OPINION_BAND)
    inp, outp = harm_of(p), harm_of(p, OUTPUT_LABELS)
    # the benign budget is spent on what a child asks and what the books say (ToxiGen's neutral statements about
    # groups of people are reported, not tuned for)
    pool = harmful | np.array([ex.source in CHILD_QUESTIONS for ex in trainset])
    near = harmful | np.array([ex.source == "near_line" for ex in trainset])
    input_threshold = max(tune_threshold(inp[pool], harmful[pool], input_budget), tune_threshold(inp[near], harmful[near], near_line_budget))
    prose = harmful | np.array([ex.source == "openstax" for ex in trainset])
    output_threshold = max(input_threshold, tune_threshold(outp[prose], harmful[prose], output_budget))
    folder.mkdir(parents=True, exist_ok=True)
    checksum = fit_head(x, y, c).save(folder / f"{HEAD_NAME}.npz")
    second_checksum = fit_head(x_second, y, second_c).save(folder / f"{SECOND_HEAD_NAME}.npz")
    manifest = {
        "labels": list(LABELS), "sha256": checksum, "embedder": getattr(embedder, "name", "packaged:all-MiniLM-L6-v2"),
        "features": getattr(embedder, "features", "unknown"),
        "second_opinion": {"features": FULL_FEATURES, "sha256": second_checksum, "band": list(SECOND_OPINION_BAND)},
        "window_words": WINDOW_WORDS, "thresholds": {"input": round(input_threshold, 4), "output": round(output_threshold, 4)},
        "trained_on": {"examples": len(trainset), "harmful": int(harmful.sum()), "benign": int((~harmful).sum()),
                       "held_out_share": HELD_OUT_SHARE / 100, "data_fingerprint": data_fingerprint()},
        "out_of_fold": {"harmful_stopped": float((inp[harmful] >= input_threshold).mean()),
                        "child_questions_stopped": float((inp[pool & ~harmful] >= input_threshold).mean()),
                        "second_opinion_asked": float(len(unsure_rows(p, LABELS, SECOND_OPINION_BAND)) / max(len(p), 1))},
        "regularisation_c": c, "second_regularisation_c": second_c,
    }
    (folder / f"{HEAD_NAME}.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    log.info("safety classifier written to %s (thresholds %s)", folder, manifest["thresholds"])
    return manifest


def _features(reader: SafetyClassifier, examples: list[Example], progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Both heads' features for every example (the second head's for all of them: training needs every text's)."""
    from tqdm.auto import tqdm

    first, second, step = [], [], 256
    for start in tqdm(range(0, len(examples), step), desc="safety classifier: reading", unit="batch", disable=not progress):
        texts = [ex.text for ex in examples[start : start + step]]
        x, second_features = reader.features(texts)
        first.append(x)
        second.append(second_features(np.arange(len(texts))))
    return np.concatenate(first), np.concatenate(second)


def head_checksum(folder: Path = DATA_DIR) -> str:
    return sha256(folder / f"{HEAD_NAME}.npz")
