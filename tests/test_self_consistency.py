"""Self-consistency voting with the real packaged embedder."""

import pytest

from engine.core.config import Config
from knowledge_base.embeddings import Embedder
from verifiers.self_consistency import SelfConsistency

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def voter():
    return SelfConsistency(Embedder(Config().embedder), group_similarity=0.8)


def test_majority_wins_and_agreement_is_its_share(voter):
    samples = [
        "The Eiffel Tower was completed in 1889.",
        "The Eiffel Tower was finished in 1889.",
        "Bananas are yellow fruit that grow in bunches.",
        "The Eiffel Tower was completed in the year 1889.",
        "The Eiffel Tower was completed in 1889.",
    ]
    vote = voter.vote(samples)
    assert "1889" in vote.chosen and vote.chosen_index != 2
    assert vote.agreement == pytest.approx(4 / 5)
    assert any(2 in g and len(g) == 1 for g in vote.groups)


def test_a_sentence_the_other_samples_do_not_echo_lowers_confidence(voter):
    steady = ["Jupiter is the largest planet."] * 4
    vote = voter.vote(steady + ["Jupiter is the largest planet. It is made of cheese."])
    assert vote.chosen == "Jupiter is the largest planet."
    odd = voter.vote(["Jupiter is the largest planet. It is made of cheese."] * 2 + ["Jupiter is the largest planet."])
    assert odd.consistency < vote.consistency
