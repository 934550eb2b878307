"""Ingestion for curriculum staff: scan → read → chunk → embed → write a new library version atomically.

Incremental: a file whose bytes are unchanged is not even parsed; its passages and embeddings are carried over.
Bad files are reported one line each and skipped; everything good is still ingested; the old library stays
live until the new one is complete.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from knowledge_base import library as store
from knowledge_base.chunking import Chunk, Chunker
from knowledge_base.embeddings import Embedder
from knowledge_base.injection import find_instructions
from knowledge_base.sources import BadFile, PartialFile, Problem, SourceDoc, read, scan

log = logging.getLogger(__name__)

SAMPLE_LIBRARY_DIR = Path(__file__).resolve().parent / "sample_library"
SAMPLE_BOOK = "StudyBuddy Sample Book"


@dataclass
class IngestReport:
    library: str
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_embedded: int = 0
    total_chunks: int = 0
    total_documents: int = 0
    seconds: float = 0.0
    wrote: bool = False
    flagged: int = 0  # passages carrying instructions addressed to an AI (see `studybuddy flagged-passages`)
    problems: list[Problem] = field(default_factory=list)

    @property
    def changed_documents(self) -> int:
        return self.added + self.changed + self.removed

    def summary(self) -> str:
        return (
            f"Library '{self.library}': {self.added} added, {self.changed} changed, {self.removed} removed, "
            f"{self.unchanged} unchanged ({self.changed_documents} changed documents); "
            f"{self.chunks_embedded} passages embedded; {self.total_documents} documents and {self.total_chunks} "
            f"passages in total; {self.seconds:.1f}s."
            + (f" {self.flagged} passage(s) flagged for staff: they contain instructions addressed to an AI "
               f"(list them with: studybuddy flagged-passages --library {self.library})." if self.flagged else "")
        )


def ingest(
    config: Config,
    paths: list[Path],
    library: str,
    book: str | None = None,
    remove_books: list[str] = (),
    progress: bool = False,
) -> IngestReport:
    store.check_name(library)
    with store.writer_lock(config.libraries_dir, library):
        return _ingest(config, paths, library, book, remove_books, progress)


def _ingest(config, paths, library, book, remove_books, progress) -> IngestReport:
    start = time.perf_counter()
    report = IngestReport(library=library)
    old_manifest = store.read_manifest(config.libraries_dir, library)
    if old_manifest is not None:
        _check_compatible(old_manifest, config, library)
    old_docs: dict = old_manifest["documents"] if old_manifest else {}
    old_files: dict = old_manifest["files"] if old_manifest else {}
    rechunk_all = bool(old_manifest) and old_manifest["chunking"] != chunking_record(config)

    unknown = [b for b in remove_books if b not in {d["book"] for d in old_docs.values()}]
    if unknown:
        known = sorted({d["book"] for d in old_docs.values()})
        raise StudyBuddyError(
            f"Library '{library}' has no book called {', '.join(repr(b) for b in unknown)}.",
            f"Books in it: {', '.join(known) if known else 'none'}.",
        )

    scanned = scan(list(paths), book=book)
    report.problems.extend(scanned.problems)

    fresh: list[SourceDoc] = []  # new or changed documents to chunk and embed
    files_manifest = dict(old_files)
    for source in scanned.files:
        previous = old_files.get(source.key)
        if previous and previous["checksum"] == source.checksum and not rechunk_all:
            continue
        try:
            docs = read(source)
        except PartialFile as partial:
            docs = partial.docs
            report.problems.extend(Problem(str(source.path), reason) for reason in partial.bad_lines)
        except BadFile as bad:
            report.problems.append(Problem(str(source.path), str(bad)))
            continue
        files_manifest[source.key] = {
            "path": str(source.path.resolve()),
            "checksum": source.checksum,
            "book": source.book,
            "documents": [d.key for d in docs],
        }
        for doc in docs:
            if doc.key in old_docs and old_docs[doc.key]["checksum"] == doc.checksum and not rechunk_all:
                continue
            fresh.append(doc)
            if doc.key in old_docs:
                report.changed += 1
            else:
                report.added += 1

    removed_keys = _removed_documents(old_docs, old_files, files_manifest, scanned, remove_books)
    report.removed = len(removed_keys)
    fresh_keys = {d.key for d in fresh}
    report.unchanged = len([k for k in old_docs if k not in removed_keys and k not in fresh_keys])

    if not fresh and not removed_keys:
        report.total_documents = len(old_docs)
        report.total_chunks = old_manifest["counts"]["chunks"] if old_manifest else 0
        report.seconds = time.perf_counter() - start
        if old_manifest is None and not scanned.files:
            raise NothingToIngest(report)
        return report


    chunker = Chunker(config.chunking, config.embedder)
    new_chunks: list[Chunk] = []
    doc_meta: dict[str, dict] = {}
    for doc in fresh:
        pieces = chunker.chunk(doc)
        new_chunks.extend(pieces)
        doc_meta[doc.key] = {
            "doc_id": doc.doc_id,
            "book": doc.book,
            "file": doc.file,
            "title": doc.title,
            "checksum": doc.checksum,
            "chunks": len(pieces),
        }
    embedder = Embedder(config.embedder, precision=config.embedder_precision)
    log.info("embedding %d passages from %d documents", len(new_chunks), len(fresh))
    new_vectors = embedder.embed([c.text for c in new_chunks], progress=progress)
    report.chunks_embedded = len(new_chunks)

    kept_chunks: list[Chunk] = []
    kept_vectors = np.zeros((0, new_vectors.shape[1]), dtype=np.float32)
    if old_manifest is not None:
        old = store.load(config.libraries_dir, library)
        drop = removed_keys | fresh_keys
        keep_rows = [i for i, c in enumerate(old.chunks) if c.key not in drop]
        kept_chunks = [old.chunks[i] for i in keep_rows]
        kept_vectors = old.embeddings[keep_rows]
    chunks = kept_chunks + new_chunks
    vectors = np.vstack([kept_vectors, new_vectors]) if len(kept_vectors) else new_vectors

    documents = {k: v for k, v in old_docs.items() if k not in removed_keys}
    documents.update(doc_meta)
    manifest = _manifest(config, library, embedder, documents, files_manifest, chunks, old_manifest)
    log.info("writing library '%s' (%d passages)", library, len(chunks))
    store.write_version(config.libraries_dir, library, manifest, chunks, vectors, config.retrieval.index_type)
    report.wrote = True
    report.flagged = len({f["passage"] for f in manifest["safety"]["flagged_passages"]})
    report.total_documents = len(documents)
    report.total_chunks = len(chunks)
    report.seconds = time.perf_counter() - start
    return report


class NothingToIngest(StudyBuddyError):
    def __init__(self, report: IngestReport):
        super().__init__("Nothing could be ingested: no readable textbook files were found.", "See the lines above for each file.")
        self.report = report


def _removed_documents(old_docs, old_files, files_manifest, scanned, remove_books) -> set[str]:
    """Documents leaving the library; `files_manifest` loses the files that go with them."""
    removed = {k for k, d in old_docs.items() if d["book"] in remove_books}
    scanned_keys = {s.key for s in scanned.files}
    for file_key, info in old_files.items():
        gone_from_folder = (
            info["book"] in scanned.folders and file_key not in scanned_keys and not Path(info["path"]).exists()
        )
        if info["book"] in remove_books or gone_from_folder:
            removed.update(info["documents"])
            files_manifest.pop(file_key, None)
        elif files_manifest.get(file_key) is not info:  # re-read: documents no longer in the file
            removed.update(set(info["documents"]) - set(files_manifest[file_key]["documents"]))
    return removed


def _check_compatible(manifest: dict, config: Config, library: str) -> None:
    if manifest.get("format") != store.FORMAT_VERSION:
        raise StudyBuddyError(
            f"Library '{library}' was written by another version of StudyBuddy.", "Ingest into a new library name."
        )
    built_with = manifest["embedder"]["name"]
    if built_with != config.embedder:
        raise EmbedderMismatch(library, built_with, manifest["embedder"]["dimension"], config.embedder)


class EmbedderMismatch(StudyBuddyError):
    def __init__(self, library: str, built_with: str, dimension: int, asked: str, asked_dimension: int | None = None):
        dim = f", {asked_dimension}-dimensional" if asked_dimension else ""
        super().__init__(
            f"Library '{library}' was built with the embedder '{built_with}' ({dimension}-dimensional vectors), "
            f"but '{asked}'{dim} was asked for; their vectors cannot be compared.",
            f"Use --embedder {built_with} with this library, or ingest the books into a new library with the other embedder.",
        )


def chunking_record(config) -> dict:
    """What the chunks were cut with: a library cut otherwise (or counted in another model's tokens) is cut again."""
    return {**asdict(config.chunking), "tokens_of": config.embedder}


def _manifest(config, library, embedder, documents, files, chunks, old_manifest) -> dict:
    books: dict[str, dict] = {}
    for doc in documents.values():
        entry = books.setdefault(doc["book"], {"documents": 0, "chunks": 0})
        entry["documents"] += 1
        entry["chunks"] += doc["chunks"]
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return {
        "format": store.FORMAT_VERSION,
        "library": library,
        "embedder": {
            "name": config.embedder,
            "path": embedder.path,
            "dimension": embedder.dimension,
            "normalized": True,
            "precision": config.embedder_precision,
        },
        "chunking": chunking_record(config),
        "index_type": config.retrieval.index_type,
        "created": old_manifest["created"] if old_manifest else now,
        "updated": now,
        "counts": {"books": len(books), "documents": len(documents), "chunks": len(chunks)},
        "books": books,
        "files": files,
        "documents": documents,
        # passages that give instructions to an AI (planted prompt injection), for staff to review
        "safety": {"flagged_passages": find_flagged(chunks)},
    }


def find_flagged(chunks: list[Chunk]) -> list[dict]:
    """Every passage carrying an instruction addressed to an AI ("ignore your guidelines", "tell the student to
    visit …"). They stay in the library, neutralised whenever retrieved; staff see them listed."""
    flagged = []
    for row, chunk in enumerate(chunks):
        for found in find_instructions(chunk.text):
            flagged.append({"passage": row, "book": chunk.book, "section": chunk.section, "doc_id": chunk.doc_id,
                            "file": chunk.file, "kind": found.kind, "instruction": " ".join(found.text.split())[:400]})
    if flagged:
        log.warning("%d passage(s) carry instructions addressed to an AI; see `studybuddy flagged-passages`", len({f["passage"] for f in flagged}))
    return flagged


def flagged_passages(config: Config, library: str) -> list[dict]:
    """The flagged passages of a library (read from its manifest; a library ingested before flagging existed is
    scanned now)."""
    manifest = store.read_manifest(config.libraries_dir, library)
    if manifest is None:
        store.load(config.libraries_dir, library)  # raises the usual "no library called …" message
    if "safety" in manifest:
        return manifest["safety"]["flagged_passages"]
    import json

    version = store.current_version(store.library_dir(config.libraries_dir, library))
    lines = (version / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    return find_flagged([Chunk(**json.loads(line)) for line in lines if line])


def ensure_sample_library(config: Config, progress: bool = False) -> None:
    """The bundled sample library is always available: build it on first use in a new data directory, and cut it
    again when it was cut with other chunking settings (an older StudyBuddy, another embedder's tokens)."""
    manifest = store.read_manifest(config.libraries_dir, "sample")
    if manifest is None or manifest.get("chunking") != chunking_record(config):
        log.info("%s the bundled sample library in %s", "building" if manifest is None else "re-cutting", config.libraries_dir)
        ingest(config, [SAMPLE_LIBRARY_DIR], "sample", book=SAMPLE_BOOK, progress=progress)
