"""Generator checkpoints: resolve what the config names to a plain checkpoint folder on disk.

The packaged SmolLM2 ships as a GGUF file, which transformers de-quantizes on every load (~20 s). We convert it
once into an ordinary safetensors checkpoint folder, cached outside the clone and keyed by the GGUF's content,
so that the engine loads it exactly like a fine-tuned checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from engine.errors import MissingModelError, StudyBuddyError
from engine.models import PACKAGED_GENERATOR, smollm2_gguf

log = logging.getLogger(__name__)

CONVERSION_MARKER = "studybuddy-conversion.json"


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def converted_checkpoint_dir(cache_dir: Path, gguf: Path) -> Path:
    return Path(cache_dir) / "checkpoints" / f"{gguf.stem.lower()}-{file_sha256(gguf)[:16]}"


def resolve_generator(spec: str, cache_dir: Path, convert: bool = True) -> Path:
    """Return the checkpoint folder for a generator spec: the packaged model, a local folder, or a GGUF file."""
    if spec == PACKAGED_GENERATOR:
        gguf = smollm2_gguf()
        target = converted_checkpoint_dir(cache_dir, gguf)
        if not (target / CONVERSION_MARKER).exists():
            if not convert:
                raise MissingModelError(
                    f"The default generator has not been prepared yet ({target} is missing).", "Run `make setup`."
                )
            convert_gguf(gguf, target)
        return target
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        target = converted_checkpoint_dir(cache_dir, path)
        if not (target / CONVERSION_MARKER).exists():
            convert_gguf(path, target)
        return target
    if path.is_dir():
        if not (path / "config.json").exists():
            raise StudyBuddyError(
                f"The model folder {path} has no config.json, so it is not a checkpoint.",
                "Point --model at a Hugging Face model folder (config.json, tokenizer and *.safetensors).",
            )
        return path
    raise MissingModelError(
        f"The generator '{spec}' is neither a local folder nor a GGUF file, and nothing is downloaded at run time.",
        "Give the path of a checkpoint folder with --model, or leave it out to use the packaged SmolLM2.",
    )


def convert_gguf(gguf: Path, target: Path) -> Path:
    """De-quantize a GGUF model once and save it as a float32 safetensors checkpoint folder (atomically)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s into a safetensors checkpoint at %s (one time, about 30 s)", gguf.name, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        quantized = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        plain = {k: v for k, v in quantized.config.to_dict().items() if k != "quantization_config"}
        config = AutoConfig.for_model(**plain)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(quantized.state_dict(), strict=True)
        model.generation_config = quantized.generation_config
        model.save_pretrained(str(work), safe_serialization=True)
        tokenizer.save_pretrained(str(work))
        (work / CONVERSION_MARKER).write_text(
            json.dumps({"source": str(gguf), "sha256": file_sha256(gguf), "dtype": "float32"}, indent=2)
        )
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target
