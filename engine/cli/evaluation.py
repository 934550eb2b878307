"""`studybuddy eval`: the factuality evaluation from the command line.

Registered in engine/cli/main.py with `add_eval_parser(sub)` and `COMMANDS["eval"] = cmd_eval`; also runnable alone
as `python -m engine.cli.evaluation --questions FILE --kb SOURCE --modes ... --out DIR` (or scripts/eval).
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from engine.core.quiet import quiet_libraries
from engine.evaluation.report import CONTRACT, LABELS, fmt
from engine.evaluation.runner import RESULTS, run_eval

EXAMPLE = (
    "studybuddy eval --questions ../shared/data/eval/sciq_valid_questions.jsonl "
    "--kb ../shared/data/eval/sciq_valid_kb.jsonl --modes closed_book,rag,verified --limit 200 --out runs/sciq-dev"
)


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--questions", type=Path, required=True, help="question set: JSONL (id, question, answer, choices, gold_doc_id) or TruthfulQA CSV")
    p.add_argument("--kb", help="a library name, or a knowledge-base file/folder to ingest into a cached library (default: the sample library)")
    p.add_argument("--modes", default="closed_book,rag,verified", help="comma-separated: closed_book, rag, verified, cascade (default: the first three)")
    p.add_argument("--out", type=Path, required=True, help="output folder: results.jsonl (resumable), report.json, report.md, plots")
    p.add_argument("--limit", type=int, help="evaluate only the first N questions")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--max-new-tokens", dest="eval_max_new_tokens", type=int, help="cap on generated tokens per answer (default: the config's)")
    p.add_argument("--samples", dest="eval_samples", type=int, help="self-consistency samples of the verified mode (default: the config's)")
    p.add_argument("--json", dest="eval_json", action="store_true", help="print report.json instead of the summary table")


def add_eval_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("eval", help="factuality evaluation: closed-book vs RAG vs verified on a question set", epilog=f"Example: {EXAMPLE}")
    add_eval_arguments(p)
    return p


def _apply_options(args, config: Config) -> Config:
    if args.eval_max_new_tokens:
        config = replace(config, generation=replace(config.generation, max_new_tokens=args.eval_max_new_tokens))
    if args.eval_samples:
        config = replace(config, verification=replace(config.verification, samples=args.eval_samples))
    return config


def cmd_eval(args, config: Config) -> int:
    import json


    config = _apply_options(args, config)
    bar = _ProgressBar()
    try:
        report = run_eval(
            config, args.questions, args.kb, args.modes, args.out, limit=args.limit, seed=args.seed,
            progress_callback=bar, ingest_progress=sys.stderr.isatty(),
        )
    except KeyboardInterrupt:
        bar.close()
        print(f"eval interrupted: finished results are kept in {args.out / RESULTS}; rerun the same command to continue.", file=sys.stderr)
        return 130
    finally:
        bar.close()
    for problem in report["question_set"]["problems"][:20]:
        print(f"skipped {problem}", file=sys.stderr)
    if report["skipped_lines"]:
        print(f"{report['skipped_lines']} question line(s) skipped; the rest were evaluated.", file=sys.stderr)
    if args.eval_json:
        print(json.dumps(report, indent=2))
    else:
        modes = list(report["modes"])
        width = max(len(LABELS[k]) for k in CONTRACT)
        print(f"{'':{width}}  " + "  ".join(f"{m:>12}" for m in modes))
        for key in CONTRACT:
            print(f"{LABELS[key]:{width}}  " + "  ".join(f"{fmt(report['modes'][m].get(key), key):>12}" for m in modes))
        print(f"\nwrote {args.out / 'report.json'}, {args.out / 'report.md'} and {len(report.get('plots', {}))} plot(s)")
    return 0 if report["complete"] else 3


class _ProgressBar:
    """progress_callback(done, total) → a tqdm bar with ETA (started at the results already there)."""

    def __init__(self):
        self.bar = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc="eval", unit="answer", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)
            return
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="studybuddy-eval", description="Factuality evaluation: closed-book vs RAG vs verified.", epilog=f"Example: {EXAMPLE}")
    parser.add_argument("--config", type=Path, help="a TOML config file")
    parser.add_argument("--home", type=Path, help="data directory for libraries (default: $STUDYBUDDY_HOME or ~/.studybuddy)")
    parser.add_argument("-v", "--verbose", action="store_true")
    add_eval_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        quiet_libraries(all_warnings=True)
    try:
        config = Config.load(args.config).with_overrides(home=args.home)
        return cmd_eval(args, config)
    except StudyBuddyError as err:
        print(f"studybuddy: {err.problem}", file=sys.stderr)
        if err.fix:
            print(f"  {err.fix}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
