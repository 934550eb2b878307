"""The `studybuddy` command: ingest textbooks, ask questions, list libraries, prepare models."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from engine.cli.evaluation import add_eval_parser, cmd_eval
from engine.cli.model import add_model_info_parser, add_model_options, apply_model_options, cmd_model_info
from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from engine.core.quiet import quiet_libraries
from engine.models.checkpoints import resolve_generator
from engine.pipeline import Tutor
from engine.safety.input_rails import InputRails
from engine.safety.rails import SafetyRails
from engine.safety.screening import read_prompts, screen, summary
from knowledge_base import library as store
from knowledge_base.ingest import NothingToIngest, ensure_sample_library, flagged_passages, ingest
from verifiers.verifier_training.train import load_or_train

log = logging.getLogger("studybuddy")

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studybuddy", description="An offline tutor that answers only from approved textbooks.")
    parser.add_argument("--config", type=Path, help="a TOML config file (default: $STUDYBUDDY_CONFIG or HOME/studybuddy.toml)")
    parser.add_argument("--home", type=Path, help="data directory for libraries and logs (default: $STUDYBUDDY_HOME or ~/.studybuddy)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress details in the log")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="add or update textbooks in a library (curriculum staff)")
    ingest.add_argument("paths", nargs="*", type=Path, help="folders or files: .md .txt .pdf .html .docx .jsonl")
    ingest.add_argument("--library", required=True, help="library name, e.g. physics")
    ingest.add_argument("--book", help="book name for these files (default: the folder's name)")
    ingest.add_argument("--remove", action="append", default=[], metavar="BOOK", help="drop a book from the library")
    ingest.add_argument("--embedder", help="sentence-transformers model folder or id (default: the packaged MiniLM)")
    ingest.add_argument("--index", choices=["flat", "hnsw", "ivf"], help="FAISS index type (default: flat, exact)")
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")

    ask = sub.add_parser("ask", help="ask a question and get a checked answer from the books")
    ask.add_argument("question")
    _answer_options(ask)

    check = sub.add_parser("check", help="check any answer against the books (e.g. a chatbot's answer a teacher pasted)")
    check.add_argument("answer", help="the answer text to check")
    check.add_argument("--question", default="", help="the question it answers (finds the right passages)")
    _answer_options(check)

    libs = sub.add_parser("libraries", help="list libraries with their books and passage counts")
    libs.add_argument("--json", action="store_true")

    flagged = sub.add_parser("flagged-passages", help="passages carrying instructions addressed to an AI (curriculum staff)")
    flagged.add_argument("--library", required=True, help="library name")
    flagged.add_argument("--json", action="store_true")

    screen = sub.add_parser("screen", help="screen a file of prompts through the safety input layers, without answering (staff)")
    screen.add_argument("file", type=Path, help="one prompt a line, or JSONL with a \"text\" field")
    screen.add_argument("--json", action="store_true", help="print one JSON object: every prompt's decision and a summary")

    prepare = sub.add_parser("prepare", help="one-time preparation: convert the default generator, build the sample library")
    prepare.add_argument("--skip-generator", action="store_true")
    add_eval_parser(sub)
    add_model_info_parser(sub)
    prepare.add_argument("--skip-verifier", action="store_true", help="do not train/load the claim verifier")
    return parser


def _answer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--library", help="library to answer from (default: sample)")
    p.add_argument("--model", help="generator: checkpoint folder, Trainer output, LoRA adapter or GGUF file (default: the packaged SmolLM2)")
    add_model_options(p)
    p.add_argument("--embedder", help="embedder the library was built with (default: the packaged MiniLM)")
    p.add_argument("--top-k", type=int, help="passages to retrieve")
    p.add_argument("--mode", choices=["always", "cascade"], help="always: vote and CoVe on every answer; cascade: only when unsure")
    p.add_argument("--samples", type=int, help="self-consistency samples (default 5)")
    p.add_argument("--explain", action="store_true", help="print a per-claim table: verdict, score, the check that decided it and why, passage, CoVe, revision")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def load_config(args: argparse.Namespace) -> Config:
    config = Config.load(args.config)
    from dataclasses import replace

    overrides = {
        "home": getattr(args, "home", None),
        "library": getattr(args, "library", None),
        "generator": getattr(args, "model", None),
        "embedder": getattr(args, "embedder", None),
    }
    config = apply_model_options(config.with_overrides(**overrides), args)
    if getattr(args, "top_k", None):
        config = replace(config, retrieval=replace(config.retrieval, top_k=args.top_k))
    if getattr(args, "mode", None) or getattr(args, "samples", None):
        verification = config.verification
        if args.mode:
            verification = replace(verification, mode=args.mode)
        if args.samples:
            verification = replace(verification, samples=args.samples)
        config = replace(config, verification=verification)
    if getattr(args, "index", None):
        config = replace(config, retrieval=replace(config.retrieval, index_type=args.index))
    return config


def cmd_ingest(args, config: Config) -> int:
    if not args.paths and not args.remove:
        raise StudyBuddyError("Nothing to ingest: give folders or files, or --remove BOOK.", "Example: studybuddy ingest books/physics --library physics")
    try:
        report = ingest(config, args.paths, args.library, book=args.book, remove_books=args.remove, progress=sys.stderr.isatty() or args.verbose)
    except NothingToIngest as nothing:
        for problem in nothing.report.problems:
            print(f"skipped {problem}", file=sys.stderr)
        raise
    for problem in report.problems:
        print(f"skipped {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps({**{k: v for k, v in vars(report).items() if k != "problems"}, "problems": [str(p) for p in report.problems]}))
    else:
        print(report.summary())
        if report.problems:
            print(f"{len(report.problems)} problem(s): the files named above were skipped; everything else is in the library.")
    return EXIT_PARTIAL if report.problems else EXIT_OK


def cmd_ask(args, config: Config) -> int:
    question = readable_text(args.question)
    if not question.strip():
        raise StudyBuddyError("There is no question to answer.", 'Example: studybuddy ask "Why is the sky blue?"')
    return show_answer(Tutor(config).ask(question), args)


def readable_text(text: str) -> str:
    """Bytes that are not UTF-8 (they reach argv as lone surrogates) become U+FFFD, so nothing downstream chokes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def cmd_check(args, config: Config) -> int:
    if not args.answer.strip():
        raise StudyBuddyError("There is no answer to check.", 'Example: studybuddy check "7 x 8 is 54" --question "What is 7 x 8?"')
    return show_answer(Tutor(config).check(args.question, args.answer), args)


