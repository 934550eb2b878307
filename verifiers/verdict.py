"""From per-passage probabilities to per-claim verdicts, then to the revised answer and its overall verdict.

The books are the truth here: a claim that may be true in general but is not backed by an approved passage is
unsupported. A contradicted claim is replaced by what its evidence says; unsupported claims are flagged or
dropped by policy; when nothing supported is left, the tutor abstains.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from engine.core.config import VerificationConfig
from engine.core.text import NOT_IN_BOOKS, sentences
from engine.core.vocabulary import AnswerVerdict, Check, Claim, ClaimVerdict, Evidence, Passage, Support, Verdict
from verifiers.arithmetic import ArithmeticClaim
from verifiers.slot_conflict import Conflict

# Heading marks anywhere; list markers only where a line starts ("It ended in 1945. Then…" keeps its year).
MARKDOWN_NOISE = re.compile(r"^[ \t]*(?:#{1,6}|[-*•]|\d+[.)])[ \t]+|(?<=\s)#{1,6}[ \t]+", re.M)


def decide_claim(
    claim: Claim,
    passages: list[Passage],
    probs: np.ndarray,
    arithmetic: ArithmeticClaim | None,
    config: VerificationConfig,
    missing: Sequence[tuple[str, ...]] | None = None,
    refuted: Sequence[bool] | None = None,
) -> ClaimVerdict:
    """probs: (len(passages), 3) = [supported, contradicted, unsupported] for this claim against each passage.
    missing[j]: the claim's answer terms passage j lacks (verifiers/answer_terms.py); only a passage that has
    them all can back the claim. refuted[j]: passage j restates the claim only to refute it (its probabilities
    already say so). The verdict records which check decided it and why."""
    if arithmetic is not None and arithmetic.correct is not None:
        if arithmetic.correct:
            return ClaimVerdict(claim, Support.SUPPORTED, 1.0, _evidence(passages, probs, 0), decided_by=Check.ARITHMETIC,
                                why="Computed, the sum is right.")
        return ClaimVerdict(claim, Support.CONTRADICTED, 1.0, _evidence(passages, probs, 0), correction=as_sentence(arithmetic.corrected_text),
                            decided_by=Check.ARITHMETIC, why=f"Computed, the sum is wrong: {as_sentence(arithmetic.corrected_text)}")
    if not passages:
        return ClaimVerdict(claim, Support.UNSUPPORTED, 0.0, decided_by=Check.RETRIEVAL, why="No passage of the books was found to check it against.")
    grounds = np.ones(len(passages), bool) if missing is None else np.array([not m for m in missing])
    backing = np.where(grounds, probs[:, 0], 0.0)
    best_support = int(np.argmax(backing))
    best_contra = int(np.argmax(probs[:, 1]))
    p_support, p_contra = float(backing[best_support]), float(probs[best_contra, 1])
    # One approved passage that backs the claim outweighs another that seems to disagree: passages on
    # neighbouring topics often "conflict" on a detail they are not about.
    if p_support >= config.support_threshold:
        return ClaimVerdict(claim, Support.SUPPORTED, p_support, _evidence(passages, probs, best_support),
                            why=f"\"{passages[best_support].section}\" backs it (p={p_support:.2f}).")
    if p_contra >= config.contradiction_threshold:
        if refuted is not None and refuted[best_contra]:
            check, why = Check.REFUTATION, f"\"{passages[best_contra].section}\" states it only to say it is not true."
        else:
            check, why = Check.CLAIM_VERIFIER, f"\"{passages[best_contra].section}\" contradicts it (p={p_contra:.2f})."
        return ClaimVerdict(claim, Support.CONTRADICTED, p_contra, _evidence(passages, probs, best_contra), decided_by=check, why=why)
    closest = int(np.argmax(probs[:, 0]))
    lacking = tuple(missing[closest]) if missing is not None else ()
    if lacking and probs[closest, 0] >= config.support_threshold:
        check = Check.ANSWER_TERMS
        why = (f"\"{passages[closest].section}\" matches its wording (p={probs[closest, 0]:.2f}) but does not say "
               f"{', '.join(repr(t) for t in lacking)}.")
    else:
        check, why = Check.CLAIM_VERIFIER, f"No passage backs it; the closest, \"{passages[closest].section}\", scores p={probs[closest, 0]:.2f}."
    return ClaimVerdict(claim, Support.UNSUPPORTED, float(probs[closest, 0]), _evidence(passages, probs, closest), missing_terms=lacking,
                        decided_by=check, why=why)


def _evidence(passages: list[Passage], probs: np.ndarray, i: int) -> Evidence | None:
    if not passages:
        return None
    return Evidence(passages[i], float(probs[i, 0]), float(probs[i, 1]), float(probs[i, 2]))


def plain_text(text: str) -> str:
    """Passage text without Markdown heading and list markers, as the verifier should read it."""
    return " ".join(MARKDOWN_NOISE.sub(" ", text).split())


def passage_sentences(passage: Passage) -> list[str]:
    text = MARKDOWN_NOISE.sub(" ", passage.text)
    return [s for s in sentences(text) if len(s.split()) >= 3 and not s.endswith("?")]


def as_sentence(text: str) -> str:
    text = " ".join(text.split()).strip()
    if text and text[-1] not in ".!?":
        text += "."
    return text[:1].upper() + text[1:]


def apply_cove(
    verdict: ClaimVerdict,
    question: str,
    answer: str,
    answer_probs: np.ndarray,
    passages: list[Passage],
    passage_probs: np.ndarray,
    config: VerificationConfig,
    missing: Sequence[tuple[str, ...]] | None = None,
) -> ClaimVerdict:
    """Factored CoVe (returns the claim's verdict after it). The independent answer (given with its question) is weighed against the claim; the
    passages retrieved for the verification question are new evidence. Disagreement on a claim the first
    evidence did not firmly back marks it for revision: contradicted where a passage contradicts it,
    otherwise unconfirmed. Agreement never overrules the books: only a passage can make a claim supported, and only
    one that contains the claim's answer terms (missing[j] empty)."""
    verdict = replace(verdict, cove_question=question, cove_answer=answer)
    p_agree, p_disagree = float(answer_probs[0]), float(answer_probs[1])
    if verdict.support is Support.UNSUPPORTED and len(passages):
        backing = passage_probs[:, 0] if missing is None else np.where([not m for m in missing], passage_probs[:, 0], 0.0)
        best = int(np.argmax(backing))
        if backing[best] >= config.support_threshold:
            return verdict.decided(Support.SUPPORTED, backing[best], Check.COVE,
                                   f"The passage found for \"{question}\", \"{passages[best].section}\", backs it (p={backing[best]:.2f}).",
                                   _evidence(passages, passage_probs, best), missing_terms=())
    # The books outweigh the small generator: a claim a passage backs is never overruled by its answer.
    firmly_backed = verdict.support is Support.SUPPORTED and verdict.score >= config.support_threshold
    disagrees = p_disagree >= config.contradiction_threshold and p_disagree > p_agree
    if not disagrees or firmly_backed or verdict.support is Support.CONTRADICTED:
        return verdict
    if len(passages):
        worst = int(np.argmax(passage_probs[:, 1]))
        if passage_probs[worst, 1] >= config.contradiction_threshold:
            return verdict.decided(Support.CONTRADICTED, passage_probs[worst, 1], Check.COVE,
                                   f"Asked \"{question}\", the books answer \"{answer}\", and \"{passages[worst].section}\" "
                                   f"contradicts it (p={passage_probs[worst, 1]:.2f}).",
                                   _evidence(passages, passage_probs, worst))
    return verdict.decided(Support.UNSUPPORTED, min(verdict.score, 1.0 - p_disagree), Check.COVE,
                           f"Asked \"{question}\", the books answer \"{answer}\", which disagrees with it (p={p_disagree:.2f}).")


def apply_slot_conflict(verdict: ClaimVerdict, conflict: Conflict, passages: list[Passage], passage_probs: np.ndarray, config: VerificationConfig) -> ClaimVerdict:
    """The books pair the claim's question with another name or number (verifiers/slot_conflict.py): the claim is
    contradicted, whatever the verifier scored, and the book's sentence is its correction."""
    p_contra = float(passage_probs[conflict.passage, 1])
    return verdict.decided(Support.CONTRADICTED, max(p_contra, config.contradiction_threshold), Check.SLOT_CONFLICT,
                           f"The books answer its question with \"{' '.join(conflict.book_answer)}\", not \"{' '.join(conflict.claim_answer)}\".",
                           _evidence(passages, passage_probs, conflict.passage), correction=as_sentence(conflict.sentence), missing_terms=())


def finish(
    claims: list[ClaimVerdict], had_passages: bool, config: VerificationConfig, consistency: float | None = None
) -> AnswerVerdict:
    """Revise the answer from the claim verdicts and decide what the student is shown."""
    if not had_passages:
        return AnswerVerdict(Verdict.ABSTAINED, 1.0, claims, NOT_IN_BOOKS, "Nothing in the books is about this question.")
    if not claims:
        return AnswerVerdict(Verdict.ABSTAINED, 0.5, claims, NOT_IN_BOOKS, "The answer made no factual claim that could be checked.")
    kept: list[str] = []
    supported = corrected = flagged = dropped = 0
    for verdict in claims:
        if verdict.support is Support.SUPPORTED:
            kept.append(verdict.claim.text)
            supported += 1
        elif verdict.support is Support.CONTRADICTED and verdict.correction:
            kept.append(verdict.correction)
            corrected += 1
        elif config.unsupported_policy == "flag" and verdict.support is Support.UNSUPPORTED and verdict.score >= config.flag_floor:
            kept.append(verdict.claim.text)
            flagged += 1
        else:
            dropped += 1
    scores = [v.score for v in claims]
    confidence = float(np.mean(scores)) * (consistency if consistency is not None else 1.0)
    if supported + corrected == 0:
        why = "None of the answer's claims is backed by the books."
        return AnswerVerdict(Verdict.ABSTAINED, confidence, claims, NOT_IN_BOOKS, why)
    revised = " ".join(_dedupe(kept))
    parts = [f"{supported} claim(s) backed by the books"]
    if corrected:
        parts.append(f"{corrected} corrected from the books")
    if flagged:
        parts.append(f"{flagged} could not be confirmed")
    if dropped:
        parts.append(f"{dropped} left out")
    why = "; ".join(parts) + "."
    if flagged:
        return AnswerVerdict(Verdict.FLAGGED, confidence, claims, revised, why)
    if corrected or dropped:
        return AnswerVerdict(Verdict.CORRECTED, confidence, claims, revised, why)
    return AnswerVerdict(Verdict.GROUNDED, confidence, claims, revised, why)


def _dedupe(sentences: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for s in sentences:
        key = s.lower().strip(" .")
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def quote_book(book, verdict: AnswerVerdict, config: VerificationConfig, replaced: bool = False) -> AnswerVerdict:
    """When no claim of the generated answer survived (or, `replaced`, what survived does not answer the
    question), a question the books clearly cover is answered with the book's own sentence (an
    `answerability.BookSentence`), cited: backed by construction, so grounded. The verdict is returned unchanged
    when there is no such sentence."""
    if book is None or (not replaced and book.relevance < config.answerable_threshold):
        return verdict
    text = as_sentence(book.text)
    if replaced:
        draft = "the checked answer did not answer the question"
    else:
        draft = (f"none of the model's {len(verdict.claims)} claim(s) could be confirmed" if verdict.claims
                 else "the model's answer made no claim that could be checked")
    quote = ClaimVerdict(Claim(text, (0, len(text))), Support.SUPPORTED, 1.0, Evidence(book.passage, 1.0, 0.0, 0.0),
                         decided_by=Check.QUESTION_ANSWER,
                         why=f"The book's own sentence that answers the question ({book.passage.section}), quoted because {draft}.")
    why = f"The books cover this question but {draft}, so this is the book's own sentence, from {book.passage.section}."
    return AnswerVerdict(Verdict.GROUNDED, round(book.relevance, 3), [quote], text, why)
