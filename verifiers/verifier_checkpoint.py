"""Where the claim verifier's checkpoint lives and whether it is ready.

The checkpoint's key hashes its training data (shipped in verifiers/data, checked against SHA256SUMS), the training
code's versions and the base model: a change to any of them means a new checkpoint, and an unchanged setup finds the
one it has. Inference (verifiers/claim_verifier.py) reads it; training (verifiers/verifier_training/) writes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from engine.core.config import default_cache
from engine.core.errors import MissingModelError, StudyBuddyError
from engine.core.packaged import PACKAGED_EMBEDDER, embedder_path

log = logging.getLogger(__name__)


# Both are part of the cache key. Bump TRAINING_CODE_VERSION when the features or the combiner change, and
# CROSS_ENCODER_VERSION as well when the training pairs or the fine-tune change: a new checkpoint then reuses the
# cross-encoder of an older one trained on the same data with the same CROSS_ENCODER_VERSION (16 minutes saved).
TRAINING_CODE_VERSION = "cv-2.0"
CROSS_ENCODER_VERSION = "ce-2.0"
# checkpoints written before CROSS_ENCODER_VERSION existed, by their training code version
LEGACY_CROSS_ENCODER_VERSIONS = {"cv-1.1": "ce-1.1"}

BASE_MODEL = PACKAGED_EMBEDDER
EVAL_FILES = ("scitail_dev.jsonl", "qasc_dev_questions.jsonl", "qasc_dev_kb.jsonl")
SHIPPED_DATA = Path(__file__).resolve().parent / "data"
SAMPLE_BOOK_DIR = Path(__file__).resolve().parents[1] / "knowledge_base" / "sample_library"
CHECKSUMS = "SHA256SUMS"


class VerifierNotReady(MissingModelError):
    """No complete claim-verifier checkpoint: the tutor is "getting ready" (`make setup` builds it)."""


# --- locating the data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataPaths:
    eval_dir: Path
    textbooks_dir: Path
    extra_textbooks: tuple[Path, ...] = ()

    def textbook_files(self) -> list[Path]:
        out = sorted(self.textbooks_dir.rglob("*.md"))
        for d in self.extra_textbooks:
            out += sorted(p for p in d.glob("*.md") if p.name.lower() != "readme.md")
        return out

    def files(self) -> list[Path]:
        return [self.eval_dir / f for f in EVAL_FILES] + self.textbook_files()


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def _checksum_lines(root: Path) -> list[str]:
    files = [root / f for f in EVAL_FILES] + sorted((root / "textbooks").rglob("*.md"))
    return [f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.relative_to(root).as_posix()}" for f in files]


def write_checksums(root: Path = SHIPPED_DATA) -> None:
    """Rewrite root/SHA256SUMS after a deliberate change to the shipped data."""
    (root / CHECKSUMS).write_text("\n".join(_checksum_lines(root)) + "\n")


def verify_shipped(root: Path = SHIPPED_DATA) -> None:
    """Every file SHA256SUMS lists is present, whole and unchanged; raises StudyBuddyError naming the first bad one."""
    fix = f"Restore it from the repository (`git checkout -- {root.name if root != SHIPPED_DATA else 'verifiers/data'}`) or re-clone."
    sums = root / CHECKSUMS
    if not sums.exists():
        raise StudyBuddyError(f"The claim verifier's training data in {root} has no {CHECKSUMS} list: it is incomplete.", fix)
    for line in sums.read_text().splitlines():
        if not line.strip():
            continue
        digest, name = line.split(None, 1)
        f = root / name.strip()
        if not f.is_file():
            raise StudyBuddyError(f"The claim verifier's training data is incomplete: {f} is missing.", fix)
        if hashlib.sha256(f.read_bytes()).hexdigest() != digest:
            raise StudyBuddyError(f"The claim verifier's training file {f} is damaged or partial (its checksum does not match).", fix)


def resolve_data(data: str | Path | None = None) -> DataPaths:
    """The training data: --data DIR / $STUDYBUDDY_VERIFIER_DATA (a folder laid out like verifiers/data), else the
    data shipped in verifiers/data (checked against its SHA256SUMS). The sample book is always added."""
    cand = Path(data).expanduser() if data else (Path(os.environ["STUDYBUDDY_VERIFIER_DATA"]).expanduser()
                                                  if os.environ.get("STUDYBUDDY_VERIFIER_DATA") else SHIPPED_DATA)
    if not cand.is_dir():
        raise StudyBuddyError(f"The claim verifier's training data folder {cand} does not exist.",
                              "Point --data / STUDYBUDDY_VERIFIER_DATA at a folder laid out like verifiers/data, or leave it unset.")
    if (cand / CHECKSUMS).exists() or cand == SHIPPED_DATA:
        verify_shipped(cand)
    missing = [f for f in EVAL_FILES if not (cand / f).is_file()]
    if missing:
        raise StudyBuddyError(f"The training data in {cand} is incomplete: {', '.join(missing)} missing.",
                              "Restore verifiers/data (`git checkout -- verifiers/data`), or point --data at a complete copy.")
    tb = cand / "textbooks"
    if not tb.is_dir() or not any(tb.rglob("*.md")):
        raise StudyBuddyError(f"No textbooks found in {tb}: the claim verifier's synthetic pairs are built from them.",
                              "Restore verifiers/data/textbooks (`git checkout -- verifiers/data`).")
    return DataPaths(cand, tb, (SAMPLE_BOOK_DIR,) if SAMPLE_BOOK_DIR.is_dir() else ())


def shared_eval_dir() -> Path | None:
    """../shared/data/eval (or $STUDYBUDDY_SHARED_DATA): evaluation-only material (SciQ), when this machine has it."""
    for c in ([Path(os.environ["STUDYBUDDY_SHARED_DATA"]).expanduser()] if os.environ.get("STUDYBUDDY_SHARED_DATA") else []) + [repo_root().parent / "shared" / "data"]:
        for d in (c, c / "eval"):
            if (d / "sciq_valid_questions.jsonl").exists() and (d / "sciq_valid_kb.jsonl").exists():
                return d
    return None


def data_fingerprint(paths: DataPaths) -> str:
    h = hashlib.sha256()
    for f in paths.files():
        h.update(f.name.encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def checkpoint_complete(folder: Path) -> bool:
    """A finished checkpoint: meta.json parses and every file it lists is there at its recorded size (a copy cut
    short, or a folder a killed process left, is not). Checkpoints written before the list existed need their
    three parts."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    files = meta.get("files")
    if not files:
        return all((folder / f).exists() for f in ("combiner.json", "cross_encoder/config.json"))
    return all((folder / name).is_file() and (folder / name).stat().st_size == size for name, size in files.items())


