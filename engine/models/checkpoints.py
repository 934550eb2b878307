"""Generator checkpoints: resolve what the config names to a validated checkpoint folder, with its manifest.

Accepted (`resolve_checkpoint`):

- `packaged:SmolLM2-135M-Instruct`, the default;
- a Hugging Face model folder (config.json, tokenizer, `model.safetensors` or shards with their index);
- a Trainer output folder with `checkpoint-N/` subfolders: `which="latest"` (the default) takes the trainer's
  final save when the folder itself holds a model, else the highest N; `"best"` the `best_model_checkpoint` its
  `trainer_state.json` records; an int N that checkpoint. A checkpoint without tokenizer files borrows the output
  folder's;
- a PEFT/LoRA adapter folder (`adapter_config.json`): its base is the one `adapter_config.json` names or the one
  given (`base_model`, which may be any of these forms but an adapter). The adapter is applied to the base when
  the generator loads; `merge_adapter=True` merges it once into a cached checkpoint that loads like any other;
- a GGUF file, de-quantized once into a safetensors checkpoint cached outside the clone, keyed by the file's
  content (transformers would de-quantize on every load, ~20 s for the packaged model).

Every folder is validated before use (`checkpoint_validation`); pickle-only `.bin` weights are refused unless
`allow_pickle`. Nothing here loads the weights: the returned `LoadedCheckpoint` says what to load, and its
`ModelManifest` what it is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from engine.core.errors import MissingModelError, StudyBuddyError
from engine.core.packaged import PACKAGED_GENERATOR, quiet_loading, smollm2_gguf
from engine.models.checkpoint_validation import (
    check_tokenizer,
    check_weights,
    has_tokenizer,
    validate_gguf,
    validate_model_folder,
)
from engine.models.manifest import ModelManifest

log = logging.getLogger(__name__)

CONVERSION_MARKER = "studybuddy-conversion.json"
MERGE_MARKER = "studybuddy-merge.json"
CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d+)$")
Which = str | int  # "latest" | "best" | N


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A resolved, validated checkpoint: what to load (nothing is loaded yet) and its manifest."""

    folder: Path  # the model folder: for an adapter that is not merged, the base model's
    tokenizer_folder: Path
    manifest: ModelManifest
    adapter: Path | None = None  # a PEFT adapter to apply on top of `folder` when loading
    allow_pickle: bool = False  # the weights are pickle files the user allowed


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def converted_checkpoint_dir(cache_dir: Path, gguf: Path) -> Path:
    return Path(cache_dir) / "checkpoints" / f"{gguf.stem.lower()}-{file_sha256(gguf)[:16]}"


def parse_which(value: Which | None) -> Which:
    """'latest', 'best' or a checkpoint number (an int, or a string of digits)."""
    if value is None or value == "":
        return "latest"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    text = str(value).strip().lower()
    if text in ("latest", "best"):
        return text
    if text.removeprefix("checkpoint-").isdigit():
        return int(text.removeprefix("checkpoint-"))
    raise StudyBuddyError(f"'{value}' is not a checkpoint choice.", "Use latest, best, or a checkpoint number N (checkpoint-N).")


def resolve_generator(spec: str, cache_dir: Path, convert: bool = True) -> Path:
    """The checkpoint folder for a generator spec (kept for callers that want only the folder)."""
    return resolve_checkpoint(spec, cache_dir, convert=convert).folder


def resolve_checkpoint(
    spec: str,
    cache_dir: Path,
    *,
    which: Which = "latest",
    allow_pickle: bool = False,
    merge_adapter: bool = False,
    base_model: str | None = None,
    convert: bool = True,
) -> LoadedCheckpoint:
    """Resolve and validate a generator spec (see the module docstring); raise StudyBuddyError with a fix."""
    which = parse_which(which)
    cache_dir = Path(cache_dir)
    if spec == PACKAGED_GENERATOR:
        gguf = smollm2_gguf()
        folder = _converted(gguf, cache_dir, convert)
        _only_latest(which, spec)
        return _gguf_checkpoint(spec, folder, gguf, "packaged")
    path = Path(spec).expanduser()
    if path.is_file():
        _only_latest(which, spec)
        if path.suffix.lower() == ".gguf":
            return _gguf_checkpoint(spec, _converted(path, cache_dir, convert), path, "gguf")
        raise StudyBuddyError(
            f"{path} is a file, not a model folder or a .gguf file.",
            "Point --model at the folder that holds config.json, the tokenizer and the weights.",
        )
    if path.is_dir():
        return _resolve_dir(spec, path, cache_dir, which, allow_pickle, merge_adapter, base_model, None)
    raise MissingModelError(
        f"The generator '{spec}' is neither a local folder nor a GGUF file, and nothing is downloaded at run time.",
        "Give the path of a checkpoint folder with --model, or leave it out to use the packaged SmolLM2.",
    )


