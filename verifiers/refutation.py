"""Reported beliefs that a textbook refutes: "Some people think Lincoln wrote the Declaration. That is not true."

Such a passage repeats the false claim nearly word for word, so every similarity signal reads it as support.
This check finds the sentence that restates the claim and asks whether the book presents it as a mistaken
belief (a belief frame before it, or a refutation right after it).
"""

from __future__ import annotations

import re

from engine.core.text import sentences as split_sentences

WORD = re.compile(r"[a-z0-9]+")
FUNCTION_WORDS = frozenset(
    "a an the of in on at to and or is are was were be been it its this that these those by for with as from "
    "into did do does has have had not".split()
)
BELIEF_FRAME = re.compile(
    r"^\s*(some|many|a lot of|most)\s+(people|kids|children|students)\s+(think|believe|say|guess|used to think)"
    r"|^\s*(it is|it's)\s+a\s+(myth|mistake|common mistake)\s+(that|to think)"
    r"|^\s*(a|one)\s+(common\s+)?(myth|mistake|mix-up)\s+is\s+(that|thinking)",
    re.IGNORECASE,
)
REFUTATION = re.compile(
    r"^\s*(but\s+)?(that|this|it)\s*(is|'s)\s+(not\s+(true|right|correct)|wrong|false|a\s+myth|a\s+mistake)"
    r"|^\s*(but\s+)?(that|this)\s+is\s+not\s+what\s+happened|^\s*not\s+true",
    re.IGNORECASE,
)


def _content(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in FUNCTION_WORDS}


def refutes(claim: str, passage: str, overlap: float = 0.8) -> bool:
    """True when the passage restates the claim only to call it a mistaken belief."""
    wanted = _content(claim)
    if not wanted:
        return False
    sentences = split_sentences(passage)
    for i, sentence in enumerate(sentences):
        if len(wanted & _content(sentence)) / len(wanted) < overlap:
            continue
        framed = BELIEF_FRAME.search(sentence) is not None
        refuted = i + 1 < len(sentences) and REFUTATION.search(sentences[i + 1]) is not None
        if framed or refuted:
            return True
    return False