BADGES = {"grounded": "✔ grounded", "corrected": "✎ corrected", "flagged": "⚠ flagged", "abstained": "∅ not in my books"}


def show_answer(answer, args) -> int:
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
        return EXIT_OK
    print(answer.text)
    if answer.safety is not None and answer.safety.stops:
        print(f"\n[safety: {answer.safety.action.value} by the {answer.safety.layer} layer, {answer.safety.category}] {answer.safety.reason}")
        return EXIT_OK
    if answer.verdict is not None:
        print(f"\n[{BADGES[answer.verdict.verdict.value]}] {answer.verdict.why} (confidence {answer.verdict.confidence:.2f})")
    cited = [c.evidence.passage for c in (answer.verdict.claims if answer.verdict else []) if c.evidence]
    shown = cited or answer.passages
    if shown:
        print("\nFrom your books:")
        seen = set()
        for passage in shown:
            if passage.chunk_id in seen:
                continue
            seen.add(passage.chunk_id)
            print(f"  - {passage.book} — {passage.section}")
    if args.explain and answer.verdict is not None:
        print_explanation(answer)
    return EXIT_OK


def print_explanation(answer) -> None:
    print("\nClaim by claim:")
    for number, cv in enumerate(answer.verdict.claims, start=1):
        print(f"  {number}. {cv.claim.text}")
        print(f"     verdict: {cv.support.value} (score {cv.score:.2f}), decided by the {cv.decided_by.value}")
        if cv.why:
            print(f"     why: {cv.why}")
        if cv.evidence:
            text = " ".join(cv.evidence.passage.text.split())
            print(f"     passage: {cv.evidence.passage.section}: \"{text[:160]}{'…' if len(text) > 160 else ''}\"")
        if cv.cove_question:
            print(f"     CoVe: {cv.cove_question} → {cv.cove_answer}")
        if cv.correction:
            print(f"     revision: {cv.correction}")
    timings = ", ".join(f"{k} {v:.2f}s" for k, v in answer.timings.items())
    print(f"\nTimings: {timings}")


