"""The one small machine every rule-based detector shares: a named pattern with a category and a weight,
matched against every view of a message (engine/safety/encodings.py).

A rule of weight 1.0 decides alone. Lighter rules are signals: a message whose signals add up to 1.0 is treated
as if one strong rule had matched (a story frame + a dangerous thing + "step by step"), and the signals of
earlier turns feed the conversation's escalation score (engine/safety/session.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from engine.safety.encodings import View, english_share

log = logging.getLogger(__name__)

STRONG = 1.0


@dataclass(frozen=True, eq=False)  # a rule is itself (compared and hashed by identity: the scan's cache key)
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


def scan(rules: list[Rule], text_views: list[View], prefiltered: bool = True) -> list[Detection]:
    """Every rule against every view; one detection per (rule, view). A reversed or ROT13 view counts only when
    it reads more like English than the message itself (reversing an ordinary question gives noise).
    `prefiltered` runs only the rules an RE2 set says can match (same detections, several times faster)."""
    found: list[Detection] = []
    plain_share = english_share(text_views[0].text) if text_views else 0.0
    prefilter = _prefilter(tuple(rules)) if prefiltered else None
    for view in text_views:
        if view.how in ("reversed", "reversed words", "rot13"):
            share = english_share(view.text)
            if share < 0.25 or share <= plain_share:
                continue
        for r in prefilter.candidates(view.text) if prefilter is not None else rules:
            for match in r.pattern.finditer(view.text):
                if r.unless_before is not None and r.unless_before.search(view.text[max(0, match.start() - 40) : match.start()]):
                    continue
                if r.unless is not None and r.unless.search(match.group(0)):
                    continue
                found.append(Detection(r.name, r.category, r.weight, match.group(0)[:120], view.how))
                break
    return found


# RE2 spellings wide enough for what Python's re matches on any text: its \\w, \\s and \\d reach every Unicode letter,
# space and digit (RE2's are ASCII-only), and its case folding also pairs i with İ and ı.
_WORD = r"\p{L}\p{N}\p{M}_"
_SPACE = r"\s\p{Z}\x0b\x1c-\x1f\x85"
_ANYTHING = r"\x{0}-\x{10FFFF}"
_DOTTED_I = r"\x{130}\x{131}"
_OUTSIDE = {"w": f"[{_WORD}]", "s": f"[{_SPACE}]", "d": r"\p{N}", "W": "(?s:.)", "S": "(?s:.)", "D": "(?s:.)", "Z": r"\z", "A": r"\A"}
_INSIDE = {"w": _WORD, "s": _SPACE, "d": r"\p{N}", "W": _ANYTHING, "S": _ANYTHING, "D": _ANYTHING, "b": r"\x08"}


def relaxed(pattern: str) -> str | None:
    """The pattern loosened into one RE2 can run that matches (case-insensitively) wherever Python's re matches
    `pattern` with IGNORECASE, on any text: lookarounds and word boundaries dropped, back-references read as
    "anything", character classes widened to Unicode, a negated class read as any character. None for what cannot
    be loosened safely (inline flags, atomic groups, non-ASCII pattern text)."""
    if not pattern.isascii():
        return None
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                return None
            e = pattern[i + 1]
            i += 2
            if e in "bB":
                continue
            if e in "0uUNxo" or e.isalpha() and e not in _OUTSIDE and e not in "tnrfv":
                return None
            out.append(_OUTSIDE.get(e) or ("(?s:.*)" if e.isdigit() else "\\" + e))
        elif c == "[":
            j = i + 1
            negated = j < n and pattern[j] == "^"
            j += negated
            members = []
            first = True
            while j < n and (pattern[j] != "]" or first):
                first = False
                if pattern[j] == "\\" and j + 1 < n:
                    e = pattern[j + 1]
                    if e in "0uUNxo" or e.isalpha() and e not in _INSIDE and e not in "tnrfv":
                        return None
                    members.append(_INSIDE.get(e, "\\" + e))
                    j += 2
                else:
                    members.append("\\" + pattern[j] if pattern[j] in "[]\\" else pattern[j])
                    j += 1
            if j >= n:
                return None
            for end in (0, -1):  # a "-" first or last is a literal; escaped, it stays one beside the added letters
                if members and members[end] == "-":
                    members[end] = "\\-"
            out.append("(?s:.)" if negated else "[" + "".join(members) + _DOTTED_I + "]")
            i = j + 1
        elif pattern.startswith("(?", i) and not pattern.startswith(("(?:", "(?P<"), i):
            loosened = _loosened_group(pattern, i)
            if loosened is None:
                return None
            text, i = loosened
            out.append(text)
        elif c == "$":
            out.append("(?m:$)")
        elif c in "iI":
            out.append("[i" + _DOTTED_I + "]")
        else:
            out.append(c)
            i += 1
            continue
        if c in "$iI":
            i += 1
    return "".join(out)


def _loosened_group(pattern: str, start: int) -> tuple[str, int] | None:
    """A "(?…" construct other than a plain or named group, loosened: a lookaround dropped (a wider pattern), a
    named back-reference read as anything; with the index after it. None for what cannot be loosened (inline
    flags, atomic groups, conditionals)."""
    if pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), start):
        end = _group_end(pattern, start)
        return ("", end) if end >= 0 else None
    if pattern.startswith("(?P=", start):
        return "(?s:.*)", pattern.index(")", start) + 1
    return None


def _group_end(pattern: str, start: int) -> int:
    """The index just after the group opening at `start`, or -1 when it never closes."""
    depth, i = 0, start
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _class_end(pattern, i)
            if i < 0:
                return -1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


# Text on which RE2 and Python's re agree about every pattern RE2 accepts as written: printable ASCII and ordinary
# white space (RE2's \\w, \\s, \\b and case folding are ASCII-only; Python's reach further on other characters).
_ASCII_TEXT = re.compile(r"[\x20-\x7e\t\n\r\f]*")


class _Prefilter:
    """Which rules can match a text, found in one pass of an RE2 set (google-re2, a linear-time automaton); only the
    rules the set names, and the few it cannot hold, are then run with Python's re for the match itself and its
    exceptions. The detections are exactly those of running every rule: on plain ASCII text the set holds each
    pattern as written (lookarounds loosened away), elsewhere each pattern loosened (`relaxed`) to match wherever
    Python's would; either way a rule the set leaves out has no match. The ASCII set is the fast one: the Unicode
    classes of the loosened patterns make a far larger automaton."""

    def __init__(self, rules: tuple[Rule, ...]):
        self.rules = list(rules)
        self.ascii = self.unicode = None
        try:
            import re2
        except ImportError:  # the pure-Python path: every rule against every view
            log.debug("google-re2 not installed: rules are scanned one by one")
            return
        options = re2.Options()
        options.case_sensitive = False
        options.max_mem = 256 << 20  # a set of ~100 rules never runs out of automaton memory on a 2,000-character text
        plain = [r.pattern.pattern if not r.pattern.flags & ~(re.IGNORECASE | re.UNICODE) else None for r in rules]
        self.ascii = _RuleSet(re2, options, rules, [_ascii_form(p) if p is not None else None for p in plain])
        self.unicode = _RuleSet(re2, options, rules, [relaxed(p) if p is not None else None for p in plain])

    def candidates(self, text: str) -> list[Rule]:
        """The rules worth running on text, in the rules' own order (the first strong detection decides)."""
        if self.ascii is None:
            return self.rules
        return (self.ascii if _ASCII_TEXT.fullmatch(text) else self.unicode).candidates(text)


