"""Staff: run the evaluation on a question set and look at this run's and earlier runs' reports."""

from __future__ import annotations

import json
import time
from pathlib import Path

import streamlit as st

from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from engine.evaluation import run_eval
from engine.evaluation.scoring import MODES
from knowledge_base import library as store


def render(config: Config) -> None:
    st.header("📊 Evaluation")
    _new_run(config, run_eval)
    _earlier_runs(config)


def eval_modes() -> list[str]:
    return list(MODES)


def kb_choices(config: Config, questions: Path) -> list[str]:
    """The knowledge base shipped beside a question set (x_questions.jsonl -> x_kb.jsonl), then the libraries."""
    found: list[str] = []
    if questions.name:  # an empty box gives Path("."), which has no name and no neighbour
        beside = questions.with_name(questions.name.replace("_questions", "_kb"))
        found = [str(beside)] if beside != questions and beside.is_file() else []
    return found + sorted(set(store.list_libraries(config.libraries_dir)) | {"sample"})


def runs_dir(config: Config) -> Path:
    return config.home / "runs"


def question_sets(config: Config) -> list[Path]:
    """JSONL question sets under <home>/questions and the repository's shared data, if present."""
    roots = [config.home / "questions", Path(__file__).resolve().parents[2] / "shared" / "data"]
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found += sorted(p for p in root.rglob("*.jsonl") if "question" in p.name.lower() or "golden" in p.name.lower())
    return found


def _new_run(config: Config, run_eval) -> None:
    sets = question_sets(config)
    typed = st.text_input("Question set (a .jsonl file)", value=str(sets[0]) if sets else "", key="eval_questions")
    if sets:
        st.caption("Found: " + ", ".join(str(p) for p in sets[:8]))
    kb = st.selectbox("Knowledge base (a library, or the .jsonl beside the questions)",
                      kb_choices(config, Path(typed.strip()).expanduser()), key="eval_kb")
    modes_all = eval_modes()
    modes = st.multiselect("Modes", modes_all, default=modes_all, key="eval_modes")
    limit = st.number_input("Only the first N questions (0 = all)", min_value=0, value=20, step=5, key="eval_limit")
    if not st.button("Run evaluation", key="eval_go", type="primary"):
        return
    questions = Path(typed.strip()).expanduser()
    if not questions.is_file():
        st.error(f"There is no question file {questions}.")
        return
    if not modes:
        st.error("Pick at least one mode.")
        return
    out_dir = runs_dir(config) / time.strftime("%Y%m%d-%H%M%S")
    bar = st.progress(0.0, text="Starting…")

    def progress(done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=f"{done} of {total} questions")

    try:
        run_eval(config, questions, kb, modes, out_dir, limit=int(limit) or None, seed=0, progress_callback=progress)
    except StudyBuddyError as err:
        st.error(f"{err.problem} {err.fix}".strip())
        return
    except Exception as err:  # a failed run is reported, never a traceback
        st.error(f"The evaluation stopped: {type(err).__name__}: {err}")
        return
    bar.progress(1.0, text="Done!")
    st.success(f"Report written to {out_dir}.")
    show_report(out_dir)


def _earlier_runs(config: Config) -> None:
    st.subheader("Earlier runs")
    runs = sorted((p.parent for p in runs_dir(config).glob("*/report.json")), reverse=True)
    if not runs:
        st.caption(f"No runs yet in {runs_dir(config)}.")
        return
    chosen = st.selectbox("Run", runs, format_func=lambda p: p.name, key="eval_run")
    show_report(chosen)


def show_report(folder: Path) -> None:
    report_md = folder / "report.md"
    if report_md.is_file():
        st.markdown(report_md.read_text(encoding="utf-8"))
    else:
        _report_table(folder / "report.json")
    for png in sorted(folder.glob("*.png")):
        st.image(str(png), caption=png.stem.replace("_", " "))


def _report_table(path: Path) -> None:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        st.warning(f"Cannot read {path}.")
        return
    rows = report.get("rows") or report.get("modes") or report
    st.dataframe(rows if isinstance(rows, list) else [rows], width="stretch")
