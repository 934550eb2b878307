"""What model said what: a small record of the checkpoint (or endpoint) behind every answer.

The manifest goes into every logged answer and into `ask --json`, so staff can tell which model wrote an answer
long after the configuration changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

# How much tensor data `weights_fingerprint` reads from each weight file: three blocks of this size.
SAMPLE_BYTES = 1 << 16


@dataclass(frozen=True)
class ModelManifest:
    """The model behind an answer. `sha256` is a fingerprint of the weights (see `weights_fingerprint`)."""

    spec: str  # what the configuration named: a path, packaged:NAME, or an endpoint's model name
    kind: str  # packaged | folder | trainer | adapter | gguf | endpoint
    path: str  # the folder loaded (for an endpoint: its base URL)
    sha256: str = ""
    parameters: int | None = None
    dtype: str | None = None
    vocab_size: int | None = None
    architecture: str | None = None
    weight_files: int = 0
    backend: str = "transformers"  # transformers | openai
    checkpoint: str | None = None  # a Trainer output's checkpoint-N (and why it was chosen)
    base_model: str | None = None  # a LoRA adapter's base model folder
    adapter: str | None = None  # a LoRA adapter folder
    merged: bool = False  # the adapter was merged into a cached checkpoint
    source: str | None = None  # what was converted or chosen from: a GGUF file, a Trainer output folder
    source_sha256: str | None = None  # full sha256 of a GGUF source

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelManifest":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def weights_fingerprint(folder: Path, files: list[Path], headers: dict[Path, bytes] | None = None) -> str:
    """A sha256 that tells checkpoints apart without reading gigabytes on every start.

    Hashing a 15 GB checkpoint fully takes most of a minute on a small machine, on every start. Instead this hashes,
    for config.json and each weight file in name order: the file name, its size, its safetensors header (every
    tensor's name, dtype, shape and byte offsets) and three 64 KiB blocks of its data (start, middle, end). Two
    training checkpoints of one architecture have identical headers and sizes, but training changes every weight,
    so the sampled blocks differ; a truncated or swapped file changes the sizes. It is an identity for the log,
    not an integrity check of every byte (`checkpoint_validation` checks that each file is complete). It costs a
    few milliseconds whatever the model's size, and needs no cache.
    """
    digest = hashlib.sha256()
    config = folder / "config.json"
    if config.exists():
        digest.update(b"config.json\0" + config.read_bytes())
    for path in sorted(files, key=lambda p: p.name):
        size = path.stat().st_size
        digest.update(f"{path.name}\0{size}\0".encode())
        header = (headers or {}).get(path, b"")
        digest.update(header)
        with open(path, "rb") as fh:
            start = 8 + len(header) if header else 0
            for offset in sorted({start, max(start, (start + size) // 2), max(start, size - SAMPLE_BYTES)}):
                fh.seek(offset)
                digest.update(fh.read(SAMPLE_BYTES))
    return digest.hexdigest()
