"""Checks a checkpoint before it is used, so a broken one is refused with a reason instead of answering garbage.

A model folder must have a parseable config.json, weights that are all present and complete, a tokenizer that
loads, a chat template, and no more tokens than the model has embeddings. Every check reads only small things:
config and tokenizer files, and the JSON header at the front of each safetensors file (whose data offsets say
how long the file must be, so a truncated copy is caught without reading the weights).

Pickle weights (`pytorch_model.bin`) can run arbitrary code when loaded: a folder with only those is refused
unless the user opts in (`--allow-pickle`).
"""

from __future__ import annotations

import json
import logging
import math
import struct
from dataclasses import dataclass, field
from pathlib import Path

from engine.core.errors import StudyBuddyError
from engine.core.packaged import quiet_loading
from engine.models.manifest import weights_fingerprint

log = logging.getLogger(__name__)

# bytes per element of each safetensors dtype (the ones a causal LM checkpoint holds)
SAFETENSORS_DTYPES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1,
    "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
}  # fmt: skip
TORCH_NAMES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2"}
CONFIG_DTYPES = {"float64", "float32", "float16", "bfloat16", "float8_e4m3fn", "float8_e5m2", "auto"}
MAX_HEADER_BYTES = 100 * 1024 * 1024  # the safetensors format's own limit
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")
CHAT_TEMPLATE_FIX = "Use an instruct/chat checkpoint (its tokenizer_config.json or chat_template.jinja carries the template)."
PICKLE_FIX = (
    "Convert it to safetensors (load it once and save_pretrained it: transformers writes safetensors), or, only if "
    "you trust where it came from, pass --allow-pickle ([generator] allow_pickle = true)."
)
RECOPY_FIX = "Copy the checkpoint again from where it was made (an interrupted copy or download leaves files short or missing)."


@dataclass(frozen=True)
class SafetensorsHeader:
    path: Path
    raw: bytes  # the JSON header as stored
    tensors: dict[str, dict]  # name -> {"dtype", "shape", "data_offsets"}
    expected_size: int  # bytes the file must have for every tensor's data to be there

    @property
    def parameters(self) -> int:
        return sum(math.prod(t["shape"]) for t in self.tensors.values())


@dataclass(frozen=True)
class Weights:
    files: list[Path]
    headers: dict[Path, SafetensorsHeader] = field(default_factory=dict)
    pickle: bool = False

    @property
    def parameters(self) -> int | None:
        return sum(h.parameters for h in self.headers.values()) if self.headers and not self.pickle else None

    @property
    def dtype(self) -> str | None:
        """The floating dtype holding most of the parameters."""
        counts: dict[str, int] = {}
        for header in self.headers.values():
            for t in header.tensors.values():
                if t["dtype"] in TORCH_NAMES:
                    counts[t["dtype"]] = counts.get(t["dtype"], 0) + math.prod(t["shape"])
        return TORCH_NAMES[max(counts, key=counts.get)] if counts else None

    def fingerprint(self, folder: Path) -> str:
        return weights_fingerprint(folder, self.files, {p: h.raw for p, h in self.headers.items()})


@dataclass(frozen=True)
class FolderReport:
    """What validation found in a model folder: enough to write the manifest without loading the weights."""

    folder: Path
    tokenizer_folder: Path
    config: dict
    weights: Weights
    tokenizer_size: int

    @property
    def vocab_size(self) -> int | None:
        return config_vocab_size(self.config)

    @property
    def architecture(self) -> str | None:
        names = self.config.get("architectures") or []
        return names[0] if names else self.config.get("model_type")

    @property
    def dtype(self) -> str | None:
        return self.weights.dtype or config_dtype(self.config)


def validate_model_folder(folder: Path, *, allow_pickle: bool = False, tokenizer_folder: Path | None = None) -> FolderReport:
    """Check a Hugging Face model folder (config, weights, tokenizer, chat template, vocabulary); raise
    StudyBuddyError naming the first problem and what to do about it."""
    folder = Path(folder)
    config = read_config(folder)
    weights = check_weights(folder, allow_pickle=allow_pickle)
    tokenizer_size = check_tokenizer(tokenizer_folder or folder, config_vocab_size(config), model_folder=folder)
    return FolderReport(folder, Path(tokenizer_folder or folder), config, weights, tokenizer_size)


