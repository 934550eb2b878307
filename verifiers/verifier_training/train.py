"""Train the claim verifier: fine-tune a MiniLM cross-encoder, then fit the calibrated combiner.

The checkpoint is written to a temporary folder and renamed into place at the end, so an interrupted run
never leaves a half checkpoint behind.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from engine.core.config import default_cache
from engine.core.errors import StudyBuddyError
from engine.core.packaged import embedder_path, load_spacy
from verifiers.claim_verifier import FOCUS_WORDS, ClaimVerifier, Combiner, _SeqClassifier, _threads, nli_combiner_path
from verifiers.verifier_checkpoint import (
    BASE_MODEL,
    CROSS_ENCODER_VERSION,
    LEGACY_CROSS_ENCODER_VERSIONS,
    TRAINING_CODE_VERSION,
    checkpoint_complete,
    checkpoint_folder,
    checkpoint_key,
    checkpoint_root,
    data_fingerprint,
    resolve_data,
)
from verifiers.verifier_training.data import LABELS, Pair, build_training_sets, frac

log = logging.getLogger(__name__)


def _seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_cross_encoder(pairs: list[Pair], out_dir: Path, base_model: str, epochs: float = 1.0, lr: float = 6e-5,
                        batch_size: int = 16, max_length: int = 96, seed: int = 13, progress: bool = True,
                        frozen_layers: int = 2) -> dict:
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    _threads(default=1)
    _seed(seed)
    src = embedder_path(base_model)
    tok = AutoTokenizer.from_pretrained(src)
    model = AutoModelForSequenceClassification.from_pretrained(
        src, num_labels=3, id2label=dict(enumerate(LABELS)), label2id={k: i for i, k in enumerate(LABELS)})
    # the embeddings are most of the parameters and the lower layers barely move in a one-epoch fine-tune: frozen,
    # the backward pass stops above them and each step is about a third cheaper
    for module in [model.bert.embeddings] + list(model.bert.encoder.layer[:frozen_layers]):
        for param in module.parameters():
            param.requires_grad_(False)
    model.train()

    label_id = {k: i for i, k in enumerate(LABELS)}
    enc = tok([" ".join(p.passage.split()[: int(FOCUS_WORDS * 1.3)]) for p in pairs], [p.claim for p in pairs],
              truncation="only_first", max_length=max_length)
    ids = enc["input_ids"]
    tts = enc["token_type_ids"]
    y = [label_id[p.label] for p in pairs]
    n = len(pairs)
    rng = random.Random(seed)

    def batches():
        order = list(range(n))
        rng.shuffle(order)
        # length-bucketed batches (sorted inside chunks of 50 batches) so padding wastes little compute
        chunk = batch_size * 50
        out = []
        for s in range(0, n, chunk):
            part = sorted(order[s:s + chunk], key=lambda i: len(ids[i]))
            out += [part[k:k + batch_size] for k in range(0, len(part), batch_size)]
        rng.shuffle(out)
        return out

    steps_per_epoch = math.ceil(n / batch_size)
    total = max(1, int(steps_per_epoch * epochs))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warm = max(1, int(0.06 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    t0 = time.time()
    step, tokens, loss_ema = 0, 0, None
    bar = tqdm(total=total, desc="training claim verifier (cross-encoder)", unit="batch", disable=not progress)
    while step < total:
        for b in batches():
            if step >= total:
                break
            L = max(len(ids[i]) for i in b)
            inp = torch.zeros((len(b), L), dtype=torch.long)
            tt = torch.zeros((len(b), L), dtype=torch.long)
            att = torch.zeros((len(b), L), dtype=torch.long)
            for r, i in enumerate(b):
                inp[r, : len(ids[i])] = torch.tensor(ids[i])
                tt[r, : len(ids[i])] = torch.tensor(tts[i])
                att[r, : len(ids[i])] = 1
            out = model(input_ids=inp, token_type_ids=tt, attention_mask=att, labels=torch.tensor([y[i] for i in b]))
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            tokens += int(att.sum())
            loss_ema = out.loss.item() if loss_ema is None else 0.95 * loss_ema + 0.05 * out.loss.item()
            bar.update(1)
            bar.set_postfix(loss=f"{loss_ema:.3f}", pairs_s=f"{step * batch_size / (time.time() - t0):.1f}")
    bar.close()
    secs = time.time() - t0
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tok.save_pretrained(out_dir)
    log.info("cross-encoder: %d pairs, %d steps, %.0f s (%.1f pairs/s)", n, total, secs, total * batch_size / secs)
    return {"pairs": n, "steps": total, "seconds": round(secs, 1), "pairs_per_s": round(total * batch_size / secs, 1),
            "tokens": tokens, "epochs": epochs, "lr": lr, "batch_size": batch_size, "max_length": max_length,
            "frozen_layers": frozen_layers}


COMBINER_MEMBERS = 3
COMBINER_CANDIDATES = (0, 16, 32)  # hidden units (0: logistic regression), chosen on natural and edited pairs alike
NATURAL_KINDS = ("scitail", "restated", "distractor", "partial")


def fit_combiner(X: np.ndarray, labels: list[str], features: list[str], weights: np.ndarray | None = None,
                 hidden: int = 32, alpha: float = 1e-2, seed: int = 0, members: int = 1, calibrate: bool = True):
    """A one-hidden-layer MLP (hidden=0: logistic regression) on standardised features, classes balanced, then a
    softmax temperature fitted on 5-fold out-of-fold logits (calibration). members > 1 averages the probabilities
    of that many MLPs started from different seeds: on this data one MLP's per-edit-type accuracy moves by up to
    3 points with its seed, and the average of five holds steady."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.neural_network import MLPClassifier

    y = np.array([LABELS.index(lab) for lab in labels])
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-6] = 1.0
    Z = (X - mean) / scale
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64).copy()
    for k in range(3):  # balance the classes
        m = y == k
        if m.any():
            w[m] *= w.sum() / (3 * w[m].sum())
    w *= len(w) / w.sum()
    seeds = [seed + i for i in range(members if hidden else 1)]

    def fit(rows, member_seed):
        if hidden:
            m = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=alpha, max_iter=2000, random_state=member_seed)
            m.fit(Z[rows], y[rows], sample_weight=w[rows])
            return [(m.coefs_[0], m.intercepts_[0]), (m.coefs_[1], m.intercepts_[1])]
        m = LogisticRegression(C=1.0, max_iter=3000).fit(Z[rows], y[rows], sample_weight=w[rows])
        return [(m.coef_.T, m.intercept_)]

    def ensemble(stacks, temperature=1.0):
        return Combiner(features, np.zeros(Z.shape[1]), np.ones(Z.shape[1]), stacks[0], temperature, members=stacks)

    if not calibrate:
        return Combiner(features, mean, scale, fit(np.arange(len(y)), seeds[0]))
    # out-of-fold probabilities at each candidate temperature
    oof_logits = np.zeros((len(seeds), len(y), 3))
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(Z, y):
        for i, s in enumerate(seeds):
            oof_logits[i, te] = ensemble([fit(tr, s)]).logits(Z[te])
    best_t, best_nll = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.3), np.log(5.0), 60)):
        z = oof_logits / t
        z = z - z.max(axis=2, keepdims=True)
        p = np.exp(z)
        p = (p / p.sum(axis=2, keepdims=True)).mean(axis=0)
        nll = -(w * np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))).sum() / w.sum()
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    everything = np.arange(len(y))
    stacks = [fit(everything, s) for s in seeds]
    log.info("combiner: %s x%d, temperature %.2f (out-of-fold NLL %.3f)", f"MLP({hidden})" if hidden else "logistic regression",
             len(stacks), best_t, best_nll)
    return Combiner(features, mean, scale, stacks[0], temperature=best_t, members=stacks)


