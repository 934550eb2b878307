"""A Tutor's components: given ones are used as they are, the rest built on first use; variants share them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.components import Components
from engine.core.config import Config
from engine.pipeline import Tutor


def given():
    return {name: SimpleNamespace(name=name, docs=SimpleNamespace(), embedder=SimpleNamespace())
            for name in ("safety", "retriever", "generator", "verifier", "answerability", "answer_terms", "slot_conflicts", "decomposer", "voter")}


def test_given_components_are_used_and_nothing_else_is_built():
    parts = given()
    tutor = Tutor(Config(), Components(Config(), generator=parts["generator"], retriever=parts["retriever"]))
    assert tutor.generator is parts["generator"] and tutor.retriever is parts["retriever"]
    assert [n for n in ("safety", "verifier", "voter") if tutor.components.loaded(n)] == []
    with pytest.raises(AttributeError):
        tutor.generator = parts["voter"]  # components are given through Components, not patched in


def test_an_unknown_component_is_refused_by_name():
    with pytest.raises(TypeError, match="unknown component.*'generater'"):
        Components(Config(), generater=object())


def test_a_variant_shares_every_component_and_rebuilds_only_what_its_settings_change():
    parts = given()
    tutor = Tutor(Config(), Components(Config(), **parts))
    cascade = tutor.variant(mode="cascade")
    assert cascade.config.verification.mode == "cascade" and tutor.variant(mode="cascade") is cascade
    assert all(getattr(cascade, name) is part for name, part in parts.items())
    looser = tutor.variant(group_similarity=0.6)
    assert not looser.components.loaded("voter") and looser.generator is parts["generator"]
    other_nli = tutor.variant(nli_model="/models/other-nli")
    assert [n for n in ("verifier", "answerability", "answer_terms", "slot_conflicts") if other_nli.components.loaded(n)] == []
    assert other_nli.retriever is parts["retriever"]


def test_sharing_swaps_the_models_and_rebuilds_what_is_built_on_them():
    parts, batched = given(), given()
    twin = Tutor(Config(), Components(Config(), **parts)).sharing(batched["retriever"], batched["generator"], batched["verifier"], batched["safety"])
    assert (twin.retriever, twin.generator, twin.verifier, twin.safety) == (batched["retriever"], batched["generator"], batched["verifier"], batched["safety"])
    assert twin.decomposer is parts["decomposer"] and twin.answer_terms is parts["answer_terms"]
    assert not twin.components.loaded("answerability") and not twin.components.loaded("voter")
