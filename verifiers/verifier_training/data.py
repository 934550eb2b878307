"""Training and evaluation pairs for the claim verifier, built from the data the project ships (verifiers/data/).

Splits are fixed by hashes (never by random draws), so every run sees the same held-out material:
  * SciTail dev: 30% kept aside for evaluation; of the rest, 65% trains the cross-encoder, 35% fits the combiner.
  * QASC questions: 25% held out; the rest split between cross-encoder and combiner. (SciQ is CC BY-NC: never
    trained on; it is only read, from ../shared/data, as extra held-out evaluation material.)
  * OpenStax textbooks and the sample book: whole section files are held out (25%); training never sees them.
Labels: "supported", "contradicted" (a topically matching passage that conflicts on one detail),
"unsupported" (unrelated or merely topical).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.core.errors import StudyBuddyError
from verifiers.mismatch import ENTITY_LABELS
from verifiers.verifier_checkpoint import DataPaths
from verifiers.verifier_training import edits as E

log = logging.getLogger(__name__)

LABELS = ("supported", "contradicted", "unsupported")
EDIT_TYPES = ("number", "date", "unit", "entity", "negation", "antonym", "swap")


@dataclass
class Pair:
    claim: str
    passage: str
    label: str
    kind: str  # scitail | paraphrase | verbatim | restated | distractor | number | ... | unrelated | topical
    source: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def frac(key: str, salt: str) -> float:
    return int(hashlib.sha1(f"{salt}:{key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def _jsonl(path: Path) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise StudyBuddyError(f"The data file {path} is damaged ({err}).",
                              "Restore it (`git checkout -- verifiers/data` for the shipped data) and run again.") from err


# --- SciTail ------------------------------------------------------------------------------------------------


def scitail_split(paths: DataPaths) -> dict[str, list[Pair]]:
    out: dict[str, list[Pair]] = {"eval": [], "ce": [], "comb": []}
    for r in _jsonl(paths.eval_dir / "scitail_dev.jsonl"):
        label = "supported" if r["gold_label"] == "E" else "unsupported"
        p = Pair(r["sentence2"], r["sentence1"], label, "scitail", r.get("id", ""))
        key = r.get("id") or r["sentence1"] + r["sentence2"]
        if frac(key, "scitail-eval") < 0.30:
            out["eval"].append(p)
        elif frac(key, "scitail-comb") < 0.35:
            out["comb"].append(p)
        else:
            out["ce"].append(p)
    return out


def load_pairs_file(path: str | Path) -> list[Pair]:
    """A labelled set in the SciTail JSONL format (sentence1 = passage, sentence2 = claim, gold_label E/N/C),
    or this module's own format (claim, passage, label)."""
    out = []
    for i, r in enumerate(_jsonl(Path(path))):
        if "sentence1" in r:
            lab = {"E": "supported", "N": "unsupported", "C": "contradicted", "entailment": "supported",
                   "neutral": "unsupported", "contradiction": "contradicted"}.get(r["gold_label"])
            if lab is None:
                continue
            out.append(Pair(r["sentence2"], r["sentence1"], lab, r.get("kind", "pairs"), str(r.get("id", i))))
        else:
            out.append(Pair(r["claim"], r["passage"], r["label"], r.get("kind", "pairs"), str(r.get("source", i))))
    return out


# --- questions restated as statements ------------------------------------------------------------------------

_AUX = r"(is|are|was|were)"
_VERBISH = re.compile(r"^\w+(s|ed)$")


