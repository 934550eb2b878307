"""All the layers together, as the pipeline uses them: screen the question before retrieval, screen the answer
after verification, and build the Answer a child sees when a layer stops."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from engine.core.config import SafetyConfig
from engine.core.vocabulary import Answer, AnswerVerdict, Claim, Passage, SafetyAction, SafetyDecision, Verdict
from engine.safety.classifier import SafetyClassifier
from engine.safety.input_rails import InputCheck, InputRails
from engine.safety.output_rails import OutputRails
from engine.safety.session import SafetySession
from knowledge_base import injection

RETRIEVED = "retrieved"
DISABLED = SafetyDecision(SafetyAction.ALLOWED, "none", "disabled", "the safety layers are switched off ([safety] enabled = false)")


class SafetyRails:
    """With `[safety] classifier = true` (the default) the learned classifier is loaded here, and a missing or
    corrupt one is an error (engine.safety.classifier.SafetyClassifierError): the tutor never runs unguarded."""

    def __init__(self, config: SafetyConfig, classifier: SafetyClassifier | None = None):
        self.config = config
        if classifier is None and config.classifier:
            classifier = load_classifier(config)
        self.classifier = classifier
        self.input = InputRails(config, classifier)
        self.output = OutputRails(config, classifier)

    def screen_question(self, question: str, session: SafetySession | None = None) -> InputCheck:
        return self.input.check(question, session)

    def redirect(self, question: str, check: InputCheck, model: str, timings: dict[str, float]) -> Answer:
        """The Answer for a question a layer stopped: its kind message, no passages, no generation."""
        decision = check.decision
        verdict = AnswerVerdict(Verdict.ABSTAINED, 1.0, [], decision.message, f"Safety ({decision.layer} layer, {decision.category}): {decision.reason}")
        return Answer(question, decision.message, [], model, timings, verdict, safety=decision, safety_trail=list(check.decisions))

    def screen_answer(self, answer: Answer, before: list[SafetyDecision], raw_text: Callable[[int], str | None] | None = None) -> Answer:
        """The output layer on a finished answer. `raw_text(chunk_id)` gives a passage as its book has it, so the
        planted instructions neutralised on the way in are known, and an answer that obeys one anyway is caught."""
        passages = _all_passages(answer)
        planted, where = [], []
        for p in passages:
            raw = raw_text(p.chunk_id) if raw_text is not None and p.chunk_id >= 0 else None
            found = injection.find_instructions(raw if raw is not None else p.text)
            if found:
                planted += found
                where.append(f"{p.book} — {p.section}")
        if planted:
            retrieved = SafetyDecision(
                SafetyAction.ALLOWED, RETRIEVED, "indirect_injection",
                f"{len(planted)} planted instruction(s) neutralised before use, in: {'; '.join(dict.fromkeys(where))}",
                evidence=planted[0].text[:160],
            )
        else:
            retrieved = SafetyDecision(SafetyAction.ALLOWED, RETRIEVED, "none", "passages quoted as reference data; no planted instruction found")
        text, decisions = self.output.check(answer.text, passages, planted)
        trail = list(before) + [retrieved] + decisions
        blocked = next((d for d in decisions if d.stops), None)
        if blocked is not None:
            verdict = AnswerVerdict(Verdict.ABSTAINED, 1.0, [], text, f"Safety (output layer, {blocked.category}): {blocked.reason}")
            return replace(answer, text=text, verdict=verdict, safety=blocked, safety_trail=trail)
        verdict = answer.verdict
        if text != answer.text or any(d.category != "none" for d in decisions):
            verdict = self._cleaned_verdict(verdict, passages)
        return replace(answer, text=text, verdict=verdict, safety=summary(trail), safety_trail=trail)

    def _cleaned_verdict(self, verdict: AnswerVerdict | None, passages: list[Passage]) -> AnswerVerdict | None:
        if verdict is None:
            return None
        clean = lambda t: self.output.clean(t, passages) if t else t  # noqa: E731
        claims = [replace(cv, claim=Claim(clean(cv.claim.text), cv.claim.span), correction=clean(cv.correction), cove_answer=clean(cv.cove_answer))
                  for cv in verdict.claims]
        return replace(verdict, claims=claims, revised_text=clean(verdict.revised_text))


def load_classifier(config: SafetyConfig) -> SafetyClassifier:
    """The configured head (`classifier_path`) or the shipped one; SafetyClassifierError when missing or corrupt."""
    from pathlib import Path

    return SafetyClassifier.load(Path(config.classifier_path).expanduser()) if config.classifier_path else SafetyClassifier.load()


def summary(trail: list[SafetyDecision]) -> SafetyDecision:
    """One decision for `ask --json`: the one that stopped the question or answer; else the last layer that
    changed or noticed something; else "allowed" by every layer."""
    stopped = next((d for d in trail if d.stops), None)
    if stopped is not None:
        return stopped
    noticed = [d for d in trail if d.category != "none"]
    if noticed:
        return noticed[-1]
    return SafetyDecision(SafetyAction.ALLOWED, "all", "none", "passed every layer")


def _all_passages(answer: Answer) -> list[Passage]:
    seen: dict[tuple, Passage] = {}
    claims = answer.verdict.claims if answer.verdict is not None else []
    for p in list(answer.passages) + [cv.evidence.passage for cv in claims if cv.evidence is not None]:
        seen.setdefault((p.chunk_id, p.doc_id, p.text), p)
    return list(seen.values())
