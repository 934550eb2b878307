"""A library on disk: passages, their embeddings, a FAISS index and a manifest, swapped in atomically.

Layout: `<libraries>/<name>/CURRENT` names the live version folder `v-<stamp>/`, which holds `manifest.json`,
`chunks.jsonl`, `embeddings.npy` and `index.faiss`. A new version is written completely beside the old one and
then `CURRENT` is replaced with one `os.replace`, so a reader (or a killed ingestion) only ever sees the old
complete library or the new complete one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engine.core.errors import StudyBuddyError
from engine.core.files import fsync_tree, write_text_atomic
from knowledge_base.chunking import Chunk

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name or ""):
        raise StudyBuddyError(
            f"'{name}' is not a usable library name.", "Use letters, digits, '-', '_' or '.', up to 64 characters."
        )
    return name


@dataclass
class LibraryData:
    """One complete, loaded version of a library."""

    name: str
    folder: Path
    manifest: dict
    chunks: list[Chunk]
    embeddings: np.ndarray
    index: object  # a faiss.Index over `embeddings`, row i is chunks[i]

    @property
    def embedder(self) -> str:
        return self.manifest["embedder"]["name"]

    @property
    def dimension(self) -> int:
        return int(self.manifest["embedder"]["dimension"])


def library_dir(libraries: Path, name: str) -> Path:
    return Path(libraries) / check_name(name)


def list_libraries(libraries: Path) -> list[str]:
    if not Path(libraries).is_dir():
        return []
    return sorted(p.name for p in Path(libraries).iterdir() if (p / "CURRENT").is_file() and not p.name.startswith("."))


def current_version(folder: Path) -> Path | None:
    pointer = folder / "CURRENT"
    if not pointer.is_file():
        return None
    version = folder / pointer.read_text().strip()
    return version if (version / "manifest.json").is_file() else None


def read_manifest(libraries: Path, name: str) -> dict | None:
    version = current_version(library_dir(libraries, name))
    return json.loads((version / "manifest.json").read_text()) if version else None


def load(libraries: Path, name: str) -> LibraryData:
    import faiss

    folder = library_dir(libraries, name)
    version = current_version(folder)
    if version is None:
        existing = list_libraries(libraries)
        have = f"Libraries here: {', '.join(existing)}." if existing else "There are no libraries yet."
        raise StudyBuddyError(
            f"There is no library called '{name}'. {have}",
            f"Create it with: studybuddy ingest PATH... --library {name}",
        )
    manifest = json.loads((version / "manifest.json").read_text())
    if manifest.get("format") != FORMAT_VERSION:
        raise StudyBuddyError(
            f"Library '{name}' was written by another version of StudyBuddy (format {manifest.get('format')}).",
            "Ingest its books again into a new library.",
        )
    chunks = [Chunk(**json.loads(line)) for line in (version / "chunks.jsonl").read_text(encoding="utf-8").splitlines() if line]
    embeddings = np.load(version / "embeddings.npy")
    index = faiss.read_index(str(version / "index.faiss"))
    if index.ntotal != len(chunks) or embeddings.shape[0] != len(chunks):
        raise StudyBuddyError(f"Library '{name}' is damaged (index and passages disagree).", "Ingest its books again.")
    return LibraryData(name=name, folder=version, manifest=manifest, chunks=chunks, embeddings=embeddings, index=index)


def build_index(embeddings: np.ndarray, index_type: str):
    """Exact inner-product search by default; HNSW or IVF for large libraries."""
    import faiss

    n, dim = embeddings.shape
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 64
    elif index_type == "ivf" and n >= 256:
        nlist = max(8, int(np.sqrt(n)))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(embeddings)
        index.nprobe = max(4, nlist // 8)
    elif index_type in ("flat", "ivf"):
        index = faiss.IndexFlatIP(dim)
    else:
        raise StudyBuddyError(f"Unknown index type '{index_type}'.", "Use flat, hnsw or ivf.")
    if n:
        index.add(embeddings)
    return index


def write_version(
    libraries: Path, name: str, manifest: dict, chunks: list[Chunk], embeddings: np.ndarray, index_type: str
) -> Path:
    """Write a complete new version and make it current in one atomic step; older versions are then removed."""
    import faiss

    folder = library_dir(libraries, name)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    version = Path(tempfile.mkdtemp(prefix=f"v-{stamp}-", dir=folder))
    try:
        with open(version / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for chunk in chunks:
                fh.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
        np.save(version / "embeddings.npy", embeddings.astype(np.float32, copy=False))
        faiss.write_index(build_index(embeddings, index_type), str(version / "index.faiss"))
        (version / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        fsync_tree(version)
        write_text_atomic(folder / "CURRENT", version.name, durable=True)
    except BaseException:
        shutil.rmtree(version, ignore_errors=True)
        raise
    remove_stale_versions(folder)
    return version


@contextmanager
def writer_lock(libraries: Path, name: str):
    """One ingestion per library at a time. Whoever holds the lock may clear what killed ingestions left behind;
    the kernel releases it when its holder dies, even by SIGKILL."""
    import fcntl

    folder = library_dir(libraries, name)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another ingestion into '%s' is running; waiting for it", name)
            fcntl.flock(handle, fcntl.LOCK_EX)
        remove_stale_versions(folder)
        yield


def remove_stale_versions(folder: Path) -> None:
    """Delete every version folder except the live one (left-overs of replaced or interrupted ingestions)."""
    live = current_version(folder)
    for child in folder.iterdir():
        if child.is_dir() and child.name.startswith("v-") and (live is None or child != live):
            shutil.rmtree(child, ignore_errors=True)
        elif child.name.startswith(".CURRENT."):
            child.unlink(missing_ok=True)


def delete_library(libraries: Path, name: str) -> None:
    folder = library_dir(libraries, name)
    if not folder.exists():
        raise StudyBuddyError(f"There is no library called '{name}'.", "")
    trash = folder.with_name(f".deleted-{name}-{os.getpid()}")
    os.replace(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


