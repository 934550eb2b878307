"""The tutoring pipeline, top to bottom: retrieve → generate → (verify) → answer.

Components are built lazily on first use and kept, so a long-running app pays for loading once.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from functools import cached_property

from engine.checkpoints import resolve_generator
from engine.config import Config
from engine.generator import GenerationRequest, TransformersGenerator
from engine.prompts import NOT_IN_BOOKS, grounded_messages
from engine.vocabulary import Answer, Passage

log = logging.getLogger(__name__)


class Tutor:
    def __init__(self, config: Config):
        self.config = config

    # --- components -------------------------------------------------------------------------------------
    @cached_property
    def retriever(self):
        from knowledge_base import library as store
        from knowledge_base.embeddings import Embedder
        from knowledge_base.ingest import ensure_sample_library
        from knowledge_base.retrieval import Retriever

        if self.config.library == "sample":
            ensure_sample_library(self.config)
        data = store.load(self.config.libraries_dir, self.config.library)
        return Retriever(data, Embedder(self.config.embedder), self.config.retrieval)

    @cached_property
    def generator(self) -> TransformersGenerator:
        folder = resolve_generator(self.config.generator, self.config.cache_dir)
        return TransformersGenerator(folder, threads=self.config.generation.threads)

    # --- the story ----------------------------------------------------------------------------------------
    def ask(self, question: str) -> Answer:
        timings: dict[str, float] = {}
        with _timed(timings, "retrieve"):
            passages = self.retriever.retrieve(question)
        if not passages:
            return Answer(question, NOT_IN_BOOKS, [], self.model_name, timings)
        with _timed(timings, "generate"):
            draft = self.answer_from(question, passages)
        return Answer(question, draft, passages, self.model_name, timings)

    def answer_from(self, question: str, passages: list[Passage]) -> str:
        request = GenerationRequest(
            grounded_messages(question, passages), n=1, temperature=0.0, max_new_tokens=self.config.generation.max_new_tokens
        )
        return self.generator.generate([request])[0][0]

    @property
    def model_name(self) -> str:
        return self.config.generator


@contextmanager
def _timed(timings: dict[str, float], stage: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start
