"""Does a sentence answer the question, and is it fit to show a child?

Checking each claim against the books says nothing about whether what is finally shown *answers* the question:
"Uranus is the seventh planet from the Sun" is true and backed, and no answer to "why is mars red". This module
reads three broad signals, no rule per question:

* **what the question asks for** (its answer type): a year or date for *when*, a place for *where*, a person for
  *who*, a number for *how many / how tall / how long*, a reason for *why / what causes*, a yes or no for
  *did / is / can*; anything else (*what is …*) asks for a statement about its subject;
* **its subject**: the share of the question's content words the sentence contains (lower case, kid synonyms
  and misspellings read through `kid_words` and a close-spelling match);
* **whether the sentence is clean prose**: no Markdown, no "Figure:"/"Table:" caption, no glossary line, not cut
  off before an equation ("… is written as"), not an announcement of what a chapter teaches, not a reported belief
  ("Some people think …") standing alone.

It also turns a short answer ("Delhi") into a claim with the question's words, so `check` can judge words and
phrases as well as sentences.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

WORD = re.compile(r"[A-Za-z0-9]+(?:'[a-z]+)?")
STOP = frozenset(
    "a an the of to in on at for by with from and or but is are was were be been being it its this that these those "
    "what whats which who whom whose when where why how do does did can could will would should may might as into "
    "than then there their they them he she his her you your we our i me my not no so if about many much long tall "
    "big far old fast year years date day time happen happened get got make made really actually called name "
    "kind type tell mean means go goes went do".split()
)
# Children's words for the books' words (and spellings of names), applied to a question before it is read.
KID_WORDS = (
    (re.compile(r"\b(?:world war (?:2|two|ll)|ww ?2|wwii|ww ?ii|second world war)\b", re.I), "World War II"),
    (re.compile(r"\b(?:world war (?:1|one)|ww ?1|wwi|first world war)\b", re.I), "World War I"),
    (re.compile(r"\bbigg?est\b", re.I), "largest"),
    (re.compile(r"\bwhats\b", re.I), "what is"),
    (re.compile(r"\bwhos\b", re.I), "who is"),
    (re.compile(r"\bwheres\b", re.I), "where is"),
    (re.compile(r"\bhows\b", re.I), "how is"),
    (re.compile(r"\bdont\b", re.I), "do not"),
    (re.compile(r"\bdoesnt\b", re.I), "does not"),
    (re.compile(r"\bdidnt\b", re.I), "did not"),
    (re.compile(r"\bisnt\b", re.I), "is not"),
    (re.compile(r"\bu\b", re.I), "you"),
)
SYNONYMS = {
    "biggest": "largest", "bigest": "largest", "huge": "large", "big": "large", "bigger": "larger",
    "hotest": "hottest", "smallest": "smallest", "tiniest": "smallest", "littlest": "smallest",
    "farthest": "farthest", "furthest": "farthest", "closest": "closest", "nearest": "closest",
    "start": "begin", "started": "began", "starts": "begins", "finish": "end", "finished": "ended", "over": "end",
    "stop": "end", "stopped": "ended", "made": "built", "make": "build", "wrote": "write", "written": "write",
    "prez": "president", "kill": "assassinate", "killed": "assassinated", "shot": "assassinated",
    "tower": "tower", "height": "tall", "high": "tall", "quick": "fast", "speed": "fast",
}
MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
YEAR = re.compile(rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}})s?\b|\b(?:{MONTHS})\b|\bcentur(?:y|ies)\b|\b(?:bc|ad)\b", re.I)
NUMBER = re.compile(
    r"\d|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion|half|dozen|once|twice|first|second|third|fourth|fifth|sixth|seventh|eighth)\b",
    re.I,
)
REASON = re.compile(
    r"\b(?:because|since|so|due to|that is why|this is why|caus\w*|which makes|makes? (?:the|it|them)|gives?|keeps?|traps?|thanks to|"
    r"result\w*|leads? to|so that|in order to|reason|for (?:the|a|an)|useful|allowed|"
    r"(?:happens?|happened|occurs?|occurred|forms?|formed) (?:when|if|after|as))\b",
    re.I,
)
PLACE = re.compile(
    r"\b(?:in|at|on|into|near|from|through|across|along|aboard|inside|under|north|south|east|west)\b\s+(?:the\s+)?"
    rf"(?:(?!(?i:{MONTHS}|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b)[A-Z][\w'.-]+|ocean|sea|river|lake|city|country|continent|mountains?|sky|air|ground|soil|space|clouds?|"
    r"center|park|coast|bay|harbor|state|room|water)",
)
PERSON_WORD = re.compile(
    r"\b(?:people|scientists?|engineers?|president|king|queen|emperor|general|leaders?|company|congress|committee|"
    r"men|women|workers|architect|writer|artists?|colonists|allies|plants?|animals?)\b",
    re.I,
)
NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zé]+(?:\s+(?:[A-Z]\.|[A-Z][a-zé]+))+")

# Sentences that are not answers whatever they contain.
ANNOUNCEMENT = re.compile(
    r"\b(?:you will (?:learn|see|find|explore|study|discover)|you'll learn|we will (?:learn|see|study|discuss|explore)|"
    r"in this (?:section|chapter|module|lesson|unit)|this (?:chapter|section|lesson) (?:tells|will|explains|shows|covers)|"
    r"learning objectives|by the end of this|section summary|check your understanding|practice problems?)\b",
    re.I,
)
CAPTION = re.compile(r"^\W*(?:figure|fig\.|table|image|photo|credit|source|note|example|exercise)\b\s*[\d.]*\s*[:.-]", re.I)
CUT_OFF = re.compile(
    r"(?:\b(?:written as|given by|expressed as|as follows|defined as|shown below|shown here|following|is|are|equals|"
    r"of|the|and|or|to|by|with|for)|[:,;=(\-–])\s*$",
    re.I,
)
MATH = re.compile(r"\$|\\\(|\\\[|\\frac|\\text|\^\{|_\{|\s=\s*$")
GLOSSARY = re.compile(r"^\s*(?:[-*•]\s*)?\*\*([^*]{1,60})\*\*\s*[:—–-]\s*(.+)$", re.S)
BOLD_LEAD = re.compile(r"^\s*(?:[-*•]\s*)?\*\*([^*]{1,60})\*\*\s+(.+)$", re.S)
MARKS = re.compile(r"\*\*|__|`+|(?<!\w)\*(?!\s)|(?<=\S)\*(?!\w)|^(?:\s*>)+\s*|^#{1,6}\s*|^\s*[-•]\s+|\[\d+\]")
BELIEF = re.compile(
    r"^\s*(?:some|many|a lot of|most)\s+(?:people|kids|children|students)\s+(?:think|believe|say|guess|used to think|called)"
    r"|\b(?:it is|it's)\s+a\s+(?:myth|mistake|common mistake)\b|\b(?:a|one)\s+(?:common\s+)?(?:myth|mistake|mix-up)\s+is\b",
    re.I,
)
YES_NO_START = re.compile(
    r"^\s*(?:is|are|was|were|do|does|did|can|could|will|would|has|have|had|should|shall|may|must|isn't|aren't|wasn't|"
    r"didn't|doesn't|don't|can't|won't)\b",
    re.I,
)
NEGATION = re.compile(r"\b(?:not|never|no longer|no|n't|cannot|isn't|wasn't|didn't|doesn't|don't|aren't|weren't)\b", re.I)

MEASURE_QUESTION = re.compile(r"\bhow\s+(?:tall|high|long|far|fast|deep|wide|heavy|big|hot|cold)\b", re.I)
UNIT = re.compile(
    r"\b(?:meters?|metres?|m|cm|mm|km|kilometers?|kilometres?|miles?|feet|foot|ft|inches?|kg|kilograms?|grams?|pounds?|"
    r"tons?|degrees?|years?|days?|months?|hours?|minutes?|seconds?|s|m/s|km/h|mph|percent|times|centimeters?|"
    r"[a-z]+ (?:long|tall|high|wide|deep|old))\b|%|°",
    re.I,
)
COUNT_QUESTION = re.compile(r"\bhow\s+(?:many|much)\b", re.I)
COUNTED_YEAR = re.compile(rf"\b(?:in|by|from|until|since|of|on|during)?\s*(?:(?:{MONTHS})\s+\d{{1,2}},?\s*)?\b1[0-9]{{3}}s?\b|\b20[0-9]{{2}}s?\b", re.I)
ANSWER_TYPES = ("when", "where", "who", "number", "why", "yesno", "what")


@dataclass(frozen=True)
class QuestionShape:
    """What a question asks for and about what."""

    kind: str  # one of ANSWER_TYPES
    subject: tuple[str, ...]  # its content words, normalised (synonyms, lower case)


def kid_words(question: str) -> str:
    """A child's question in the books' words: "when did world war 2 end" → "when did World War II end"."""
    text = " ".join((question or "").split())
    for pattern, replacement in KID_WORDS:
        text = pattern.sub(replacement, text)
    return text


def _norm(word: str) -> str:
    w = word.lower().strip("'")
    w = SYNONYMS.get(w, w)
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    return w


INITIALS = re.compile(r"\b([A-Za-z])[-.](?=[A-Za-z]\b)")


def join_initials(text: str) -> str:
    """ "V-J Day" / "U.S." read as a child types them: "VJ Day", "US"."""
    return INITIALS.sub(r"\1", text)


def content_words(text: str) -> list[str]:
    return [_norm(w) for w in WORD.findall(join_initials(kid_words(text))) if w.lower() not in STOP and _norm(w) not in STOP]


def question_kind(question: str) -> str:
    q = kid_words(question).lower().strip()
    q = re.sub(r"^(?:so|and|but|ok|okay|hey|please|um|hi)[, ]+", "", q)
    if re.search(r"\b(?:what|which)\s+(?:year|date|day|month|century|time)\b|\bwhen\b|\bhow long ago\b", q):
        return "when"
    if re.search(r"\bwhere\b|\b(?:what|which)\s+(?:city|country|place|continent|ocean|sea|state|town)\b", q):
        return "where"
    if re.search(r"\bhow\s+(?:many|much|tall|long|far|fast|old|big|high|heavy|deep|wide|hot|cold|often)\b|\bwhat\s+(?:number|percent)\b", q):
        return "number"
    if re.search(r"^\s*who\b|\bwho\s+(?:was|is|were|wrote|built|made|invented|discovered|designed|signed|led|gave|found|named)\b|\bwhich\s+(?:person|president|scientist|man|woman|people)\b", q):
        return "who"
    if re.search(r"\bwhy\b|\bwhat\s+(?:causes?|caused|makes?|made)\b|\bhow\s+come\b|\breason\b", q):
        return "why"
    if YES_NO_START.match(q):
        return "yesno"
    return "what"


def shape(question: str) -> QuestionShape:
    return QuestionShape(question_kind(question), tuple(dict.fromkeys(content_words(question))))


def _close(word: str, vocabulary: set[str]) -> bool:
    if word in vocabulary:
        return True
    if any(v.startswith(word) and len(v) - len(word) <= 2 for v in vocabulary if len(word) >= 3):
        return True  # die / died, end / ended
    if len(word) < 4:
        return False
    for v in vocabulary:
        if len(v) >= 4 and v[0] == word[0]:
            n = len(_common(word, v))
            if n >= max(4, 0.75 * min(len(word), len(v))):
                return True
            if len(word) >= 6 and difflib.SequenceMatcher(None, word, v).ratio() >= 0.85:
                return True
    return False


def _common(a: str, b: str) -> str:
    out = []
    for x, y in zip(a, b):
        if x != y:
            break
        out.append(x)
    return "".join(out)


def subject_coverage(question: str, sentence: str, context: str = "") -> float:
    """The share of the question's content words the sentence (or its `context`: the headings it stands under)
    contains (synonyms and close spellings count)."""
    wanted = shape(question).subject
    if not wanted:
        return 0.0
    vocab = _vocabulary(f"{sentence} {context}")
    return sum(_close(w, vocab) for w in wanted) / len(wanted)


def _vocabulary(text: str) -> set[str]:
    """A text's words as `_close` matches them: normalised content words and every word as written."""
    return set(content_words(text)) | {w.lower() for w in WORD.findall(text)}


