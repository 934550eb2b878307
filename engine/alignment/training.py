"""What scripts/train_sft and scripts/train_dpo share: the command-line options, loading the starting checkpoint
through the engine's own loader, TRL's training arguments, LoRA, and making every saved folder one the loader
accepts (weights, config, the tokenizer with its chat template; an adapter naming a base that exists here)."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from engine.core.packaged import PACKAGED_GENERATOR
from engine.core.quiet import quiet_libraries as quiet_core
from engine.models.checkpoints import load_causal_lm, resolve_checkpoint

log = logging.getLogger(__name__)

RUNS_DIR = Path(__file__).resolve().parents[2] / "runs"


def add_common_arguments(parser: argparse.ArgumentParser, *, default_lr: float, default_out: str) -> None:
    parser.add_argument("--base", default=PACKAGED_GENERATOR,
                        help="starting checkpoint: anything --model accepts (a folder, a Trainer output, a LoRA adapter, a GGUF file); "
                             f"default {PACKAGED_GENERATOR}")
    parser.add_argument("--checkpoint", default="latest", help="with a Trainer output as --base: latest | best | N")
    parser.add_argument("--base-model", default=None, help="with an adapter as --base whose own base is elsewhere")
    parser.add_argument("--output-dir", type=Path, default=RUNS_DIR / default_out, help=f"where checkpoint-N/ folders go (default runs/{default_out})")
    parser.add_argument("--data", type=Path, default=None, help="the training JSONL (default: the bundled engine/alignment/data file)")
    parser.add_argument("--max-steps", type=int, default=200, help="optimizer steps (20 is a CPU smoke run)")
    parser.add_argument("--batch-size", type=int, default=2, help="examples per device per step")
    parser.add_argument("--grad-accum", type=int, default=1, help="gradient accumulation steps")
    parser.add_argument("--learning-rate", type=float, default=default_lr)
    parser.add_argument("--lr-scheduler", default="constant", help="transformers scheduler name (constant, linear, cosine, ...)")
    parser.add_argument("--warmup-steps", type=int, default=0)
    parser.add_argument("--max-length", type=int, default=1024, help="tokens per example (prompt + reply); the bundled prompts are under 900")
    parser.add_argument("--save-steps", type=int, default=100, help="save a checkpoint-N/ every N steps (the last step is always saved)")
    parser.add_argument("--save-total-limit", type=int, default=3)
    parser.add_argument("--full-checkpoints", action="store_true", help="also save optimizer/scheduler state so a run can resume (large)")
    parser.add_argument("--resume", action="store_true", help="resume from the latest checkpoint in --output-dir (needs --full-checkpoints)")
    parser.add_argument("--lora", action="store_true", help="train a LoRA adapter instead of all weights")
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument("--lora-alpha", type=int, default=32)
    parser.add_argument("--lora-dropout", type=float, default=0.05)
    parser.add_argument("--bf16", choices=["auto", "on", "off"], default="auto", help="bfloat16 mixed precision (auto: on a GPU that has it)")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="trade compute for memory (big models on a GPU)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N records (0: all)")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch decides)")
    parser.add_argument("-v", "--verbose", action="store_true")


def load_start(args):
    """(tokenizer, model, LoadedCheckpoint) for --base, via the engine's checkpoint loader (validated; an adapter
    is merged once into a cached checkpoint so the trained model's base is a real folder)."""
    import torch


    if args.threads:
        torch.set_num_threads(args.threads)
    start = resolve_checkpoint(args.base, Config.load().cache_dir, which=args.checkpoint, merge_adapter=True, base_model=args.base_model)
    tokenizer, model = load_causal_lm(start)
    if tokenizer.chat_template is None:
        raise StudyBuddyError(f"{start.tokenizer_folder} has no chat template.", "Start from an instruct/chat checkpoint.")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    log.info("starting from %s (%s, %s parameters)", start.manifest.path, start.manifest.kind, f"{start.manifest.parameters:,}" if start.manifest.parameters else "?")
    return tokenizer, model, start


def use_bf16(choice: str) -> bool:
    import torch

    if choice == "on":
        return True
    if choice == "off":
        return False
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def trainer_arguments(args) -> dict:
    """TrainingArguments shared by SFTConfig and DPOConfig."""
    import torch

    return dict(
        output_dir=str(args.output_dir),
        max_steps=args.max_steps,
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum,
        learning_rate=args.learning_rate,
        lr_scheduler_type=args.lr_scheduler,
        warmup_steps=args.warmup_steps,
        max_length=args.max_length,
        logging_steps=1,
        save_strategy="steps",
        save_steps=args.save_steps,
        save_total_limit=args.save_total_limit,
        save_only_model=not args.full_checkpoints,
        bf16=use_bf16(args.bf16),
        fp16=False,
        gradient_checkpointing=args.gradient_checkpointing,
        use_cpu=not torch.cuda.is_available(),
        report_to="none",
        seed=args.seed,
        dataloader_num_workers=0,
        dataset_num_proc=None,
        disable_tqdm=False,
    )


def lora_config(args):
    if not args.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )


def base_name(start) -> str:
    """How an adapter should name its base: the packaged spec when it is the packaged model, else the folder."""
    return PACKAGED_GENERATOR if start.manifest.kind == "packaged" else str(start.folder)


def finish_folder(folder: Path, tokenizer, start) -> None:
    """Make one saved folder loadable by the engine: the tokenizer (with its chat template) beside the weights, and
    an adapter's base named so the loader finds it."""
    folder = Path(folder)
    if not (folder / "tokenizer_config.json").exists():
        tokenizer.save_pretrained(str(folder))
    adapter_config = folder / "adapter_config.json"
    if adapter_config.exists():
        config = json.loads(adapter_config.read_text())
        config["base_model_name_or_path"] = base_name(start)
        adapter_config.write_text(json.dumps(config, indent=2))


def loader_callback(tokenizer, start):
    """A TrainerCallback that finishes every checkpoint-N/ as it is saved."""
    from transformers import TrainerCallback

    class FinishCheckpoints(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                finish_folder(folder, tokenizer, start)

    return FinishCheckpoints()


def save_final(trainer, tokenizer, start, args, extra: dict) -> None:
    """The final model in the output folder itself (what `--model OUTPUT_DIR` loads), plus a record of the run."""
    trainer.save_model(str(args.output_dir))
    finish_folder(args.output_dir, tokenizer, start)
    record = {
        "base": args.base,
        "base_resolved": start.manifest.path,
        "base_sha256": start.manifest.sha256,
        "lora": bool(args.lora),
        "max_steps": args.max_steps,
        "batch_size": args.batch_size,
        "grad_accum": args.grad_accum,
        "learning_rate": args.learning_rate,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        **extra,
    }
    (Path(args.output_dir) / "studybuddy-training.json").write_text(json.dumps(record, indent=2))


def check_loadable(folder: Path) -> str:
    """Resolve the folder the way `studybuddy ask --model` does; return its manifest kind and path."""
    checkpoint = resolve_checkpoint(str(folder), Config.load().cache_dir)
    return f"{checkpoint.manifest.kind} {checkpoint.manifest.path}"


def quiet_libraries() -> None:
    import datasets  # noqa: F401  (training reads through it; loaded first, so its progress bars go off too)

    quiet_core()