class _RuleSet:
    """One RE2 set over the patterns given (None: that rule runs on every text)."""

    def __init__(self, re2, options, rules: tuple[Rule, ...], patterns: list[str | None]):
        self.set = re2.Set.SearchSet(options)
        self.slots: list[tuple[Rule, int]] = []  # each rule with its index in the set, -1 for one run every time
        for r, pattern in zip(rules, patterns):
            index = -1
            if pattern is not None:
                try:
                    index = self.set.Add(pattern)
                except re2.error:
                    log.debug("rule %r stays outside the RE2 set", r.name)
            self.slots.append((r, index))
        if any(index >= 0 for _, index in self.slots):
            self.set.Compile()
        else:
            self.set = None

    def candidates(self, text: str) -> list[Rule]:
        if self.set is None:
            return [r for r, _ in self.slots]
        hits = set(self.set.Match(text) or ())
        return [r for r, index in self.slots if index < 0 or index in hits]


def _ascii_form(pattern: str) -> str | None:
    """The pattern for ASCII text: as written, with lookarounds dropped (a wider pattern) and back-references read as
    anything; None when it needs more than that (inline flags, `$`, non-ASCII pattern text)."""
    if not pattern.isascii() or "$" in pattern.replace("\\$", "") or "\\Z" in pattern:
        return None
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\":
            e = pattern[i + 1 : i + 2]
            out.append("(?s:.*)" if e.isdigit() and e != "0" else pattern[i : i + 2])
            i += 2
        elif pattern[i] == "[":
            end = _class_end(pattern, i)
            if end < 0:
                return None
            out.append(pattern[i:end])
            i = end
        elif pattern.startswith("(?", i) and not pattern.startswith(("(?:", "(?P<"), i):
            loosened = _loosened_group(pattern, i)
            if loosened is None:
                return None
            text, i = loosened
            out.append(text)
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """The index just after the character class opening at `start` (a "]" first in it is a literal), or -1."""
    i = start + 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "]":
            return i + 1
        i += 1
    return -1


@lru_cache(maxsize=32)
def _prefilter(rules: tuple[Rule, ...]) -> _Prefilter:
    return _Prefilter(rules)


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
