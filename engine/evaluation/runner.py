"""Running an evaluation: every selected question through every mode, results appended durably, resumable.

Modes (all on the same questions, back to back per question, sharing one set of loaded models):

* ``closed_book``: the generator alone (``closed_book_messages``), greedy, no retrieval.
* ``rag``: retrieve the top-k passages, one greedy grounded answer, no verification. When retrieval finds no
  passage about the question, plain RAG says NOT_IN_BOOKS (as the pipeline does) instead of answering blind.
* ``verified``: the full pipeline, ``Tutor.ask``.
* ``cascade``: the pipeline in its cost-cascade mode (voting and CoVe only where the cheap checks are unsure).

Durability: each finished (question id, mode) is one JSON line appended to ``OUT/results.jsonl`` with flush and
fsync, so a crash, Ctrl-C or SIGKILL loses at most the question in flight. Rerunning the same command skips the
keys already there (a partially written last line is cut off and redone). ``OUT/run.json`` pins what the results
depend on (question file checksum, library contents, models, settings, seed), and each row carries a tag of the
part its mode depends on. Resuming into a folder whose results came from other questions, another seed, generator
or claim verifier is refused rather than mixed. A change that only some modes depend on (the verification settings,
the library, retrieval) sets those modes' rows aside and redoes them, keeping the rest: a new verifier threshold
does not rerun ``closed_book``. Changing ``--limit`` or ``--modes`` is fine: only the missing keys are computed and
the report covers exactly the questions and modes asked for.

Reproducibility: before each (question, mode) ``torch.manual_seed(seed + index)`` where index is the question's
position in the set, so a resumed run samples what an uninterrupted one would have.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from engine.core.files import write_text_atomic
from engine.core.text import NOT_IN_BOOKS
from engine.core.timing import timed
from engine.evaluation import scoring
from engine.evaluation.question_sets import (
    EvalQuestion,
    QuestionSet,
    check_gold_ids,
    load_questions,
)
from engine.evaluation.report import build_report, write_report
from engine.models.generator import resolve_configured_checkpoint
from engine.models.requests import GenerationRequest
from engine.pipeline import Tutor
from engine.prompts import closed_book_messages
from knowledge_base import library as store
from knowledge_base.ingest import ensure_sample_library, ingest
from verifiers.verifier_checkpoint import checkpoint_folder

log = logging.getLogger(__name__)

RESULTS = "results.jsonl"
RUN_META = "run.json"
RECALL_K = 5
MAX_CONSECUTIVE_ERRORS = 5
MATCH_THRESHOLD = scoring.DEFAULT_THRESHOLD

Progress = Callable[[int, int], None]

# What every mode's results depend on (a change here invalidates the whole folder), and what only some modes read.
COMMON_SETTINGS = ("questions_sha256", "generator", "generator_weights", "generation", "seed", "match_threshold", "claim_verifier")
RETRIEVAL_SETTINGS = ("library_fingerprint", "embedder", "retrieval")
MODE_SETTINGS = {
    "closed_book": (),
    "rag": RETRIEVAL_SETTINGS,
    "verified": RETRIEVAL_SETTINGS + ("verification",),
    "cascade": RETRIEVAL_SETTINGS + ("verification",),
}


def parse_modes(modes: str | Sequence[str]) -> list[str]:
    items = [m.strip() for m in (modes.split(",") if isinstance(modes, str) else modes) if m and m.strip()]
    unknown = [m for m in items if m not in scoring.MODES]
    if unknown or not items:
        raise StudyBuddyError(
            f"Unknown evaluation mode(s): {', '.join(unknown)}." if unknown else "No evaluation mode was given.",
            f"Use a comma-separated list of {', '.join(scoring.MODES)}, e.g. --modes closed_book,rag,verified",
        )
    return list(dict.fromkeys(items))


# --- the knowledge base ---------------------------------------------------------------------------------------


def resolve_library(config: Config, kb: str | Path | None, progress: bool = False) -> tuple[Config, dict]:
    """The library to answer from: an existing library name, a file/folder ingested into a cached library
    `eval-<stem>-<hash8>` (instant when unchanged), or, without --kb, the bundled sample library."""
    info: dict = {"source": None if kb is None else str(kb), "problems": []}
    text = "" if kb is None else str(kb).strip()
    if not text or text == "sample":
        ensure_sample_library(config, progress=progress)
        name = "sample"
    elif "/" not in text and store.NAME_PATTERN.match(text) and text in store.list_libraries(config.libraries_dir):
        name = text
    else:
        path = Path(text).expanduser()
        if not path.exists():
            libraries = store.list_libraries(config.libraries_dir)
            raise StudyBuddyError(
                f"--kb '{text}' is neither a library nor an existing file or folder.",
                f"Libraries here: {', '.join(libraries) if libraries else 'none'}; or give a knowledge-base file/folder "
                "(e.g. ../shared/data/eval/sciq_valid_kb.jsonl).",
            )
        resolved = path.resolve()
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", resolved.stem or resolved.name).strip("-.")[:40] or "kb"
        name = f"eval-{stem}-{hashlib.sha256(str(resolved).encode()).hexdigest()[:8]}"
        report = ingest(config, [resolved], name, progress=progress)
        info["problems"] = [str(p) for p in report.problems]
        info["ingest"] = report.summary()
    manifest = store.read_manifest(config.libraries_dir, name)
    if manifest is None:  # pragma: no cover - ingest always writes or raises
        raise StudyBuddyError(f"Library '{name}' could not be opened.", "Ingest it again.")
    docs = manifest["documents"].values()
    info.update(
        library=name,
        documents=len(manifest["documents"]),
        passages=manifest["counts"]["chunks"],
        fingerprint=hashlib.sha256("\n".join(sorted(d["checksum"] for d in docs)).encode()).hexdigest()[:16],
        doc_ids=sorted({d["doc_id"] for d in docs}),
    )
    return config.with_overrides(library=name), info


# --- durable results ---------------------------------------------------------------------------------------------


class ResultsFile:
    """Append-only JSONL of finished (id, mode) results; every append is flushed and fsynced."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.corrupt_lines = 0

    def load(self, accept: Callable[[dict], bool] | None = None) -> dict[tuple[str, str], dict]:
        """Rows by (id, mode), the last accepted one per key; a torn last line is cut off so the next append starts
        on a fresh line. Rows `accept` turns down are counted in `set_aside` by mode."""
        self.set_aside: dict[str, int] = {}
        rows: dict[tuple[str, str], dict] = {}
        if not self.path.exists():
            return rows
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            log.warning("results file %s ends in a partial line (killed mid-write): dropping it", self.path)
            with open(self.path, "r+b") as fh:
                fh.truncate(cut)
                fh.flush()
                os.fsync(fh.fileno())
            data = data[:cut]
        for line in data.decode("utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                key = (row["id"], row["mode"])
            except (json.JSONDecodeError, KeyError, TypeError):
                self.corrupt_lines += 1
                continue
            if row.get("error"):
                continue  # an error is retried on the next run
            if accept is not None and not accept(row):
                self.set_aside[row["mode"]] = self.set_aside.get(row["mode"], 0) + 1
                continue
            rows[key] = row
        return rows

    def append(self, row: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def _fingerprint(config: Config, qset: QuestionSet, kb_info: dict, seed: int) -> dict:
    return {
        "questions_sha256": qset.checksum,
        "library_fingerprint": kb_info["fingerprint"],
        "generator": config.generator,
        "generator_weights": _generator_identity(config),
        "embedder": config.embedder,
        "retrieval": asdict(config.retrieval),
        "generation": {k: v for k, v in asdict(config.generation).items() if k != "threads"},
        "verification": asdict(config.verification),
        "claim_verifier": _verifier_checkpoint(config),
        "seed": seed,
        "match_threshold": MATCH_THRESHOLD,
    }


def _generator_identity(config: Config) -> dict:
    """Which weights answer, not just their name: a model retrained into the same folder (runs/sft) is another
    model, and its answers must not be mixed with the old one's. The loader's fingerprint of the resolved
    checkpoint (milliseconds, nothing loaded); for an endpoint, where it is and what it serves."""
    options = config.generator_options
    if options.backend == "openai":
        return {"backend": "openai", "base_url": options.base_url, "model": config.generator}

    manifest = resolve_configured_checkpoint(config).manifest
    return {"backend": options.backend, "kind": manifest.kind, "path": manifest.path, "sha256": manifest.sha256}


def _verifier_checkpoint(config: Config) -> str:
    """The claim verifier checkpoint the run uses (its key names its training data and code)."""
    try:
        return checkpoint_folder(config.cache_dir).name
    except StudyBuddyError:
        return "not trained yet"


def settings_tag(fingerprint: dict, mode: str) -> str:
    """A short hash of the settings one mode's results depend on."""
    part = {k: fingerprint.get(k) for k in COMMON_SETTINGS + MODE_SETTINGS.get(mode, tuple(fingerprint))}
    return hashlib.sha256(json.dumps(part, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _previous_fingerprints(out_dir: Path) -> tuple[dict | None, dict | None]:
    """(the last run's fingerprint, the one rows without a settings tag were made under), from OUT/run.json."""
    try:
        meta = json.loads((out_dir / RUN_META).read_text())
        return meta["fingerprint"], meta.get("untagged_rows_fingerprint", meta["fingerprint"])
    except (json.JSONDecodeError, KeyError, OSError, TypeError):
        return None, None


def _check_run_meta(old: dict | None, fingerprint: dict, have_results: bool, out_dir: Path) -> None:
    if old is None or not have_results:
        return
    differ = [  # a setting the old run did not record (it predates it) cannot be compared: its rows are redone by tag
        k for k in COMMON_SETTINGS if k in old and json.dumps(old.get(k), sort_keys=True) != json.dumps(fingerprint.get(k), sort_keys=True)
    ]
    if differ:
        raise StudyBuddyError(
            f"{out_dir} already holds results of a different evaluation (it differs in: {', '.join(differ)}); "
            "mixing them would make the report meaningless.",
            f"Use a new --out folder, or delete {out_dir / RESULTS} to start this one over.",
        )


def _write_json_atomic(path: Path, payload: dict) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False))


# --- the modes -------------------------------------------------------------------------------------------------


def _closed_book(tutor, question: str) -> dict:
    timings: dict[str, float] = {}
    request = GenerationRequest(
        closed_book_messages(question), n=1, temperature=0.0, max_new_tokens=tutor.config.generation.max_new_tokens
    )
    with timed(timings, "generate"):
        text = tutor.generator.generate([request])[0][0]
    return {"answer": text, "timings": timings, "retrieved_doc_ids": None}


def _rag(tutor, question: str) -> dict:
    timings: dict[str, float] = {}
    k = tutor.config.retrieval.top_k
    with timed(timings, "retrieve"):
        # the first k of the top max(k, 5) are the top k: one search serves the answer and recall@5
        passages = tutor.retriever.retrieve(question, top_k=max(k, RECALL_K))
    used = passages[:k]
    if used:
        with timed(timings, "generate"):
            text = tutor.generate_answers(question, used, n=1, temperature=0.0)[0]
    else:
        text = NOT_IN_BOOKS
    return {
        "answer": text,
        "timings": timings,
        "retrieved_doc_ids": [p.doc_id for p in passages[:RECALL_K]],
        "passages": [_passage(p) for p in used],
    }


def _verified(tutor, question: str) -> dict:
    answer = tutor.ask(question)
    top = tutor.retriever.retrieve(question, top_k=RECALL_K)  # for recall@5 only: not timed, not shown
    v = answer.verdict
    return {
        "answer": answer.text,
        "timings": dict(answer.timings),
        "retrieved_doc_ids": [p.doc_id for p in top],
        "passages": [_passage(p) for p in answer.passages],
        "verdict": v.verdict.value if v else None,
        "confidence": round(float(v.confidence), 4) if v else None,
        "why": v.why if v else None,
        "claims": [_claim(c.to_json()) for c in v.claims] if v else [],
    }


def _passage(p) -> dict:
    return {"doc_id": p.doc_id, "section": p.section, "score": round(float(p.score), 4), "text": p.text[:300]}


def _claim(c: dict) -> dict:
    if c.get("citation"):
        c["citation"] = {**c["citation"], "text": c["citation"]["text"][:300]}
    return c


def _cascade(tutor, question: str) -> dict:
    return _verified(tutor.variant(mode="cascade"), question)  # the same twin, its models shared, for every question


RUNNERS = {"closed_book": _closed_book, "rag": _rag, "verified": _verified, "cascade": _cascade}


def _entail_with(tutor) -> scoring.Entail:
    def entail(premise: str, hypotheses: Sequence[str]) -> list[float]:
        if not hypotheses:
            return []
        probs = tutor.score_pairs(list(hypotheses), [premise] * len(hypotheses))
        return [float(p) for p in probs[:, 0]]

    return entail


def _seed(value: int) -> None:
    try:
        import torch

        torch.manual_seed(value)
    except ImportError:  # pragma: no cover
        pass


def evaluate_one(tutor, mode: str, q: EvalQuestion, index: int, seed: int) -> dict:
    """One (question, mode): run it, score it, return the result row."""
    started = time.time()
    _seed(seed + index)
    out = RUNNERS[mode](tutor, q.question)
    qjson = q.to_json()
    t0 = time.perf_counter()
    score = scoring.score_answer(mode, qjson, out["answer"], out.get("verdict"), _entail_with(tutor), MATCH_THRESHOLD)
    score_s = time.perf_counter() - t0
    retrieved = out.get("retrieved_doc_ids")
    recall_hit = None
    if q.in_book and retrieved is not None and q.gold_doc_ids:
        recall_hit = any(g in retrieved[:RECALL_K] for g in q.gold_doc_ids)
    timings = {k: round(v, 4) for k, v in out["timings"].items()}
    return {
        "id": q.id,
        "mode": mode,
        "index": index,
        "question": q.question,
        "gold_answer": q.answer,
        "choices": list(q.choices) if q.choices else None,
        "gold_doc_ids": list(q.gold_doc_ids) if q.gold_doc_ids is not None else None,
        "in_book": q.in_book,
        "is_truthfulqa": q.is_truthfulqa,
        "answer": out["answer"],
        "verdict": out.get("verdict"),
        "confidence": out.get("confidence"),
        "why": out.get("why"),
        "claims": out.get("claims", []),
        "passages": out.get("passages", []),
        "retrieved_doc_ids": retrieved,
        "recall_hit": recall_hit,
        "timings": timings,
        "total_s": round(sum(out["timings"].values()), 4),
        "score_s": round(score_s, 4),
        **score,
        "seed": seed + index,
        "started_at": started,
        "finished_at": time.time(),
    }


# --- the run ---------------------------------------------------------------------------------------------------


def run_eval(
    config: Config,
    questions_path: str | Path,
    kb: str | Path | None,
    modes: str | Sequence[str],
    out_dir: str | Path,
    limit: int | None = None,
    seed: int = 0,
    progress_callback: Progress | None = None,
    tutor=None,
    ingest_progress: bool = False,
) -> dict:
    """Evaluate `modes` on the question set, resuming from OUT/results.jsonl; returns the report dict
    (also written to OUT/report.json, OUT/report.md and OUT/*.png). `tutor` may be a loaded Tutor to reuse
    (its config must answer from the same library)."""
    mode_list = parse_modes(modes)
    if limit is not None and limit < 1:
        raise StudyBuddyError(f"--limit must be at least 1 (got {limit}).", "Leave --limit out to evaluate the whole set.")
    qset = load_questions(questions_path)
    config, kb_info = resolve_library(config, kb, progress=ingest_progress)
    doc_ids = set(kb_info.pop("doc_ids"))
    if qset.has_gold_ids:
        check_gold_ids(qset, doc_ids, kb_info["library"])
    for problem in qset.problems:
        log.warning("skipped %s", problem)
    indexed = list(enumerate(qset.questions))
    selected = indexed[:limit] if limit else indexed

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = ResultsFile(out / RESULTS)
    fingerprint = _fingerprint(config, qset, kb_info, seed)
    previous, untagged = _previous_fingerprints(out)
    _check_run_meta(previous, fingerprint, results.path.exists() and results.path.stat().st_size > 0, out)
    tags = {m: settings_tag(fingerprint, m) for m in scoring.MODES}

    def current(row: dict) -> bool:
        tag = row.get("settings") or (settings_tag(untagged, row["mode"]) if untagged else None)
        return tag == tags.get(row["mode"])

    done = results.load(accept=current)
    redone = {m: n for m, n in results.set_aside.items() if m in mode_list}
    for mode, n in redone.items():
        log.warning("%d %s result(s) in %s were made with other settings; they are set aside and redone", n, mode, results.path)
    meta = {
        "questions_path": str(Path(questions_path)),
        "format": qset.format,
        "kb": kb_info,
        "modes": mode_list,
        "limit": limit,
        "seed": seed,
        "fingerprint": fingerprint,
        "untagged_rows_fingerprint": untagged or fingerprint,
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    _write_json_atomic(out / RUN_META, meta)

    total = len(selected) * len(mode_list)
    finished = sum((q.id, m) in done for _, q in selected for m in mode_list)
    resumed = finished
    if progress_callback:
        progress_callback(finished, total)

    errors: list[dict] = []
    consecutive = 0
    try:
        if finished < total:
            if tutor is None:
                tutor = Tutor(config)
            for index, q in selected:
                for mode in mode_list:
                    if (q.id, mode) in done:
                        continue
                    try:
                        row = evaluate_one(tutor, mode, q, index, seed)
                    except (StudyBuddyError, KeyboardInterrupt, MemoryError):
                        raise
                    except Exception as err:  # one bad question must not sink the run; a systematic failure does
                        consecutive += 1
                        log.exception("question %s in mode %s failed", q.id, mode)
                        errors.append({"id": q.id, "mode": mode, "error": f"{type(err).__name__}: {err}"})
                        results.append({"id": q.id, "mode": mode, "error": errors[-1]["error"], "finished_at": time.time()})
                        if consecutive >= MAX_CONSECUTIVE_ERRORS:
                            raise StudyBuddyError(
                                f"{consecutive} questions in a row failed; the last: {errors[-1]['error']}",
                                f"Rerun with -v to see the traceback; finished results are kept in {results.path}.",
                            ) from err
                        continue
                    consecutive = 0
                    row["settings"] = tags[mode]
                    results.append(row)
                    done[(q.id, mode)] = row
                    finished += 1
                    if progress_callback:
                        progress_callback(finished, total)
    finally:
        rows = {m: [done[(q.id, m)] for _, q in selected if (q.id, m) in done] for m in mode_list}
        report = build_report(
            rows,
            questions=len(selected),
            qset=qset,
            meta={**meta, "resumed_results": resumed, "errors": errors, "corrupt_result_lines": results.corrupt_lines,
                  "set_aside_results": redone},
        )
        write_report(report, rows, out)
    return report
