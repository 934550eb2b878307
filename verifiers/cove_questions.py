"""Factored chain-of-verification (Dhuliawala et al. 2023) without an LLM: turn each claim into a short open
question about its key detail (who / when / where / what / how many), worded so it does not give that detail away.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from engine.core.packaged import load_spacy
from verifiers.arithmetic import check_claim

log = logging.getLogger(__name__)

_DATE_LABELS = {"DATE", "TIME"}
_PLACE_LABELS = {"GPE", "LOC", "FAC"}
_WHO_LABELS = {"PERSON"}
_WHERE_PREPS = {"in", "at", "on"}
_SUBJECT_DEPS = {"nsubj", "nsubjpass"}
_LOWERCASE_STARTS = {"the", "a", "an", "this", "that", "these", "those", "it", "they", "he", "she", "we", "there"}
_EQUALS_PREFIX = re.compile(r"^\s*(?:(?:is|are)\s+equal\s+to|equals?|is|are|makes?|gives|=)\s*", re.IGNORECASE)
_DO_FORMS = {"VBD": "did", "VBZ": "does", "VBP": "do", "NNS": "does"}


@dataclass(frozen=True)
class PlannedQuestion:
    """A verification question and the claim's detail that the independent answer should match."""

    question: str
    key_detail: str | None


def plan_question(claim_text: str, nlp=None) -> str:
    """One open verification question for a claim."""
    return _plan_for(claim_text, _parse(claim_text, nlp)).question


def plan_questions(claims: list[str], nlp=None) -> list[str]:
    """Questions for many claims, parsed in one batch."""
    nlp = nlp or _default_nlp()
    docs = nlp.pipe(claims)
    return [_plan_for(text, doc).question for text, doc in zip(claims, docs)]


def key_detail(claim_text: str, nlp=None) -> str | None:
    """The detail of the claim that plan_question asks about, or None when it fell back to a yes/no question."""
    return _plan_for(claim_text, _parse(claim_text, nlp)).key_detail


def plan(claim_text: str, nlp=None) -> PlannedQuestion:
    """Question and key detail together, from one parse."""
    return _plan_for(claim_text, _parse(claim_text, nlp))


def _default_nlp():
    return load_spacy()


def _parse(claim_text: str, nlp):
    if not claim_text or not claim_text.strip() or check_claim(claim_text) is not None:
        return None
    return (nlp or _default_nlp())(claim_text)


def _plan_for(claim_text: str, doc) -> PlannedQuestion:
    text = (claim_text or "").strip()
    if not text:
        return PlannedQuestion("", None)
    arithmetic = _arithmetic_question(text)
    if arithmetic is not None:
        return arithmetic
    planned = None
    if doc is not None and len(doc) > 0:
        try:
            planned = _question_from_parse(next(iter(doc.sents)))
        except (StopIteration, IndexError, ValueError) as err:
            log.debug("could not plan a question for %r: %s", text, err)
    if planned is None or not planned.key_detail or _gives_away(planned):
        return PlannedQuestion(_fallback(text), None)
    return planned


def _arithmetic_question(text: str) -> PlannedQuestion | None:
    claim = check_claim(text)
    if claim is None:
        return None
    after = text[claim.span[0] + len(claim.expression) : claim.span[1]]
    return PlannedQuestion(f"What is {claim.expression}?", _EQUALS_PREFIX.sub("", after).strip())


def _fallback(text: str) -> str:
    body = text.rstrip(" .!?。！？") or text
    first = body.split(" ", 1)[0]
    if first.lower() in _LOWERCASE_STARTS:
        body = first.lower() + body[len(first) :]
    return f"Is it true that {body}?"


def _gives_away(planned: PlannedQuestion) -> bool:
    detail = _strip_determiner(planned.key_detail or "").lower()
    return bool(detail) and detail in planned.question.lower()


def _question_from_parse(sent) -> PlannedQuestion | None:
    root = sent.root
    subject = _subject(root)
    if not subject:
        return None
    for strategy in (_copular, _when, _where, _by_whom, _who_did, _how_many, _what_object):
        planned = strategy(root, subject)
        if planned is not None:
            return planned
    return None


def _subject(root) -> list:
    node = next((c for c in root.children if c.dep_ in _SUBJECT_DEPS), None)
    if node is not None:
        return list(node.subtree)
    if _is_mistagged_verb(root):
        return [t for t in root.sent if t.i < root.i]
    return []


def _is_mistagged_verb(root) -> bool:
    """The small model sometimes tags a plural-looking verb ('empties') as the noun root of the sentence."""
    before = [t for t in root.sent if t.i < root.i]
    return root.tag_ == "NNS" and bool(before) and any(c.dep_ in ("prep", "dobj") for c in root.children)


def _copular(root, subject: list) -> PlannedQuestion | None:
    if root.lemma_ != "be" or root.pos_ != "AUX":
        return None
    attr = next((c for c in root.children if c.dep_ == "attr"), None)
    acomp = next((c for c in root.children if c.dep_ == "acomp"), None)
    subject_text = _phrase(subject, lower_start=True)
    if attr is not None:
        ordinal = next((c for c in attr.children if c.ent_type_ == "ORDINAL" or c.dep_ == "nummod"), None)
        if ordinal is not None:
            rest = _phrase([t for t in attr.subtree if t.i > attr.i])
            noun = f"{attr.text} {rest}".strip()
            return PlannedQuestion(f"Which {noun} {root.text} {subject_text}?", ordinal.text)
        superlative = next((c for c in attr.children if c.tag_ == "JJS"), None)
        if superlative is not None:
            rest = _phrase([t for t in attr.subtree if t.i > attr.i])
            question = f"Which {attr.text} {root.text} the {superlative.text} {rest}".strip()
            return PlannedQuestion(f"{question}?", _phrase(subject, strip_det=True))
        wh = "Who" if _label(subject) in _WHO_LABELS else "What"
        return PlannedQuestion(f"{wh} {root.text} {subject_text}?", _phrase(list(attr.subtree), strip_det=True))
    if acomp is not None and acomp.tag_ == "JJS":
        rest = _phrase(list(acomp.subtree))
        wh = "Who" if _label(subject) in _WHO_LABELS else "What"
        return PlannedQuestion(f"{wh} {root.text} {rest}?", _phrase(subject, strip_det=True))
    return None


