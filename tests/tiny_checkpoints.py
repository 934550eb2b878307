"""Tiny checkpoints the tests build themselves, in every format the loader accepts (no downloads, a second each).

A byte-level BPE tokenizer (263 tokens, a chat template) and a 2-layer Llama of hidden size 16, saved with
save_pretrained (one file or sharded), arranged as a Trainer output folder, as a LoRA adapter made with peft,
as a GGUF file written with the gguf package, and broken in the ways a real copy breaks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

SPECIAL = ["<pad>", "<s>", "</s>", "<unk>", "<|im_start|>", "<|im_end|>", "<|endoftext|>"]  # the last: a GGUF gpt2 tokenizer adds it when missing
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
MESSAGES = [{"role": "user", "content": "What causes rain?"}]


def tiny_tokenizer(chat_template: str | None = CHAT_TEMPLATE):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {t: i for i, t in enumerate(SPECIAL + alphabet)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIAL)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>")
    if chat_template:
        fast.chat_template = chat_template
    return fast


def tiny_model(seed: int = 0, vocab_size: int | None = None, hidden_size: int = 16):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab_size or len(SPECIAL) + 256,
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=256,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config).eval()


def save_model(folder: Path, seed: int = 0, *, shard: str | None = None, tokenizer: bool = True, chat_template: str | None = CHAT_TEMPLATE, **model_kwargs) -> Path:
    model = tiny_model(seed, **model_kwargs)
    if shard:
        model.save_pretrained(folder, max_shard_size=shard)
    else:
        model.save_pretrained(folder)
    if tokenizer:
        tiny_tokenizer(chat_template).save_pretrained(folder)
    return folder


def save_trainer_output(folder: Path, steps=(10, 20, 30), best: int | None = 20, final_model: bool = False) -> Path:
    """What transformers.Trainer leaves: checkpoint-N/ folders (weights, trainer_state.json, optimizer state, no
    tokenizer) and, at the top, the tokenizer and the final trainer_state.json (and the final model, if saved)."""
    folder.mkdir(parents=True)
    for i, step in enumerate(steps):
        ckpt = save_model(folder / f"checkpoint-{step}", seed=100 + i, tokenizer=False)
        (ckpt / "optimizer.pt").write_bytes(b"not loaded")
        state = {"global_step": step, "best_model_checkpoint": f"/elsewhere/run/checkpoint-{best}" if best else None}
        (ckpt / "trainer_state.json").write_text(json.dumps(state))
    tiny_tokenizer().save_pretrained(folder)
    (folder / "trainer_state.json").write_text(
        json.dumps({"global_step": steps[-1], "best_model_checkpoint": f"/elsewhere/run/checkpoint-{best}" if best else None})
    )
    if final_model:
        tiny_model(seed=999).save_pretrained(folder)
    return folder


def save_adapter(folder: Path, base: Path, base_name: str | None = None, seed: int = 1, hidden_size: int = 16) -> Path:
    """A LoRA adapter made with peft on the tiny model; B is not zero, so it changes what the model says."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    model = get_peft_model(tiny_model(0, hidden_size=hidden_size), LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.save_pretrained(folder)
    config_path = folder / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config["base_model_name_or_path"] = base_name if base_name is not None else str(base)
    config_path.write_text(json.dumps(config))
    return folder


def save_gguf(path: Path, seed: int = 0) -> Path:
    """The tiny model as a llama GGUF file (float32 tensors, a byte-level tokenizer and a chat template), laid out
    as llama.cpp's converter writes it (q/k rows permuted for its rotary embedding)."""
    import gguf
    import numpy as np

    model, tok = tiny_model(seed), tiny_tokenizer()
    c = model.config
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny")
    writer.add_block_count(c.num_hidden_layers)
    writer.add_context_length(c.max_position_embeddings)
    writer.add_embedding_length(c.hidden_size)
    writer.add_feed_forward_length(c.intermediate_size)
    writer.add_head_count(c.num_attention_heads)
    writer.add_head_count_kv(c.num_key_value_heads)
    writer.add_rope_freq_base(float(c.rope_parameters.get("rope_theta", 10000.0)) if getattr(c, "rope_parameters", None) else 10000.0)
    writer.add_layer_norm_rms_eps(c.rms_norm_eps)
    writer.add_vocab_size(c.vocab_size)
    writer.add_rope_dimension_count(c.hidden_size // c.num_attention_heads)
    writer.add_file_type(0)
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list([t for t, _ in vocab])
    writer.add_token_types([3 if t in SPECIAL else 1 for t, _ in vocab])
    writer.add_token_scores([0.0] * len(vocab))
    writer.add_token_merges([])
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_pad_token_id(0)
    writer.add_unk_token_id(3)
    writer.add_chat_template(tok.chat_template)
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight", "lm_head.weight": "output.weight"}
    per_layer = {
        "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
        "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
        "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
    }  # fmt: skip

    def permute(w, heads):
        return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

    for key, tensor in model.state_dict().items():
        if key in names:
            name = names[key]
        else:
            parts = key.split(".")
            name = f"blk.{parts[2]}.{per_layer['.'.join(parts[3:-1])]}.weight"
        array = tensor.numpy().astype(np.float32)
        if name.endswith("attn_q.weight"):
            array = permute(array, c.num_attention_heads)
        elif name.endswith("attn_k.weight"):
            array = permute(array, c.num_key_value_heads)
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def copy_model(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def truncate(path: Path, drop: int = 100) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - drop])