def _only_latest(which: Which, spec: str) -> None:
    if which != "latest":
        raise StudyBuddyError(f"'{spec}' is a single model, so there is no checkpoint '{which}' to choose.", "Leave --checkpoint out.")


# --- folders ------------------------------------------------------------------------------------------------


def _resolve_dir(spec, path: Path, cache_dir, which, allow_pickle, merge_adapter, base_model, tokenizer_fallback) -> LoadedCheckpoint:
    if (path / "adapter_config.json").exists():
        _only_latest(which, spec)
        return _adapter_checkpoint(spec, path, cache_dir, allow_pickle, merge_adapter, base_model, tokenizer_fallback)
    checkpoints = trainer_checkpoints(path)
    if checkpoints and (which != "latest" or not (path / "config.json").exists()):
        chosen, why = choose_checkpoint(path, checkpoints, which)
        log.info("using %s of the Trainer output %s", why, path)
        inner = _resolve_dir(spec, chosen, cache_dir, "latest", allow_pickle, merge_adapter, base_model, path)
        kind = "trainer" if inner.manifest.kind == "folder" else inner.manifest.kind
        return replace(inner, manifest=replace(inner.manifest, kind=kind, checkpoint=why, source=str(path)))
    if which != "latest":
        raise StudyBuddyError(
            f"{path} has no checkpoint-N subfolders, so there is no checkpoint '{which}' to choose.",
            "Point --model at a Trainer's output folder, or leave --checkpoint out.",
        )
    checkpoint, _ = _validated(spec, path, "folder", allow_pickle, tokenizer_fallback)
    return checkpoint


def _validated(spec, folder: Path, kind: str, allow_pickle: bool, tokenizer_fallback: Path | None = None, **extra):
    tokenizer = folder
    if not has_tokenizer(folder) and tokenizer_fallback is not None and has_tokenizer(tokenizer_fallback):
        tokenizer = tokenizer_fallback
    report = validate_model_folder(folder, allow_pickle=allow_pickle, tokenizer_folder=tokenizer)
    manifest = ModelManifest(
        spec=spec,
        kind=kind,
        path=str(folder),
        sha256=report.weights.fingerprint(folder),
        parameters=report.weights.parameters,
        dtype=report.dtype,
        vocab_size=report.vocab_size,
        architecture=report.architecture,
        weight_files=len(report.weights.files),
        **extra,
    )
    return LoadedCheckpoint(folder, tokenizer, manifest, allow_pickle=report.weights.pickle), report


def trainer_checkpoints(folder: Path) -> dict[int, Path]:
    """The `checkpoint-N` subfolders of a Trainer output folder, by N."""
    found = {}
    for child in folder.iterdir():
        match = CHECKPOINT_DIR.match(child.name)
        if match and child.is_dir():
            found[int(match.group(1))] = child
    return found


def choose_checkpoint(folder: Path, checkpoints: dict[int, Path], which: Which) -> tuple[Path, str]:
    """The checkpoint-N folder `which` names, and a few words on why it was chosen."""
    available = ", ".join(f"checkpoint-{n}" for n in sorted(checkpoints))
    if which == "latest":
        n = max(checkpoints)
        return checkpoints[n], f"checkpoint-{n} (latest)"
    if which == "best":
        state_path, state = _trainer_state(folder, checkpoints)
        best = state.get("best_model_checkpoint")
        if not best:
            raise StudyBuddyError(
                f"{state_path} records no best checkpoint (the Trainer keeps one only when it evaluates, with "
                "metric_for_best_model set).",
                f"Choose one with --checkpoint latest or --checkpoint N ({available}).",
            )
        match = CHECKPOINT_DIR.match(Path(str(best)).name)
        if not match or int(match.group(1)) not in checkpoints:
            raise StudyBuddyError(
                f"{state_path} says the best checkpoint is {best}, but {folder} has no {Path(str(best)).name} "
                "(save_total_limit may have deleted it).",
                f"Choose one of {available} with --checkpoint N.",
            )
        n = int(match.group(1))
        return checkpoints[n], f"checkpoint-{n} (best)"
    if which not in checkpoints:
        raise StudyBuddyError(f"{folder} has no checkpoint-{which}.", f"Choose one of {available} (or latest, best).")
    return checkpoints[which], f"checkpoint-{which}"


