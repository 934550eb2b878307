"""One way to keep the libraries quiet: our own logs and progress bars say what is happening."""

from __future__ import annotations

import logging
import os
import sys
import warnings

from engine.core.packaged import quiet_loading

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
    quiet_loading()
    if "datasets" in sys.modules:  # only when training has loaded it: importing it costs seconds
        sys.modules["datasets"].disable_progress_bars()