def cmd_libraries(args, config: Config) -> int:
    names = store.list_libraries(config.libraries_dir)
    rows = []
    for name in names:
        manifest = store.read_manifest(config.libraries_dir, name)
        rows.append({"library": name, "books": manifest["books"], "chunks": manifest["counts"]["chunks"], "embedder": manifest["embedder"]["name"],
                     "flagged_passages": len(manifest.get("safety", {}).get("flagged_passages", []))})
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print(f"No libraries in {config.libraries_dir} yet. Create one with: studybuddy ingest PATH... --library NAME")
    for row in [] if args.json else rows:
        flags = f" ({row['flagged_passages']} flagged for review: studybuddy flagged-passages --library {row['library']})" if row["flagged_passages"] else ""
        print(f"{row['library']}: {row['chunks']} passages{flags}")
        for book, counts in row["books"].items():
            print(f"  {book}: {counts['documents']} documents, {counts['chunks']} passages")
    return EXIT_OK


def cmd_flagged_passages(args, config: Config) -> int:
    rows = flagged_passages(config, args.library)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print(f"No passage of '{args.library}' carries instructions addressed to an AI.")
    for row in rows:
        print(f"{row['book']} — {row['section']} (passage {row['passage']}, {row['kind']}):\n  \"{row['instruction']}\"")
    if rows:
        print(f"\n{len(rows)} flagged passage(s). They stay in the library but are neutralised whenever retrieved; "
              "fix or remove the file and ingest it again.")
    return EXIT_OK


def cmd_prepare(args, config: Config) -> int:
    """Every one-time step, each timed (the times are printed: a school's IT person sees where set-up went)."""
    import time


    times: list[tuple[str, float]] = []
    t = time.perf_counter()
    if not args.skip_generator:
        folder = resolve_generator(config.generator, config.cache_dir)
        times.append(("generator", time.perf_counter() - t))
        print(f"generator checkpoint ready: {folder} ({times[-1][1]:.1f} s)")
    t = time.perf_counter()
    ensure_sample_library(config, progress=True)
    times.append(("sample library", time.perf_counter() - t))
    print(f"sample library ready in {config.libraries_dir / 'sample'} ({times[-1][1]:.1f} s)")
    if not args.skip_verifier:
        t = time.perf_counter()
        # trains once (a complete checkpoint is reused) and loads it: a checkpoint that does not load is an error
        # here, not at question time
        folder = load_or_train(config.cache_dir, nli_model=config.verification.nli_model).folder
        times.append(("claim verifier", time.perf_counter() - t))
        print(f"claim verifier ready: {folder} ({times[-1][1]:.1f} s)")
    print("prepare timings: " + ", ".join(f"{name} {secs:.1f} s" for name, secs in times)
          + f"; total {sum(s for _, s in times):.1f} s")
    return EXIT_OK


def cmd_screen(args, config: Config) -> int:
    prompts = read_prompts(args.file)
    rails = SafetyRails(config.safety).input if config.safety.classifier else InputRails(config.safety)
    results = screen(rails, prompts, progress=sys.stderr.isatty() and not args.json)
    totals = summary(results)
    if args.json:
        print(json.dumps({"results": [r.to_json() for r in results], "summary": totals}, ensure_ascii=False))
        return EXIT_OK
    for r in results:
        score = "  -  " if r.score is None else f"{r.score:.2f}"
        text = " ".join(r.text.split())
        print(f"{r.line:>6}  {r.action:<10}  {r.layer:<23}  {r.category:<22}  {score}  {text[:70]}{'…' if len(text) > 70 else ''}")
    layers = ", ".join(f"{k} {v}" for k, v in sorted(totals["by_layer"].items())) or "none"
    print(f"\n{totals['prompts']} prompt(s): {totals['stopped']} stopped (by layer: {layers}), {totals['allowed']} allowed.")
    return EXIT_OK


COMMANDS = {"screen": cmd_screen, "ingest": cmd_ingest, "ask": cmd_ask, "check": cmd_check, "libraries": cmd_libraries, "prepare": cmd_prepare, "eval": cmd_eval, "flagged-passages": cmd_flagged_passages, "model-info": cmd_model_info}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        _quiet_libraries()
    try:
        config = load_config(args)
        return COMMANDS[args.command](args, config)
    except StudyBuddyError as err:
        print(f"studybuddy: {err.problem}", file=sys.stderr)
        if err.fix:
            print(f"  {err.fix}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("studybuddy: interrupted; nothing half-written was kept.", file=sys.stderr)
        return 130


def _quiet_libraries() -> None:
    quiet_libraries(all_warnings=True)


if __name__ == "__main__":
    sys.exit(main())