def _when(root, subject: list) -> PlannedQuestion | None:
    for child in root.children:
        if child.dep_ in ("prep", "npadvmod") and any(t.ent_type_ in _DATE_LABELS for t in child.subtree):
            detail = [t for t in child.subtree if t.ent_type_ in _DATE_LABELS]
            return _inverted("When", root, subject, removed=list(child.subtree), detail=detail)
    return None


def _where(root, subject: list) -> PlannedQuestion | None:
    for child in root.children:
        pobj = next((c for c in child.children if c.dep_ == "pobj"), None) if child.dep_ == "prep" else None
        if pobj is None or _label(list(pobj.subtree)) not in _PLACE_LABELS:
            continue
        if child.lower_ in _WHERE_PREPS:
            return _inverted("Where", root, subject, removed=list(child.subtree), detail=list(pobj.subtree))
        return _inverted("What", root, subject, removed=list(pobj.subtree), detail=list(pobj.subtree))
    return None


def _by_whom(root, subject: list) -> PlannedQuestion | None:
    agent = next((c for c in root.children if c.dep_ == "agent"), None)
    pobj = next((c for c in agent.children if c.dep_ == "pobj"), None) if agent is not None else None
    if pobj is None:
        return None
    wh = "Who" if _label(list(pobj.subtree)) in _WHO_LABELS else "What"
    return _inverted(wh, root, subject, removed=list(pobj.subtree), detail=list(pobj.subtree))


def _who_did(root, subject: list) -> PlannedQuestion | None:
    if _label(subject) not in _WHO_LABELS | {"ORG", "NORP"} or root.pos_ not in ("VERB", "AUX"):
        return None
    if not any(c.dep_ in ("dobj", "prep", "attr", "xcomp", "ccomp") for c in root.children):
        return None
    wh = "Who" if _label(subject) in _WHO_LABELS else "What"
    rest = _phrase([t for t in root.sent if t not in subject and not _is_final_punct(t)])
    return PlannedQuestion(f"{wh} {rest}?", _phrase(subject, strip_det=True))


def _how_many(root, subject: list) -> PlannedQuestion | None:
    dobj = next((c for c in root.children if c.dep_ == "dobj"), None)
    number = next((c for c in dobj.children if c.dep_ == "nummod"), None) if dobj is not None else None
    if number is None:
        return None
    noun = _phrase([t for t in dobj.subtree if t.i > number.i])
    removed = list(dobj.subtree)
    return _inverted(f"How many {noun}", root, subject, removed=removed, detail=list(number.subtree))


def _what_object(root, subject: list) -> PlannedQuestion | None:
    dobj = next((c for c in root.children if c.dep_ == "dobj"), None)
    if dobj is None:
        return None
    return _inverted("What", root, subject, removed=list(dobj.subtree), detail=list(dobj.subtree))


def _inverted(wh: str, root, subject: list, removed: list, detail: list) -> PlannedQuestion | None:
    """wh + auxiliary (or do-support) + subject + the rest of the clause, minus the removed phrase."""
    gone = {t.i for t in removed}
    aux = next((c for c in root.children if c.dep_ in ("aux", "auxpass") and c.i < root.i), None)
    if aux is None and root.pos_ == "AUX":
        aux = root
    subject_ids = {t.i for t in subject}
    rest: list[str] = []
    for t in root.sent:
        if t.i in gone or _is_final_punct(t) or (aux is not None and t.i == aux.i) or t.i in subject_ids:
            continue
        if t.text == "," and (t.i - 1 in gone or not rest):
            continue
        if aux is None and t.i == root.i:
            rest.append(root.lemma_)
        else:
            rest.append(t.text)
    if aux is not None:
        lead = aux.lower_
    else:
        lead = _DO_FORMS.get(root.tag_)
        if lead is None:
            return None
    body = " ".join(rest)
    question = f"{wh} {lead} {_phrase(subject, lower_start=True)} {body}".strip()
    question = _tidy(question)
    question = re.sub(r"[\s,;:]+$", "", question)
    return PlannedQuestion(f"{question}?", _phrase(detail, strip_det=True))


def _label(tokens: list) -> str:
    labels = [t.ent_type_ for t in tokens if t.ent_type_]
    return max(set(labels), key=labels.count) if labels else ""


def _phrase(tokens: list, lower_start: bool = False, strip_det: bool = False) -> str:
    tokens = [t for t in tokens if not _is_final_punct(t)]
    if strip_det and tokens and tokens[0].lower_ in ("the", "a", "an"):
        tokens = tokens[1:]
    words = [t.text for t in tokens]
    if lower_start and tokens and tokens[0].pos_ not in ("PROPN",) and tokens[0].text != "I":
        words[0] = words[0].lower()
    return _tidy(" ".join(words))


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([,;:.%)]|n't\b|'s\b|'re\b|'ve\b|'ll\b|'d\b)", r"\1", text)
    return re.sub(r"([($])\s+", r"\1", text).strip()


def _strip_determiner(text: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", text.strip(), flags=re.IGNORECASE)


def _is_final_punct(token) -> bool:
    return token.is_punct and token.i == token.sent.end - 1
