"""The checkpoint loader: every accepted format loads (tiny checkpoints made here, plus the real converted
default), every broken variant is refused with a message saying what is wrong and what to do, and the manifest of
what was loaded reaches `ask --json` and the conversation log."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import replace

import pytest

from engine.core.config import Config
from engine.core.errors import MissingModelError, StudyBuddyError
from engine.core.packaged import PACKAGED_GENERATOR
from engine.models.checkpoints import LoadedCheckpoint, file_sha256, parse_which, resolve_checkpoint, resolve_generator
from engine.models.generator import TransformersGenerator, build_generator, describe_generator
from engine.models.requests import GenerationRequest
from tests import tiny_checkpoints as tiny

REQUEST = GenerationRequest(tiny.MESSAGES, n=1, temperature=0.0, max_new_tokens=6)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """One of each format, built once for the module (a few seconds in all)."""
    root = tmp_path_factory.mktemp("checkpoints")
    single = tiny.save_model(root / "single")
    return {
        "root": root,
        "single": single,
        "sharded": tiny.save_model(root / "sharded", shard="20KB"),
        "trainer": tiny.save_trainer_output(root / "trainer"),
        "adapter": tiny.save_adapter(root / "adapter", base=single),
        "gguf": tiny.save_gguf(root / "tiny.gguf"),
    }


def greedy(checkpoint) -> str:
    return TransformersGenerator(checkpoint, precision="fp32").generate([REQUEST])[0][0]


def refused(match: str, *args, error=StudyBuddyError, **kwargs) -> StudyBuddyError:
    """resolve_checkpoint(*args) must raise `error` matching `match`, with a fix for the user."""
    with pytest.raises(error, match=match) as caught:
        resolve_checkpoint(*args, **kwargs)
    assert caught.value.fix, "every refusal says what to do"
    return caught.value


# --- each format loads -------------------------------------------------------------------------------------


def test_plain_folder_resolves_with_manifest_and_generates(models, tmp_path):
    checkpoint = resolve_checkpoint(str(models["single"]), tmp_path)
    assert isinstance(checkpoint, LoadedCheckpoint) and checkpoint.folder == models["single"]
    m = checkpoint.manifest
    expected_params = sum(p.numel() for p in tiny.tiny_model().parameters())
    assert (m.kind, m.path, m.parameters, m.dtype, m.vocab_size, m.weight_files) == (
        "folder", str(models["single"]), expected_params, "float32", 263, 1)  # fmt: skip
    assert m.architecture == "LlamaForCausalLM" and len(m.sha256) == 64
    generator = TransformersGenerator(checkpoint, precision="fp32")
    samples = generator.generate([GenerationRequest(tiny.MESSAGES, n=3, temperature=0.8, max_new_tokens=4), REQUEST])
    assert [len(s) for s in samples] == [3, 1] and generator.manifest == m


def test_sharded_folder_loads_every_shard_and_says_what_the_single_file_says(models, tmp_path):
    shards = sorted(models["sharded"].glob("model-*.safetensors"))
    assert len(shards) >= 2 and (models["sharded"] / "model.safetensors.index.json").exists()
    sharded = resolve_checkpoint(str(models["sharded"]), tmp_path)
    single = resolve_checkpoint(str(models["single"]), tmp_path)
    assert sharded.manifest.weight_files == len(shards)
    assert sharded.manifest.parameters == single.manifest.parameters
    assert greedy(sharded) == greedy(single)  # same seed, same weights


def test_fingerprint_is_stable_path_independent_and_tells_trained_weights_apart(models, tmp_path):
    first = resolve_checkpoint(str(models["single"]), tmp_path).manifest.sha256
    assert resolve_checkpoint(str(models["single"]), tmp_path).manifest.sha256 == first
    copy = tiny.copy_model(models["single"], tmp_path / "copy")
    assert resolve_checkpoint(str(copy), tmp_path).manifest.sha256 == first
    retrained = tiny.save_model(tmp_path / "retrained", seed=5)  # same architecture, headers and sizes
    assert resolve_checkpoint(str(retrained), tmp_path).manifest.sha256 != first


def test_trainer_output_latest_best_and_a_chosen_checkpoint(models, tmp_path):
    trainer = models["trainer"]
    latest = resolve_checkpoint(str(trainer), tmp_path)
    assert latest.folder == trainer / "checkpoint-30" and latest.manifest.checkpoint == "checkpoint-30 (latest)"
    assert latest.manifest.kind == "trainer" and latest.manifest.source == str(trainer)
    assert latest.tokenizer_folder == trainer  # checkpoints hold no tokenizer: the output folder's is used
    best = resolve_checkpoint(str(trainer), tmp_path, which="best")
    assert best.folder == trainer / "checkpoint-20" and best.manifest.checkpoint == "checkpoint-20 (best)"
    assert resolve_checkpoint(str(trainer), tmp_path, which=10).folder == trainer / "checkpoint-10"
    assert resolve_checkpoint(str(trainer), tmp_path, which="checkpoint-10").folder == trainer / "checkpoint-10"
    assert len({latest.manifest.sha256, best.manifest.sha256}) == 2
    assert greedy(best)
    error = refused("no checkpoint-40", str(trainer), tmp_path, which=40)
    assert "checkpoint-10, checkpoint-20, checkpoint-30" in error.fix


def test_trainer_output_with_a_final_model_uses_it_as_latest(tmp_path):
    trainer = tiny.save_trainer_output(tmp_path / "run", final_model=True)
    assert resolve_checkpoint(str(trainer), tmp_path).folder == trainer
    assert resolve_checkpoint(str(trainer), tmp_path, which="latest").manifest.kind == "folder"
    assert resolve_checkpoint(str(trainer), tmp_path, which=30).folder == trainer / "checkpoint-30"


def test_trainer_output_without_a_best_checkpoint_says_how_to_choose(tmp_path):
    trainer = tiny.save_trainer_output(tmp_path / "run", best=None)
    error = refused("records no best checkpoint", str(trainer), tmp_path, which="best")
    assert "--checkpoint latest" in error.fix
    gone = tiny.save_trainer_output(tmp_path / "pruned", best=5)
    refused("no checkpoint-5", str(gone), tmp_path, which="best")
    refused("no checkpoint-N subfolders", str(tiny.save_model(tmp_path / "plain")), tmp_path, which="best")


def test_lora_adapter_applied_at_load_and_merged_once_say_the_same(models, tmp_path):
    adapter = resolve_checkpoint(str(models["adapter"]), tmp_path)
    m = adapter.manifest
    assert (m.kind, m.adapter, m.base_model, m.merged) == ("adapter", str(models["adapter"]), str(models["single"]), False)
    assert adapter.folder == models["single"] and adapter.adapter == models["adapter"]
    assert m.sha256 != resolve_checkpoint(str(models["single"]), tmp_path).manifest.sha256
    applied = greedy(adapter)
    assert applied != greedy(models["single"])  # the adapter changes what the model says
    merged = resolve_checkpoint(str(models["adapter"]), tmp_path, merge_adapter=True)
    assert merged.manifest.merged and merged.adapter is None and merged.folder.parent == tmp_path / "checkpoints"
    assert merged.manifest.sha256 == m.sha256  # the same model, however it is loaded
    assert greedy(merged) == applied
    stamp = (merged.folder / "model.safetensors").stat().st_mtime_ns
    assert resolve_checkpoint(str(models["adapter"]), tmp_path, merge_adapter=True).folder == merged.folder
    assert (merged.folder / "model.safetensors").stat().st_mtime_ns == stamp  # merged once


def test_lora_adapter_base_given_when_adapter_config_names_a_hub_model(models, tmp_path):
    adapter = tiny.save_adapter(tmp_path / "adapter", base=models["single"], base_name="HuggingFaceTB/SmolLM2-135M-Instruct")
    error = refused("not on this computer", str(adapter), tmp_path, error=MissingModelError)
    assert "--base-model" in error.fix
    given = resolve_checkpoint(str(adapter), tmp_path, base_model=str(models["single"]))
    assert given.folder == models["single"] and greedy(given)


def test_tiny_gguf_is_converted_once_and_says_what_the_original_says(models, tmp_path):
    import torch

    checkpoint = resolve_checkpoint(str(models["gguf"]), tmp_path)
    m = checkpoint.manifest
    assert m.kind == "gguf" and m.source == str(models["gguf"]) and m.source_sha256 == file_sha256(models["gguf"])
    assert checkpoint.folder.parent == tmp_path / "checkpoints" and m.vocab_size == 263
    generator = TransformersGenerator(checkpoint, precision="fp32")
    ids = torch.tensor([[5, 40, 41, 42, 60]])
    with torch.inference_mode():
        assert torch.allclose(generator.model(ids).logits, tiny.tiny_model()(ids).logits, atol=1e-5)
    stamp = (checkpoint.folder / "model.safetensors").stat().st_mtime_ns
    assert resolve_checkpoint(str(models["gguf"]), tmp_path).folder == checkpoint.folder
    assert (checkpoint.folder / "model.safetensors").stat().st_mtime_ns == stamp


def test_which_choices_parse():
    assert [parse_which(v) for v in (None, "", "latest", "BEST", "7", 7, "checkpoint-7")] == ["latest", "latest", "latest", "best", 7, 7, 7]
    with pytest.raises(StudyBuddyError, match="not a checkpoint choice"):
        parse_which("newest")


# --- each broken variant is refused with its reason ----------------------------------------------------------


def test_missing_shard_is_named(models, tmp_path):
    broken = tiny.copy_model(models["sharded"], tmp_path / "broken")
    gone = sorted(broken.glob("model-*.safetensors"))[1]
    gone.unlink()
    error = refused("is missing 1 of its", str(broken), tmp_path)
    assert gone.name in error.problem and "Copy the checkpoint again" in error.fix


def test_truncated_safetensors_is_caught_from_its_header(models, tmp_path):
    broken = tiny.copy_model(models["sharded"], tmp_path / "broken")
    shard = sorted(broken.glob("model-*.safetensors"))[0]
    tiny.truncate(shard, 100)
    error = refused("is truncated", str(broken), tmp_path)
    assert shard.name in error.problem
    single = tiny.copy_model(models["single"], tmp_path / "single")
    tiny.truncate(single / "model.safetensors", 4)
    refused("is truncated", str(single), tmp_path)


def test_garbage_safetensors_and_mixed_up_shards(models, tmp_path):
    broken = tiny.copy_model(models["single"], tmp_path / "garbage")
    (broken / "model.safetensors").write_bytes(b"\x00" * 4 + b"this is not a safetensors file")
    refused("not a readable safetensors file", str(broken), tmp_path)
    mixed = tiny.copy_model(models["sharded"], tmp_path / "mixed")
    index = json.loads((mixed / "model.safetensors.index.json").read_text())
    tensor, shard = next(iter(index["weight_map"].items()))
    other = next(f for f in sorted(set(index["weight_map"].values())) if f != shard)
    index["weight_map"][tensor] = other
    (mixed / "model.safetensors.index.json").write_text(json.dumps(index))
    refused("different saves", str(mixed), tmp_path)


def test_tokenizer_larger_than_the_model_vocabulary_is_refused(tmp_path):
    folder = tiny.save_model(tmp_path / "mismatch", vocab_size=200)  # the tokenizer has 263 tokens
    error = refused("has 263 tokens but the model", str(folder), tmp_path)
    assert "200" in error.problem


def test_missing_tokenizer_chat_template_or_config_are_refused(models, tmp_path):
    refused("no tokenizer files", str(tiny.save_model(tmp_path / "no-tokenizer", tokenizer=False)), tmp_path)
    refused("no chat template", str(tiny.save_model(tmp_path / "no-template", chat_template=None)), tmp_path)
    bad = tiny.copy_model(models["single"], tmp_path / "bad-config")
    (bad / "config.json").write_text('{"model_type": "llama", ')
    refused("not valid JSON", str(bad), tmp_path)
    dtype = tiny.copy_model(models["single"], tmp_path / "bad-dtype")
    config = json.loads((dtype / "config.json").read_text())
    (dtype / "config.json").write_text(json.dumps({**config, "dtype": "float33"}))
    refused("not a dtype torch knows", str(dtype), tmp_path)
    (tmp_path / "empty").mkdir()
    refused("no config.json", str(tmp_path / "empty"), tmp_path)


def test_pickle_only_weights_are_refused_unless_allowed(models, tmp_path):
    import torch

    folder = tiny.copy_model(models["single"], tmp_path / "pickled")
    (folder / "model.safetensors").unlink()
    torch.save(tiny.tiny_model().state_dict(), folder / "pytorch_model.bin")
    error = refused("only as pickle files", str(folder), tmp_path)
    assert "--allow-pickle" in error.fix
    allowed = resolve_checkpoint(str(folder), tmp_path, allow_pickle=True)
    assert allowed.allow_pickle and allowed.manifest.parameters is None
    generator = TransformersGenerator(allowed, precision="fp32")
    assert generator.manifest.parameters == sum(p.numel() for p in tiny.tiny_model().parameters())
    assert generator.generate([REQUEST])[0][0] == greedy(models["single"])


def test_adapter_whose_base_is_absent_or_another_model(models, tmp_path):
    absent = tiny.save_adapter(tmp_path / "absent", base=tmp_path / "no-such-base")
    error = refused("was trained on", str(absent), tmp_path, error=MissingModelError)
    assert str(tmp_path / "no-such-base") in error.problem and "--base-model" in error.fix
    wider = tiny.save_adapter(tmp_path / "wider", base=models["single"], hidden_size=32)
    refused("does not fit the base model", str(wider), tmp_path)


def test_truncated_or_fake_gguf_is_refused(models, tmp_path):
    short = tmp_path / "short.gguf"
    short.write_bytes(models["gguf"].read_bytes()[:20_000])
    refused("truncated", str(short), tmp_path)
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"PK\x03\x04 a zip file, not a model")
    refused("not a GGUF file", str(fake), tmp_path)
    assert not (tmp_path / "checkpoints").exists() or not any((tmp_path / "checkpoints").iterdir())


# --- where the manifest goes ---------------------------------------------------------------------------------


def test_config_generator_section_and_cli_flags(tmp_path, models):
    from engine.cli import build_parser, load_config

    toml = tmp_path / "studybuddy.toml"
    toml.write_text(f'[generator]\nmodel = "{models["trainer"]}"\ncheckpoint = 20\nallow_pickle = false\n')
    config = Config.load(toml)
    assert config.generator == str(models["trainer"]) and config.generator_options.checkpoint == "20"
    assert describe_generator(config).checkpoint == "checkpoint-20"
    toml.write_text('[generator]\nbackend = "openai"\nbase_url = "http://gpu-box:8000/v1"\nmodel = "tutor-7b"\ntimeout_s = 5\n')
    config = Config.load(toml)
    assert (config.generator_options.backend, config.generator, config.generator_options.timeout_s) == ("openai", "tutor-7b", 5)
    toml.write_text('[generator]\nmodle = "x"\n')
    with pytest.raises(StudyBuddyError, match="modle"):
        Config.load(toml)
    toml.write_text(f'generator = "{models["single"]}"\n')
    assert Config.load(toml).generator == str(models["single"])  # the shorthand still works
    args = build_parser().parse_args(["--config", str(toml), "ask", "q", "--model", str(models["trainer"]), "--checkpoint", "best", "--allow-pickle"])
    config = load_config(args)
    assert config.generator_options.checkpoint == "best" and config.generator_options.allow_pickle
    args = build_parser().parse_args(["--config", str(toml), "ask", "q", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m"])
    config = load_config(args)
    assert (config.generator_options.backend, config.generator_options.base_url, config.generator) == ("openai", "http://127.0.0.1:9/v1", "m")


def test_staff_settings_keep_the_generator_table(tmp_path, monkeypatch):
    from ui.settings_store import save_engine_settings

    toml = tmp_path / "studybuddy.toml"
    monkeypatch.setenv("STUDYBUDDY_CONFIG", str(toml))
    toml.write_text('[generator]\nmodel = "/old"\ncheckpoint = "best"\n')
    save_engine_settings(Config(home=tmp_path), {"generator": "/new"}, {})
    config = Config.load(toml)
    assert config.generator == "/new" and config.generator_options.checkpoint == "best"


def test_model_info_prints_the_manifest_and_refuses_broken_models(models, tmp_path, capsys, monkeypatch):
    from engine.cli import main

    monkeypatch.setenv("STUDYBUDDY_CACHE", str(tmp_path / "cache"))
    assert main(["--home", str(tmp_path), "model-info", "--model", str(models["trainer"]), "--checkpoint", "best", "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["checkpoint"] == "checkpoint-20 (best)" and manifest["parameters"] > 0 and len(manifest["sha256"]) == 64
    assert main(["--home", str(tmp_path), "model-info", "--model", str(models["adapter"])]) == 0
    assert "kind: adapter" in capsys.readouterr().out
    broken = tiny.copy_model(models["single"], tmp_path / "broken")
    tiny.truncate(broken / "model.safetensors")
    assert main(["--home", str(tmp_path), "model-info", "--model", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "is truncated" in err and "Traceback" not in err


def test_tutor_refuses_a_broken_model_with_the_reason(models, tmp_path):
    from engine.pipeline import Tutor

    broken = tiny.copy_model(models["sharded"], tmp_path / "broken")
    sorted(broken.glob("model-*.safetensors"))[0].unlink()
    tutor = Tutor(Config(home=tmp_path, cache_dir=tmp_path / "cache", generator=str(broken)))
    with pytest.raises(StudyBuddyError, match="is missing 1 of its"):
        tutor.generator
    good = Tutor(Config(home=tmp_path, cache_dir=tmp_path / "cache", generator=str(models["single"])))
    assert good.model_manifest["path"] == str(models["single"]) and good.model_manifest["kind"] == "folder"
    assert isinstance(build_generator(good.config), TransformersGenerator)


def test_manifest_goes_into_ask_json_and_the_conversation_log(models, tmp_path):
    from engine.conversation_log import ConversationLog
    from engine.core.vocabulary import Answer

    manifest = resolve_checkpoint(str(models["single"]), tmp_path).manifest.to_dict()
    answer = Answer("q", "a", [], str(models["single"]), {}, None, model_manifest=manifest)
    assert answer.to_json()["model"] == manifest
    assert Answer("q", "a", [], "plain-name").to_json()["model"] == "plain-name"
    log = ConversationLog(tmp_path / "log.sqlite3")
    log.log_answer("s", "sample", answer)
    log.log_answer("s", "sample", Answer("q2", "a", [], "plain-name"))
    newest, first = log.recent(2)
    assert first["model_manifest"] == manifest and first["model"] == str(models["single"])
    assert newest["model_manifest"] is None


def test_an_older_conversation_log_gains_the_manifest_column(tmp_path):
    from engine.conversation_log import ConversationLog
    from engine.core.vocabulary import Answer

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the schema before manifests were logged
        db.executescript(
            "CREATE TABLE conversations (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, ts REAL NOT NULL,"
            " library TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, verdict TEXT, confidence REAL,"
            " claims_json TEXT NOT NULL, citations_json TEXT NOT NULL, model TEXT NOT NULL);"
            "INSERT INTO conversations (session_id, ts, library, question, answer, claims_json, citations_json, model)"
            " VALUES ('s', 1.0, 'sample', 'old q', 'old a', '[]', '[]', 'packaged:SmolLM2-135M-Instruct');"
        )
    log = ConversationLog(path)
    log.log_answer("s", "sample", Answer("new q", "a", [], "m", model_manifest={"kind": "folder", "sha256": "ab"}))
    new, old = log.recent(2)
    assert old["question"] == "old q" and old["model_manifest"] is None
    assert new["model_manifest"] == {"kind": "folder", "sha256": "ab"}
    ConversationLog(path)  # opening again is a no-op


# --- the real default ----------------------------------------------------------------------------------------


@pytest.mark.integration
def test_real_converted_default_resolves_validates_and_generates():
    cache = Config().cache_dir  # converted by make setup
    checkpoint = resolve_checkpoint(PACKAGED_GENERATOR, cache)
    m = checkpoint.manifest
    assert m.kind == "packaged" and m.architecture == "LlamaForCausalLM" and m.vocab_size == 49152
    assert 130_000_000 < m.parameters < 140_000_000 and m.dtype == "float32"
    marker = json.loads((checkpoint.folder / "studybuddy-conversion.json").read_text())
    assert m.source_sha256 == marker["sha256"] and m.source.endswith(".gguf")
    assert resolve_generator(PACKAGED_GENERATOR, cache) == checkpoint.folder
    # the packaged GGUF given as a path goes through the same converter, into the same cached folder
    by_path = resolve_checkpoint(m.source, cache)
    assert by_path.folder == checkpoint.folder and by_path.manifest.kind == "gguf" and by_path.manifest.sha256 == m.sha256
    generator = TransformersGenerator(checkpoint, threads=min(2, os.cpu_count() or 1), precision="fp32")
    [samples] = generator.generate([GenerationRequest([{"role": "user", "content": "What causes rain?"}], n=2, temperature=0.7, max_new_tokens=8)])
    assert len(samples) == 2 and all(isinstance(s, str) for s in samples)


def test_a_seeded_generator_draws_the_same_samples_for_the_same_question(models, tmp_path):
    checkpoint = resolve_checkpoint(str(models["single"]), tmp_path)
    request = GenerationRequest(tiny.MESSAGES, n=3, temperature=1.0, max_new_tokens=6)
    seeded = TransformersGenerator(checkpoint, seed=7, precision="fp32")
    first = seeded.generate([request])[0]
    assert seeded.generate([request])[0] == first
    assert TransformersGenerator(checkpoint, seed=8, precision="fp32").generate([request])[0] != first


def test_the_configured_seed_reaches_the_generator(models, tmp_path):
    config = replace(Config(), generator=str(models["single"]), cache_dir=tmp_path)
    assert build_generator(config).seed == 0  # the default: a repeatable vote
    assert build_generator(replace(config, generation=replace(config.generation, seed=-1))).seed is None