def select_combiner(X: np.ndarray, pairs: list[Pair], weights: np.ndarray, seed: int = 0) -> tuple[int, dict]:
    """The combiner size whose 5-fold out-of-fold balanced accuracy (supported vs not) is best on the natural pairs
    (SciTail, QASC statements) and the textbook edits alike: the mean of the two, so a combiner that learns only
    the synthetic distribution loses. Returns (hidden units, the scores of every candidate)."""
    from sklearn.model_selection import StratifiedKFold

    y = np.array([p.label for p in pairs])
    natural = np.array([p.kind in NATURAL_KINDS for p in pairs])
    scores = {}
    for hidden in COMBINER_CANDIDATES:
        pred = np.empty(len(y), dtype=object)
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(X, y):
            comb = fit_combiner(X[tr], list(y[tr]), [f"f{i}" for i in range(X.shape[1])], weights[tr], hidden=hidden,
                                seed=seed, members=1, calibrate=False)
            pred[te] = [LABELS[k] for k in comb.proba(X[te]).argmax(axis=1)]
        got = pred == "supported"
        gold = y == "supported"
        part = {name: _bacc(gold[m], got[m]) for name, m in (("natural", natural), ("edits", ~natural)) if m.any()}
        scores[hidden] = {**{k: round(v, 4) for k, v in part.items()}, "mean": round(float(np.mean(list(part.values()))), 4)}
    best = max(COMBINER_CANDIDATES, key=lambda h: (scores[h]["mean"], -h))
    log.info("combiner selection (out-of-fold balanced accuracy): %s -> hidden %d", scores, best)
    return best, scores


