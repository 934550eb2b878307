"""Finding and reading textbook files: folders and files in, text documents (or a clear reason) out.

Scanning only hashes bytes, so an unchanged file is recognised without parsing it. Reading turns a file into
`SourceDoc`s through llama-index's readers (PDF, Word, HTML) or a strict UTF-8 decode (Markdown, text), and
a `.jsonl` knowledge base into one document per line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
READER_SUFFIXES = {".pdf", ".docx", ".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | READER_SUFFIXES | {".jsonl"}
# Files that sit beside a book's chapters but are not part of it.
SKIPPED_IN_FOLDERS = re.compile(r"^(readme|license|licence|copying|notice)(\..*)?$", re.IGNORECASE)
OPENSTAX_HEADER = re.compile(r"<!--\s*book:\s*(?P<book>[^|]+?)\s*\|\s*(?P<chapter>chapter[^|]*?)\s*\|.*?-->", re.IGNORECASE | re.S)


@dataclass(frozen=True)
class SourceFile:
    path: Path
    book: str
    key: str  # stable identity inside the library: "<book>/<path relative to the ingested folder>"
    checksum: str


@dataclass(frozen=True)
class SourceDoc:
    key: str
    doc_id: str
    book: str
    file: str
    text: str
    checksum: str
    title: str = ""
    chapter: str = ""
    markdown: bool = False


@dataclass
class Problem:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class Scan:
    files: list[SourceFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    folders: dict[str, list[str]] = field(default_factory=dict)  # book -> folder keys synced in full


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def scan(paths: list[Path], book: str | None = None) -> Scan:
    """List the supported files under the given paths, each with its content checksum."""
    result = Scan()
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            result.problems.append(Problem(str(raw), "does not exist"))
            continue
        if path.is_dir():
            book_name = book or path.resolve().name
            found = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
            wanted = [p for p in found if p.suffix.lower() in SUPPORTED_SUFFIXES and not SKIPPED_IN_FOLDERS.match(p.name)]
            for p in found:
                if p not in wanted:
                    log.info("skipping %s (not a textbook file)", p)
            if not wanted:
                result.problems.append(
                    Problem(str(raw), f"folder has no textbook files ({', '.join(sorted(SUPPORTED_SUFFIXES))})")
                )
                continue
            result.folders.setdefault(book_name, []).append(book_name + "/")
            for p in wanted:
                _add(result, p, book_name, f"{book_name}/{p.relative_to(path).as_posix()}")
        else:
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                result.problems.append(
                    Problem(str(raw), f"unsupported file type '{path.suffix or '(none)'}'; use one of {', '.join(sorted(SUPPORTED_SUFFIXES))}")
                )
                continue
            book_name = book or (path.stem if path.suffix.lower() == ".jsonl" else path.resolve().parent.name)
            _add(result, path, book_name, f"{book_name}/{path.name}")
    return result


def _hidden(p: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in p.relative_to(root).parts)


def _add(result: Scan, path: Path, book: str, key: str) -> None:
    try:
        data = path.read_bytes()
    except OSError as err:
        result.problems.append(Problem(str(path), f"cannot be read ({err.strerror or err})"))
        return
    if not data.strip():
        result.problems.append(Problem(str(path), "is empty (0 bytes of text)"))
        return
    result.files.append(SourceFile(path=path, book=book, key=key, checksum=sha256_bytes(data)))


class BadFile(Exception):
    """A file that cannot become text; the message says why, in words a staff member can act on."""


def read(source: SourceFile) -> list[SourceDoc]:
    suffix = source.path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(source)
    if suffix in TEXT_SUFFIXES:
        text = _decode_text(source.path.read_bytes())
    else:
        text = _read_with_llama_index(source.path, suffix)
    if not text.strip():
        raise BadFile("contains no readable text")
    title, chapter, book = _describe(text, source)
    return [
        SourceDoc(
            key=source.key,
            doc_id=source.key,
            book=book,
            file=str(source.path),
            text=text,
            checksum=source.checksum,
            title=title,
            chapter=chapter,
            markdown=suffix in {".md", ".markdown"},
        )
    ]


def _decode_text(data: bytes) -> str:
    if b"\x00" in data[:8192] or _control_ratio(data[:8192]) > 0.1:
        raise BadFile("looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BadFile(f"is not UTF-8 text (bad byte at position {err.start}); save it as UTF-8 and ingest it again")


def _control_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    control = sum(1 for b in data if b < 32 and b not in (9, 10, 12, 13))
    return control / len(data)


def _read_with_llama_index(path: Path, suffix: str) -> str:
    try:
        if suffix == ".pdf":
            from llama_index.readers.file import PDFReader

            docs = PDFReader(return_full_document=True).load_data(path)
        elif suffix == ".docx":
            from llama_index.readers.file import DocxReader

            docs = DocxReader().load_data(path)
        else:
            from llama_index.readers.file import HTMLTagReader

            docs = HTMLTagReader(tag="body", ignore_no_id=False).load_data(path)
    except Exception as err:  # the readers raise whatever their parser raises on a corrupt file
        kind = {".pdf": "PDF", ".docx": "Word document"}.get(suffix, "HTML page")
        raise BadFile(f"is not a readable {kind} ({type(err).__name__}: {str(err)[:120]})") from err
    return "\n\n".join(d.text for d in docs)


def _describe(text: str, source: SourceFile) -> tuple[str, str, str]:
    """Title (first heading or file stem), chapter and book title (from an OpenStax-style header comment)."""
    heading = re.search(r"^#\s+(.+)$", text, re.M)
    title = heading.group(1).strip() if heading else source.path.stem.replace("_", " ").replace("-", " ")
    header = OPENSTAX_HEADER.search(text[:2000])
    if header:
        return title, header.group("chapter").strip(), source.book
    return title, "", source.book


def _read_jsonl(source: SourceFile) -> list[SourceDoc]:
    data = source.path.read_bytes()
    text = _decode_text(data)
    docs: list[SourceDoc] = []
    bad: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            bad.append(f"line {number}: not valid JSON ({err.msg})")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("doc_id"), str) or not isinstance(row.get("text"), str):
            bad.append(f"line {number}: needs string fields 'doc_id' and 'text'")
            continue
        if not row["text"].strip():
            bad.append(f"line {number}: 'text' is empty")
            continue
        if row["doc_id"] in seen:
            bad.append(f"line {number}: doc_id '{row['doc_id']}' appears twice")
            continue
        seen.add(row["doc_id"])
        docs.append(
            SourceDoc(
                key=f"{source.book}/{row['doc_id']}",
                doc_id=row["doc_id"],
                book=source.book,
                file=str(source.path),
                text=row["text"],
                checksum=sha256_bytes(line.encode("utf-8")),
                title=str(row.get("title") or ""),
                chapter=str(row.get("source") or ""),
            )
        )
    if bad and not docs:
        raise BadFile("no usable lines: " + "; ".join(bad[:3]) + (f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""))
    if bad:
        raise PartialFile(docs, bad)
    return docs


class PartialFile(Exception):
    """A knowledge-base file with some bad lines: the good documents are carried along with the reasons."""

    def __init__(self, docs: list[SourceDoc], bad_lines: list[str]):
        super().__init__(f"{len(bad_lines)} bad line(s)")
        self.docs = docs
        self.bad_lines = bad_lines
