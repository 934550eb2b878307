"""One logging silencer for the CLI, the scripts and training."""

from __future__ import annotations

import logging

from engine.core.quiet import NOISY_LOGGERS, quiet_libraries


def test_quiet_libraries_leaves_errors_only_and_no_weight_loading_bars():
    from transformers.utils import logging as hf_logging

    hf_logging.enable_progress_bar()
    logging.getLogger("sentence_transformers").setLevel(logging.INFO)
    quiet_libraries()
    assert all(logging.getLogger(name).level == logging.ERROR for name in NOISY_LOGGERS)
    assert {"transformers", "sentence_transformers", "bm25s", "faiss", "httpx", "datasets", "peft"} <= set(NOISY_LOGGERS)
    assert not hf_logging.is_progress_bar_enabled()
    assert logging.getLogger("engine").level == logging.NOTSET  # our own loggers are left to the command's setting
