"""Rephrasings that keep a sentence's meaning, and minimal edits that break exactly one detail.

All functions take spaCy docs/spans and return a new string, or None where the edit does not apply.
"""

from __future__ import annotations

import random
import re

from verifiers.mismatch import _ORDINAL_WORDS as _ORDINALS
from verifiers.mismatch import MONTHS, NUMBER_WORDS, OPPOSITES, UNITS, ENTITY_LABELS, _YEAR_RE, _NUM_RE

# --- word forms ------------------------------------------------------------------------------------------

IRREGULAR_PAST = {
    "rise": ("rose", "risen"), "fall": ("fell", "fallen"), "win": ("won", "won"), "lose": ("lost", "lost"),
    "freeze": ("froze", "frozen"), "sink": ("sank", "sunk"), "_begin_": ("began", "begun"), "buy": ("bought", "bought"),
    "sell": ("sold", "sold"), "leave": ("left", "left"), "forbid": ("forbade", "forbidden"), "_speed_": ("sped", "sped"),
    "make": ("made", "made"), "take": ("took", "taken"), "_give_": ("gave", "given"), "write": ("wrote", "written"),
    "build": ("built", "built"), "find": ("found", "found"), "lead": ("led", "led"), "hold": ("held", "held"),
    "send": ("sent", "sent"), "bring": ("brought", "brought"), "_see_": ("saw", "seen"), "know": ("knew", "known"),
    "drive": ("drove", "driven"), "throw": ("threw", "thrown"), "break": ("broke", "broken"), "choose": ("chose", "chosen"),
    "draw": ("drew", "drawn"), "pay": ("paid", "paid"), "teach": ("taught", "taught"), "catch": ("caught", "caught"),
    "fight": ("fought", "fought"), "keep": ("kept", "kept"), "run": ("ran", "run"), "set": ("set", "set"),
    "put": ("put", "put"), "cut": ("cut", "cut"), "hit": ("hit", "hit"), "read": ("read", "read"), "say": ("said", "said"),
    "tell": ("told", "told"), "feel": ("felt", "felt"), "meet": ("met", "met"), "spend": ("spent", "spent"),
    "stop": ("stopped", "stopped"), "drop": ("dropped", "dropped"), "emit": ("emitted", "emitted"),
    "repel": ("repelled", "repelled"), "forget": ("forgot", "forgotten"), "shake": ("shook", "shaken"),
    "steal": ("stole", "stolen"), "grow": ("grew", "grown"), "blow": ("blew", "blown"), "_show_": ("showed", "shown"),
}
_ER = {"large", "small", "high", "low", "fast", "slow", "strong", "weak", "long", "short", "wide", "narrow", "thick",
       "thin", "deep", "shallow", "hot", "cold", "warm", "cool", "heavy", "light", "big", "early", "late", "rich", "poor",
       "wet", "dry"}
_DOUBLE = {"big", "hot", "thin", "wet", "stop", "drop", "emit", "repel", "win", "run", "begin", "set", "cut", "hit"}


def _past(lemma: str, participle: bool = False) -> str:
    if lemma in IRREGULAR_PAST:
        return IRREGULAR_PAST[lemma][1 if participle else 0]
    if lemma.endswith("e"):
        return lemma + "d"
    if lemma.endswith("y") and len(lemma) > 2 and lemma[-2] not in "aeiou":
        return lemma[:-1] + "ied"
    if lemma in _DOUBLE:
        return lemma + lemma[-1] + "ed"
    return lemma + "ed"


def _third(lemma: str) -> str:
    if lemma.endswith(("s", "sh", "ch", "x", "z", "o")):
        return lemma + "es"
    if lemma.endswith("y") and len(lemma) > 2 and lemma[-2] not in "aeiou":
        return lemma[:-1] + "ies"
    return lemma + "s"


def _ing(lemma: str) -> str:
    if lemma.endswith("e") and not lemma.endswith("ee"):
        return lemma[:-1] + "ing"
    if lemma in _DOUBLE:
        return lemma + lemma[-1] + "ing"
    return lemma + "ing"


def _compar(lemma: str, sup: bool = False) -> str:
    if lemma in ("more", "less", "most", "least"):
        return lemma
    if lemma in _ER:
        base = lemma + lemma[-1] if lemma in _DOUBLE else lemma
        if base.endswith("e"):
            base = base[:-1]
        if base.endswith("y"):
            base = base[:-1] + "i"
        return base + ("est" if sup else "er")
    return ("most " if sup else "more ") + lemma


