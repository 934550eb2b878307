"""Self-consistency voting over sampled answers (Wang et al. 2023), with SelfCheckGPT's sentence check.

Samples that say the same thing (MiniLM cosine above a threshold, linked transitively) form a group; the
largest group wins and its share of the samples is a confidence signal. Each sentence of the chosen answer
is then checked against the other samples: a sentence the others do not echo lowers confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.core.text import sentences as split_sentences


@dataclass
class Vote:
    chosen: str
    chosen_index: int
    agreement: float  # share of the samples in the winning group
    groups: list[list[int]]
    sentence_support: list[float] = field(default_factory=list)  # per sentence of `chosen`, share of other samples echoing it

    @property
    def consistency(self) -> float:
        """One number in [0, 1]: agreement, lowered by sentences the other samples do not support."""
        if not self.sentence_support:
            return self.agreement
        return self.agreement * (0.5 + 0.5 * min(self.sentence_support))


class SelfConsistency:
    def __init__(self, embedder, group_similarity: float = 0.8, sentence_similarity: float = 0.7):
        self.embedder = embedder  # anything with .embed(list[str]) -> normalised vectors
        self.group_similarity = group_similarity
        self.sentence_similarity = sentence_similarity

    def vote(self, samples: list[str]) -> Vote:
        if not samples:
            raise ValueError("vote() needs at least one sample")
        texts = [s if s.strip() else "(no answer)" for s in samples]
        sentences = [split_sentences(t, line_breaks=False) or [t] for t in texts]
        flat = [s for group in sentences for s in group]
        vectors = self.embedder.embed(texts + flat)  # one batched call for answers and their sentences
        answers, sentence_vectors = vectors[: len(texts)], vectors[len(texts) :]

        similarity = answers @ answers.T
        groups = _connected_groups(similarity >= self.group_similarity)
        best = max(groups, key=lambda g: (len(g), similarity[np.ix_(g, g)].mean()))
        medoid = best[int(np.argmax(similarity[np.ix_(best, best)].sum(axis=1)))]

        owner = np.repeat(np.arange(len(texts)), [len(s) for s in sentences])
        mine = sentence_vectors[owner == medoid]
        others = [i for i in range(len(texts)) if i != medoid]
        support: list[float] = []
        if others:
            for vector in mine:
                echoed = [(sentence_vectors[owner == j] @ vector).max() >= self.sentence_similarity for j in others]
                support.append(float(np.mean(echoed)))
        return Vote(
            chosen=samples[medoid],
            chosen_index=int(medoid),
            agreement=len(best) / len(samples),
            groups=groups,
            sentence_support=support,
        )


def _connected_groups(adjacent: np.ndarray) -> list[list[int]]:
    n = adjacent.shape[0]
    seen: set[int] = set()
    groups: list[list[int]] = []
    for start in range(n):
        if start in seen:
            continue
        stack, group = [start], []
        seen.add(start)
        while stack:
            i = stack.pop()
            group.append(i)
            for j in np.flatnonzero(adjacent[i]):
                if int(j) not in seen:
                    seen.add(int(j))
                    stack.append(int(j))
        groups.append(sorted(group))
    return groups
