"""One way to keep the libraries quiet: our own logs and progress bars say what is happening."""

from __future__ import annotations

import logging
import os
import sys
import warnings

NOISY_LOGGERS = ("transformers", "sentence_transformers", "httpx", "faiss", "bm25s", "datasets", "trl", "accelerate", "peft", "torch")


def quiet_libraries(all_warnings: bool = False) -> None:
    """Libraries log errors only, and draw no per-weight or per-dataset progress bars; `all_warnings` also hides
    every Python warning (the student-facing commands, where a warning is noise to a child or a teacher)."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r".*`gradient_checkpointing` is deprecated.*", category=FutureWarning)
    if all_warnings:
        warnings.filterwarnings("ignore")
    if "transformers" in sys.modules or _importable("transformers"):
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    if "datasets" in sys.modules:  # only when training has loaded it: importing it costs seconds
        sys.modules["datasets"].disable_progress_bars()


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