def has_answer_type(kind: str, sentence: str) -> bool:
    """Whether the sentence states the kind of thing the question asks for."""
    if kind == "when":
        return YEAR.search(sentence) is not None
    if kind == "number":
        return NUMBER.search(sentence) is not None
    if kind == "where":
        return PLACE.search(sentence) is not None
    if kind == "who":
        return NAME.search(sentence) is not None or PERSON_WORD.search(sentence) is not None
    if kind == "why":
        return REASON.search(sentence) is not None
    return True


DEFINITION_QUESTION = re.compile(r"^\s*(?:what|who)\s+(?:is|are|was|were)\s+(?:a|an|the)?\s*(.+?)[?.!\s]*$", re.I)
_NOUN_PHRASE_END = re.compile(r"\b(?:of|in|on|for|with|from|that|which|who|to|at|by|and|made|used|called)\b", re.I)


def defined_term(question: str) -> str | None:
    """The word a "what is …" question asks about: the head of its noun phrase ("what is a river delta" → "delta",
    "what is the mouth of a river" → "mouth"); None for other questions."""
    m = DEFINITION_QUESTION.match(kid_words(question))
    if not m:
        return None
    phrase = _NOUN_PHRASE_END.split(m.group(1), maxsplit=1)[0]
    words = [w for w in WORD.findall(phrase) if w.lower() not in STOP]
    return _norm(words[-1]) if words else None


