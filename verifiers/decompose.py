"""Split a tutor answer into atomic factual claims, each tied to its span in the original answer."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from engine.core.packaged import load_spacy
from engine.core.text import SENTENCE_END_IN_LINE
from engine.core.vocabulary import Claim

log = logging.getLogger(__name__)

MAX_SEGMENT_CHARS = 20_000

_CITATION = re.compile(
    r"\s*(?:\[\s*(?:\d+(?:\s*[,-]\s*\d+)*|(?:passage|source|ref|doc)\s*\d+)\s*\]"
    r"|\(\s*(?:passage|source|ref|doc|see)\s+[\w .:-]{0,30}?\d+\s*\))",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^[ \t]*(?:[-*•+]|\d{1,3}[.)]|#{1,6})[ \t]+")
_MARKDOWN_EMPHASIS = re.compile(r"\*\*|__|`")

# Discourse markers and meta framings stripped from the front of a claim.
_LEADING_MARKER = re.compile(
    r"^(?:(?:so|also|yes|no|well|now|okay|ok|actually|basically|in fact|of course|indeed|sure|"
    r"first|firstly|second|secondly|third|next|then|finally|lastly|additionally|plus|however|"
    r"remember|fun fact|did you know|interestingly|for example|in short|in summary|"
    r"(?:according to|based on|as (?:stated|mentioned|shown) in|in) "
    r"(?:the |your |our |this )?(?:passage|text|textbook|book|article|reading|lesson|source|chapter)"
    r"(?: \d+)?)\s*[,:!]\s*"
    r"|(?:so|also|plus|and|but)\s+)",
    re.IGNORECASE,
)

_CHATTER = re.compile(
    r"^(?:hi|hello|hey|greetings|good (?:morning|afternoon|evening)|thanks|thank you|wow|yay|hooray|"
    r"well done|good job|nice work|great job|way to go|bye|goodbye|sure thing|you got it|"
    r"(?:what an? |that'?s an? |that is an? )?(?:great|good|excellent|awesome|wonderful|fantastic|"
    r"nice|cool|interesting|amazing|super) (?:question|job|work|thinking|try|thought|one)s?)\b"
    r"|\b(?:i hope|hope (?:this|that) helps|happy to help|glad you asked|let me know|feel free|"
    r"keep (?:up|learning|exploring|asking|reading|going|it up)|you can do it|have fun|"
    r"you(?:'re| are) (?:so |really |very )?(?:smart|curious|clever|great|awesome|amazing|doing|a star)|"
    r"let'?s (?:explore|learn|find out|dive|look|see|get started|go|begin|discover))\b",
    re.IGNORECASE,
)
_META_ONLY = re.compile(
    r"^(?:according to|based on|as (?:stated|mentioned|shown) in|from|see|in)\s+"
    r"(?:the |your |our |this )?(?:passage|text|textbook|book|article|reading|lesson|source|chapter)s?"
    r"(?:\s+\d+)?\s*[.!:,]*$",
    re.IGNORECASE,
)
_FACT_BEARING_IMPERATIVES = {"remember", "note", "notice", "recall", "know", "consider"}
_META_VERBS = {"hope", "think", "believe", "say", "says", "said", "state", "explain", "mention", "tell", "show"}
_META_SUBJECTS = {"i", "passage", "text", "book", "textbook", "article", "lesson", "chapter", "source"}
_META_NOUNS = {"passage", "text", "textbook", "article", "lesson", "chapter", "reading", "excerpt", "paragraph"}
_SUBJECT_DEPS = {"nsubj", "nsubjpass", "expl", "csubj", "csubjpass"}
_CARRIED_AUX_TAGS = {"VB", "VBN", "VBG"}


@dataclass(frozen=True)
class _Segment:
    """A cleaned piece of an answer plus, per character, its offset in the original answer."""

    text: str
    offsets: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.offsets[start], self.offsets[end - 1] + 1


class ClaimDecomposer:
    """Turn answers into lists of self-contained atomic claims."""

    def __init__(self, nlp=None):
        if nlp is None:
            nlp = load_spacy()
        self.nlp = nlp

    def decompose(self, answer: str) -> list[Claim]:
        return self.decompose_batch([answer])[0]

    def beyond_question(self, claims: list[Claim], question: str) -> list[Claim]:
        """The claims that say something the question did not: 'The earliest way of making ATP is likely the
        earliest way of making ATP' only repeats the question back, and so cannot be an answer to it."""
        if not question.strip() or not claims:
            return claims
        docs = list(self.nlp.pipe([question] + [c.text for c in claims]))
        asked = _content_words(docs[0])
        return [c for c, doc in zip(claims, docs[1:]) if not _content_words(doc) <= asked]

    def decompose_batch(self, answers: list[str]) -> list[list[Claim]]:
        segments = [(i, seg) for i, answer in enumerate(answers) for seg in _segments(answer or "")]
        results: list[list[Claim]] = [[] for _ in answers]
        docs = self.nlp.pipe(seg.text for _, seg in segments)
        for (i, seg), doc in zip(segments, docs):
            for sent in doc.sents:
                results[i].extend(_claims_from_sentence(sent, seg))
        return results


