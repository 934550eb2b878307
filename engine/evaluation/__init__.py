"""Factuality evaluation: closed-book vs plain RAG vs the verified pipeline on question sets with gold answers.

    run_eval(config, questions_path, kb, modes, out_dir, limit=None, seed=0, progress_callback=None) -> report dict

Loading and validation: question_sets.py; scoring rules and metric definitions: scoring.py; the durable,
resumable run: runner.py; report.json / report.md / plots: report.py; the `studybuddy eval` command: cli.py.
"""

from engine.evaluation.runner import run_eval

__all__ = ["run_eval"]