def answers(question: str, text: str, min_coverage: float = 0.33, context: str = "") -> bool:
    """Whether `text` answers `question`: it has what the question asks for and is about its subject (for "what is
    X", about X itself: a sentence about rivers does not say what a river delta is). `context`, the headings a book
    sentence stands under, counts toward its subject ("Leaders … met in Philadelphia" under "The Continental
    Congress"); what the question asks for must be in the sentence itself."""
    if not text or not text.strip():
        return False
    s = shape(question)
    if not has_answer_type(s.kind, text):
        return False
    if MEASURE_QUESTION.search(question) and not UNIT.search(text):
        return False  # "how tall" asks for a length: a year is a number, not an answer
    if COUNT_QUESTION.search(question) and not NUMBER.search(COUNTED_YEAR.sub(" ", text)):
        return False  # "how many colonies" asks for a count: "In 1776, …" names a year, not how many
    if not s.subject:
        return True
    term = defined_term(question)
    if term is not None and not (term.isdigit() or NUMBER.fullmatch(term)) and not _close(term, _vocabulary(text)):
        return False
    return subject_coverage(question, text, context) >= min_coverage


def clean_sentence(sentence: str) -> str | None:
    """The sentence as clean prose for a child, or None when it must not be shown as an answer."""
    text = " ".join((sentence or "").split())
    if not text:
        return None
    if not re.search(r"[.!?][\"'”’)*]*$", text) and not GLOSSARY.match(text):
        return None  # a heading, a list label or a sentence the book did not finish
    glossary = GLOSSARY.match(text)
    if glossary:
        term, definition = glossary.group(1).strip(), glossary.group(2).strip()
        definition = re.sub(r"^(?:a|an|the)\b", lambda m: m.group(0).lower(), definition)
        text = f"{term[:1].upper()}{term[1:]} is {definition[:1].lower()}{definition[1:]}"
    if CAPTION.match(text) or CAPTION.match(MARKS.sub("", text)):
        return None
    text = MARKS.sub("", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(text.split())).strip()
    text = re.sub(r"([.!?])[.*]+$", r"\1", text)
    if len(WORD.findall(text)) < 4 or text.endswith("?"):
        return None
    if ANNOUNCEMENT.search(text) or MATH.search(text):
        return None
    body = text.rstrip(" .!")
    if text.count("(") > text.count(")"):
        return None  # split inside a bracket ("… 9.8 m/s² (N."): the sentence is cut off
    if CUT_OFF.search(body) and not text.endswith(("!",)):
        if re.search(r"(?:written as|given by|expressed as|as follows|:|=)$", body, re.I) or not text.endswith("."):
            return None
    if not text[-1] in ".!":
        text += "."
    return text[:1].upper() + text[1:]


