"""The shared vocabulary of StudyBuddy: every component speaks in these plain dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import Enum


@dataclass(frozen=True)
class Passage:
    """A chunk of an approved textbook, as stored in a library and returned by retrieval."""

    text: str
    book: str
    section: str
    doc_id: str
    file: str = ""
    start_char: int = 0
    end_char: int = 0
    chunk_id: int = -1
    score: float = 0.0

    def citation(self) -> dict:
        return {
            "book": self.book,
            "section": self.section,
            "doc_id": self.doc_id,
            "text": self.text,
            "score": round(float(self.score), 4),
        }

    def with_score(self, score: float) -> "Passage":
        return Passage(**{**asdict(self), "score": float(score)})


@dataclass(frozen=True)
class Claim:
    """One atomic factual statement taken from an answer; span indexes into that answer."""

    text: str
    span: tuple[int, int]


class Support(str, Enum):
    SUPPORTED = "supported"
    CONTRADICTED = "contradicted"
    UNSUPPORTED = "unsupported"


class Verdict(str, Enum):
    GROUNDED = "grounded"
    CORRECTED = "corrected"
    FLAGGED = "flagged"
    ABSTAINED = "abstained"


@dataclass(frozen=True)
class Evidence:
    """A passage weighed against a claim, with the verifier's probabilities."""

    passage: Passage
    p_supported: float
    p_contradicted: float
    p_unsupported: float


class Check(str, Enum):
    """The check that decided a claim's verdict (recorded in `ClaimVerdict.decided_by`)."""

    CLAIM_VERIFIER = "claim verifier"  # the trained verifier read the claim against the passages
    ANSWER_TERMS = "answer terms"  # a passage backs the wording but lacks what the claim adds to the question
    ARITHMETIC = "arithmetic"  # the sum was computed
    REFUTATION = "refutation"  # the passage restates the claim only to refute it
    SLOT_CONFLICT = "slot conflict"  # the books pair the claim's question with another name or number
    COVE = "chain of verification"  # the answer to an independent verification question, or its passages
    QUESTION_ANSWER = "question-answer check"  # the book's sentence that answers the question, quoted
    RETRIEVAL = "retrieval"  # no passage to check it against


@dataclass(frozen=True)
class ClaimVerdict:
    """One claim's verdict. Frozen: a check that changes it returns a new one (`decided`), saying which check it
    was and why, so no verdict is edited behind another check's back."""

    claim: Claim
    support: Support
    score: float
    evidence: Evidence | None = None
    correction: str | None = None
    cove_question: str | None = None
    cove_answer: str | None = None
    missing_terms: tuple[str, ...] = ()  # the claim's answer terms its closest passage lacks (unsupported claims)
    decided_by: Check = Check.CLAIM_VERIFIER
    why: str = ""  # what that check found, in a sentence a reviewer can read

    def decided(self, support: Support, score: float, decided_by: Check, why: str, evidence: Evidence | None = None, **changes) -> "ClaimVerdict":
        """This verdict as the check `decided_by` decides it (and why); `changes` are other fields it sets."""
        return replace(self, support=support, score=float(score), decided_by=decided_by, why=why,
                       evidence=evidence if evidence is not None else self.evidence, **changes)

    def to_json(self) -> dict:
        return {
            "text": self.claim.text,
            "span": list(self.claim.span),
            "verdict": self.support.value,
            "score": round(float(self.score), 4),
            "citation": self.evidence.passage.citation() if self.evidence else None,
            "cove_question": self.cove_question,
            "cove_answer": self.cove_answer,
            "correction": self.correction,
            "missing_terms": list(self.missing_terms),
            "decided_by": self.decided_by.value,
            "why": self.why,
        }


@dataclass
class AnswerVerdict:
    verdict: Verdict
    confidence: float
    claims: list[ClaimVerdict] = field(default_factory=list)
    revised_text: str = ""
    why: str = ""


class SafetyAction(str, Enum):
    ALLOWED = "allowed"  # the question (or answer) goes on as it is, perhaps with a span removed
    REDIRECTED = "redirected"  # the child gets a kind redirect in the tutor's voice instead of an answer
    BLOCKED = "blocked"  # nothing of the request or answer is shown; a short safe message is


@dataclass(frozen=True)
class SafetyDecision:
    """One safety layer's decision about one question or answer (engine/safety). `message` is what the child sees
    instead of an answer (empty when allowed); `evidence` is the span that decided it, for staff (PII-redacted)."""

    action: SafetyAction
    layer: str  # input | homework | retrieved | output
    category: str  # e.g. instruction_override, self_harm, homework_integrity, pii; "none" when nothing was found
    reason: str
    message: str = ""
    evidence: str = ""
    score: float | None = None  # the safety classifier's probability for its most likely harmful label (classifier layers)

    @property
    def stops(self) -> bool:
        return self.action is not SafetyAction.ALLOWED

    def to_json(self) -> dict:
        out = {"action": self.action.value, "layer": self.layer, "category": self.category, "reason": self.reason}
        if self.score is not None:
            out["score"] = round(float(self.score), 4)
        return out


@dataclass
class Answer:
    """What the tutor returns for one question: the text a student may see, and how it was reached."""

    question: str
    text: str
    passages: list[Passage]
    model: str
    timings: dict[str, float] = field(default_factory=dict)
    verdict: AnswerVerdict | None = None
    safety: SafetyDecision | None = None  # the summary of every layer's decision (engine/safety)
    safety_trail: list[SafetyDecision] = field(default_factory=list)  # every layer's decision, in order
    model_manifest: dict | None = None  # engine.models.manifest.ModelManifest.to_dict(): which model said this

    def to_json(self) -> dict:
        out = {
            "question": self.question,
            "answer": self.text,
            "citations": [p.citation() for p in self.passages],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "model": self.model_manifest or self.model,  # the manifest when the tutor knows it
        }
        if self.verdict is not None:
            out.update(
                verdict=self.verdict.verdict.value,
                confidence=round(float(self.verdict.confidence), 4),
                revised_answer=self.verdict.revised_text,
                why=self.verdict.why,
                claims=[c.to_json() for c in self.verdict.claims],
            )
        if self.safety is not None:
            out["safety"] = self.safety.to_json()
            out["safety_checks"] = [d.to_json() for d in self.safety_trail]
        return out
