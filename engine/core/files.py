"""Writing a file so that a reader, or a process killed halfway, only ever sees the old content or the new."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: Path, text: str, durable: bool = False) -> None:
    """Write beside ``path`` and swap it in with one os.replace. ``durable``: the new content and the swap are on
    disk (fsync) before this returns, for files whose loss a power cut must not cause (a library's CURRENT)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        if durable:
            fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Every file directly in ``folder``, then the folder itself."""
    for child in Path(folder).iterdir():
        fsync_file(child)
    fsync_dir(folder)
