"""The `studybuddy` command: ingest textbooks, ask questions, list libraries, prepare models."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from engine.config import Config
from engine.errors import StudyBuddyError

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

    ask = sub.add_parser("ask", help="ask a question and get an answer from the books")
    ask.add_argument("question")
    _answer_options(ask)

    libs = sub.add_parser("libraries", help="list libraries with their books and passage counts")
    libs.add_argument("--json", action="store_true")

    prepare = sub.add_parser("prepare", help="one-time preparation: convert the default generator, build the sample library")
    prepare.add_argument("--skip-generator", action="store_true")
    return parser


def _answer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--library", help="library to answer from (default: sample)")
    p.add_argument("--model", help="generator checkpoint folder or GGUF file (default: the packaged SmolLM2)")
    p.add_argument("--embedder", help="embedder the library was built with (default: the packaged MiniLM)")
    p.add_argument("--top-k", type=int, help="passages to retrieve")
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
    config = config.with_overrides(**overrides)
    if getattr(args, "top_k", None):
        config = replace(config, retrieval=replace(config.retrieval, top_k=args.top_k))
    if getattr(args, "index", None):
        config = replace(config, retrieval=replace(config.retrieval, index_type=args.index))
    return config


def cmd_ingest(args, config: Config) -> int:
    from knowledge_base.ingest import NothingToIngest, ingest

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
    from engine.pipeline import Tutor

    answer = Tutor(config).ask(args.question)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
        return EXIT_OK
    print(answer.text)
    if answer.passages:
        print("\nFrom your books:")
        for number, passage in enumerate(answer.passages, start=1):
            print(f"  [{number}] {passage.book} — {passage.section}")
    return EXIT_OK


def cmd_libraries(args, config: Config) -> int:
    from knowledge_base import library as store

    names = store.list_libraries(config.libraries_dir)
    rows = []
    for name in names:
        manifest = store.read_manifest(config.libraries_dir, name)
        rows.append({"library": name, "books": manifest["books"], "chunks": manifest["counts"]["chunks"], "embedder": manifest["embedder"]["name"]})
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print(f"No libraries in {config.libraries_dir} yet. Create one with: studybuddy ingest PATH... --library NAME")
    for row in [] if args.json else rows:
        print(f"{row['library']}: {row['chunks']} passages")
        for book, counts in row["books"].items():
            print(f"  {book}: {counts['documents']} documents, {counts['chunks']} passages")
    return EXIT_OK


def cmd_prepare(args, config: Config) -> int:
    from engine.checkpoints import resolve_generator
    from knowledge_base.ingest import ensure_sample_library

    if not args.skip_generator:
        folder = resolve_generator(config.generator, config.cache_dir)
        print(f"generator checkpoint ready: {folder}")
    ensure_sample_library(config, progress=True)
    print(f"sample library ready in {config.libraries_dir / 'sample'}")
    return EXIT_OK


COMMANDS = {"ingest": cmd_ingest, "ask": cmd_ask, "libraries": cmd_libraries, "prepare": cmd_prepare}


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
    import os
    import warnings

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    warnings.filterwarnings("ignore")
    for name in ("transformers", "sentence_transformers", "httpx", "faiss", "bm25s"):
        logging.getLogger(name).setLevel(logging.ERROR)


if __name__ == "__main__":
    sys.exit(main())
