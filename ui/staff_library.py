"""Staff: the libraries, their books and passage counts; add files or a folder; remove a book; pick the
library the student page answers from."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from knowledge_base import library as store
from knowledge_base.ingest import IngestReport, NothingToIngest, ingest
from knowledge_base.sources import SUPPORTED_SUFFIXES
from ui.settings_store import save_engine_settings

UPLOAD_TYPES = sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES)


def render(config: Config) -> None:
    st.header("📚 Library")
    names = store.list_libraries(config.libraries_dir)
    _overview(config, names)
    _flagged(config, names)
    _student_library(config, names)
    _add_books(config, names)
    _remove_book(config, names)


def _overview(config: Config, names: list[str]) -> None:
    rows = []
    for name in names:
        manifest = _manifest(config, name)
        for book, counts in (manifest or {}).get("books", {}).items():
            rows.append({"library": name, "book": book, "documents": counts["documents"], "passages": counts["chunks"]})
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
    else:
        st.info("There are no libraries yet. Add some books below.")


def _flagged(config: Config, names: list[str]) -> None:
    """Passages that carry instructions addressed to an AI (planted prompt injection), found at ingestion."""
    rows = []
    for name in names:
        for row in ((_manifest(config, name) or {}).get("safety") or {}).get("flagged_passages", []):
            rows.append({"library": name, "book": row["book"], "section": row["section"], "kind": row["kind"],
                         "instruction": row["instruction"]})
    if rows:
        st.subheader("⚠️ Passages flagged for review")
        st.caption("These passages give instructions to an AI. They are neutralised whenever retrieved; "
                   "fix or remove the file and ingest it again.")
        st.dataframe(rows, hide_index=True, width="stretch")


def _manifest(config: Config, name: str) -> dict | None:
    try:
        return store.read_manifest(config.libraries_dir, name)
    except (OSError, ValueError, StudyBuddyError):
        return None  # deleted or half-replaced while we looked: shown as empty, never a traceback


def _student_library(config: Config, names: list[str]) -> None:
    st.subheader("Library the student page uses")
    if config.library not in names and config.library != "sample":
        st.warning(f"The student page is set to library '{config.library}', which does not exist any more.")
    options = sorted(set(names) | {"sample"})
    index = options.index(config.library) if config.library in options else 0
    choice = st.selectbox("Students ask questions about", options, index=index, key="student_library")
    if st.button("Use this library for students", key="use_library") and choice != config.library:
        path = save_engine_settings(config, {"library": choice}, {})
        st.success(f"The student page now uses '{choice}' (saved in {path}).")


def _add_books(config: Config, names: list[str]) -> None:
    st.subheader("Add books")
    library = st.text_input("Library name", value=names[0] if names else "", key="ingest_library",
                            help="An existing library, or a new name (letters, digits, - _ .)")
    book = st.text_input("Book name", key="ingest_book", help="The uploaded files become this book.")
    files = st.file_uploader("Upload files", type=UPLOAD_TYPES, accept_multiple_files=True, key="ingest_files")
    folder = st.text_input("…or a folder on this computer", key="ingest_folder")
    if not st.button("Add to library", key="ingest_go", type="primary"):
        return
    try:
        paths = _saved_uploads(config, library, book, files) + _folder(folder)
        if not paths:
            st.warning("Choose files to upload or type a folder first.")
            return
        _run_ingest(config, paths, library, book.strip() or None)
    except StudyBuddyError as err:
        st.error(f"{err.problem} {err.fix}".strip())


def _saved_uploads(config: Config, library: str, book: str, files) -> list[Path]:
    """Uploaded files are kept under <home>/uploads/<library>/<book>/, so re-uploading a file is incremental."""
    if not files:
        return []
    store.check_name(library)
    if not book.strip():
        raise StudyBuddyError("Uploaded files need a book name.", "Type the book's name above, e.g. 'science-grade-3'.")
    target = config.home / "uploads" / library / _safe(book)
    target.mkdir(parents=True, exist_ok=True)
    saved = []
    for upload in files:
        path = target / _safe(Path(upload.name).name)
        path.write_bytes(upload.getvalue())
        saved.append(path)
    return saved


def _folder(folder: str) -> list[Path]:
    if not folder.strip():
        return []
    path = Path(folder.strip()).expanduser()
    if not path.is_dir():
        raise StudyBuddyError(f"There is no folder {path} on this computer.", "Check the path and try again.")
    return [path]


def _run_ingest(config: Config, paths: list[Path], library: str, book: str | None) -> None:
    bar = st.progress(0.1, text="Saving the files…")
    bar.progress(0.3, text="Reading, cutting into passages and indexing (this can take a minute)…")
    try:
        report = ingest(config, paths, library, book=book)
    except NothingToIngest as nothing:
        bar.empty()
        st.error("Nothing could be added: none of the files could be read.")
        _problems(nothing.report)
        return
    bar.progress(1.0, text="Done!")
    st.success(report.summary())
    _problems(report)


def _problems(report: IngestReport) -> None:
    for problem in report.problems:
        st.warning(f"Skipped {Path(problem.path).name}: {problem.reason}")


def _remove_book(config: Config, names: list[str]) -> None:
    st.subheader("Remove a book")
    if not names:
        st.caption("No libraries yet.")
        return
    library = st.selectbox("Library", names, key="remove_library")
    books = sorted((_manifest(config, library) or {}).get("books", {}))
    book = st.selectbox("Book", books, key="remove_book")
    confirm = st.checkbox("Yes, remove this book from the library", key="remove_confirm")
    if st.button("Remove book", key="remove_go", disabled=not (book and confirm)):
        try:
            report = ingest(config, [], library, remove_books=[book])
        except StudyBuddyError as err:
            st.error(f"{err.problem} {err.fix}".strip())
            return
        st.success(f"Removed '{book}'. {report.summary()}")


def _safe(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_. " else "_" for ch in name).strip(" .")
    return cleaned or "upload"