def _trainer_state(folder: Path, checkpoints: dict[int, Path]) -> tuple[Path, dict]:
    """The output folder's trainer_state.json (written at the end of training), else the latest checkpoint's."""
    candidates = [folder / "trainer_state.json"] + [checkpoints[n] / "trainer_state.json" for n in sorted(checkpoints, reverse=True)]
    for path in candidates:
        if path.exists():
            return path, _read_json(path)
    raise StudyBuddyError(
        f"{folder} has no trainer_state.json, so it does not say which checkpoint was best.",
        "Choose one with --checkpoint latest or --checkpoint N.",
    )


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise StudyBuddyError(f"{path} could not be read as JSON ({err}).", "Copy the checkpoint again from where it was made.") from err
    if not isinstance(data, dict):
        raise StudyBuddyError(f"{path} does not hold a JSON object.", "Copy the checkpoint again from where it was made.")
    return data


# --- adapters -----------------------------------------------------------------------------------------------

LORA_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<side>[AB])(?:\.[^.]+)?\.weight$")


def _adapter_checkpoint(spec, path: Path, cache_dir, allow_pickle, merge_adapter, base_model, tokenizer_fallback) -> LoadedCheckpoint:
    config = _read_json(path / "adapter_config.json")
    base_spec = base_model or config.get("base_model_name_or_path")
    if not base_spec:
        raise StudyBuddyError(
            f"The adapter {path} does not say which model it was trained on (adapter_config.json has no base_model_name_or_path).",
            "Give the base model with --base-model PATH ([generator] base_model).",
        )
    if base_spec != PACKAGED_GENERATOR and not Path(base_spec).expanduser().exists():
        raise MissingModelError(
            f"The adapter {path} was trained on '{base_spec}', which is not on this computer (and nothing is downloaded at run time).",
            "Give its base model with --base-model PATH ([generator] base_model in the config), e.g. "
            f"--base-model {PACKAGED_GENERATOR} when it was trained on the packaged SmolLM2.",
        )
    base_path = Path(base_spec).expanduser()
    if base_spec != PACKAGED_GENERATOR and base_path.is_dir() and (base_path / "adapter_config.json").exists():
        raise StudyBuddyError(f"The base model of the adapter {path} is itself an adapter ({base_spec}).", "Give the full model it was trained on with --base-model.")
    base = resolve_checkpoint(base_spec, cache_dir, allow_pickle=allow_pickle)
    weights = check_weights(path, allow_pickle=allow_pickle, stem="adapter_model")
    _check_adapter_fits(path, weights, base)
    tokenizer = base.tokenizer_folder
    for candidate in (path, tokenizer_fallback):
        if candidate is not None and has_tokenizer(candidate):
            tokenizer = candidate
            check_tokenizer(candidate, base.manifest.vocab_size, model_folder=base.folder)
            break
    sha256 = hashlib.sha256(f"{base.manifest.sha256}\0{weights.fingerprint(path)}".encode()).hexdigest()
    manifest = replace(
        base.manifest,
        spec=spec,
        kind="adapter",
        path=str(path),
        sha256=sha256,
        weight_files=base.manifest.weight_files + len(weights.files),
        base_model=base.manifest.path,
        adapter=str(path),
        source=None,
        source_sha256=None,
    )
    unmerged = LoadedCheckpoint(base.folder, tokenizer, manifest, adapter=path, allow_pickle=base.allow_pickle or weights.pickle)
    if not merge_adapter:
        return unmerged
    target = Path(cache_dir) / "checkpoints" / f"merged-{path.name}-{sha256[:16]}"
    if not (target / MERGE_MARKER).exists():
        merge_adapter_into(unmerged, target)
    merged, _ = _validated(spec, target, "adapter", False)
    return replace(merged, manifest=replace(manifest, path=str(target), merged=True))


def _check_adapter_fits(path: Path, weights, base: LoadedCheckpoint) -> None:
    """Each LoRA matrix against the base weight it changes (shapes from the safetensors headers)."""
    base_headers = _safetensors_headers(base.folder)
    if not weights.headers or not base_headers:
        return
    shapes = {name: t["shape"] for h in base_headers for name, t in h.tensors.items()}
    found = 0
    for header in weights.headers.values():
        for name, t in header.tensors.items():
            match = LORA_KEY.match(name)
            if not match:
                continue
            target = shapes.get(match["module"] + ".weight")
            if target is None or len(target) != 2:
                continue
            found += 1
            got, want = (t["shape"][1], target[1]) if match["side"] == "A" else (t["shape"][0], target[0])
            if got != want:
                raise StudyBuddyError(
                    f"The adapter {path} does not fit the base model {base.folder}: {match['module']} is {target[0]}×{target[1]} "
                    f"there, but the adapter's lora_{match['side']} has {got} where it needs {want}.",
                    "Give the model the adapter was trained on with --base-model PATH.",
                )
    lora = sum(1 for h in weights.headers.values() for n in h.tensors if LORA_KEY.match(n))
    if lora and not found:
        raise StudyBuddyError(
            f"The adapter {path} changes layers the base model {base.folder} does not have.",
            "Give the model the adapter was trained on with --base-model PATH.",
        )


