"""The claim verifier: combiner storage, batching, cache keys, and (integration) the trained checkpoint's verdicts."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engine.core.errors import MissingModelError, StudyBuddyError
from engine.core.vocabulary import Support
from verifiers.claim_verifier import BASE_FEATURES, LABELS, ClaimVerifier, Combiner, nli_combiner_path
from verifiers.verifier_checkpoint import BASE_MODEL, VerifierNotReady, checkpoint_key
from verifiers.verifier_training.train import fit_combiner_for, load_or_train

AMAZON = ("The Amazon River flows east across South America for about 6,400 kilometers and empties into the "
          "Atlantic Ocean near the equator.")
LINCOLN = ("Abraham Lincoln, the sixteenth president, delivered the Gettysburg Address in November 1863, "
           "during the Civil War.")


def test_combiner_json_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    n = len(BASE_FEATURES)
    layers = [(rng.normal(size=(n, 8)), rng.normal(size=8)), (rng.normal(size=(8, 3)), rng.normal(size=3))]
    c = Combiner(BASE_FEATURES, rng.normal(size=n), np.abs(rng.normal(size=n)) + 0.1, layers, temperature=1.3)
    c.save(tmp_path / "combiner.json")
    data = json.loads((tmp_path / "combiner.json").read_text())
    assert data["labels"] == list(LABELS) and data["features"] == list(BASE_FEATURES)
    assert data["type"] == "mlp" and data["temperature"] == 1.3
    back = Combiner.from_json(data)
    X = rng.normal(size=(5, n))
    P = back.proba(X)
    assert P.shape == (5, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_allclose(P, c.proba(X))


def test_an_ensemble_combiner_averages_its_members_and_survives_json(tmp_path):
    rng = np.random.default_rng(1)
    n = len(BASE_FEATURES)
    stacks = [[(rng.normal(size=(n, 4)), rng.normal(size=4)), (rng.normal(size=(4, 3)), rng.normal(size=3))] for _ in range(3)]
    mean, scale = rng.normal(size=n), np.abs(rng.normal(size=n)) + 0.1
    ensemble = Combiner(BASE_FEATURES, mean, scale, stacks[0], temperature=0.8, members=stacks)
    singles = [Combiner(BASE_FEATURES, mean, scale, stack, temperature=0.8) for stack in stacks]
    X = rng.normal(size=(6, n))
    np.testing.assert_allclose(ensemble.proba(X), np.mean([c.proba(X) for c in singles], axis=0))
    ensemble.save(tmp_path / "combiner.json")
    back = Combiner.from_json(json.loads((tmp_path / "combiner.json").read_text()))
    assert len(back.members) == 3
    np.testing.assert_allclose(back.proba(X), ensemble.proba(X))


def test_fit_combiner_with_members_learns_a_separable_rule():
    from verifiers.verifier_training.train import fit_combiner

    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 2))
    labels = [LABELS[0] if a > 0.5 else (LABELS[1] if b > 0 else LABELS[2]) for a, b in X]
    comb = fit_combiner(X, labels, ["a", "b"], hidden=8, members=3)
    assert len(comb.members) == 3
    predicted = [LABELS[k] for k in comb.proba(X).argmax(axis=1)]
    assert np.mean([p == t for p, t in zip(predicted, labels)]) > 0.9


def test_cache_key_depends_on_data_and_code(monkeypatch):
    import verifiers.verifier_checkpoint as cv

    a = checkpoint_key("data-a")
    assert a == checkpoint_key("data-a")
    assert a != checkpoint_key("data-b")
    monkeypatch.setattr(cv, "TRAINING_CODE_VERSION", "another-version")
    assert a != checkpoint_key("data-a")


def test_logistic_combiner_json_is_still_read():
    n = 3
    c = Combiner.from_json({"labels": list(LABELS), "features": ["a", "b", "c"], "mean": [0] * n, "scale": [1] * n,
                            "coef": np.eye(3).tolist(), "intercept": [0, 0, 0]})
    assert c.proba(np.array([[5.0, 0, 0]])).argmax() == 0


def test_missing_checkpoint_is_a_clear_error_and_nothing_trains(tmp_path):
    with pytest.raises(MissingModelError) as err:
        ClaimVerifier.load(tmp_path / "empty-cache")
    assert "make setup" in str(err.value)
    assert not any((tmp_path / "empty-cache").rglob("meta.json"))


def test_missing_training_data_folder_is_a_clear_error(tmp_path):
    from verifiers import verifier_checkpoint as shipped

    with pytest.raises(StudyBuddyError) as err:
        shipped.resolve_data(tmp_path / "nowhere")
    assert "does not exist" in str(err.value)


# --- with real models ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def untrained_verifier(tmp_path_factory):
    """The runtime path with an untrained head and a random combiner: enough to test shapes and batching."""
    pytest.importorskip("torch")
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from engine.core.packaged import embedder_path
    from verifiers.claim_verifier import _SeqClassifier

    try:
        src = embedder_path("packaged:all-MiniLM-L6-v2")
    except MissingModelError as err:
        pytest.skip(str(err))
    folder = tmp_path_factory.mktemp("ce")
    torch.manual_seed(0)
    m = AutoModelForSequenceClassification.from_pretrained(src, num_labels=3, id2label=dict(enumerate(LABELS)),
                                                           label2id={k: i for i, k in enumerate(LABELS)})
    m.save_pretrained(folder)
    AutoTokenizer.from_pretrained(src).save_pretrained(folder)
    v = ClaimVerifier(None, _SeqClassifier(str(folder)), None)
    rng = np.random.default_rng(1)
    n = len(v.feature_names)
    v.combiner = Combiner(v.feature_names, np.zeros(n), np.ones(n), [(rng.normal(size=(n, 3)), np.zeros(3))])
    return v


@pytest.mark.integration
def test_predict_shape_and_batching_matches_one_by_one(untrained_verifier):
    v = untrained_verifier
    claims = ["The Amazon empties into the Atlantic Ocean.", "The Amazon empties into the Pacific Ocean.",
              "Thomas Jefferson wrote the Declaration of Independence.", "Lincoln spoke at Gettysburg in 1863."]
    passages = [AMAZON, AMAZON, LINCOLN, LINCOLN]
    out = v.predict(claims, passages)
    assert len(out) == 4
    for label, p, info in out:
        assert isinstance(label, Support) and 0.0 <= p <= 1.0
        assert abs(info["p_supported"] + info["p_contradicted"] + info["p_unsupported"] - 1) < 1e-6
        assert p == pytest.approx(max(info["p_supported"], info["p_contradicted"], info["p_unsupported"]))
    one = [v.predict([c], [p])[0] for c, p in zip(claims, passages)]
    for (l1, p1, i1), (l2, p2, i2) in zip(out, one):
        assert l1 == l2
        assert p1 == pytest.approx(p2, abs=1e-4)
    M = v.score_matrix(claims[:2], [AMAZON, LINCOLN, "Water boils at 100 degrees Celsius at sea level."])
    assert M.shape == (2, 3, 3)
    np.testing.assert_allclose(M.sum(axis=2), 1.0, atol=1e-6)
    np.testing.assert_allclose(M[0, 0], [out[0][2]["p_supported"], out[0][2]["p_contradicted"], out[0][2]["p_unsupported"]], atol=1e-4)
    assert v.predict([], []) == []


@pytest.fixture(scope="module")
def trained_verifier():
    # trains once from the shipped data (a few minutes on 2 cores) if `make setup` has not built it yet
    return load_or_train()


@pytest.mark.integration
def test_trained_verifier_verdicts(trained_verifier):
    v = trained_verifier
    out = v.predict(
        ["The Amazon empties into the Atlantic Ocean.", "The Amazon empties into the Pacific Ocean.",
         "Thomas Jefferson wrote the Declaration of Independence."],
        [AMAZON, AMAZON, LINCOLN],
    )
    assert out[0][0] == Support.SUPPORTED, out[0]
    assert out[1][0] == Support.CONTRADICTED, out[1]
    assert out[2][0] in (Support.UNSUPPORTED, Support.CONTRADICTED), out[2]
    assert out[0][2]["p_supported"] > out[1][2]["p_supported"]


@pytest.mark.integration
def test_bfloat16_scores_match_float32(trained_verifier):
    claims = ["The Amazon empties into the Atlantic Ocean.", "The Amazon empties into the Pacific Ocean.",
              "Thomas Jefferson wrote the Declaration of Independence."]
    passages = [AMAZON, AMAZON, LINCOLN]
    v = trained_verifier
    try:
        v.precision = "fp32"
        v.clear_cache()
        fp32 = v.predict(claims, passages)
        v.precision = "bf16"
        v.clear_cache()
        bf16 = v.predict(claims, passages)
    finally:
        v.precision = "auto"
    assert [a[0] for a in fp32] == [b[0] for b in bf16]
    assert max(abs(a[2]["p_supported"] - b[2]["p_supported"]) for a, b in zip(fp32, bf16)) < 0.03


@pytest.mark.integration
def test_second_load_reuses_the_checkpoint(trained_verifier):
    again = ClaimVerifier.load()
    assert again.folder == trained_verifier.folder
    meta = json.loads((again.folder / "meta.json").read_text())
    assert (again.folder / "cross_encoder" / "config.json").exists()
    assert any(again.folder.joinpath("cross_encoder").glob("*.safetensors"))
    assert meta["seconds"]["total"] < 30 * 60


@pytest.mark.integration
def test_external_nli_model_plugs_in_by_path(trained_verifier, tmp_path):
    """Any HF sequence-classification NLI folder can be added; here our own cross-encoder folder stands in."""
    nli = str(trained_verifier.folder / "cross_encoder")
    folder = tmp_path / "checkpoint"
    shutil.copytree(trained_verifier.folder, folder, ignore=shutil.ignore_patterns("combiner-*.json"))
    with pytest.raises(VerifierNotReady) as err:  # the app never fits: prepare does, once
        ClaimVerifier.from_folder(folder, nli_model=nli)
    assert "studybuddy prepare" in err.value.fix
    fitting = ClaimVerifier.from_folder(folder, nli_model=nli, combiner=trained_verifier.combiner)
    fit_combiner_for(fitting).save(nli_combiner_path(folder, nli, "add"))
    v = ClaimVerifier.from_folder(folder, nli_model=nli)
    assert "nli_entailment" in v.feature_names
    out = v.predict(["The Amazon empties into the Atlantic Ocean."], [AMAZON])
    assert out[0][0] == Support.SUPPORTED


def test_a_new_checkpoint_reuses_a_cross_encoder_trained_the_same_way(tmp_path):
    from verifiers.verifier_checkpoint import CROSS_ENCODER_VERSION
    from verifiers.verifier_training.train import _reusable_cross_encoder

    def checkpoint(name, **meta):
        folder = tmp_path / name
        (folder / "cross_encoder").mkdir(parents=True)
        (folder / "cross_encoder" / "config.json").write_text("{}")
        (folder / "combiner.json").write_text("{}")
        base = {"data_fingerprint": "fp", "base_model": BASE_MODEL, "scale": 1.0, "seed": 13,
                "cross_encoder": {"epochs": 1.0, "max_length": 128}, "cross_encoder_version": CROSS_ENCODER_VERSION}
        (folder / "meta.json").write_text(json.dumps({**base, **meta}))
        return folder

    checkpoint("other-data", data_fingerprint="another")
    checkpoint("older-ce", cross_encoder_version="ce-0.9")
    assert _reusable_cross_encoder(tmp_path, "fp", 1.0, 1.0, 13, 128) is None
    same = checkpoint("same")
    assert _reusable_cross_encoder(tmp_path, "fp", 1.0, 1.0, 13, 128) == same
    assert _reusable_cross_encoder(tmp_path, "fp", 1.0, 1.0, 14, 128) is None  # another seed trains anew