def read_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.exists():
        raise StudyBuddyError(
            f"The model folder {folder} has no config.json, so it is not a checkpoint.",
            "Point --model at a Hugging Face model folder (config.json, tokenizer and *.safetensors).",
        )
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise StudyBuddyError(f"{path} is not valid JSON ({err}).", RECOPY_FIX) from err
    if not isinstance(config, dict) or not config.get("model_type"):
        raise StudyBuddyError(f"{path} names no model_type, so transformers cannot tell what model it is.", RECOPY_FIX)
    dtype = config_dtype(config)
    if dtype is not None and dtype not in CONFIG_DTYPES:
        raise StudyBuddyError(
            f"{path} gives the dtype '{dtype}', which is not a dtype torch knows.",
            f"Set \"dtype\" to one of {', '.join(sorted(CONFIG_DTYPES))} (or remove it).",
        )
    return config


def config_vocab_size(config: dict) -> int | None:
    size = config.get("vocab_size") or (config.get("text_config") or {}).get("vocab_size")
    return int(size) if size else None


def config_dtype(config: dict) -> str | None:
    value = config.get("dtype") or config.get("torch_dtype")
    return str(value).removeprefix("torch.") if value else None


def check_weights(folder: Path, *, allow_pickle: bool = False, stem: str = "model") -> Weights:
    """Find the weight files (sharded or not) and check each is present and complete."""
    index = folder / f"{stem}.safetensors.index.json"
    single = folder / f"{stem}.safetensors"
    if index.exists():
        files = _index_files(index)
        missing = [name for name in files if not (folder / name).exists()]
        if missing:
            raise StudyBuddyError(
                f"The checkpoint at {folder} is missing {len(missing)} of its {len(files)} weight files: {', '.join(missing)}.",
                RECOPY_FIX,
            )
        headers = {folder / name: read_safetensors_header(folder / name) for name in files}
        _check_index_matches(index, headers)
        return Weights(list(headers), headers)
    if single.exists():
        return Weights([single], {single: read_safetensors_header(single)})
    pickles = _pickle_files(folder, stem)
    if pickles:
        if not allow_pickle:
            raise StudyBuddyError(
                f"The checkpoint at {folder} stores its weights only as pickle files ({', '.join(p.name for p in pickles)}), "
                "which can run any code on this computer when they are loaded.",
                PICKLE_FIX,
            )
        log.warning("loading pickle weights from %s because pickle was explicitly allowed", folder)
        for path in pickles:
            if path.stat().st_size == 0:
                raise StudyBuddyError(f"{path} is empty.", RECOPY_FIX)
        return Weights(pickles, pickle=True)
    raise StudyBuddyError(
        f"The model folder {folder} holds no weights ({stem}.safetensors or {stem}.safetensors.index.json with its shards).",
        "Point --model at the folder save_pretrained wrote (or a Trainer's output folder).",
    )


def _index_files(index: Path) -> list[str]:
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        return sorted(set(weight_map.values()))
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as err:
        raise StudyBuddyError(f"{index} is not a readable shard index ({err}).", RECOPY_FIX) from err


def _check_index_matches(index: Path, headers: dict[Path, SafetensorsHeader]) -> None:
    weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
    by_name = {p.name: h for p, h in headers.items()}
    for tensor, name in weight_map.items():
        if tensor not in by_name[name].tensors:
            raise StudyBuddyError(
                f"{index.name} says the tensor {tensor} is in {name}, but {index.parent / name} does not hold it: "
                "the shards come from different saves.",
                RECOPY_FIX,
            )


def _pickle_files(folder: Path, stem: str) -> list[Path]:
    name = "pytorch_model" if stem == "model" else stem
    index = folder / f"{name}.bin.index.json"
    if index.exists():
        files = _index_files(index)
        missing = [f for f in files if not (folder / f).exists()]
        if missing:
            raise StudyBuddyError(f"The checkpoint at {folder} is missing weight files: {', '.join(missing)}.", RECOPY_FIX)
        return [folder / f for f in files]
    single = folder / f"{name}.bin"
    return [single] if single.exists() else []


