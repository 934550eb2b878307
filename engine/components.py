"""What a Tutor is made of: the models and checkers of the pipeline (engine/pipeline.py), in one record.

Each is built from the config on first use and kept (so a question turned away before generating loads no
generator, and a long-running app pays for loading once), or given ready-made: tests pass fakes in, the classroom
(engine/classroom.py) passes models whose calls are batched across students, and a tutor with other
verification settings shares its parent's.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property

from engine.core.config import Config
from engine.models.generator import build_generator
from engine.models.requests import Generator
from engine.safety import SafetyRails
from knowledge_base import library as store
from knowledge_base.embeddings import Embedder
from knowledge_base.ingest import ensure_sample_library
from knowledge_base.injection import QuotingRetriever
from knowledge_base.retrieval import Retriever
from verifiers.answer_terms import AnswerTerms
from verifiers.answerability import Answerability
from verifiers.claim_verifier import ClaimVerifier
from verifiers.decompose import ClaimDecomposer
from verifiers.self_consistency import SelfConsistency
from verifiers.slot_conflict import SlotConflicts

NAMES = ("safety", "retriever", "generator", "verifier", "answerability", "answer_terms", "slot_conflicts", "decomposer", "voter")
BUILT_ON_THE_VERIFIER = ("verifier", "answerability", "answer_terms", "slot_conflicts")


class Components:
    def __init__(self, config: Config, **ready):
        unknown = set(ready) - set(NAMES)
        if unknown:
            raise TypeError(f"unknown component(s) {sorted(unknown)}; a Tutor is made of {', '.join(NAMES)}")
        self.config = config
        self.__dict__.update(ready)  # cached_property reads the instance first: a given component is never built

    def loaded(self, name: str) -> bool:
        return name in self.__dict__

    def with_verification(self, **changes) -> "Components":
        """The same components (loaded once, shared) for a tutor whose `[verification]` settings differ by
        `changes`; the voter is built again when its similarity threshold changes."""
        config = replace(self.config, verification=replace(self.config.verification, **changes))
        keep = [name for name in NAMES if not (name == "voter" and "group_similarity" in changes)]
        if "nli_model" in changes:
            keep = [name for name in keep if name not in BUILT_ON_THE_VERIFIER]
        return Components(config, **{name: getattr(self, name) for name in keep})

    def sharing(self, retriever, generator: Generator, verifier: ClaimVerifier, safety: SafetyRails) -> "Components":
        """These components with other instances of the models (the classroom's batched ones). What is built on
        the embedder and the verifier's answers (answerability, voting) is built again on the new ones; the parsing
        components are shared as they are."""
        return Components(self.config, retriever=retriever, generator=generator, verifier=verifier, safety=safety,
                          decomposer=self.decomposer, answer_terms=self.answer_terms, slot_conflicts=self.slot_conflicts)

    # --- how each is built ------------------------------------------------------------------------------------
    @cached_property
    def safety(self) -> SafetyRails:
        return SafetyRails(self.config.safety)

    @cached_property
    def retriever(self):
        if self.config.library == "sample":
            ensure_sample_library(self.config)
        data = store.load(self.config.libraries_dir, self.config.library)
        retriever = Retriever(data, Embedder(self.config.embedder, precision=self.config.embedder_precision), self.config.retrieval)
        # every passage reaches the pipeline with planted instructions neutralised (knowledge_base/injection.py)
        return QuotingRetriever(retriever) if self.config.safety.enabled and self.config.safety.neutralise_passages else retriever

    @cached_property
    def generator(self) -> Generator:
        """The configured backend, its checkpoint validated first: a broken model raises StudyBuddyError with the
        reason here (the app shows it and answers nothing) instead of answering with garbage."""
        return build_generator(self.config)

    @cached_property
    def verifier(self) -> ClaimVerifier:
        return ClaimVerifier.load(self.config.cache_dir, nli_model=self.config.verification.nli_model, precision=self.config.embedder_precision)

    @cached_property
    def answerability(self) -> Answerability:
        return Answerability(self.retriever.embedder, self.verifier.docs)

    @cached_property
    def answer_terms(self) -> AnswerTerms:
        return AnswerTerms(self.verifier.docs)

    @cached_property
    def slot_conflicts(self) -> SlotConflicts:
        return SlotConflicts(self.verifier.docs)

    @cached_property
    def decomposer(self) -> ClaimDecomposer:
        return ClaimDecomposer()

    @cached_property
    def voter(self) -> SelfConsistency:
        return SelfConsistency(self.retriever.embedder, self.config.verification.group_similarity)
