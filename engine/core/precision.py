"""Which float precision the models run in on this CPU."""

from __future__ import annotations

import contextlib
from functools import lru_cache


@lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 / AMX); elsewhere bf16 would be slower."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def bf16_autocast(precision: str):
    """bfloat16 autocast for precision "bf16", or "auto" on a CPU with native bf16; otherwise a no-op context."""
    import torch

    if precision == "bf16" or (precision == "auto" and native_bf16()):
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()