def _safetensors_headers(folder: Path):
    try:
        return list(check_weights(folder).headers.values())
    except StudyBuddyError:  # pickle weights (allowed): no headers to compare
        return []


def merge_adapter_into(checkpoint: LoadedCheckpoint, target: Path) -> Path:
    """Merge an adapter into its base once and save the result as a safetensors checkpoint (atomically)."""
    log.info("merging the adapter %s into %s (one time)", checkpoint.adapter, checkpoint.folder)
    with _written_atomically(target) as work:
        tokenizer, model = load_causal_lm(checkpoint)
        model.save_pretrained(str(work))
        tokenizer.save_pretrained(str(work))
        (work / MERGE_MARKER).write_text(
            json.dumps({"base": str(checkpoint.folder), "adapter": str(checkpoint.adapter), "sha256": checkpoint.manifest.sha256}, indent=2)
        )
    return target


@contextmanager
def _written_atomically(target: Path) -> Iterator[Path]:
    """A scratch folder beside `target` that replaces it in one rename once the block has filled it; on any error
    the scratch folder goes and `target` is left as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield work
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def load_causal_lm(checkpoint: LoadedCheckpoint, dtype: str = "float32"):
    """Load (tokenizer, model) for a resolved checkpoint, applying and merging its adapter in memory if it has one."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer


    quiet_loading()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(checkpoint.tokenizer_folder))
        model = AutoModelForCausalLM.from_pretrained(
            str(checkpoint.folder), dtype=getattr(torch, dtype), use_safetensors=None if checkpoint.allow_pickle else True
        )
    except (OSError, ValueError, RuntimeError) as err:
        raise StudyBuddyError(
            f"Could not load the generator checkpoint at {checkpoint.folder}: {err}",
            "Check that the folder holds config.json, the tokenizer files and *.safetensors weights.",
        ) from err
    if checkpoint.adapter is not None:
        from peft import PeftModel

        try:
            model = PeftModel.from_pretrained(model, str(checkpoint.adapter)).merge_and_unload()
        except (OSError, ValueError, RuntimeError, KeyError) as err:
            raise StudyBuddyError(
                f"The adapter {checkpoint.adapter} could not be applied to {checkpoint.folder}: {err}",
                "Give the model the adapter was trained on with --base-model PATH.",
            ) from err
    return tokenizer, model


def parameter_count(model) -> int:
    return sum(math.prod(p.shape) for p in model.parameters())


# --- GGUF ---------------------------------------------------------------------------------------------------


def _converted(gguf: Path, cache_dir: Path, convert: bool) -> Path:
    target = converted_checkpoint_dir(cache_dir, gguf)
    if not (target / CONVERSION_MARKER).exists():
        if not convert:
            raise MissingModelError(f"The generator {gguf.name} has not been prepared yet ({target} is missing).", "Run `make setup`.")
        validate_gguf(gguf)
        try:
            convert_gguf(gguf, target)
        except StudyBuddyError:
            raise
        except Exception as err:  # an architecture or quantization transformers cannot read, a damaged file
            raise StudyBuddyError(
                f"The GGUF file {gguf} could not be converted into a checkpoint: {err}",
                "Use a GGUF of an architecture transformers supports (e.g. llama, qwen2, mistral), or the model's safetensors folder.",
            ) from err
    return target


def _gguf_checkpoint(spec: str, folder: Path, gguf: Path, kind: str) -> LoadedCheckpoint:
    marker = _read_json(folder / CONVERSION_MARKER)
    checkpoint, _ = _validated(spec, folder, kind, False, source=str(gguf), source_sha256=marker.get("sha256"))
    return checkpoint


def convert_gguf(gguf: Path, target: Path) -> Path:
    """De-quantize a GGUF model once and save it as a float32 safetensors checkpoint folder (atomically)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer


    quiet_loading()
    log.info("converting %s into a safetensors checkpoint at %s (one time, about 30 s)", gguf.name, target)
    with _written_atomically(target) as work:
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
    return target