def is_belief(sentence: str) -> bool:
    """A sentence that reports a belief ("Some people think …"): never an answer on its own."""
    return BELIEF.search(sentence or "") is not None


def polarity_no(question: str, sentence: str) -> bool:
    """For a yes/no question: the sentence denies what the question asks (it negates where the question does not)."""
    return NEGATION.search(sentence) is not None and NEGATION.search(kid_words(question)) is None


def as_statement(question: str) -> str:
    """A yes/no question as the statement it asks about: "Did Lincoln write the Declaration?" →
    "Lincoln write the Declaration." (grammar is rough; it is read by the claim verifier, never shown)."""
    q = kid_words(question).strip().rstrip("?").strip()
    m = re.match(r"^(is|are|was|were|can|could|will|would|has|have|had|should|must)\s+(.+)$", q, re.I)
    if m:
        aux, rest = m.group(1).lower(), m.group(2)
        words = rest.split()
        # the subject is the words up to the first article/adjective-looking predicate: a rough cut at the first
        # "a/an/the" after the first word, else after two words
        cut = next((i for i, w in enumerate(words) if i > 0 and w.lower() in ("a", "an", "the", "really", "still", "the")), min(2, len(words)))
        return _sentence(" ".join(words[:cut] + [aux] + words[cut:]))
    m = re.match(r"^(do|does|did)\s+(.+)$", q, re.I)
    if m:
        return _sentence(m.group(2))
    return _sentence(q)


