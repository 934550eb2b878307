"""The RE2 prefilter of the safety rules (engine/safety/rules.py) changes speed, never a detection: every rule set
scanned with and without it gives the same detections on the shipped safety data, the red-team suite, and text
full of the Unicode characters where RE2 and Python's re read patterns differently."""

from __future__ import annotations

import random

import pytest

from engine.safety import homework, jailbreaks, topics
from engine.safety.encodings import views
from engine.safety.output_rails import ANSWER_RULES
from engine.safety.rules import relaxed, rule, scan
from engine.safety.training import load_examples

RULE_SETS = {"input": jailbreaks.RULES + topics.RULES, "homework": homework.RULES, "answer": ANSWER_RULES}


def test_relaxed_pattern_drops_what_re2_cannot_run_and_widens_the_rest():
    assert relaxed(r"\bkill\b") == "k[i\\x{130}\\x{131}]ll"
    assert relaxed(r"(?!studybuddy\b)[a-z]*bot") == "[a-z\\x{130}\\x{131}]*bot"
    assert relaxed(r"x[\w-]+y") == "x[\\p{L}\\p{N}\\p{M}_\\-\\x{130}\\x{131}]+y"  # the "-" stays a literal
    assert relaxed(r"[^a-z]no") == "(?s:.)no"
    assert relaxed(r"(?P<s>[.])a(?P=s)") == "(?P<s>[.\\x{130}\\x{131}])a(?s:.*)"
    assert relaxed(r"(?x) a b") is None  # inline flags: the rule runs on every text instead
    assert relaxed("café") is None


def test_prefilter_keeps_a_match_re2_alone_would_miss():
    # Python's \s takes a no-break space and its IGNORECASE pairs i with İ; RE2's own \s and folding do not
    rules = [rule("spaced", "test", r"\bhow\s+to\s+kill\b")]
    for text in ("how\u00a0to kill", "HOW TO KİLL", "how to kıll"):
        text_views = views(text, max_chars=2000)
        assert scan(rules, text_views) == scan(rules, text_views, prefiltered=False)
    assert [d.rule for d in scan(rules, views("how\u00a0to\u00a0kill", max_chars=2000)) if d.view == "plain"] == ["spaced"]


def _fuzzed(texts: list[str], seed: int = 7) -> list[str]:
    """Each text with the characters where the two engines disagree put in: no-break and ideographic spaces,
    vertical tabs, dotted and dotless i, combining accents, CJK around it, upper case."""
    swaps = {" ": ["\u00a0", "\u3000", "\x0b", "\u2009", "  "], "i": ["\u0130", "\u0131", "I"], "e": ["e\u0301", "E"]}
    rng = random.Random(seed)
    out = []
    for text in texts:
        chars = [rng.choice(swaps[c]) if c in swaps and rng.random() < 0.3 else c for c in text]
        out.append(rng.choice(["", "的 ", "Prosím: "]) + "".join(chars) + rng.choice(["", " 行", "\u200b"]))
    return out


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    examples = load_examples()
    texts = list(dict.fromkeys(e.text for e in examples))
    rng = random.Random(3)
    sample = rng.sample(texts, 500)
    harmful = [e.text for e in examples if e.harmful and len(e.text) < 300][:300]
    return sample + harmful + _fuzzed(sample[:200] + harmful)


@pytest.mark.parametrize("name", sorted(RULE_SETS))
def test_prefiltered_scan_finds_exactly_what_every_rule_finds(name, corpus):
    rules = RULE_SETS[name]
    matched_non_ascii = 0
    for text in corpus:
        text_views = views(text, max_chars=2000)
        fast, every = scan(rules, text_views), scan(rules, text_views, prefiltered=False)
        assert fast == every, text
        matched_non_ascii += bool(every) and not text.isascii()
    assert matched_non_ascii >= 20  # the fuzzed texts do reach the rules, so the comparison means something
