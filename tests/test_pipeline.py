"""End to end on the bundled sample library with the real models. Fixed draft answers go through `check`
so the verifiers are exercised deterministically; one test runs the real generator through `ask`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import re

import pytest

from engine.core.config import Config
from engine.core.text import NOT_IN_BOOKS
from engine.core.vocabulary import Check, Support, Verdict
from engine.components import Components
from engine.pipeline import Tutor
from tests.conftest import REPO

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tutor(sample_home) -> Tutor:
    return Tutor(Config(home=sample_home))


def test_wrong_multiplication_is_corrected(tutor):
    answer = tutor.check("What is 7 × 8?", "7 × 8 is 54.")
    assert answer.verdict.verdict is Verdict.CORRECTED
    assert "56" in answer.text and "54" not in answer.text
    assert answer.verdict.claims[0].correction == "7 × 8 is 56."


def test_lincoln_did_not_write_the_declaration(tutor):
    answer = tutor.check(
        "Who was Abraham Lincoln?", "Abraham Lincoln was the 16th president and wrote the Declaration of Independence."
    )
    first, second = answer.verdict.claims
    assert first.support is Support.SUPPORTED and "16th president" in first.evidence.passage.text
    assert second.support in (Support.CONTRADICTED, Support.UNSUPPORTED)
    assert answer.verdict.verdict in (Verdict.CORRECTED, Verdict.FLAGGED)
    assert "Jefferson" in second.evidence.passage.text
    assert second.cove_question and "Declaration" in second.cove_question


def test_amazon_two_claims_second_corrected_to_atlantic(tutor):
    answer = tutor.check("Where does the Amazon River flow?", "The Amazon flows through Brazil and empties into the Pacific Ocean.")
    brazil, ocean = answer.verdict.claims
    assert brazil.claim.text == "The Amazon flows through Brazil." and brazil.support is Support.SUPPORTED
    assert ocean.support is Support.CONTRADICTED and "Atlantic" in ocean.correction
    assert answer.verdict.verdict is Verdict.CORRECTED and "Atlantic" in answer.text


def test_question_not_in_the_books_abstains(tutor):
    answer = tutor.check("What is the capital of Australia?", "The capital of Australia is Canberra.")
    assert answer.verdict.verdict is Verdict.ABSTAINED and answer.text == NOT_IN_BOOKS


def test_correct_answer_about_rain_is_grounded_with_citations(tutor):
    answer = tutor.check("What causes rain?", "Rain happens when tiny water droplets in a cloud join together and become too heavy to float.")
    assert answer.verdict.verdict is Verdict.GROUNDED
    claim = answer.verdict.claims[0]
    assert claim.support is Support.SUPPORTED and "Rain" in claim.evidence.passage.section + claim.evidence.passage.text
    payload = answer.to_json()
    assert payload["verdict"] == "grounded" and payload["citations"]
    assert set(payload["claims"][0]) == {"text", "span", "verdict", "score", "citation", "cove_question", "cove_answer", "correction", "missing_terms", "decided_by", "why"}


def test_a_question_the_books_do_not_cover_is_turned_away_before_generating(tutor):
    answer = tutor.ask("What is the capital of Australia?")
    assert answer.verdict.verdict is Verdict.ABSTAINED and answer.text == NOT_IN_BOOKS
    assert "generate" not in answer.timings  # retrieval found nothing close enough, or the gate turned it away


def test_turning_a_question_away_loads_no_generator_and_logs_no_model(tutor):
    shared = {name: getattr(tutor, name) for name in ("retriever", "verifier", "answerability", "safety")}  # only the generator could be loaded
    fresh = Tutor(tutor.config, Components(tutor.config, **shared))
    answer = fresh.ask("What is the capital of Australia?")
    assert answer.verdict.verdict is Verdict.ABSTAINED
    assert not fresh.components.loaded("generator"), "an abstention decided by retrieval must not load the model"
    assert answer.model_manifest is None and answer.to_json()["model"] == tutor.config.generator


def test_answerability_scores_a_covered_question_above_an_uncovered_one(tutor):
    threshold = tutor.config.verification.answerable_threshold
    rain = tutor.answerability.best_sentence("What causes rain?", tutor.retriever.retrieve("What causes rain?"))
    assert rain.relevance >= threshold
    # a neighbouring topic the books do discuss, without the fact asked for
    breakfast = "What did Lincoln eat for breakfast?"
    nearest = tutor.retriever.retrieve(breakfast)
    assert nearest and tutor.answerability.best_sentence(breakfast, nearest).relevance < threshold
    assert "rain" in rain.text.lower() and rain.passage.text.find(rain.text.split()[0]) >= 0


def test_samples_share_the_prompt_prefill_and_greedy_output_is_unchanged(tutor, monkeypatch):
    # in float32, where reading the prompt in two pieces is exact (bfloat16 rounds the two pieces differently)
    from engine.models.generator import TransformersGenerator
    from engine.models.requests import GenerationRequest
    from engine.prompts import grounded_messages

    generator = TransformersGenerator(tutor.generator.checkpoint, precision="fp32")
    calls = []
    shared = generator._generate_sharing_prefill
    monkeypatch.setattr(generator, "_generate_sharing_prefill", lambda *a: calls.append(1) or shared(*a))
    messages = grounded_messages("What causes rain?", tutor.retriever.retrieve("What causes rain?"))
    [one] = generator.generate([GenerationRequest(messages, n=1, temperature=0.0)])
    [three] = generator.generate([GenerationRequest(messages, n=3, temperature=0.0)])
    assert calls == [1] and three == one * 3


def test_a_variant_shares_the_loaded_models(tutor):
    cascade = tutor.variant(mode="cascade", samples=3)
    assert cascade.config.verification.mode == "cascade" and cascade.config.verification.samples == 3
    assert tutor.config.verification.mode == "always"
    assert cascade.generator is tutor.generator and cascade.verifier is tutor.verifier and cascade.retriever is tutor.retriever
    assert cascade.voter is tutor.voter and cascade.safety is tutor.safety
    assert tutor.variant(samples=3, mode="cascade") is cascade  # asked again, the same tutor
    looser = tutor.variant(group_similarity=0.5)
    assert looser.voter is not tutor.voter and looser.voter.group_similarity == 0.5 and looser.verifier is tutor.verifier


def test_ask_tells_its_listener_each_stage_as_it_starts(tutor):
    heard: list[str] = []
    answer = tutor.ask("What causes rain?", on_stage=heard.append)
    assert heard[:2] == ["safety", "retrieve"] and heard[-1] == "safety"
    assert "generate" in heard and "decompose" in heard and heard.index("generate") < heard.index("decompose")
    assert set(heard) == set(answer.timings)  # every stage heard is a stage timed, and none is left out


def test_cascade_checks_the_greedy_draft_first_and_votes_only_when_cove_leaves_claims_unsure(tutor, monkeypatch):
    cascade = tutor.variant(mode="cascade")
    steps = []
    generate, cove = cascade.generate_answers, cascade.chain_of_verification
    monkeypatch.setattr(cascade, "generate_answers", lambda q, ps, n, temperature: steps.append(("generate", n, temperature)) or generate(q, ps, n, temperature))
    monkeypatch.setattr(cascade, "chain_of_verification", lambda cvs, q="": steps.append(("cove",)) or cove(cvs, q))
    for question in ("What causes rain?", "Who wrote the Declaration of Independence?"):
        steps.clear()
        answer = cascade.ask(question)
        if answer.verdict.verdict is Verdict.ABSTAINED and "generate" not in answer.timings:
            continue
        assert steps[0] == ("generate", 1, 0.0)  # the cheap path: one greedy answer
        if "vote" in answer.timings:  # escalated: CoVe ran on the draft before any sample was drawn
            assert steps[1] == ("cove",) and steps[2] == ("generate", cascade.config.verification.samples - 1, cascade.config.verification.temperature)
        else:
            assert [s for s in steps if s[0] == "generate"] == [("generate", 1, 0.0)]


def test_real_generator_answers_and_is_verified_before_returning(tutor):
    answer = tutor.ask("When did World War II end?")
    assert answer.verdict is not None  # nothing unverified is ever returned
    assert set(answer.timings) >= {"retrieve", "generate", "vote", "decompose", "verify"}
    assert answer.verdict.verdict in set(Verdict)
    if answer.verdict.verdict is not Verdict.ABSTAINED:
        assert all(c.evidence is not None for c in answer.verdict.claims if c.support is Support.SUPPORTED)
        assert answer.passages and any("World War II" in p.section for p in answer.passages)


def _cli(home, *args):
    env = {**os.environ, "STUDYBUDDY_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def test_cli_ask_json_contract(sample_home):
    done = _cli(sample_home, "ask", "When did World War II end?", "--library", "sample", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert {"question", "answer", "citations", "timings", "model", "verdict", "confidence", "revised_answer", "claims"} <= set(payload)
    assert payload["model"] and isinstance(payload["timings"], dict)
    for citation in payload["citations"]:
        assert set(citation) == {"book", "section", "doc_id", "text", "score"}
    checks = {c.value for c in Check}
    assert payload["claims"] and all(c["decided_by"] in checks and c["why"] for c in payload["claims"])


def test_cli_check_explain_prints_the_claim_table(sample_home):
    done = _cli(sample_home, "check", "7 × 8 is 54.", "--question", "What is 7 × 8?", "--explain")
    assert done.returncode == 0, done.stderr
    assert "7 × 8 is 56." in done.stdout and "Claim by claim" in done.stdout and "revision: 7 × 8 is 56." in done.stdout
    assert "verdict: contradicted (score 1.00), decided by the arithmetic" in done.stdout
    assert "why: Computed, the sum is wrong: 7 × 8 is 56." in done.stdout


def test_cli_ask_explain_names_the_check_that_decided_each_claim(sample_home):
    done = _cli(sample_home, "ask", "Which ocean does the Amazon River empty into?", "--library", "sample", "--explain")
    assert done.returncode == 0, done.stderr
    table = done.stdout.split("Claim by claim:")[1]
    claims = re.findall(r"^  \d+\. ", table, re.M)
    deciders = re.findall(r"^     verdict: \w+ \(score [\d.]+\), decided by the (.+)$", table, re.M)
    assert claims and len(deciders) == len(claims), done.stdout
    assert set(deciders) <= {c.value for c in Check}
    assert len(re.findall(r"^     why: \S", table, re.M)) == len(claims)


def test_cli_unknown_library_is_a_message_not_a_traceback(sample_home):
    done = _cli(sample_home, "ask", "What causes rain?", "--library", "nosuch")
    assert done.returncode == 1
    assert "no library called 'nosuch'" in done.stderr and "sample" in done.stderr and "studybuddy ingest" in done.stderr
    assert "Traceback" not in done.stderr