def checkpoint_key(data_fingerprint: str, base_model: str = BASE_MODEL) -> str:
    h = hashlib.sha256()
    h.update(data_fingerprint.encode())
    h.update(TRAINING_CODE_VERSION.encode())
    h.update(CROSS_ENCODER_VERSION.encode())
    h.update(base_model.encode())
    try:
        cfg = Path(embedder_path(base_model)) / "config.json"
        if cfg.exists():
            h.update(cfg.read_bytes())
    except MissingModelError:
        pass
    return h.hexdigest()[:16]


def checkpoint_root(cache_dir: Path | None) -> Path:
    return Path(cache_dir or default_cache()) / "claim_verifier"


def checkpoint_folder(cache_dir: Path | None = None, data: str | Path | None = None) -> Path:
    """The checkpoint folder the verifier loads (it may not be trained yet): the one keyed by the training data and
    code (the data ships in verifiers/data), else, when that data is damaged, the newest complete checkpoint in the
    cache. Raises StudyBuddyError when there is neither."""
    root = checkpoint_root(cache_dir)
    try:
        return root / checkpoint_key(data_fingerprint(resolve_data(data)))
    except StudyBuddyError as err:
        found = sorted((p for p in root.glob("*") if checkpoint_complete(p)), key=lambda p: p.stat().st_mtime)
        if not found:
            raise
        log.info("training data not found (%s); using cached checkpoint %s", err.problem, found[-1])
        return found[-1]


def not_ready(cache_dir: Path | None = None) -> "VerifierNotReady | None":
    """Why the verifier cannot load yet (no complete checkpoint for the shipped data and code), or None; reads only
    file sizes and checksums, loads and trains nothing (the student page asks this before every question)."""
    try:
        folder = checkpoint_folder(cache_dir)
    except StudyBuddyError as err:
        return VerifierNotReady(f"The claim verifier has not been built yet: {err.problem}", err.fix)
    if checkpoint_complete(folder):
        return None
    what = "is incomplete (an interrupted build)" if folder.exists() else "has not been built yet"
    return VerifierNotReady(f"The claim verifier {what}: no complete checkpoint in {folder}.",
                            "Run `make setup` (or `studybuddy prepare`) once; it builds the verifier in a few minutes.")
