"""The tutoring pipeline, read top to bottom:

    safety (the question) → retrieve → is it in the books? → generate → vote → decompose → verify → CoVe
        (with slot conflicts) → revise → does it answer the question? → verdict → safety (the answer)

`ask` runs the whole story for a student's question, in one of two orders (`[verification] mode`): `always` samples N
answers, votes, and runs every check on the chosen one; `cascade` checks one greedy draft first, and pays for CoVe and
then voting only while its claims stay unsure. "Is it in the books?" abstains before any generation when no sentence
of the top passages is about what was asked. Verify weighs each claim against its passages (the claim verifier, with
answer terms, arithmetic and refutation: verifiers/verdict.py); CoVe asks a question per unsure claim and answers it
from the books, independently. Revise replaces a contradicted claim with the book's sentence that answers the
question; a shown answer that still does not answer it is replaced by the book's own sentence, cited. Every claim's
verdict records which check decided it and why.

`check` starts at "decompose" with an answer a teacher pasted in (or a test fixed), so the same verification judges
any text. Nothing reaches the caller before verification has finished. The models and checkers are a `Components` record
(engine/components.py), built lazily on first use and kept, so a long-running app pays for loading once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from engine.components import Components
from engine.core.config import Config
from engine.core.text import NOT_IN_BOOKS, says_not_in_books
from engine.core.text import sentences as split_sentences
from engine.core.timing import StageTimings, timed
from engine.core.vocabulary import Answer, AnswerVerdict, Claim, ClaimVerdict, Passage, Support, Verdict
from engine.models.requests import GenerationRequest, Generator
from engine.prompts import grounded_messages
from engine.safety import SafetyRails, SafetySession
from engine.safety.rails import DISABLED
from verifiers import verdict as verdicts
from verifiers.answerability import narrow
from verifiers.answers_question import (
    answers,
    as_statement,
    clean_sentence,
    is_belief,
    kid_words,
    polarity_no,
    question_kind,
    short_answer_claim,
)
from verifiers.arithmetic import check_claim, find_arithmetic
from verifiers.cove_questions import plan_questions
from verifiers.refutation import refutes

log = logging.getLogger(__name__)


class Tutor:
    """`ask` and `check`, over `components` (engine/components.py: built from the config on first use unless given)."""

    def __init__(self, config: Config, components: Components | None = None):
        self.config = config
        self.components = components if components is not None else Components(config)
        self._variants: dict[tuple, Tutor] = {}

    # --- the story ------------------------------------------------------------------------------------------
    def ask(self, question: str, session: SafetySession | None = None, on_stage: Callable[[str], None] | None = None) -> Answer:
        """Answer a student's question from the books, checked before it is returned. The safety layers
        (engine/safety) come first and last: a question they stop gets a kind redirect and no generation; the
        final answer goes through the output layer. `session` carries one conversation's turns (escalation,
        rate limit); without it each question is judged alone. `on_stage(stage)` hears each stage as it starts
        ("safety", "retrieve", "generate", "vote", "decompose", "verify", "cove", "revise")."""
        if not self.config.safety.enabled:
            return replace(self._answer_from_books(question, on_stage), safety=DISABLED)
        timings = StageTimings(on_stage)
        with timed(timings, "safety"):
            screened = self.safety.screen_question(question, session)
        if screened.stopped:
            return self.safety.redirect(question, screened, self.model_name, timings)
        answer = self._answer_from_books(question, on_stage)
        with timed(timings, "safety"):
            answer = self.safety.screen_answer(answer, screened.decisions, self._raw_passage_text)
        answer.timings["safety"] = timings["safety"]
        return answer

    def _answer_from_books(self, question: str, on_stage: Callable[[str], None] | None = None) -> Answer:
        """retrieve → is it in the books? → generate → vote → decompose → verify → CoVe → revise → verdict, in one of
        two orders: `always` runs every check on every answer; `cascade` checks one greedy draft first and pays for
        more only while claims stay unsure."""
        question = kid_words(question)  # "whats the biggest planet" is read as "what is the largest planet"
        timings = StageTimings(on_stage)
        v = self.config.verification

        with timed(timings, "retrieve"):
            # a child's words read as the books' ("world war 2" → "World War II", "whats" → "what is")
            passages = self.retriever.retrieve(kid_words(question))
            book = self.answerability.best_sentence(kid_words(question), passages)
        if not passages or book is None:
            return self._abstain(question, timings, "Nothing in the books is about this question.")
        if book.relevance < v.answerable_threshold:
            why = f"The closest passages ({book.passage.section}) do not talk about what the question asks."
            return self._abstain(question, timings, why, passages)
        strategy = self._cascade if v.mode == "cascade" else self._always_on
        return strategy(question, passages, book, timings)

    def _always_on(self, question: str, passages: list[Passage], book, timings: dict[str, float]) -> Answer:
        """N sampled answers, the vote, and every claim of the chosen one verified and re-asked (CoVe)."""
        v = self.config.verification
        with timed(timings, "generate"):
            samples = self.generate_answers(question, passages, n=v.samples, temperature=v.temperature) if v.samples > 0 else []
        return self._vote_and_verify(question, passages, book, timings, samples)

    def _cascade(self, question: str, passages: list[Passage], book, timings: dict[str, float]) -> Answer:
        """The cheap path first: one greedy answer, checked claim by claim against the passages. Claims the passages
        leave unsure get chain-of-verification; only claims still unsure after that pay for voting, the dearest
        check, and the checked draft keeps its vote."""
        v = self.config.verification
        with timed(timings, "generate"):
            drafts = self.generate_answers(question, passages, n=1, temperature=0.0)
        if says_not_in_books(drafts[0]):
            return self._abstain(question, timings, "The model found no answer in the passages.", passages, generated=True)
        draft = self.verify(question, drafts[0], passages, timings, cove=False)
        if draft.claims and not _settled(draft, v.cascade_confidence) and v.cove:
            draft = self.recheck_with_cove(question, draft, timings)
        # a draft with nothing checkable in it (only remarks about the text) is settled too: the book's own
        # sentence answers instead, when the books cover the question
        if not draft.claims or _settled(draft, v.cascade_confidence):
            return self._finish(question, passages, timings, draft, book)
        with timed(timings, "generate"):
            more = max(v.samples - len(drafts), 0)
            samples = drafts + (self.generate_answers(question, passages, n=more, temperature=v.temperature) if more else [])
        return self._vote_and_verify(question, passages, book, timings, samples, draft)

    def _vote_and_verify(self, question: str, passages: list[Passage], book, timings: dict[str, float], samples: list[str],
                         draft: AnswerVerdict | None = None) -> Answer:
        """The answer most samples agree on, verified (a cascade's checked draft is kept when the vote backs it)."""
        v = self.config.verification
        with timed(timings, "vote"):
            vote = self.voter.vote(samples)
        if says_not_in_books(vote.chosen):
            return self._abstain(question, timings, "The model found no answer in the passages.", passages, generated=True)
        if draft is not None and draft.claims and _same_group(vote, 0, vote.chosen_index):
            with timed(timings, "revise"):  # the vote backs the draft, whose claims are already checked
                verdict = verdicts.finish(draft.claims, True, v, vote.consistency)
        else:
            verdict = self.verify(question, vote.chosen, passages, timings, cove=v.cove, consistency=vote.consistency)
        return self._finish(question, passages, timings, verdict, book)

    def check(self, question: str, answer_text: str, on_stage: Callable[[str], None] | None = None) -> Answer:
        """Verify a given answer against the books (no generation of the answer itself). A word or phrase answer
        ("Delhi") is checked as the claim it makes with the question's words ("… head office in Delhi.")."""
        timings = StageTimings(on_stage)
        with timed(timings, "retrieve"):
            asked = kid_words(question)
            passages = self.retriever.retrieve(asked) if question.strip() else []
        claim = short_answer_claim(question, answer_text)
        if claim is not None and not self.decomposer.beyond_question(self.decomposer.decompose(answer_text), question):
            answer_text = claim
        verdict = self.verify(asked, answer_text, passages, timings, cove=self.config.verification.cove, require_passages=bool(question.strip()))
        if question.strip() and passages and verdict.verdict is not Verdict.ABSTAINED:
            # a checked answer that does not answer the question is replaced by the book's sentence that does
            checked = self._finish(asked, passages, timings, verdict, None).verdict
            if checked.revised_text != verdict.revised_text:
                kind = Verdict.ABSTAINED if checked.verdict is Verdict.ABSTAINED else Verdict.CORRECTED
                verdict = replace(checked, verdict=kind, claims=verdict.claims + [c for c in checked.claims if c not in verdict.claims])
        answer = Answer(question, verdict.revised_text, passages, "(given answer)", timings, verdict)
        if not self.config.safety.enabled:
            return replace(answer, safety=DISABLED)
        with timed(timings, "safety"):
            return self.safety.screen_answer(answer, [], self._raw_passage_text)

    def verify(
        self,
        question: str,
        answer: str,
        passages: list[Passage],
        timings: dict[str, float],
        cove: bool = True,
        consistency: float | None = None,
        require_passages: bool = True,
    ) -> AnswerVerdict:
        if require_passages and not passages:
            return verdicts.finish([], False, self.config.verification)
        with timed(timings, "decompose"):
            claims = _with_arithmetic(answer, self.decomposer.beyond_question(self.decomposer.decompose(answer), question))
        if not claims:
            return verdicts.finish([], True, self.config.verification)
        with timed(timings, "verify"):
            claim_verdicts = self.verify_claims(claims, passages, question)
        if cove:
            with timed(timings, "cove"):
                self.chain_of_verification(claim_verdicts, question)
        with timed(timings, "revise"):
            self.write_corrections(claim_verdicts, question, passages)
            result = verdicts.finish(claim_verdicts, True, self.config.verification, consistency)
        return result

    def recheck_with_cove(self, question: str, verdict: AnswerVerdict, timings: dict[str, float]) -> AnswerVerdict:
        """Chain-of-verification for an already checked answer's unsure claims, then its verdict again."""
        claim_verdicts = list(verdict.claims)  # the first verdict stays as it was
        with timed(timings, "cove"):
            self.chain_of_verification(claim_verdicts, question)
        with timed(timings, "revise"):
            self.write_corrections(claim_verdicts, question)
            return verdicts.finish(claim_verdicts, True, self.config.verification)

    # --- the steps ------------------------------------------------------------------------------------------
    def generate_answers(self, question: str, passages: list[Passage], n: int, temperature: float) -> list[str]:
        request = GenerationRequest(
            grounded_messages(question, passages), n=n, temperature=temperature, max_new_tokens=self.config.generation.max_new_tokens
        )
        return self.generator.generate([request])[0]

    def verify_claims(self, claims: list[Claim], question_passages: list[Passage], question: str = "") -> list[ClaimVerdict]:
        """Each claim against its evidence: the question's passages plus those retrieved for the claim itself.
        Every (claim, passage) pair of the answer goes to the verifier in one batched call. With a question, only
        a passage that contains what the claim adds to it (its answer terms) can back the claim."""
        v = self.config.verification
        evidence: list[list[Passage]] = []
        for claim in claims:
            own = self.retriever.retrieve(claim.text, top_k=v.evidence_per_claim)
            merged = {p.chunk_id: p for p in own + question_passages}
            evidence.append(list(merged.values()))
        pair_claims = [c.text for c, ps in zip(claims, evidence) for _ in ps]
        pair_passages = [verdicts.plain_text(p.text) for ps in evidence for p in ps]
        probs, refuted = self.score_pairs_marking_refutations(pair_claims, pair_passages)
        missing = self.missing_answer_terms(question, [c.text for c in claims], [[verdicts.plain_text(p.text) for p in ps] for ps in evidence])
        out, row = [], 0
        for i, (claim, ps) in enumerate(zip(claims, evidence)):
            lacking = missing[i] if missing else None
            out.append(verdicts.decide_claim(claim, ps, probs[row : row + len(ps)], check_claim(claim.text), v, lacking, refuted[row : row + len(ps)]))
            row += len(ps)
        return out

    def missing_answer_terms(self, question: str, claims: list[str], passages: list[list[str]]) -> list[list[tuple[str, ...]]] | None:
        """Per claim and passage, the claim's answer terms the passage lacks; None when there is no question to
        tell the answer from what was asked, or when the check is switched off."""
        if not question.strip() or not self.config.verification.require_answer_terms:
            return None
        return self.answer_terms.missing(question, claims, passages)

    def chain_of_verification(self, claim_verdicts: list[ClaimVerdict], question: str = "") -> None:
        """Factored CoVe: one question per claim, answered from the books without the draft in sight, all
        questions in one batched generate call; then one verifier call weighs each claim against its
        independent answer and against the passages its question retrieved. The claims it changes are replaced in
        `claim_verdicts` by their new (frozen) verdicts."""
        v = self.config.verification
        where = [i for i, cv in enumerate(claim_verdicts) if cv.correction is None]
        if v.mode == "cascade":  # a claim a passage firmly backs cannot be overruled by CoVe (apply_cove): skip it
            where = [i for i in where if not (claim_verdicts[i].support is Support.SUPPORTED and claim_verdicts[i].score >= v.support_threshold)]
        if not where:
            return
        todo = [claim_verdicts[i] for i in where]
        questions = plan_questions([cv.claim.text for cv in todo])
        contexts = [[narrow(p, q) for p in self.retriever.retrieve(q, top_k=2)] for q in questions]
        requests = [
            GenerationRequest(grounded_messages(q, ctx), n=1, temperature=0.0, max_new_tokens=v.cove_max_new_tokens)
            for q, ctx in zip(questions, contexts)
            if ctx
        ]
        generated = iter(a[0] for a in self.generator.generate(requests)) if requests else iter(())
        answers = [next(generated) if ctx else NOT_IN_BOOKS for ctx in contexts]
        pair_claims, pair_premises = [], []
        for cv, q, a, ctx in zip(todo, questions, answers, contexts):
            pair_claims += [cv.claim.text] * (1 + len(ctx))
            pair_premises += [f"{q} {a}"] + [verdicts.plain_text(p.text) for p in ctx]
        probs = self.score_pairs(pair_claims, pair_premises)
        missing = self.missing_answer_terms(question, [cv.claim.text for cv in todo], [[verdicts.plain_text(p.text) for p in ctx] for ctx in contexts])
        row = 0
        for i, (cv, q, a, ctx) in enumerate(zip(todo, questions, answers, contexts)):
            lacking = missing[i] if missing else None
            cv = verdicts.apply_cove(cv, q, a, probs[row], ctx, probs[row + 1 : row + 1 + len(ctx)], v, lacking)
            if v.slot_conflicts and ctx:
                cv = self.correct_slot_conflict(cv, q, a, ctx, probs[row + 1 : row + 1 + len(ctx)])
            claim_verdicts[where[i]] = cv
            row += 1 + len(ctx)

    def correct_slot_conflict(self, cv: ClaimVerdict, question: str, independent: str, ctx: list[Passage], ctx_probs: np.ndarray) -> ClaimVerdict:
        """A claim naming another name or number than the one the books pair with its question is corrected from
        the book's sentence (verifiers/slot_conflict.py). Arithmetic is settled by computing it."""
        if cv.support is Support.CONTRADICTED or check_claim(cv.claim.text) is not None:
            return cv
        conflict = self.slot_conflicts.find(question, cv.claim.text, independent, [verdicts.passage_sentences(p) for p in ctx])
        return cv if conflict is None else verdicts.apply_slot_conflict(cv, conflict, ctx, ctx_probs, self.config.verification)

    def score_pairs(self, claims: list[str], premises: list[str]) -> np.ndarray:
        """(n, 3) probabilities [supported, contradicted, unsupported] for claims[i] against premises[i], batched."""
        return self.score_pairs_marking_refutations(claims, premises)[0]

    def score_pairs_marking_refutations(self, claims: list[str], premises: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """score_pairs, and which pairs the refutation check decided: a premise that restates the claim only to
        refute it ("Some people think … That is not true.") contradicts it, whatever the similarity signals say."""
        if not claims:
            return np.zeros((0, 3)), np.zeros(0, bool)
        scored = self.verifier.predict(claims, premises)
        probs = np.array([[d["p_supported"], d["p_contradicted"], d["p_unsupported"]] for _, _, d in scored])
        refuted = np.zeros(len(claims), bool)
        for i, (claim, premise) in enumerate(zip(claims, premises)):
            if probs[i, 0] >= 0.3 and refutes(claim, premise):
                probs[i] = (0.02, 0.95, 0.03)
                refuted[i] = True
        return probs, refuted

    def write_corrections(self, claim_verdicts: list[ClaimVerdict], question: str = "", passages: list[Passage] = ()) -> None:
        """A contradicted claim is replaced by a clean sentence of its evidence passage that answers the question
        (verifiers/answers_question.py), the one closest to the question and the claim together; not by the
        sentence merely most similar to the claim. With no such sentence there is no correction (the claim is
        left out). Corrected verdicts replace their entries in `claim_verdicts`."""
        asked = kid_words(question)
        for k, cv in enumerate(claim_verdicts):
            if cv.support is not Support.CONTRADICTED or cv.correction or cv.evidence is None:
                continue
            pool = [cv.evidence.passage] + [p for p in passages if p.chunk_id != cv.evidence.passage.chunk_id][:3]
            sentences = [c for c in dict.fromkeys(clean_sentence(s) for p in pool for s in verdicts.passage_sentences(p)) if c and not is_belief(c)]
            if asked.strip():
                sentences = [s for s in sentences if answers(asked, s, min_coverage=0.3)]
            if not sentences:
                claim_verdicts[k] = replace(cv, why=f"{cv.why} No sentence of its passages answers the question, so it is left out.".strip())
                continue
            vectors = self.retriever.embedder.embed([cv.claim.text, asked or cv.claim.text] + sentences)
            closeness = 2 * (vectors[2:] @ vectors[0]) + vectors[2:] @ vectors[1]
            # of the closest few, the one that most clearly contradicts the claim: a correction says the claim is wrong
            top = [int(i) for i in np.argsort(-closeness)[:4]]
            contra = self.score_pairs([cv.claim.text] * len(top), [sentences[i] for i in top])[:, 1]
            claim_verdicts[k] = replace(cv, correction=sentences[top[int(np.argmax(contra + 0.25 * closeness[top]))]])

    def _finish(self, question: str, passages: list[Passage], timings: dict, verdict: AnswerVerdict, book) -> Answer:
        """What the child sees must answer the question (verifiers/answers_question.py). The verified answer when it
        does; else the book's own clean sentence that answers it, cited; a yes/no question gets "Yes."/"No." with
        that sentence; when no retrieved sentence answers, "not in my books" with the pages that might help."""
        v = self.config.verification
        asked = kid_words(question)
        with timed(timings, "revise"):
            answer_sentence = self.answerability.best_answer(asked, passages)
            shown = verdict.verdict is not Verdict.ABSTAINED
            if question_kind(asked) == "yesno" and answer_sentence is not None and (shown or v.quote_fallback):
                verdict = self.yes_or_no(asked, answer_sentence, verdict, passages)
            elif shown and not _answers_cleanly(asked, verdict.revised_text):
                if answer_sentence is not None and v.quote_fallback:
                    verdict = verdicts.quote_book(answer_sentence, verdict, v, replaced=True)
                else:
                    pages = ", ".join(dict.fromkeys(p.section for p in passages[:3]))
                    why = f"No sentence of the retrieved pages answers the question; these pages might help: {pages}."
                    verdict = AnswerVerdict(Verdict.ABSTAINED, verdict.confidence, verdict.claims, NOT_IN_BOOKS, why)
            elif not shown and v.quote_fallback:
                verdict = verdicts.quote_book(answer_sentence, verdict, v)
        return Answer(question, verdict.revised_text, passages, self.model_name, timings, verdict, model_manifest=self.model_manifest)

    def yes_or_no(self, question: str, sentence, verdict: AnswerVerdict, passages: list[Passage] = ()) -> AnswerVerdict:
        """ "Yes." or "No." with the book's sentence that answers a yes/no question. No when the sentence denies what
        the question asks, or the claim verifier reads it as contradicting the question's statement; yes when it
        backs it; otherwise the sentence alone (the book's words, without a yes or no it does not give)."""
        # of the few best answering sentences, the one that decides the question most clearly, yes or no
        options = [sentence] + [s for s in self.answerability.answers(question, passages)[:3] if s.text != sentence.text]
        scored = self.score_pairs([as_statement(question)] * len(options), [s.text for s in options])
        decisive = np.maximum(scored[:, 0], scored[:, 1]) + np.array([0.5 * polarity_no(question, s.text) + 2 * s.relevance for s in options])
        pick = int(np.argmax(decisive))
        sentence, probs = options[pick], scored[pick]
        v = self.config.verification
        if polarity_no(question, sentence.text) or probs[1] >= v.contradiction_threshold:
            lead = "No. "
        elif probs[0] >= v.support_threshold:
            lead = "Yes. "
        else:
            lead = ""
        quoted = verdicts.quote_book(sentence, verdict, v, replaced=verdict.verdict is not Verdict.ABSTAINED)
        quoted.revised_text = lead + quoted.revised_text
        if lead and quoted is not verdict:
            quoted.claims[-1] = replace(quoted.claims[-1], why=f"{quoted.claims[-1].why} It answers the yes-or-no question: {lead.strip()}")
        return quoted

    def _abstain(self, question: str, timings: dict, why: str, passages: list[Passage] = (), generated: bool = False) -> Answer:
        """NOT_IN_BOOKS. The model's manifest is logged only when the model was asked (`generated`): an abstention
        decided from retrieval alone was said by no model, and must not load one just to name it."""
        verdict = AnswerVerdict(Verdict.ABSTAINED, 1.0, [], NOT_IN_BOOKS, why)
        manifest = self.model_manifest if generated else None
        return Answer(question, NOT_IN_BOOKS, list(passages), self.model_name, timings, verdict, model_manifest=manifest)

    def variant(self, **verification_changes) -> "Tutor":
        """A tutor with other verification settings (e.g. mode="cascade") sharing this one's components. Asked
        twice for the same settings, it is the same tutor."""
        key = tuple(sorted(verification_changes.items()))
        if key not in self._variants:
            components = self.components.with_verification(**verification_changes)
            self._variants[key] = Tutor(components.config, components)
        return self._variants[key]

    def sharing(self, retriever, generator: Generator, verifier, safety: SafetyRails) -> "Tutor":
        """This tutor with other instances of its models (engine/classroom.py passes ones whose calls are batched
        across students)."""
        return Tutor(self.config, self.components.sharing(retriever, generator, verifier, safety))

    def _raw_passage_text(self, chunk_id: int) -> str | None:
        """A passage as its book has it, before planted instructions were neutralised (for the output layer)."""
        raw = getattr(self.retriever, "raw_text", None)
        return raw(chunk_id) if raw is not None else None

    # --- components (read-only: give others through Components) ------------------------------------------------
    safety = property(lambda self: self.components.safety)
    retriever = property(lambda self: self.components.retriever)
    generator = property(lambda self: self.components.generator)
    verifier = property(lambda self: self.components.verifier)
    answerability = property(lambda self: self.components.answerability)
    answer_terms = property(lambda self: self.components.answer_terms)
    slot_conflicts = property(lambda self: self.components.slot_conflicts)
    decomposer = property(lambda self: self.components.decomposer)
    voter = property(lambda self: self.components.voter)

    @property
    def model_name(self) -> str:
        return self.config.generator

    @property
    def model_manifest(self) -> dict | None:
        """What model answers (path, fingerprint, parameters...), for the log and `ask --json`."""
        manifest = getattr(self.generator, "manifest", None)
        return manifest.to_dict() if manifest is not None else None


def _answers_cleanly(question: str, text: str) -> bool:
    """The shown text answers the question, and every sentence of it is clean prose that reports no belief alone."""
    sentences = split_sentences(text)
    if not sentences or not answers(question, text):
        return False
    return all(clean_sentence(s) is not None and not is_belief(s) for s in sentences if len(s.split()) >= 4)


def _with_arithmetic(answer: str, claims: list[Claim]) -> list[Claim]:
    """Sums like "7 x 8 = 54" have no verb for the parser to find; every one becomes a claim of its own."""
    extra = [
        Claim(answer[a.span[0] : a.span[1]].strip(), a.span)
        for a in find_arithmetic(answer)
        if not any(c.span[0] <= a.span[0] < c.span[1] for c in claims)
    ]
    return sorted(claims + extra, key=lambda c: c.span)


def _settled(verdict: AnswerVerdict, threshold: float) -> bool:
    """The checks decided every claim firmly: backed by a passage (p ≥ threshold), clearly backed by none
    (p(supported) ≤ 1 − threshold), or contradicted and replaced by the book's own sentence (whatever the score,
    what the student sees there is the book; CoVe never reopens a corrected claim). Only claims in between are
    worth more checking."""
    if not verdict.claims:
        return False
    for c in verdict.claims:
        if c.support is Support.SUPPORTED and c.score >= threshold:
            continue
        if c.support is Support.CONTRADICTED and c.correction:
            continue
        if c.support is Support.UNSUPPORTED and c.score <= 1.0 - threshold:
            continue
        return False
    return True


def _same_group(vote, i: int, j: int) -> bool:
    return any(i in group and j in group for group in vote.groups)