def read_safetensors_header(path: Path) -> SafetensorsHeader:
    """Parse a safetensors file's header and check the file is as long as its tensors' data offsets need."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as fh:
            prefix = fh.read(8)
            if len(prefix) < 8:
                raise ValueError("shorter than a safetensors header")
            (length,) = struct.unpack("<Q", prefix)
            if length > min(MAX_HEADER_BYTES, size - 8):
                raise ValueError(f"its header claims {length} bytes but the file has {size}")
            raw = fh.read(length)
        header = json.loads(raw)
        tensors = {k: v for k, v in header.items() if k != "__metadata__"}
        end = 0
        for name, t in tensors.items():
            begin, stop = t["data_offsets"]
            width = SAFETENSORS_DTYPES.get(t["dtype"])
            if width is not None and stop - begin != math.prod(t["shape"]) * width:
                raise ValueError(f"the tensor {name} has {stop - begin} bytes for shape {t['shape']} of {t['dtype']}")
            end = max(end, stop)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise StudyBuddyError(f"{path} is not a readable safetensors file ({err}).", RECOPY_FIX) from err
    expected = 8 + length + end
    if size < expected:
        raise StudyBuddyError(
            f"{path} is truncated: it has {size:,} bytes, but its tensors need {expected:,}.", RECOPY_FIX
        )
    return SafetensorsHeader(path, raw, tensors, expected)


def has_tokenizer(folder: Path) -> bool:
    return any((folder / name).exists() for name in TOKENIZER_FILES)


def check_tokenizer(folder: Path, vocab_size: int | None, model_folder: Path | None = None) -> int:
    """Load the tokenizer (small files, well under a second) and check its chat template and size; returns its
    number of tokens."""
    from transformers import AutoTokenizer


    if not has_tokenizer(folder):
        raise StudyBuddyError(
            f"The checkpoint at {folder} has no tokenizer files ({', '.join(TOKENIZER_FILES)}).",
            "Save the tokenizer into the checkpoint too (tokenizer.save_pretrained(folder), or pass processing_class= "
            "to the Trainer so every checkpoint-N gets it).",
        )
    quiet_loading()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except Exception as err:  # tokenizers raises its own Exception types for a damaged tokenizer.json
        raise StudyBuddyError(f"The tokenizer in {folder} could not be loaded: {err}", RECOPY_FIX) from err
    if tokenizer.chat_template is None:
        raise StudyBuddyError(
            f"The checkpoint at {folder} has no chat template, so it cannot hold a tutoring conversation.", CHAT_TEMPLATE_FIX
        )
    size = len(tokenizer)
    if vocab_size is not None and size > vocab_size:
        where = model_folder or folder
        raise StudyBuddyError(
            f"The tokenizer in {folder} has {size} tokens but the model in {where} has only {vocab_size} embeddings: "
            "they do not belong together, and the model would read the wrong words.",
            "Use the tokenizer saved with this model (or resize the model's embeddings when adding tokens, and save both).",
        )
    return size


def validate_gguf(path: Path) -> None:
    """A GGUF file: the magic number, every tensor's data within the file, a chat template in its metadata."""
    import gguf

    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"GGUF":
        raise StudyBuddyError(f"{path} is not a GGUF file (it does not start with 'GGUF').", "Give a .gguf model file or a model folder.")
    try:
        reader = gguf.GGUFReader(str(path))
    except Exception as err:  # the reader raises ValueError/IndexError/struct.error on a short or damaged file
        raise StudyBuddyError(f"The GGUF file {path} is damaged or truncated ({err}).", RECOPY_FIX) from err
    size = path.stat().st_size
    end = max((int(t.data_offset) + int(t.n_bytes) for t in reader.tensors), default=0)
    if size < end:
        raise StudyBuddyError(f"The GGUF file {path} is truncated: it has {size:,} bytes, its tensors need {end:,}.", RECOPY_FIX)
    if "tokenizer.chat_template" not in reader.fields:
        raise StudyBuddyError(f"The GGUF file {path} has no chat template, so it cannot hold a tutoring conversation.", CHAT_TEMPLATE_FIX)