def _segments(answer: str) -> list[_Segment]:
    """Lines of the answer with bullets, emphasis and citations removed; long lines cut into chunks."""
    out: list[_Segment] = []
    pos = 0
    for line in answer.splitlines(keepends=True):
        segment = _clean_line(line, pos)
        pos += len(line)
        if segment is not None:
            for piece in _split_semicolons(segment):
                out.extend(_chunk(piece))
    return out


def _clean_line(line: str, base: int) -> _Segment | None:
    removed = [False] * len(line)
    for pattern in (_BULLET, _MARKDOWN_EMPHASIS, _CITATION):
        for m in pattern.finditer(line):
            for k in range(m.start(), m.end()):
                removed[k] = True
    chars: list[str] = []
    offsets: list[int] = []
    for k, ch in enumerate(line):
        if removed[k]:
            continue
        if ch.isspace():
            if not chars or chars[-1] == " ":
                continue
            ch = " "
        chars.append(ch)
        offsets.append(base + k)
    while chars and chars[-1] == " ":
        chars.pop()
        offsets.pop()
    if not chars:
        return None
    return _Segment("".join(chars), tuple(offsets))


def _split_semicolons(segment: _Segment) -> list[_Segment]:
    pieces: list[_Segment] = []
    start = 0
    for m in re.finditer(r"\s*;\s*", segment.text):
        pieces.append(_Segment(segment.text[start : m.start()], segment.offsets[start : m.start()]))
        start = m.end()
    pieces.append(_Segment(segment.text[start:], segment.offsets[start:]))
    return [p for p in pieces if p.text.strip()]


def _chunk(segment: _Segment) -> list[_Segment]:
    if len(segment.text) <= MAX_SEGMENT_CHARS:
        return [segment]
    pieces: list[_Segment] = []
    start = 0
    text = segment.text
    while start < len(text):
        end = min(start + MAX_SEGMENT_CHARS, len(text))
        if end < len(text):
            cut = max((m.end() for m in SENTENCE_END_IN_LINE.finditer(text, start, end)), default=0)
            end = cut if cut > start else end
        pieces.append(_Segment(text[start:end], segment.offsets[start:end]))
        start = end
    return [p for p in pieces if p.text.strip()]


def _claims_from_sentence(sent, seg: _Segment) -> list[Claim]:
    text = sent.text.strip()
    if not text or _is_chatter(sent):
        return []
    root = _factual_root(sent)
    if root is None:
        return []
    heads = [root] + [c for c in root.conjuncts if c.i > root.i and c.dep_ == "conj" and _is_clausal(c)]
    subject = _subject_tokens(root)
    lead = _leading_modifiers(root, subject)
    claims: list[Claim] = []
    for head in heads:
        tokens = _clause_tokens(head, heads)
        tokens = _strip_edges(tokens)
        if not tokens or not any(t.is_alpha or t.like_num for t in tokens):
            continue
        own_subject = any(c.dep_ in _SUBJECT_DEPS for c in head.children)
        carried = lead if head is not root else []
        prefix = subject + _carried_aux(root, head) if head is not root and not own_subject else []
        claim = _make_claim(carried, prefix, tokens, seg)
        if claim is not None:
            claims.append(claim)
    return claims


def _is_chatter(sent) -> bool:
    text = sent.text.strip()
    if text.endswith("?") or _CHATTER.search(text) or _META_ONLY.match(text):
        return True
    if not any(t.pos_ in ("VERB", "AUX") or t.dep_ == "ROOT" and t.tag_.startswith("VB") for t in sent):
        # Verbless fragments are only kept when the parser mis-tagged a verb as a noun.
        return not _looks_like_mistagged_verb(sent.root)
    return False


def _looks_like_mistagged_verb(root) -> bool:
    has_subject_like = any(c.dep_ in ("compound", "nsubj") and c.i < root.i for c in root.children)
    return root.tag_ == "NNS" and has_subject_like and any(c.dep_ in ("prep", "dobj") for c in root.children)


_HEDGES = {"likely", "probably", "possibly", "perhaps", "maybe", "usually", "generally", "typically", "often",
           "call", "know", "name", "term", "answer", "question"}