def _sentence(text: str) -> str:
    text = " ".join(text.split()).strip(" .")
    return (text[:1].upper() + text[1:] + ".") if text else ""


WH_PHRASE = re.compile(
    r"\b(?:(?:in|at|on|from|to|into|of|by)\s+)?(?:what|which)\s+(?:kind of |type of )?"
    r"(?!(?:is|are|was|were|did|does|do|can|could|has|have|had)\b)[a-z]+\b",
    re.I,
)


def short_answer_claim(question: str, answer: str, max_words: int = 6) -> str | None:
    """A word or phrase answer made a claim with the question's words ("Delhi" + "… has a head office in what
    city?" → "… has a head office in Delhi."); None when the answer is already a sentence or the question has no
    slot to put it in."""
    answer = " ".join((answer or "").split()).strip(" .!")
    question = " ".join((question or "").split()).strip()
    if not answer or not question or len(answer.split()) > max_words or not WORD.search(answer):
        return None
    if re.search(r"\b(?:is|are|was|were|has|have|had)\b", answer, re.I) and len(answer.split()) > 3:
        return None
    q = question.rstrip("?").strip()
    if question_kind(question) == "yesno":
        low = answer.lower()
        if low in ("yes", "yeah", "yep", "true", "right"):
            return as_statement(question)
        if low in ("no", "nope", "false", "wrong"):
            return None
        return None
    m = re.match(r"^(who|what)\s+(is|are|was|were)\s+(.+)$", q, re.I)
    if m:
        return _sentence(f"{m.group(3)} {m.group(2).lower()} {answer}")
    m = re.match(r"^(?:who|what)\s+(.+)$", q, re.I)
    if m and not re.match(r"^(?:did|does|do)\b", m.group(1), re.I):
        return _sentence(f"{answer} {m.group(1)}")
    m = re.match(r"^(when|where|what year|which year|in what year|how many|how much|how tall|how long|how far)\s+"
                 r"(?:(is|are|was|were|did|does|do)\s+)?(.+)$", q, re.I)
    if m:
        wh, aux, rest = m.group(1).lower(), (m.group(2) or "").lower(), m.group(3)
        lead = {"when": "in", "where": "in", "what year": "in", "which year": "in", "in what year": "in"}.get(wh, "")
        if wh.startswith("how"):
            return _sentence(f"{rest} {aux} {answer}".replace("  ", " ")) if aux in ("is", "are", "was", "were") else _sentence(f"{rest}: {answer}")
        if aux in ("is", "are", "was", "were"):
            return _sentence(f"{rest} {aux} {lead} {answer}")
        return _sentence(f"{rest} {lead} {answer}")
    wh = WH_PHRASE.search(q)
    if wh:
        phrase = wh.group(0).strip()
        prep = re.match(r"^(in|at|on|from|to|into|of|by)\b", phrase, re.I)
        filler = f"{prep.group(1)} {answer}" if prep else answer
        return _sentence(q[: wh.start()].rstrip() + " " + filler + " " + q[wh.end():].lstrip())
    return None
