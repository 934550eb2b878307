"""The one small machine every rule-based detector shares: a named pattern with a category and a weight,
matched against every view of a message (engine/safety/encodings.py).

A rule of weight 1.0 decides alone. Lighter rules are signals: a message whose signals add up to 1.0 is treated
as if one strong rule had matched (a story frame + a dangerous thing + "step by step"), and the signals of
earlier turns feed the conversation's escalation score (engine/safety/session.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.safety.encodings import View, english_share

STRONG = 1.0


@dataclass(frozen=True)
class Rule:
    name: str
    category: str
    pattern: re.Pattern
    weight: float = STRONG
    # the match does not count when this pattern matches the text just before it (e.g. "help me" before "write")
    unless_before: re.Pattern | None = None
    # the match does not count when this pattern matches the match itself
    unless: re.Pattern | None = None


@dataclass(frozen=True)
class Detection:
    rule: str
    category: str
    weight: float
    evidence: str  # the matched span, as read in its view
    view: str  # how the view was obtained ("plain", "base64", ...)

    @property
    def strong(self) -> bool:
        return self.weight >= STRONG

    @property
    def decoded(self) -> bool:
        return self.view not in ("plain", "normalised")


def rule(name: str, category: str, pattern: str, weight: float = STRONG, unless_before: str | None = None, unless: str | None = None) -> Rule:
    return Rule(
        name,
        category,
        re.compile(pattern, re.IGNORECASE),
        weight,
        re.compile(unless_before + r"\s*$", re.IGNORECASE) if unless_before else None,
        re.compile(unless, re.IGNORECASE) if unless else None,
    )


def scan(rules: list[Rule], text_views: list[View]) -> list[Detection]:
    """Every rule against every view; one detection per (rule, view). A reversed or ROT13 view counts only when
    it reads more like English than the message itself (reversing an ordinary question gives noise)."""
    found: list[Detection] = []
    plain_share = english_share(text_views[0].text) if text_views else 0.0
    for view in text_views:
        if view.how in ("reversed", "reversed words", "rot13"):
            share = english_share(view.text)
            if share < 0.25 or share <= plain_share:
                continue
        for r in rules:
            for match in r.pattern.finditer(view.text):
                if r.unless_before is not None and r.unless_before.search(view.text[max(0, match.start() - 40) : match.start()]):
                    continue
                if r.unless is not None and r.unless.search(match.group(0)):
                    continue
                found.append(Detection(r.name, r.category, r.weight, match.group(0)[:120], view.how))
                break
    return found


def strongest(detections: list[Detection]) -> Detection | None:
    """The detection that decides: a strong one found in the plain text first, then one found by decoding."""
    strong = [d for d in detections if d.strong]
    if not strong:
        return None
    plain = [d for d in strong if not d.decoded]
    return (plain or strong)[0]


def signal_total(detections: list[Detection]) -> float:
    """The weight of a message's signals: each rule counts once (whichever view it was seen in), strong ones as 1."""
    best: dict[str, float] = {}
    for d in detections:
        best[d.rule] = max(best.get(d.rule, 0.0), min(d.weight, STRONG))
    return sum(best.values())