def _content_words(doc) -> set[str]:
    return {t.lemma_.lower() for t in doc
            if (t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ", "NUM") or t.like_num) and not t.is_stop and t.lemma_.lower() not in _HEDGES}


def _factual_root(sent):
    """The head of the factual content, skipping meta framings such as 'Remember that ...'."""
    root = sent.root
    subjects = [c for c in root.children if c.dep_ in _SUBJECT_DEPS]
    ccomp = next((c for c in root.children if c.dep_ == "ccomp"), None)
    is_imperative = not subjects and root.tag_ == "VB" and _starts_sentence(root)
    subject_words = {w.lemma_.lower() for s in subjects for w in s.subtree}
    is_meta = root.lemma_.lower() in _META_VERBS and bool(subject_words & _META_SUBJECTS)
    if is_imperative or is_meta or root.lemma_.lower() == "let":
        if ccomp is not None and (root.lemma_.lower() in _FACT_BEARING_IMPERATIVES or is_meta):
            return ccomp
        return None
    if any(s.lower_ == "i" for s in subjects):
        return None
    if any(s.lemma_.lower() in _META_NOUNS for s in subjects):  # "The passage is about …": a remark on the text
        return None
    return root


def _starts_sentence(root) -> bool:
    before = [t for t in root.sent if t.i < root.i]
    return all(t.is_punct or t.dep_ in ("advmod", "intj", "discourse", "cc", "aux", "neg") for t in before)


def _is_clausal(token) -> bool:
    if token.pos_ in ("VERB", "AUX"):
        return True
    # A conjunct of a verb with its own subject, object or preposition is a mis-tagged verb phrase.
    return token.head.pos_ in ("VERB", "AUX") and any(
        c.dep_ in _SUBJECT_DEPS | {"dobj", "prep", "attr", "acomp", "agent", "aux"} for c in token.children
    )


def _subject_tokens(root) -> list:
    subject = next((c for c in root.children if c.dep_ in _SUBJECT_DEPS), None)
    return list(subject.subtree) if subject is not None else []


def _leading_modifiers(root, subject: list) -> list:
    """Prepositional/temporal phrases before the subject ('In 1945, ...'), shared by every clause."""
    if not subject:
        return []
    first = subject[0].i
    out: list = []
    for child in root.children:
        if child.i < first and child.dep_ in ("prep", "npadvmod") and not _is_discourse(child):
            out.extend(t for t in child.subtree)
    return out


def _is_discourse(token) -> bool:
    phrase = " ".join(t.text for t in token.subtree)
    return bool(_LEADING_MARKER.match(phrase + ","))


def _carried_aux(root, head) -> list:
    if head.tag_ not in _CARRIED_AUX_TAGS or any(c.dep_ in ("aux", "auxpass") for c in head.children):
        return []
    return [c for c in root.children if c.dep_ in ("aux", "auxpass") and c.i < root.i]


def _clause_tokens(head, heads: list) -> list:
    others = {h.i for h in heads if h is not head}
    excluded: set[int] = set()
    for token in head.subtree:
        if token.i in others:
            excluded.update(t.i for t in token.subtree)
    for child in head.children:
        # Coordinators and commas that link this clause to a following one.
        if child.dep_ in ("cc", "punct", "preconj") and any(o > child.i for o in others) and child.i > head.i:
            excluded.add(child.i)
    if head.dep_ == "ccomp":
        excluded.update(c.i for c in head.children if c.dep_ == "mark")
    return [t for t in head.subtree if t.i not in excluded]


def _strip_edges(tokens: list) -> list:
    while tokens and (tokens[0].is_punct or tokens[0].dep_ == "cc" or tokens[0].is_space):
        tokens = tokens[1:]
    while tokens and (tokens[-1].is_punct or tokens[-1].dep_ == "cc" or tokens[-1].is_space):
        tokens = tokens[:-1]
    return tokens


def _strip_marker(tokens: list) -> list:
    """Drop leading discourse markers ('So,', 'Also,', 'According to the passage,')."""
    while tokens:
        start = tokens[0].idx
        joined = tokens[0].doc.text[start : tokens[-1].idx + len(tokens[-1])]
        m = _LEADING_MARKER.match(joined)
        if not m or m.end() >= len(joined):
            return tokens
        cut = start + m.end()
        tokens = _strip_edges([t for t in tokens if t.idx >= cut])
    return tokens


def _make_claim(lead: list, prefix: list, tokens: list, seg: _Segment) -> Claim | None:
    """Build a claim from its own tokens, prefixed by carried context (leading phrase, subject, auxiliary)."""
    tokens = _strip_marker(tokens)
    if not tokens:
        return None
    own = {x.i for x in tokens}
    lead = [t for t in _strip_marker(_strip_edges(lead)) if t.i not in own]
    prefix = [t for t in _strip_marker(_strip_edges(prefix)) if t.i not in own]
    parts = [f"{_join(lead)}," if lead else "", _join(prefix), _join(tokens)]
    text = _finish_sentence(" ".join(p for p in parts if p))
    if not re.search(r"\w", text):
        return None
    span = seg.span(tokens[0].idx, tokens[-1].idx + len(tokens[-1]))
    return Claim(text=text, span=span)


def _join(tokens: list) -> str:
    parts: list[str] = []
    for k, t in enumerate(tokens):
        parts.append(t.text)
        contiguous = k + 1 < len(tokens) and tokens[k + 1].i == t.i + 1
        parts.append(t.whitespace_ if contiguous else " ")
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _finish_sentence(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?])", r"\1", text).strip()
    text = re.sub(r"[\s,;:!?.\-–—]+$", "", text)
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    return f"{text}." if text else text