def inflect(lemma: str, tag: str) -> str:
    if tag == "NNS":
        return _third(lemma)
    if tag == "VBZ":
        return _third(lemma)
    if tag == "VBD":
        return _past(lemma)
    if tag == "VBN":
        return _past(lemma, participle=True)
    if tag == "VBG":
        return _ing(lemma)
    if tag == "JJR" or tag == "RBR":
        return _compar(lemma)
    if tag == "JJS" or tag == "RBS":
        return _compar(lemma, sup=True)
    return lemma


def _case_like(new: str, old: str) -> str:
    if old[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def _join(tokens_with_ws: list[tuple[str, str]]) -> str:
    text = "".join(t + ws for t, ws in tokens_with_ws).strip()
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text)
    return text


def _replace(span, idx: int, new: str, end: int | None = None) -> str:
    """Text of span with tokens [idx, end) (span-relative) replaced by ``new``."""
    end = idx + 1 if end is None else end
    toks = list(span)
    parts = [(t.text, t.whitespace_) for t in toks[:idx]]
    parts.append((new, toks[end - 1].whitespace_ if end - 1 < len(toks) else " "))
    parts += [(t.text, t.whitespace_) for t in toks[end:]]
    return _finish(_join(parts))


def _finish(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    if text[-1] not in ".!?":
        text = text.rstrip(",;:") + "."
    return text


# --- meaning-keeping rephrasings -------------------------------------------------------------------------

SYNONYMS = {
    "large": "big", "big": "large", "_small_": "little", "begin": "start", "began": "started", "begins": "starts",
    "_start_": "begin", "important": "significant", "significant": "important", "show": "demonstrate",
    "_shows_": "demonstrates", "showed": "demonstrated", "_use_": "employ", "_uses_": "employs", "_used_": "employed",
    "many": "numerous", "quickly": "rapidly", "rapidly": "quickly", "_help_": "assist", "_helps_": "assists",
    "_helped_": "assisted", "because": "since",
    "often": "frequently", "frequently": "often", "_get_": "obtain", "_gets_": "obtains", "obtain": "get",
    "enough": "sufficient", "build": "construct", "built": "constructed", "buy": "purchase", "bought": "purchased",
    "main": "primary", "primary": "main", "chief": "main", "_very_": "extremely", "_also_": "additionally",
    "whole": "entire", "entire": "whole", "allow": "permit", "allows": "permits", "allowed": "permitted",
    "_try_": "attempt", "_tried_": "attempted", "_tries_": "attempts", "_need_": "require", "_needs_": "requires",
    "_needed_": "required", "_require_": "need", "_requires_": "needs", "_required_": "needed", "produce": "create",
    "produces": "creates", "produced": "created", "_create_": "produce", "_creates_": "produces", "created": "produced",
    "_change_": "alter", "_changes_": "alters", "_changed_": "altered", "movement": "motion", "motion": "movement",
    "speed": "rate of motion", "near": "close to", "_under_": "beneath", "mostly": "mainly", "mainly": "mostly",
    "finally": "eventually", "eventually": "ultimately", "_gave_": "provided", "give": "provide", "_gives_": "provides",
    "received": "got", "idea": "notion", "ideas": "notions", "_kind_": "type", "kinds": "types", "type": "kind",
    "types": "kinds", "fought": "battled", "_wanted_": "desired", "_want_": "desire", "_wants_": "desires",
    "area": "region", "areas": "regions", "region": "area", "regions": "areas", "country": "nation",
    "nation": "country", "countries": "nations", "nations": "countries", "people": "individuals",
    "person": "individual", "_rule_": "govern", "_ruled_": "governed", "_land_": "territory", "_lands_": "territories",
    "example": "instance", "examples": "instances", "moved": "relocated", "stated": "declared", "said": "stated",
    "_called_": "named", "_known_": "recognized", "amount": "quantity", "_objects_": "items", "_object_": "item",
    "_quick_": "fast", "_fast_": "quick", "_strong_": "powerful", "_powerful_": "strong", "_rich_": "wealthy",
    "wealthy": "rich", "_job_": "occupation", "_jobs_": "occupations", "_worker_": "laborer", "workers": "laborers",
    "however": "nevertheless", "whereas": "while", "therefore": "thus", "thus": "therefore",
    "seen": "observed", "see": "observe", "_sees_": "observes", "_saw_": "observed", "describe": "characterize",
    "describes": "characterizes", "described": "characterized", "leader": "head", "leaders": "heads",
    "_increase_": "rise", "_increases_": "rises", "farmers": "growers", "_travel_": "journey", "_traveled_": "journeyed",
}


def synonym_swap(text: str, rng: random.Random, max_swaps: int = 2) -> str:
    if rng.random() < 0.5:
        text = re.sub(r"\b(about|approximately|roughly)(\s+\d)", lambda m: {"about": "approximately", "approximately": "about",
                      "roughly": "about"}[m.group(1)] + m.group(2), text)
    words = re.split(r"(\W+)", text)
    idx = [i for i, w in enumerate(words) if w.lower() in SYNONYMS]
    rng.shuffle(idx)
    for i in idx[:max_swaps]:
        words[i] = _case_like(SYNONYMS[words[i].lower()], words[i])
    return "".join(words)


_CONNECTORS = {"however", "therefore", "thus", "also", "moreover", "furthermore", "instead", "meanwhile",
               "still", "nevertheless", "consequently", "finally", "indeed", "similarly", "likewise"}


def move_front_phrase(span) -> str | None:
    """'In 1776, the colonies declared X.' -> 'The colonies declared X in 1776.'  Drops leading connectors."""
    toks = list(span)
    if len(toks) < 6:
        return None
    comma = next((k for k, t in enumerate(toks[:14]) if t.text == ","), None)
    if comma is None or comma == 0:
        return None
    first = toks[0]
    head = toks[:comma]
    rest = toks[comma + 1:]
    if len(rest) < 4:
        return None
    if comma == 1 and first.lower_ in _CONNECTORS:
        return _finish(_join([(t.text, t.whitespace_) for t in rest]))
    if first.pos_ not in ("ADP", "SCONJ", "ADV") or first.lower_ in ("but", "and", "so"):
        return None
    if any(t.text in (";", ":") for t in head):
        return None
    body = _join([(t.text, t.whitespace_) for t in rest]).rstrip(".!? ")
    front = _join([(t.text, t.whitespace_) for t in head])
    if first.pos_ != "PROPN" and not (len(first.text) > 1 and first.text.isupper()):
        front = front[0].lower() + front[1:]
    return _finish(f"{body} {front}")


def _contiguous(tok) -> tuple[int, int]:
    sub = list(tok.subtree)
    return sub[0].i, sub[-1].i + 1


def to_passive(span) -> str | None:
    """'Newton described three laws.' -> 'Three laws were described by Newton.' (simple past/present, one object)."""
    root = span.root
    if root.pos_ != "VERB" or root.tag_ not in ("VBD", "VBZ", "VBP"):
        return None
    subj = [c for c in root.children if c.dep_ == "nsubj"]
    obj = [c for c in root.children if c.dep_ == "dobj"]
    if len(subj) != 1 or len(obj) != 1 or any(c.dep_ in ("aux", "auxpass", "neg", "prt", "dative") for c in root.children):
        return None
    s0, s1 = _contiguous(subj[0])
    o0, o1 = _contiguous(obj[0])
    doc = span.doc
    if not (s1 <= root.i < o0) or s0 != span.start or root.i != s1 or o0 != root.i + 1:
        return None
    if subj[0].lower_ in ("it", "this", "that", "which", "who", "they", "he", "she", "we", "you", "i"):
        return None
    plural = obj[0].tag_ in ("NNS", "NNPS") or any(c.dep_ == "conj" for c in obj[0].children)
    past = root.tag_ == "VBD"
    be = ("were" if plural else "was") if past else ("are" if plural else "is")
    lemma = root.lemma_.lower()
    if lemma in ("have", "be", "do", "get", "say", "go", "come", "become", "seem", "include", "contain", "lack", "cost"):
        return None
    if lemma in IRREGULAR_PAST:
        part = IRREGULAR_PAST[lemma][1]
    elif root.tag_ == "VBD" and root.lower_.endswith("ed"):
        part = root.lower_
    else:
        return None
    subj_txt = doc[s0:s1].text
    if any(c.dep_ == "conj" for c in root.children):
        return None
    first_word = subj_txt.split()[0]
    if doc[s0].pos_ == "DET" or (subj[0].pos_ != "PROPN" and not (len(first_word) > 1 and first_word.isupper()) and doc[s0].pos_ != "PROPN"):
        subj_txt = subj_txt[0].lower() + subj_txt[1:]
    obj_txt = doc[o0:o1].text
    tail = doc[o1:span.end].text.rstrip(" .!?")
    if obj[0].lower_ in ("it", "them", "him", "her", "us", "me", "this", "that"):
        return None
    return _finish(f"{obj_txt} {be} {part} by {subj_txt} {tail}".strip())


def drop_modifier(span) -> str | None:
    """Drop a relative clause, an appositive or a parenthesis: what is left is still said by the passage."""
    toks = list(span)
    cands = [t for t in toks if t.dep_ in ("relcl", "appos") and t.head.i != t.i]
    for t in cands:
        a, b = _contiguous(t)
        a, b = a - span.start, b - span.start
        if t.dep_ == "appos" or (a > 0 and toks[a - 1].text == ","):
            if a > 0 and toks[a - 1].text == ",":
                a -= 1
            if b < len(toks) and toks[b].text == ",":
                b += 1 if t.dep_ == "appos" or a > 0 else 0
        kept = [(x.text, x.whitespace_) for x in toks[:a]] + [(x.text, x.whitespace_) for x in toks[b:]]
        if a > 0 and kept[a - 1][1] == "":
            kept[a - 1] = (kept[a - 1][0], " ")
        if len(kept) >= 5 and b - a >= 2:
            return _finish(_join(kept))
    if "(" in span.text:
        out = re.sub(r"\s*\([^)]*\)", "", span.text)
        if out != span.text and len(out.split()) >= 5:
            return _finish(out)
    return None


def first_clause(span) -> str | None:
    """'X happened, and Y followed.' -> 'X happened.'"""
    root = span.root
    for c in root.children:
        if c.dep_ == "conj" and c.pos_ in ("VERB", "AUX") and any(g.dep_ == "nsubj" for g in c.children):
            cut = min(t.i for t in c.subtree)
            # drop the coordinator and comma before the second clause
            end = cut
            while end > span.start and span.doc[end - 1].dep_ in ("cc", "punct"):
                end -= 1
            if end - span.start >= 5:
                return _finish(span.doc[span.start:end].text)
    return None


STRUCTURAL = (to_passive, move_front_phrase, drop_modifier, first_clause)


def paraphrase(span, rng: random.Random) -> tuple[str, str]:
    """A meaning-keeping rewrite of a sentence and the name of the rewrite(s) used ('verbatim' if none applied)."""
    used = []
    text = span.text.strip()
    fns = list(STRUCTURAL)
    rng.shuffle(fns)
    for fn in fns:
        out = fn(span)
        if out and out != text:
            text, used = out, [fn.__name__]
            break
    swapped = synonym_swap(text, rng, max_swaps=rng.choice((1, 2, 2, 3)))
    if swapped != text:
        text = swapped
        used.append("synonyms")
    return _finish(text), "+".join(used) or "verbatim"


# --- minimal edits: one detail made wrong ------------------------------------------------------------------


def edit_number(doc, rng: random.Random, **_) -> str | None:
    cands = [t for t in doc if (t.like_num or _NUM_RE.match(t.text)) and not _YEAR_RE.match(t.text) and t.ent_type_ != "DATE"]
    cands = [t for t in cands if t.lower_ not in _ORDINALS and not re.match(r"^\d+(st|nd|rd|th)$", t.lower_)]
    cands = [t for t in cands if t.lower_ not in ("one",) or rng.random() < 0.3]
    if not cands:
        return None
    t = rng.choice(cands)
    low = t.lower_
    if low in NUMBER_WORDS:
        small = [w for w in ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "twenty")]
        new = rng.choice([w for w in small if w != low])
        if low in ("hundred", "thousand", "million", "billion"):
            new = rng.choice([w for w in ("hundred", "thousand", "million", "billion") if w != low])
        return _replace(doc[:], t.i, _case_like(new, t.text))
    m = re.match(r"^([-+]?)(\d[\d,]*)(\.\d+)?$", t.text)
    if not m:
        return None
    ival = int(m.group(2).replace(",", ""))
    if m.group(3):
        val = float(m.group(2).replace(",", "") + m.group(3))
        new_val = val * rng.choice((0.5, 1.5, 2, 3, 10))
        new = f"{new_val:.{len(m.group(3)) - 1}f}"
        if new == t.text:
            return None
    else:
        choices = [ival + d for d in (1, 2, 3, 5, 10) if ival + d != ival] + [ival * 2, ival * 10]
        if ival > 2:
            choices += [ival - 1, ival // 2]
        new_i = rng.choice([c for c in choices if c != ival and c >= 0])
        new = f"{new_i:,}" if "," in m.group(2) else str(new_i)
    return _replace(doc[:], t.i, m.group(1) + new)


def edit_date(doc, rng: random.Random, **_) -> str | None:
    years = [t for t in doc if _YEAR_RE.match(t.text)]
    months = [t for t in doc if t.lower_ in MONTHS and t.pos_ == "PROPN"]
    cents = [t for t in doc if re.match(r"^\d{1,2}(st|nd|rd|th)$", t.lower_) and t.i + 1 < len(doc) and doc[t.i + 1].lower_ in ("century",)]
    if years and (not months or rng.random() < 0.7):
        t = rng.choice(years)
        y = int(t.text[:4])
        suffix = t.text[4:]
        delta = rng.choice((1, 2, 3, 4, 5, 7, 10, 12, 15, 20, 25, 30, 50)) * rng.choice((-1, 1))
        if suffix == "s":
            delta = rng.choice((10, 20, 30)) * rng.choice((-1, 1))
        return _replace(doc[:], t.i, f"{y + delta}{suffix}")
    if months:
        t = rng.choice(months)
        new = rng.choice([m for m in MONTHS if m != t.lower_ and m != "may"]).capitalize()
        return _replace(doc[:], t.i, new)
    if cents:
        t = rng.choice(cents)
        n = int(re.match(r"\d+", t.text).group()) + rng.choice((-1, 1))
        suf = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return _replace(doc[:], t.i, f"{n}{suf}")
    return None


_UNIT_WORDS: dict[str, list[str]] = {}
for _w, (_c, _d) in UNITS.items():
    if len(_w) > 2 and _w.isalpha():
        _UNIT_WORDS.setdefault(_d, []).append(_w)


def edit_unit(doc, rng: random.Random, **_) -> str | None:
    cands = [t for t in doc if t.lower_ in UNITS and t.i > 0 and (doc[t.i - 1].like_num or _NUM_RE.match(doc[t.i - 1].text))]
    if not cands:
        return None
    t = rng.choice(cands)
    canon, dim = UNITS[t.lower_]
    options = [w for w in _UNIT_WORDS.get(dim, []) if UNITS[w][0] != canon]
    if not options:
        return None
    plural = t.lower_.endswith("s") or (t.lower_ in ("m", "km", "kg", "s", "cm", "mm", "g") and doc[t.i - 1].text not in ("1", "one"))
    opts = [w for w in options if w.endswith("s") == plural] or options
    return _replace(doc[:], t.i, rng.choice(opts))


def edit_entity(doc, rng: random.Random, pool: dict | None = None, passage: str = "", **_) -> str | None:
    ents = [e for e in doc.ents if e.label_ in ENTITY_LABELS]
    if not ents or not pool:
        return None
    e = rng.choice(ents)
    low_passage = passage.lower()
    options = [x for x in pool.get(e.label_, []) if x.lower() != e.text.lower() and x.lower() not in low_passage
               and e.text.lower() not in x.lower() and x.lower() not in e.text.lower()]
    if not options:
        return None
    new = re.sub(r"^(the|The)\s+", "", rng.choice(options))
    return _replace(doc[:], e.start, new, end=e.end)


_AUX_NEG = {"is", "are", "was", "were", "can", "could", "will", "would", "should", "may", "might", "must", "has",
            "have", "had", "does", "do", "did", "shall"}


def edit_negation(doc, rng: random.Random, **_) -> str | None:
    span = doc[:]
    root = span.root
    negs = [c for c in root.children if c.dep_ == "neg"]
    if negs:  # remove the negation
        t = negs[0]
        if t.lower_ in ("n't",) and t.i > 0 and doc[t.i - 1].lower_ == "ca":
            return _replace(span, t.i - 1, "can", end=t.i + 1)
        toks = [(x.text, t.whitespace_ if x.i == t.i - 1 else x.whitespace_) for x in doc if x.i != t.i]
        return _finish(_join(toks))
    if any(x.lower_ == "cannot" for x in doc):
        i = next(x.i for x in doc if x.lower_ == "cannot")
        return _replace(span, i, "can")
    if any(x.lower_ in ("no", "never") for x in doc):
        return None
    aux = [c for c in root.children if c.dep_ in ("aux", "auxpass") and c.lower_ in _AUX_NEG and c.i < root.i]
    if root.lower_ in _AUX_NEG and root.pos_ == "AUX":
        aux = [root]
    if aux:
        a = aux[0]
        if a.lower_ == "can":
            return _replace(span, a.i, _case_like("cannot", a.text))
        return _replace(span, a.i, f"{a.text} not")
    if root.pos_ == "VERB" and root.tag_ in ("VBZ", "VBP", "VBD"):
        do = {"VBZ": "does", "VBP": "do", "VBD": "did"}[root.tag_]
        return _replace(span, root.i, f"{do} not {root.lemma_.lower()}")
    return None


def edit_antonym(doc, rng: random.Random, **_) -> str | None:
    cands = [t for t in doc if t.lemma_.lower() in OPPOSITES or t.lower_ in OPPOSITES]
    cands = [t for t in cands if t.pos_ in ("ADJ", "ADV", "VERB", "NOUN", "ADP", "PROPN") or t.lower_ in ("north", "south", "east", "west")]
    if not cands:
        return None
    t = rng.choice(cands)
    key = t.lower_ if t.lower_ in OPPOSITES else t.lemma_.lower()
    opp = rng.choice(sorted(OPPOSITES[key]))
    new = opp if key == t.lower_ else inflect(opp, t.tag_)
    return _replace(doc[:], t.i, _case_like(new, t.text))


def _np_text(span, at_start: bool) -> str:
    t = span.text
    if at_start:
        return t[:1].upper() + t[1:]
    if span[0].pos_ != "PROPN" and not (len(span[0].text) > 1 and span[0].text.isupper()):
        return t[:1].lower() + t[1:]
    return t


def _role_chunks(doc):
    subj, obj = None, None
    for c in doc.noun_chunks:
        if c.root.pos_ not in ("NOUN", "PROPN") or c.root.lower_ in ("which", "that", "who"):
            continue
        if c.root.dep_ in ("nsubj", "nsubjpass") and subj is None:
            subj = c
        elif c.root.dep_ in ("dobj", "pobj", "attr", "dative") and obj is None and subj is not None:
            obj = c
    return subj, obj


def edit_swap(doc, rng: random.Random, passage_chunks: list[str] | None = None, **_) -> str | None:
    """Roles swapped: subject and object trade places ('The Earth orbits the Sun' -> 'The Sun orbits the Earth'),
    or the object is replaced by another noun phrase of the same passage (every word is still 'in the passage')."""
    subj, obj = _role_chunks(doc)
    if subj is None or obj is None or subj.end > obj.start or subj.root.lemma_.lower() == obj.root.lemma_.lower():
        return None
    if rng.random() < 0.6 or not passage_chunks:
        parts = [(t.text, t.whitespace_) for t in doc[:subj.start]]
        parts.append((_np_text(obj, subj.start == 0), doc[subj.end - 1].whitespace_))
        parts += [(t.text, t.whitespace_) for t in doc[subj.end:obj.start]]
        parts.append((_np_text(subj, False), doc[obj.end - 1].whitespace_))
        parts += [(t.text, t.whitespace_) for t in doc[obj.end:]]
        out = _finish(_join(parts))
        return out if out.lower() != doc.text.lower() else None
    target = obj if rng.random() < 0.7 else subj
    claim_low = doc.text.lower()
    options = [p for p in passage_chunks if p.lower() not in claim_low and target.text.lower() not in p.lower()
               and p.split()[-1].lower() != target.root.lower_ and len(p.split()) <= 6]
    if not options:
        return None
    new = rng.choice(options)
    new = new[:1].upper() + new[1:] if target.start == 0 else (new[:1].lower() + new[1:] if not new.split()[0].isupper() and not new.split()[0][:1].isupper() or new.split()[0].lower() in ("the", "a", "an", "this", "these", "its", "their", "his", "her") else new)
    return _replace(doc[:], target.start, new, end=target.end)


EDITS = {
    "number": edit_number,
    "date": edit_date,
    "unit": edit_unit,
    "entity": edit_entity,
    "negation": edit_negation,
    "antonym": edit_antonym,
    "swap": edit_swap,
}
