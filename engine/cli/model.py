"""The command-line side of choosing a generator: the flags `ask`/`check` share, and `studybuddy model-info`."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from engine.core.config import Config
from engine.models.checkpoints import parse_which
from engine.models.generator import describe_generator


def add_model_options(p: argparse.ArgumentParser) -> None:
    """Flags that refine --model (which the caller adds)."""
    p.add_argument("--checkpoint", metavar="WHICH", help="a Trainer output folder's checkpoint: latest (default), best, or N")
    p.add_argument("--base-model", metavar="PATH", help="a LoRA adapter's base model, when the one its adapter_config.json names is not here")
    p.add_argument("--merge-adapter", action="store_true", default=None, help="merge a LoRA adapter into a cached checkpoint once (faster starts)")
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        default=None,
        help="load pickle-only .bin weights (they can run code: only for a checkpoint from a source you trust)",
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="an OpenAI-compatible server (vLLM, llama.cpp) to generate with, e.g. http://gpu-box:8000/v1; --model then names its model",
    )


def apply_model_options(config: Config, args: argparse.Namespace) -> Config:
    """Fold the flags into the [generator] settings; flags left out keep what the config says."""
    changes: dict = {}
    if getattr(args, "checkpoint", None) is not None:
        changes["checkpoint"] = str(parse_which(args.checkpoint))
    if getattr(args, "base_model", None):
        changes["base_model"] = args.base_model
    if getattr(args, "merge_adapter", None):
        changes["merge_adapter"] = True
    if getattr(args, "allow_pickle", None):
        changes["allow_pickle"] = True
    if getattr(args, "endpoint", None):
        changes.update(backend="openai", base_url=args.endpoint)
    return replace(config, generator_options=replace(config.generator_options, **changes)) if changes else config


def add_model_info_parser(sub) -> None:
    info = sub.add_parser("model-info", help="check a generator checkpoint (or endpoint) and print its manifest, without loading it")
    info.add_argument("--model", help="checkpoint folder, Trainer output, LoRA adapter or GGUF file (default: the configured one)")
    add_model_options(info)
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")


def cmd_model_info(args, config: Config) -> int:
    manifest = describe_generator(config)
    if args.json:
        print(json.dumps(manifest.to_dict(), indent=2))
        return 0
    labels = {"sha256": "fingerprint (sha256)", "weight_files": "weight files"}
    for key, value in manifest.to_dict().items():
        if value in (None, "", False) and key not in ("parameters",):
            continue
        if key == "parameters":
            value = f"{value:,}" if value is not None else "unknown"
        print(f"{labels.get(key, key.replace('_', ' '))}: {value}")
    print("valid: config, weights, tokenizer and chat template checked" if manifest.backend == "transformers" else "reachable: yes")
    return 0
