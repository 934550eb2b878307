"""Copied sentences with one detail replaced or two roles swapped (verifiers/alignment.py), with the real spaCy."""

import pytest

from verifiers import alignment
from verifiers.mismatch import DocCache


@pytest.fixture(scope="module")
def fast():
    return DocCache(fast=True)


@pytest.fixture(scope="module")
def parsed():
    return DocCache(fast=False)


PASSAGE = ("The movement of this electron produces a current. If electron ejection continues, further holes are created. "
           "This current can turn switches on and off and activate various familiar mechanisms.")


def test_a_replaced_phrase_is_found_against_the_sentence_it_copies(fast):
    claim = "A nearby electron can turn switches on and off and activate various familiar mechanisms."
    assert alignment.substitutions(fast[claim], fast[PASSAGE]) == [("A nearby electron", "This current")]


def test_a_verbatim_copy_or_an_unrelated_claim_has_no_substitution(fast):
    assert alignment.substitutions(fast["This current can turn switches on and off."], fast[PASSAGE]) == []
    assert alignment.substitutions(fast["Whales are mammals that breathe air."], fast[PASSAGE]) == []
    assert alignment.aligned_sentence(fast["Whales are mammals that breathe air."], fast[PASSAGE]) is None


@pytest.mark.parametrize(
    "claim, sentence, swapped",
    [
        ("Bank closures virtually eliminated new financial regulation.", "New financial regulation virtually eliminated bank closures.", True),
        ("The Moon orbits the Earth.", "The Earth orbits the Moon.", True),
        ("Differing views were offered by the defense.", "The defense offered differing views.", False),  # passive rephrasing
        ("The defense offered differing views.", "The defense offered differing views.", False),
        ("An alpha decay process for the nuclear equation can be shown.", "The nuclear equation for an alpha decay process can be shown.", True),
        ("Paris is the capital of France.", "The capital of France is Paris.", False),  # 'be' is symmetric enough
    ],
)
def test_role_swap(parsed, claim, sentence, swapped):
    assert alignment.role_swap(parsed[claim], parsed[sentence]) is swapped


@pytest.mark.parametrize("a, b, opposite", [
    ("aerobic", "anaerobic", True), ("nonliving", "living", True), ("organic", "inorganic", True),
    ("aerobic", "aerobic", False), ("on", "ion", False), ("active", "reactive", False)])
def test_opposite_by_prefix(a, b, opposite):
    assert alignment.opposite_by_prefix(a, b) is opposite


def test_a_prefix_opposite_is_a_substitution(fast):
    passage = "Cellular respiration that proceeds in the absence of oxygen is called anaerobic respiration."
    claim = "Cellular respiration that proceeds in the absence of oxygen is called aerobic respiration."
    assert alignment.substitutions(fast[claim], fast[passage]) == [("aerobic", "anaerobic")]


@pytest.mark.parametrize(
    "claim, sentence, share, breaks",
    [
        ("The mass number of the intent is to differentiate between isotopes.",
         "The intent of the mass number is to differentiate between isotopes.", 0.5, 1),  # (number, intent) broken
        ("Their armed militias were drilled by the Mormons openly.", "The Mormons drilled their armed militias openly.", 1.0, 0),
        ("The intent of the mass number is to differentiate between isotopes.",
         "The intent of the mass number is to differentiate between isotopes.", 1.0, 0),
    ],
)
def test_structure_agreement_sees_a_moved_phrase_but_not_a_passive_rephrasing(parsed, claim, sentence, share, breaks):
    got_share, got_breaks = alignment.structure_agreement(parsed[claim], parsed[sentence])
    assert (round(got_share, 2), got_breaks) == (share, breaks)


def test_role_conflicts_count_a_replaced_doer_not_a_passive_one(parsed):
    sentence = parsed["Several highly publicized spy cases commanded national attention."]
    assert alignment.role_conflicts(parsed["National attention was commanded by nuclear secrets."], sentence) == (1, 0)
    assert alignment.role_conflicts(parsed["National attention was commanded by several spy cases."], sentence) == (0, 0)
    assert alignment.role_conflicts(parsed["Spy cases commanded national fear."], sentence) == (0, 1)


def test_imported_share_counts_words_lifted_from_another_sentence(fast):
    passage = fast[PASSAGE]
    sentence = list(passage.sents)[2]
    lifted = fast["This ejection can turn switches on and off."]
    assert alignment.imported_share(lifted, sentence, passage) > 0
    assert alignment.imported_share(fast["This current can turn switches on and off."], sentence, passage) == 0