def restate(question: str, answer: str) -> str | None:
    """A question and its answer as one declarative sentence, or None if no simple rule fits."""
    q = question.strip().rstrip("?").strip()
    a = answer.strip().rstrip(".")
    if not q or not a:
        return None
    low = q.lower()
    m = re.match(rf"^(what|which)\s+{_AUX}\s+(.+?)\s+called$", low)
    if m:
        return E._finish(f"{q[m.start(3):m.end(3)]} {m.group(2)} called {a}")
    m = re.match(r"^(who|what)\s+(\w+)(.*)$", low)
    if re.search(r"\b(do|does|did)\b", low) and low.startswith(("what", "which")):
        return None
    if m and (m.group(1) == "who" or (_VERBISH.match(m.group(2)) and not m.group(3).strip().startswith(("of ", "and ", "are ", "is ")))) and m.group(2) not in ("is", "are", "was", "were", "does", "do", "did", "has", "have", "can"):
        return E._finish(f"{a} {q[m.start(2):]}")
    m = re.match(rf"^(what|which)\s+{_AUX}\s+(the|a|an|one|two|most|some)\s+(.+)$", low)
    if m and not re.search(r"\b(what|which|how|why|when|where)\b", low[m.end(2):]):
        return E._finish(f"{q[m.start(3):]} {m.group(2)} {a}")
    m = re.match(r"^(what|which)\s+(\w+)\s+(\w+)(.*)$", low)
    if m and m.group(2) not in ("is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "has", "have", "had", "might", "should", "happens", "kind", "type") and _VERBISH.match(m.group(3)):
        return E._finish(f"{a} {q[m.start(3):]}")
    m = re.search(r"\bwhat\b", low)
    if m and m.start() > 0 and not re.search(r"\b(how|why|when|where|which)\b", low):
        rest_after = low[m.end():].strip()
        end = m.end()
        if rest_after.startswith(("kind of", "type of")):  # "what kind of rock" -> answer
            nxt = re.match(r"(kind|type) of \w+", rest_after)
            end = m.end() + 1 + nxt.end() if nxt else end
        return E._finish(f"{q[:m.start()]}{a}{q[end:]}")
    return None


def _sciq(eval_dir: Path) -> list[dict]:
    kb = {r["doc_id"]: r["text"] for r in _jsonl(eval_dir / "sciq_valid_kb.jsonl")}
    rows = []
    for r in _jsonl(eval_dir / "sciq_valid_questions.jsonl"):
        if not r.get("gold_doc_id") or r["gold_doc_id"] not in kb:
            continue
        claim = restate(r["question"], r["answer"])
        if not claim:
            continue
        wrong = [restate(r["question"], c) for c in r["choices"] if c.strip().lower() != r["answer"].strip().lower()]
        rows.append(dict(id=r["id"], claim=claim, passage=kb[r["gold_doc_id"]], wrong=[w for w in wrong if w], gold=r["gold_doc_id"]))
    # a topical but non-supporting paragraph: the other KB paragraph sharing most words with the claim
    toks = {d: set(re.findall(r"[a-z]{4,}", t.lower())) for d, t in kb.items()}
    for row in rows:
        cw = set(re.findall(r"[a-z]{4,}", row["claim"].lower()))
        best = max((d for d in kb if d != row["gold"]), key=lambda d: len(cw & toks[d]))
        row["topical"] = kb[best]
    return rows


def _qasc(paths: DataPaths) -> list[dict]:
    kb = {r["doc_id"]: r["text"] for r in _jsonl(paths.eval_dir / "qasc_dev_kb.jsonl")}
    rows = []
    for r in _jsonl(paths.eval_dir / "qasc_dev_questions.jsonl"):
        ids = [d for d in r.get("gold_doc_ids") or [] if d in kb]
        if len(ids) != 2:
            continue
        claim = restate(r["question"], r["answer"])
        if not claim:
            continue
        wrong = [restate(r["question"], c) for c in r["choices"] if c.strip().lower() != r["answer"].strip().lower()]
        facts = [kb[d] for d in ids]
        rows.append(dict(id=r["id"], claim=claim, passage=" ".join(facts), wrong=[w for w in wrong if w], facts=facts))
    return rows


def question_pairs(paths: DataPaths, rng: random.Random, sciq_dir: Path | None = None) -> dict[str, list[Pair]]:
    """QASC questions restated with their answer / a wrong choice / one fact alone. `sciq_dir` (evaluation only:
    SciQ is CC BY-NC) adds SciQ's held-out questions; its training parts are dropped, never used."""
    out: dict[str, list[Pair]] = {"ce": [], "comb": [], "heldout": []}
    sources = [("qasc", _qasc(paths))] + ([("sciq", _sciq(sciq_dir))] if sciq_dir else [])
    for name, rows in sources:
        for row in rows:
            part = "heldout" if frac(row["id"], "q-heldout") < 0.25 else ("comb" if frac(row["id"], "q-comb") < 0.2 else "ce")
            if name == "sciq" and part != "heldout":
                continue
            ps = out[part]
            ps.append(Pair(row["claim"], row["passage"], "supported", "restated", f"{name}:{row['id']}"))
            if row["wrong"]:
                ps.append(Pair(rng.choice(row["wrong"]), row["passage"], "contradicted", "distractor", f"{name}:{row['id']}"))
            if name == "sciq" and rng.random() < 0.5:
                ps.append(Pair(row["claim"], row["topical"], "unsupported", "topical", f"{name}:{row['id']}"))
            if name == "qasc" and rng.random() < 0.5:
                # one of the two facts alone does not say the combined fact
                fact = min(row["facts"], key=lambda f: sum(w in f.lower() for w in row["claim"].lower().split()))
                ps.append(Pair(row["claim"], fact, "unsupported", "partial", f"{name}:{row['id']}"))
    return out


# --- textbook pairs ------------------------------------------------------------------------------------------

_SKIP_LINE = re.compile(r"^\s*(#|>|\*|\||-|<!--|\d+\.|!\[|```)")


def textbook_paragraphs(files: list[Path], part: str) -> list[tuple[str, str]]:
    """(file key, paragraph) for the section files in this part: 'train', 'heldout', or 'comb' (the share of the
    training sections whose pairs go to the combiner only, never to the cross-encoder)."""
    out = []
    for f in files:
        key = f"{f.parent.name}/{f.name}"
        held = frac(key, "textbook-heldout") < 0.25
        if (part == "heldout") != held or (part == "comb" and not _combiner_section(key)):
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if _SKIP_LINE.match(line) or len(line.split()) < 25 or "=" in line:
                continue
            out.append((key, line))
    return out


def _ok_sentence(s) -> bool:
    n = len([t for t in s if not t.is_punct])
    return 7 <= n <= 40 and any(t.pos_ in ("VERB", "AUX") for t in s) and s.text.strip()[-1:] in ".!" and "?" not in s.text and '"' not in s.text


def textbook_pairs(paths: DataPaths, nlp, part: str, quotas: dict[str, int], n_paragraphs: int, rng: random.Random,
                   log_every: bool = True) -> list[Pair]:
    """Paraphrase positives, minimal-edit negatives made from those same positives, and unsupported pairs."""
    paras = textbook_paragraphs(paths.textbook_files(), part)
    rng.shuffle(paras)
    # prefer paragraphs with digits (numbers, dates) so those edit types get enough material
    with_digits = [p for p in paras if re.search(r"\d", p[1])]
    others = [p for p in paras if not re.search(r"\d", p[1])]
    chosen = with_digits[: n_paragraphs // 2] + others[: n_paragraphs - min(len(with_digits), n_paragraphs // 2)]
    chosen = [(k, p[:1500]) for k, p in chosen]
    log.info("parsing %d %s textbook paragraphs", len(chosen), part)
    docs = list(nlp.pipe([p for _, p in chosen], batch_size=32))

    pool: dict[str, list[str]] = defaultdict(list)
    for d in docs:
        for e in d.ents:
            if e.label_ in ENTITY_LABELS and 2 < len(e.text) < 40:
                pool[e.label_].append(e.text.strip())
    pool = {k: sorted(set(v)) for k, v in pool.items()}

    # candidate sentences with their passage window
    cands = []
    for (key, _), d in zip(chosen, docs):
        sents = list(d.sents)
        for si, s in enumerate(sents):
            if not _ok_sentence(s):
                continue
            lo = max(0, si - rng.choice((0, 1, 1, 2)))
            hi = min(len(sents), si + 1 + rng.choice((0, 1, 1, 2)))
            passage = " ".join(x.text.strip() for x in sents[lo:hi])
            others = [c.text for x in sents if x.start != s.start for c in x.noun_chunks if c.root.pos_ == "NOUN" and len(c.text) > 3]
            cands.append(dict(key=key, sent=s, passage=passage, chunks=sorted(set(others))))
    rng.shuffle(cands)
    log.info("%d candidate sentences", len(cands))

    # paraphrase every candidate we may use, then parse the rewrites (negatives are edits OF the rewrite)
    need = min(len(cands), quotas.get("paraphrase", 0) + sum(quotas.get(t, 0) for t in EDIT_TYPES) * 3)
    cands = cands[:need]
    for c in cands:
        c["claim"], c["how"] = E.paraphrase(c["sent"], rng)
    claim_docs = list(nlp.pipe([c["claim"] for c in cands], batch_size=64))

    pairs: list[Pair] = []
    used_pos: set[int] = set()
    counts = defaultdict(int)
    order = sorted(EDIT_TYPES, key=lambda t: quotas.get(t, 0))
    for idx, (c, cd) in enumerate(zip(cands, claim_docs)):
        # rare edit types first, so dates, numbers and units get their share
        made = 0
        for et in sorted(order, key=lambda t: counts[t] / max(1, quotas.get(t, 0))):
            if counts[et] >= quotas.get(et, 0) or made >= 2:
                continue
            try:
                out = E.EDITS[et](cd, rng, pool=pool, passage=c["passage"], passage_chunks=c["chunks"])
            except (IndexError, ValueError, KeyError):
                out = None
            if out and out.strip().lower() != c["claim"].strip().lower():
                pairs.append(Pair(out, c["passage"], "contradicted", et, c["key"]))
                counts[et] += 1
                made += 1
                used_pos.add(idx)
        if idx in used_pos or counts["paraphrase"] < quotas.get("paraphrase", 0):
            kind = "verbatim" if c["how"] == "verbatim" else "paraphrase"
            pairs.append(Pair(c["claim"], c["passage"], "supported", kind, c["key"]))
            counts["paraphrase"] += 1
    # unsupported: the claim against an unrelated section, and against another paragraph of the same section
    by_key = defaultdict(list)
    for c in cands:
        by_key[c["key"]].append(c)
    n_un = quotas.get("unrelated", 0)
    for c in cands[:n_un]:
        other = rng.choice(cands)
        if other["key"] != c["key"]:
            pairs.append(Pair(c["claim"], other["passage"], "unsupported", "unrelated", c["key"]))
    n_top = quotas.get("topical", 0)
    for c in cands[:n_top * 3]:
        if n_top <= 0:
            break
        same = [o for o in by_key[c["key"]] if o["sent"].text not in o["passage"] and c["sent"].text not in o["passage"]]
        same = [o for o in by_key[c["key"]] if c["sent"].text not in o["passage"]]
        if same:
            pairs.append(Pair(c["claim"], rng.choice(same)["passage"], "unsupported", "topical", c["key"]))
            n_top -= 1
    log.info("%s textbook pairs: %s", part, dict(sorted(((p.kind, 0) for p in pairs), key=lambda x: x[0])) and
             {k: sum(1 for p in pairs if p.kind == k) for k in sorted({p.kind for p in pairs})})
    return pairs


# Sized for a first run on 2 cores (cold `make setup`: the verifier's share about 3 minutes): fewer pairs than
# the 7k / 3.9k of ce-1.1, with natural pairs (SciTail, QASC) a larger share of both sets.
TRAIN_QUOTAS = {"paraphrase": 420, "number": 90, "date": 90, "unit": 35, "entity": 95, "negation": 95,
                "antonym": 95, "swap": 110, "unrelated": 70, "topical": 70}
COMB_QUOTAS = {"paraphrase": 150, "number": 40, "date": 40, "unit": 18, "entity": 40, "negation": 40, "antonym": 40,
               "swap": 50, "unrelated": 40, "topical": 40}
COMB_EXTRA_QUOTAS = dict(COMB_QUOTAS)
TRAIN_PARAGRAPHS, COMB_PARAGRAPHS = 420, 260
HELDOUT_QUOTAS = {"paraphrase": 400, "number": 150, "date": 150, "unit": 60, "entity": 150, "negation": 150,
                  "antonym": 150, "swap": 150, "unrelated": 100, "topical": 100}


def build_training_sets(paths: DataPaths, nlp, seed: int = 13, scale: float = 1.0) -> dict[str, list[Pair]]:
    """{'ce': cross-encoder pairs, 'comb': combiner pairs, 'scitail_eval': held-out SciTail} (all from training parts,
    except scitail_eval which is only returned for reference and never trained on)."""
    rng = random.Random(seed)
    st = scitail_split(paths)
    qp = question_pairs(paths, rng)
    q = lambda d: {k: max(1, int(v * scale)) for k, v in d.items()}  # noqa: E731
    tb = textbook_pairs(paths, nlp, "train", {k: v1 + v2 for (k, v1), v2 in zip(q(TRAIN_QUOTAS).items(), q(COMB_QUOTAS).values())},
                        int(TRAIN_PARAGRAPHS * scale) + 20, rng)
    # textbook pairs: a fixed share (by source section file) goes to the combiner; sections never cross over
    tb_ce = [p for p in tb if not _combiner_section(p.source)]
    tb_comb = [p for p in tb if _combiner_section(p.source)]
    n_st = max(1, int(len(st["ce"]) * scale))
    ce = st["ce"][:n_st] * 2 + [p for p in qp["ce"]][: max(1, int(len(qp["ce"]) * scale))] + tb_ce
    rng.shuffle(ce)
    # more combiner pairs from the combiner's own sections (a separate random stream: the cross-encoder's pairs,
    # and so a cached cross-encoder, stay as they were). 1.6k pairs left the combiner with ~80 swaps to learn from.
    extra = textbook_pairs(paths, nlp, "comb", q(COMB_EXTRA_QUOTAS), int(COMB_PARAGRAPHS * scale) + 20, random.Random(seed + 101))
    seen = {(p.claim, p.passage) for p in tb_comb}
    comb = st["comb"] + qp["comb"] + tb_comb + [p for p in extra if (p.claim, p.passage) not in seen]
    return {"ce": ce, "comb": comb, "scitail_eval": st["eval"]}


def _combiner_section(key: str) -> bool:
    return frac(key, "tb-comb") < 0.15


def build_heldout_synthetic(paths: DataPaths, nlp, seed: int = 29, scale: float = 1.0, sciq_dir: Path | None = None) -> list[Pair]:
    """Pairs from textbook sections and QASC questions that training never saw (and SciQ's, given `sciq_dir`)."""
    rng = random.Random(seed)
    q = {k: max(1, int(v * scale)) for k, v in HELDOUT_QUOTAS.items()}
    tb = textbook_pairs(paths, nlp, "heldout", q, int(900 * scale) + 20, rng)
    qp = question_pairs(paths, random.Random(seed), sciq_dir=sciq_dir)["heldout"]
    return tb + qp