def _bacc(gold: np.ndarray, got: np.ndarray) -> float:
    accs = [float((got[gold == k] == k).mean()) for k in (True, False) if (gold == k).any()]
    return float(np.mean(accs)) if accs else float("nan")


QUESTION_KINDS = ("restated", "distractor", "partial")
QUESTION_WEIGHT = 2.5


def _comb_weights(pairs: list[Pair]) -> np.ndarray:
    """SciTail pairs carry as much total weight as all synthetic pairs together: it is the real distribution.
    Pairs made from SciQ/QASC questions (a question restated with its answer, or with a wrong choice) weigh
    QUESTION_WEIGHT each: they look most like the tutor's own answers, and this keeps the share of weight they had
    before the extra textbook pairs for the combiner came in."""
    st = np.array([p.kind == "scitail" for p in pairs])
    w = np.ones(len(pairs))
    w[np.array([p.kind in QUESTION_KINDS for p in pairs], dtype=bool)] = QUESTION_WEIGHT
    if st.any() and (~st).any():
        w[st] = w[~st].sum() / st.sum()
    return w


def compute_features(verifier, pairs: list[Pair], desc: str, progress: bool = True, chunk: int = 256) -> np.ndarray:
    from tqdm.auto import tqdm

    rows = []
    for s in tqdm(range(0, len(pairs), chunk), desc=desc, disable=not progress):
        part = pairs[s:s + chunk]
        X, _ = verifier.features([p.claim for p in part], [p.passage for p in part])
        rows.append(X)
    return np.vstack(rows)


def train_checkpoint(cache_dir: Path, data=None, scale: float = 1.0, epochs: float = 1.0, seed: int = 13,
                     max_length: int = 96, progress: bool = True, force: bool = False) -> Path:
    t_start = time.time()
    paths = resolve_data(data)
    fp = data_fingerprint(paths)
    key = checkpoint_key(fp) if scale == 1.0 and epochs == 1.0 else checkpoint_key(fp) + f"-s{scale}-e{epochs}"
    root = checkpoint_root(cache_dir)
    final = root / key
    if checkpoint_complete(final) and not force:
        log.info("claim verifier checkpoint already trained: %s", final)
        return final
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = open(root / f".{key}.lock", "w")
    except OSError as err:
        raise StudyBuddyError(f"Cannot write the claim verifier into the cache folder {root} ({err.strerror or err}).",
                              "Make it writable, or set STUDYBUDDY_CACHE to a folder you can write, and run `make setup` again.") from err
    # one training per checkpoint at a time: a second process (another `make setup`) waits for the first one
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another process is training the claim verifier (%s); waiting for it", key)
            fcntl.flock(lock, fcntl.LOCK_EX)
        if checkpoint_complete(final) and not force:
            log.info("claim verifier checkpoint trained meanwhile by another process: %s", final)
            return final
        for stale in root.glob(f".{key}-*"):  # left by a killed run (we hold the lock: nobody else writes them)
            shutil.rmtree(stale, ignore_errors=True)
        return _train_locked(paths, fp, key, final, root, t_start, scale, epochs, seed, max_length, progress)


