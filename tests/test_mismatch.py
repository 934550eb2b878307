"""Explicit mismatch checks (numbers, units, dates, entities, negation, opposites, order) and the edit generators."""

from __future__ import annotations

import random

import pytest

from verifiers import mismatch
from verifiers.mismatch import DocCache, check_pairs, parse_number


@pytest.fixture(scope="module")
def docs():
    try:
        return DocCache()
    except Exception as err:  # the spaCy package is part of `make setup`
        pytest.skip(f"spaCy model not installed: {err}")


def check(docs, claim, passage):
    return check_pairs([claim], [passage], docs)[0]


def test_parse_number():
    assert parse_number("56") == 56
    assert parse_number("1,200") == 1200
    assert parse_number("seven") == 7
    assert parse_number("3.5") == 3.5
    assert parse_number("1/2") == 0.5
    assert parse_number("cat") is None


def test_wrong_product_is_a_number_conflict(docs):
    f = check(docs, "7 × 8 = 54.", "Seven times eight: 7 × 8 = 56.")
    assert f["num_conflict"] == 1.0
    ok = check(docs, "7 × 8 = 56.", "Seven times eight: 7 × 8 = 56.")
    assert ok["num_conflict"] == 0.0 and ok["num_missing"] == 0.0


def test_wrong_ocean_is_an_entity_conflict(docs):
    passage = "The Amazon River flows east across South America and empties into the Atlantic Ocean."
    assert check(docs, "The Amazon empties into the Pacific Ocean.", passage)["ent_conflict"] == 1.0
    same = check(docs, "The Amazon empties into the Atlantic Ocean.", passage)
    assert same["ent_conflict"] == 0.0 and same["ent_missing"] == 0.0


def test_inserted_negation(docs):
    passage = "Sound needs a medium such as air or water. Sound cannot travel through a vacuum."
    assert check(docs, "Sound can travel through a vacuum.", passage)["neg_mismatch"] == 1.0
    assert check(docs, "Sound cannot travel through a vacuum.", passage)["neg_mismatch"] == 0.0
    p2 = "Light travels through a vacuum at about 300,000 kilometers per second."
    assert check(docs, "Light does not travel through a vacuum.", p2)["neg_mismatch"] == 1.0
    assert check(docs, "Light travels through a vacuum.", p2)["neg_mismatch"] == 0.0


def test_wrong_year_is_a_date_conflict(docs):
    passage = "The Declaration of Independence was adopted on July 4, 1776, by the Continental Congress."
    assert check(docs, "The Declaration of Independence was adopted in 1789.", passage)["date_conflict"] == 1.0
    assert check(docs, "The Declaration of Independence was adopted in 1776.", passage)["date_conflict"] == 0.0


def test_wrong_unit(docs):
    passage = "The runner covered 5 kilometers in 20 minutes."
    assert check(docs, "The runner covered 5 meters in 20 minutes.", passage)["unit_conflict"] == 1.0
    assert check(docs, "The runner covered 5 kilometers in 20 minutes.", passage)["unit_conflict"] == 0.0


def test_opposite_word(docs):
    passage = "When a gas is heated at constant pressure, its volume increases."
    assert check(docs, "When a gas is heated, its volume decreases.", passage)["antonym"] == 1.0
    assert check(docs, "When a gas is heated, its volume increases.", passage)["antonym"] == 0.0


def test_swapped_roles_lower_the_order_score(docs):
    passage = "The Earth orbits the Sun once every year."
    assert check(docs, "The Sun orbits the Earth.", passage)["order"] < 0.6
    assert check(docs, "The Earth orbits the Sun.", passage)["order"] == 1.0


def test_overlap_and_feature_vector(docs):
    f = check(docs, "Photosynthesis happens in chloroplasts.", "The Civil War ended in 1865.")
    assert f["overlap"] == 0.0
    assert len(mismatch.feature_vector(f)) == len(mismatch.FEATURE_NAMES)


def test_batch_equals_one_by_one(docs):
    claims = ["The Amazon empties into the Pacific Ocean.", "7 × 8 = 54.", "Sound can travel through a vacuum."]
    passages = ["The Amazon empties into the Atlantic Ocean.", "7 × 8 = 56.", "Sound cannot travel through a vacuum."]
    batch = check_pairs(claims, passages, docs)
    single = [check_pairs([c], [p], DocCache(docs.nlp))[0] for c, p in zip(claims, passages)]
    assert batch == single


def test_edits_change_one_detail(docs):
    from engine.core.packaged import load_spacy
    from verifiers.verifier_training import edits

    nlp = load_spacy()  # the training data is generated with the full pipeline (dependency parser included)
    rng = random.Random(0)
    d = nlp("The car traveled 5 kilometers in 1999 and the speed increased.")
    assert edits.edit_number(d, rng) != d.text
    assert "1999" not in edits.edit_date(d, rng)
    assert "kilometers" not in edits.edit_unit(d, rng)
    assert edits.edit_antonym(d, rng).endswith(("speed decreased.", "speed reduced."))
    neg = edits.edit_negation(nlp("Sound travels through air."), rng)
    assert neg == "Sound does not travel through air."
    assert edits.edit_negation(nlp("Sound cannot travel through a vacuum."), rng) == "Sound can travel through a vacuum."


def test_restated_questions():
    from verifiers.verifier_training.data import restate

    assert restate("Who proposed the theory of evolution by natural selection?", "Darwin") == \
        "Darwin proposed the theory of evolution by natural selection."
    assert restate("Climate is generally described in terms of what?", "local weather conditions") == \
        "Climate is generally described in terms of local weather conditions."
