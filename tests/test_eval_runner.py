"""The evaluation run: durable results, resuming without redoing finished questions, the report files.

Most tests drive `run_eval` with a fake tutor (no models, fast). The integration test runs a real tiny eval in a
subprocess, SIGKILLs it after its first result row, reruns it and checks that nothing finished was recomputed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from engine.core.text import NOT_IN_BOOKS
from engine.core.vocabulary import Answer, AnswerVerdict, Claim, ClaimVerdict, Evidence, Passage, Support, Verdict
from engine.evaluation import run_eval, runner
from engine.evaluation.report import CONTRACT
from tests.conftest import REPO, SHARED_DATA

QUESTIONS = [
    {"id": "q1", "question": "Who proposed evolution by natural selection?", "choices": ["shaw", "darwin", "linnaeus", "scopes"], "answer": "darwin", "gold_doc_id": "d1"},
    {"id": "q2", "question": "What do plants make in photosynthesis?", "choices": ["glucose", "salt", "rock", "iron"], "answer": "glucose", "gold_doc_id": "d2"},
    {"id": "q3", "question": "Who wrote Hamlet?", "choices": ["darwin", "shakespeare", "newton", "curie"], "answer": "shakespeare", "gold_doc_id": None},
]
PASSAGE = Passage(text="Darwin proposed evolution by natural selection.", book="b", section="Evolution", doc_id="d1", chunk_id=0)


class FakeTutor:
    """Answers instantly; counts (question, mode) computations; can simulate Ctrl-C after `interrupt_after`."""

    def __init__(self, config, interrupt_after: int | None = None):
        self.config = config
        self.computed: list[tuple[str, str]] = []
        self.interrupt_after = interrupt_after
        self.generator = SimpleNamespace(generate=self._generate)
        self.retriever = SimpleNamespace(retrieve=lambda q, top_k=None: [] if "Hamlet" in q else [PASSAGE])

    def _tick(self, question, mode):
        if self.interrupt_after is not None and len(self.computed) >= self.interrupt_after:
            raise KeyboardInterrupt
        self.computed.append((question, mode))

    def _generate(self, requests):
        self._tick(requests[0].messages[-1]["content"], "closed_book")
        return [["Charles Darwin."] for _ in requests]

    def generate_answers(self, question, passages, n, temperature):
        self._tick(question, "rag")
        return ["Linnaeus proposed it."]

    def ask(self, question):
        self._tick(question, "verified")
        if "Hamlet" in question:
            return Answer(question, NOT_IN_BOOKS, [], "fake", {"retrieve": 0.01}, AnswerVerdict(Verdict.ABSTAINED, 1.0, [], NOT_IN_BOOKS, "none"))
        claim = ClaimVerdict(Claim("Linnaeus proposed it.", (0, 21)), Support.SUPPORTED, 0.9, Evidence(PASSAGE, 0.9, 0.05, 0.05))
        verdict = AnswerVerdict(Verdict.GROUNDED, 0.9, [claim], "Linnaeus proposed it.", "all claims supported")
        return Answer(question, "Linnaeus proposed it.", [PASSAGE], "fake", {"retrieve": 0.01, "generate": 0.5, "verify": 0.2}, verdict)

    def score_pairs(self, claims, premises):
        return np.tile([0.1, 0.1, 0.8], (len(claims), 1))


@pytest.fixture
def fake_kb(monkeypatch):
    info = {"source": "fake", "library": "fake", "documents": 2, "passages": 2, "fingerprint": "f", "doc_ids": ["d1", "d2"], "problems": []}
    monkeypatch.setattr(runner, "resolve_library", lambda config, kb, progress=False: (config, dict(info)))


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS) + "this line is broken\n", encoding="utf-8")
    return path


def rows_of(out):
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]


def test_run_writes_results_report_and_plots(tmp_path, fake_kb, questions):
    out = tmp_path / "run"
    progress = []
    report = run_eval(Config(home=tmp_path / "h"), questions, "fake", "closed_book,rag,verified", out,
                      progress_callback=lambda d, t: progress.append((d, t)), tutor=FakeTutor(Config()))
    assert progress[0] == (0, 9) and progress[-1] == (9, 9)
    assert report["questions"] == 3 and report["skipped_lines"] == 1 and report["complete"]
    for mode in ("closed_book", "rag", "verified"):
        assert set(CONTRACT) <= set(report["modes"][mode])
    v, rag, cb = report["modes"]["verified"], report["modes"]["rag"], report["modes"]["closed_book"]
    # q1: "Linnaeus" shown as grounded is wrong; q2: asserts no choice (no_answer); q3: abstains (not in book)
    assert v["shown_wrong_rate"] == pytest.approx(1 / 3) and v["no_answer_rate"] == pytest.approx(1 / 3)
    assert v["abstain_rate_not_in_book"] == 1.0 and v["recall_at_5"] == 0.5  # q2's gold d2 is never retrieved
    assert rag["abstain_rate_not_in_book"] == 1.0  # nothing retrieved: plain RAG says so
    assert cb["abstain_rate_not_in_book"] == 0.0 and cb["recall_at_5"] is None and cb["flagged_rate"] is None
    assert json.loads((out / "report.json").read_text())["modes"]["verified"]["n"] == 3
    md = (out / "report.md").read_text()
    assert "| shown-wrong rate" in md and "Worst examples (verified)" in md and "Linnaeus proposed it." in md
    assert "line 4: not valid JSON" in md
    for png in ("verdicts.png", "accuracy_coverage.png", "latency.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    assert len(rows_of(out)) == 9


def test_interrupted_run_resumes_without_redoing(tmp_path, fake_kb, questions):
    out = tmp_path / "run"
    config = Config(home=tmp_path / "h")
    with pytest.raises(KeyboardInterrupt):
        run_eval(config, questions, "fake", "closed_book,rag", out, tutor=FakeTutor(Config(), interrupt_after=3))
    before = {(r["id"], r["mode"]): r for r in rows_of(out)}
    assert len(before) == 3
    partial = json.loads((out / "report.json").read_text())
    assert not partial["complete"]

    again = FakeTutor(Config())
    report = run_eval(config, questions, "fake", "closed_book,rag", out, tutor=again)
    rows = rows_of(out)
    assert len(rows) == 6 and len(again.computed) == 2  # only the missing three (rag on Hamlet retrieves nothing: no generation)
    keys = [(r["id"], r["mode"]) for r in rows]
    assert len(keys) == len(set(keys)) == 6
    for key, row in before.items():
        assert next(r for r in rows if (r["id"], r["mode"]) == key) == row
    assert report["complete"] and report["resumed_results"] == 3
    assert all(report["modes"][m]["n"] == 3 for m in ("closed_book", "rag"))


def test_torn_last_line_is_redone(tmp_path, fake_kb, questions):
    out = tmp_path / "run"
    config = Config(home=tmp_path / "h")
    run_eval(config, questions, "fake", "closed_book", out, tutor=FakeTutor(Config()))
    data = (out / "results.jsonl").read_bytes()
    (out / "results.jsonl").write_bytes(data[: len(data) - 40])  # killed while writing the last row
    again = FakeTutor(Config())
    report = run_eval(config, questions, "fake", "closed_book", out, tutor=again)
    assert len(again.computed) == 1 and report["complete"]
    assert len(rows_of(out)) == 3


def test_more_modes_and_a_larger_limit_only_add_work(tmp_path, fake_kb, questions):
    out = tmp_path / "run"
    config = Config(home=tmp_path / "h")
    report = run_eval(config, questions, "fake", "rag", out, limit=1, tutor=FakeTutor(Config()))
    assert report["questions"] == 1
    again = FakeTutor(Config())
    report = run_eval(config, questions, "fake", "rag,verified", out, limit=2, tutor=again)
    assert len(again.computed) == 3 and report["questions"] == 2 and report["modes"]["rag"]["n"] == 2


def test_a_different_run_in_the_same_folder_is_refused(tmp_path, fake_kb, questions):
    out = tmp_path / "run"
    config = Config(home=tmp_path / "h")
    run_eval(config, questions, "fake", "rag", out, limit=1, tutor=FakeTutor(Config()))
    with pytest.raises(StudyBuddyError, match="seed") as err:
        run_eval(config, questions, "fake", "rag", out, limit=1, seed=7, tutor=FakeTutor(Config()))
    assert "new --out" in err.value.fix


def test_a_run_with_another_claim_verifier_is_refused_in_the_same_folder(tmp_path, fake_kb, questions, monkeypatch):
    out = tmp_path / "run"
    config = Config(home=tmp_path / "h")
    monkeypatch.setattr(runner, "_verifier_checkpoint", lambda config: "aaaa")
    run_eval(config, questions, "fake", "rag", out, limit=1, tutor=FakeTutor(Config()))
    monkeypatch.setattr(runner, "_verifier_checkpoint", lambda config: "bbbb")  # retrained: new data or features
    with pytest.raises(StudyBuddyError, match="claim_verifier"):
        run_eval(config, questions, "fake", "rag", out, limit=1, tutor=FakeTutor(Config()))


def test_unknown_mode_and_bad_limit(tmp_path, fake_kb, questions):
    with pytest.raises(StudyBuddyError, match="Unknown evaluation mode"):
        run_eval(Config(home=tmp_path), questions, "fake", "rag,oracle", tmp_path / "o", tutor=FakeTutor(Config()))
    with pytest.raises(StudyBuddyError, match="--limit"):
        run_eval(Config(home=tmp_path), questions, "fake", "rag", tmp_path / "o", limit=0, tutor=FakeTutor(Config()))


def test_unknown_kb_source_is_explained(tmp_path, questions):
    with pytest.raises(StudyBuddyError, match="neither a library nor an existing file"):
        runner.resolve_library(Config(home=tmp_path / "h"), tmp_path / "nothing.jsonl")


def _verifier_ready() -> bool:
    """Whether ClaimVerifier.load would find a checkpoint instead of training one."""
    from verifiers.verifier_checkpoint import checkpoint_key, checkpoint_root, data_fingerprint, resolve_data

    root = checkpoint_root(Config().cache_dir)
    try:
        return (root / checkpoint_key(data_fingerprint(resolve_data(None))) / "meta.json").exists()
    except StudyBuddyError:  # no training data here: load() uses any complete checkpoint
        return any((p / "meta.json").exists() for p in root.glob("*"))


# --- the real thing: SIGKILL midway, rerun, nothing finished is redone ----------------------------------------------


@pytest.mark.integration
def test_killed_eval_resumes_where_it_stopped(tmp_path):
    questions_src, kb_src = SHARED_DATA / "eval" / "sciq_valid_questions.jsonl", SHARED_DATA / "eval" / "sciq_valid_kb.jsonl"
    if not questions_src.exists() or not kb_src.exists():
        pytest.skip(f"the SciQ evaluation files are absent from {SHARED_DATA / 'eval'}")
    if not _verifier_ready():
        pytest.skip("the claim verifier is not trained yet (it would train for ~15 min here): run `make setup` or scripts/train_verifier")
    rows = [json.loads(line) for line in questions_src.read_text().splitlines()]
    chosen = [r for r in rows if r["gold_doc_id"]][:3] + [r for r in rows if r["gold_doc_id"] is None][:1]
    gold = {r["gold_doc_id"] for r in chosen}
    kb_rows = [json.loads(line) for line in kb_src.read_text().splitlines()]
    kb_docs = [d for d in kb_rows if d["doc_id"] in gold] + [d for d in kb_rows if d["doc_id"] not in gold][:6]
    (tmp_path / "q.jsonl").write_text("".join(json.dumps(r) + "\n" for r in chosen))
    (tmp_path / "kb.jsonl").write_text("".join(json.dumps(d) + "\n" for d in kb_docs))
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "engine.cli.evaluation", "--home", str(tmp_path / "home"), "--questions", str(tmp_path / "q.jsonl"),
           "--kb", str(tmp_path / "kb.jsonl"), "--modes", "closed_book,rag", "--out", str(out), "--max-new-tokens", "24"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    results = out / "results.jsonl"
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        if results.exists() and results.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.1)
    assert proc.poll() is None, f"the eval ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    before = {}
    for line in results.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # killed mid-write
        before[(row["id"], row["mode"])] = row
    assert 1 <= len(before) < 8

    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    after = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    keys = [(r["id"], r["mode"]) for r in after]
    assert len(keys) == len(set(keys)) == 8  # every (id, mode) exactly once
    for key, row in before.items():  # finished before the kill: kept as they were, not recomputed
        assert next(r for r in after if (r["id"], r["mode"]) == key) == row
    report = json.loads((out / "report.json").read_text())
    assert report["questions"] == 4 and report["complete"] and report["resumed_results"] == len(before)
    assert all(report["modes"][m]["n"] == 4 for m in ("closed_book", "rag"))
    assert report["modes"]["rag"]["recall_at_5"] is not None
    assert (out / "report.md").exists() and (out / "verdicts.png").exists()


# --- the command line ------------------------------------------------------------------------------------------------


def test_eval_parser_fits_the_studybuddy_cli(tmp_path):
    import argparse

    from engine.cli import load_config
    from engine.cli.evaluation import add_eval_parser, cmd_eval

    parser = argparse.ArgumentParser(prog="studybuddy")
    parser.add_argument("--config")
    parser.add_argument("--home")
    sub = parser.add_subparsers(dest="command", required=True)
    add_eval_parser(sub)
    args = parser.parse_args(["--home", str(tmp_path), "eval", "--questions", "q.jsonl", "--kb", "physics", "--modes", "rag", "--out", "o", "--limit", "5"])
    assert (args.command, args.kb, args.modes, args.limit, args.seed) == ("eval", "physics", "rag", 5, 0)
    config = load_config(args)  # the lead's config loading copes with the eval options
    assert str(config.home) == str(tmp_path) and callable(cmd_eval)


def test_cli_bad_input_prints_problem_and_fix(tmp_path, capsys):
    from engine.cli.evaluation import main

    (tmp_path / "q.jsonl").write_text("")
    code = main(["--home", str(tmp_path / "h"), "--questions", str(tmp_path / "q.jsonl"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and "is empty" in err and "at least one question" in err
    code = main(["--home", str(tmp_path / "h"), "--questions", str(tmp_path / "q.jsonl"), "--modes", "oracle", "--out", str(tmp_path / "o")])
    assert code == 1 and "Unknown evaluation mode" in capsys.readouterr().err


def test_new_verification_settings_redo_only_the_modes_that_read_them(tmp_path, fake_kb, questions):
    out = tmp_path / "run"
    config = Config(home=tmp_path / "h")
    run_eval(config, questions, "fake", "closed_book,rag,verified", out, tutor=FakeTutor(Config()))
    stricter = replace(config, verification=replace(config.verification, support_threshold=0.7))
    again = FakeTutor(stricter)
    report = run_eval(stricter, questions, "fake", "closed_book,rag,verified", out, tutor=again)
    assert {mode for _, mode in again.computed} == {"verified"} and len(again.computed) == 3
    assert report["set_aside_results"] == {"verified": 3} and report["complete"]
    assert "set aside and redone" in (out / "report.md").read_text()
    # back to the first settings: the first verified rows are current again, nothing is recomputed
    third = FakeTutor(Config())
    report = run_eval(config, questions, "fake", "closed_book,rag,verified", out, tutor=third)
    assert third.computed == [] and report["modes"]["verified"]["n"] == 3


def test_rows_written_before_settings_tags_keep_counting(tmp_path, fake_kb, questions):
    out = tmp_path / "run"
    config = Config(home=tmp_path / "h")
    run_eval(config, questions, "fake", "closed_book,verified", out, tutor=FakeTutor(Config()))
    untagged = [{k: v for k, v in row.items() if k != "settings"} for row in rows_of(out)]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in untagged))
    meta = json.loads((out / "run.json").read_text())
    meta.pop("untagged_rows_fingerprint")
    (out / "run.json").write_text(json.dumps(meta))
    stricter = replace(config, verification=replace(config.verification, support_threshold=0.7))
    again = FakeTutor(stricter)
    run_eval(stricter, questions, "fake", "closed_book,verified", out, tutor=again, limit=1)
    assert again.computed and {mode for _, mode in again.computed} == {"verified"}
    # an interrupted redo must not let the old untagged verified rows count as current later
    later = FakeTutor(stricter)
    run_eval(stricter, questions, "fake", "closed_book,verified", out, tutor=later)
    assert {mode for _, mode in later.computed} == {"verified"} and len(later.computed) == 2


def test_a_model_retrained_into_the_same_folder_is_evaluated_again(tmp_path, fake_kb, questions):
    from tests.tiny_checkpoints import save_model

    model = save_model(tmp_path / "runs" / "sft", seed=1)
    out = tmp_path / "run"
    config = replace(Config(home=tmp_path / "h"), generator=str(model))
    run_eval(config, questions, "fake", "closed_book", out, tutor=FakeTutor(config))
    same = FakeTutor(config)
    run_eval(config, questions, "fake", "closed_book", out, tutor=same)
    assert same.computed == []  # same weights: resumed, nothing recomputed
    weights = json.loads((out / "run.json").read_text())["fingerprint"]["generator_weights"]
    assert weights["path"] == str(model) and len(weights["sha256"]) == 64

    kept = (out / "results.jsonl").read_bytes()
    save_model(model, seed=2)  # "training" again into the same folder: same name, other weights
    retrained = FakeTutor(config)
    with pytest.raises(StudyBuddyError, match="generator_weights") as refused:
        run_eval(config, questions, "fake", "closed_book", out, tutor=retrained)
    assert "new --out folder" in refused.value.fix
    assert retrained.computed == [] and (out / "results.jsonl").read_bytes() == kept  # not mixed, nothing lost