def _train_locked(paths, fp, key, final, root, t_start, scale, epochs, seed, max_length, progress) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    try:
        _seed(seed)
        nlp = load_spacy()
        t0 = time.time()
        sets = build_training_sets(paths, nlp, seed=seed, scale=scale)
        t_data = time.time() - t0
        log.info("training pairs: cross-encoder %d, combiner %d (built in %.0f s)", len(sets["ce"]), len(sets["comb"]), t_data)
        earlier = _reusable_cross_encoder(root, fp, scale, epochs, seed, max_length)
        if earlier is not None:
            shutil.copytree(earlier / "cross_encoder", tmp / "cross_encoder")
            ce_info = dict(json.loads((earlier / "meta.json").read_text())["cross_encoder"], reused_from=earlier.name)
            log.info("cross-encoder reused from %s (same data, same cross-encoder training)", earlier)
        else:
            ce_info = train_cross_encoder(sets["ce"], tmp / "cross_encoder", BASE_MODEL, epochs=epochs, max_length=max_length,
                                          seed=seed, progress=progress)
        t1 = time.time()
        ce = _SeqClassifier(str(tmp / "cross_encoder"))
        v = ClaimVerifier(tmp, ce, None)
        X = compute_features(v, sets["comb"], "claim verifier: combiner features", progress)
        weights = _comb_weights(sets["comb"])
        hidden, selection = select_combiner(X, sets["comb"], weights, seed=0)
        comb = fit_combiner(X, [p.label for p in sets["comb"]], v.feature_names, weights, hidden=hidden,
                            members=COMBINER_MEMBERS)
        comb.save(tmp / "combiner.json")
        # the combiner's training features, so a combiner can be refitted without re-running the models
        np.savez(tmp / "combiner_features.npz", X=X, features=np.array(v.feature_names),
                 labels=np.array([p.label for p in sets["comb"]]), kinds=np.array([p.kind for p in sets["comb"]]))
        t_comb = time.time() - t1
        # the combiner's own fit, for the record (training portion only)
        P = comb.proba(X)
        yb = np.array([p.label == "supported" for p in sets["comb"]])
        pb = P[:, 0] >= P.max(axis=1)
        fit_bacc = 0.5 * ((pb & yb).sum() / max(1, yb.sum()) + (~pb & ~yb).sum() / max(1, (~yb).sum()))
        meta = {
            "training_code_version": TRAINING_CODE_VERSION, "cross_encoder_version": CROSS_ENCODER_VERSION,
            "key": key, "data_fingerprint": fp,
            "data": {"eval_dir": str(paths.eval_dir), "textbooks_dir": str(paths.textbooks_dir)},
            "embedder": BASE_MODEL, "base_model": BASE_MODEL, "max_length_infer": 256, "spacy_pipeline": "fast",
            "counts": {k: len(v_) for k, v_ in sets.items()},
            "ce_kinds": {k: sum(1 for p in sets["ce"] if p.kind == k) for k in sorted({p.kind for p in sets["ce"]})},
            "cross_encoder": ce_info, "combiner_fit_balanced_accuracy": round(float(fit_bacc), 4),
            "combiner_selection": {"hidden": hidden, "out_of_fold_balanced_accuracy": {str(k): v_ for k, v_ in selection.items()}},
            "seconds": {"data": round(t_data, 1), "cross_encoder": ce_info["seconds"], "combiner": round(t_comb, 1),
                        "total": round(time.time() - t_start, 1)},
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "scale": scale, "seed": seed,
        }
        meta["files"] = {f.relative_to(tmp).as_posix(): f.stat().st_size for f in sorted(tmp.rglob("*")) if f.is_file()}
        # meta.json last: a checkpoint without it (or with a file shorter than it says) is not a checkpoint
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("claim verifier trained in %.0f s -> %s", time.time() - t_start, final)
    return final


def _reusable_cross_encoder(root: Path, fp: str, scale: float, epochs: float, seed: int, max_length: int) -> Path | None:
    """A finished checkpoint whose cross-encoder was trained exactly as this one would be, if the cache has one."""
    for folder in sorted(root.glob("*"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            meta = json.loads((folder / "meta.json").read_text())
        except (OSError, ValueError):
            continue
        version = meta.get("cross_encoder_version") or LEGACY_CROSS_ENCODER_VERSIONS.get(meta.get("training_code_version"))
        ce = meta.get("cross_encoder", {})
        if (version == CROSS_ENCODER_VERSION and meta.get("data_fingerprint") == fp and meta.get("base_model") == BASE_MODEL
                and meta.get("scale") == scale and meta.get("seed") == seed and ce.get("epochs") == epochs
                and ce.get("max_length") == max_length and checkpoint_complete(folder)):
            return folder
    return None


def load_or_train(cache_dir: Path | None = None, data=None, nli_model: str | None = None, nli_mode: str = "add",
                  precision: str = "auto", progress: bool = True) -> ClaimVerifier:
    """The verifier, trained first when the cache has no complete checkpoint for this data and code (once: a
    complete checkpoint is reused), with a combiner fitted once for an extra NLI model (stored beside it)."""
    folder = checkpoint_folder(cache_dir, data)
    if not checkpoint_complete(folder):
        log.info("claim verifier checkpoint %s not found: training it now (once)", folder)
        folder = train_checkpoint(Path(cache_dir or default_cache()), data=data, progress=progress)
    if nli_model and not nli_combiner_path(folder, nli_model, nli_mode).exists():
        base = ClaimVerifier.from_folder(folder, precision=precision)
        fitting = ClaimVerifier.from_folder(folder, nli_model=nli_model, nli_mode=nli_mode, precision=precision, combiner=base.combiner)
        fit_combiner_for(fitting, data=data, progress=progress).save(nli_combiner_path(folder, nli_model, nli_mode))
    return ClaimVerifier.from_folder(folder, nli_model=nli_model, nli_mode=nli_mode, precision=precision)


def fit_combiner_for(verifier, data=None, progress: bool = True, max_pairs: int = 800):
    """Fit a combiner for a verifier with an extra (external) NLI model, on the same training split."""
    try:
        paths = resolve_data(data)
    except StudyBuddyError as err:
        raise StudyBuddyError(
            "A combiner for the configured NLI model has to be fitted once on the training split, which is not here.",
            "Run once on a machine with ../shared/data (or set STUDYBUDDY_SHARED_DATA), or leave nli_model out.") from err
    meta = json.loads((verifier.folder / "meta.json").read_text())
    sets = build_training_sets(paths, load_spacy(), seed=meta.get("seed", 13), scale=meta.get("scale", 1.0))
    comb = sets["comb"]
    if len(comb) > max_pairs:  # a fixed, hash-chosen subset keeps this first-use fit to a few minutes
        comb = sorted(comb, key=lambda p: frac(p.claim + p.passage, "nli-comb"))[:max_pairs]
    X = compute_features(verifier, comb, "claim verifier: combiner for the NLI model", progress)
    return fit_combiner(X, [p.label for p in comb], verifier.feature_names, _comb_weights(comb))
