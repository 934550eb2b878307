"""Claims that copy a passage sentence almost word for word, with one detail moved or replaced.

Two edits keep every word "in the passage", so neither word overlap nor the bi-encoder sees them:
  * a phrase replaced by another ('This current can turn switches on' -> 'A nearby electron can turn switches
    on'): `substitutions` aligns the claim with the passage sentence it copies most of and returns the replaced
    phrase pairs; the verifier then compares each pair by meaning (a synonym such as many/numerous is a
    paraphrase, an unrelated noun phrase is not);
  * a word replaced by its opposite made with a prefix ('aerobic' for 'anaerobic'): `opposite_by_prefix`;
  * roles swapped ('New regulation eliminated bank closures' -> 'Bank closures eliminated new regulation'):
    `role_swap` reads who does what to whom from a dependency parse of the claim and of that sentence. Passive
    voice is undone first ('… were offered by the defense' has the defense as its doer), so a passive
    rephrasing is not a swap;
  * a phrase moved to another slot ('the intent of the mass number' -> 'the mass number of the intent'), or a
    doer replaced by a phrase from elsewhere: `structure_agreement` compares the claim's noun links (a noun with
    its modifiers and complements) with the sentence's, and `role_conflicts` counts verbs whose doer or object
    differs. A rephrasing keeps those; moving words around breaks them.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from verifiers.mismatch import CONTENT_POS


def aligned_sentence(claim_doc, passage_doc, min_aligned: float = 0.5):
    """(sentence span, SequenceMatcher) for the passage sentence sharing the most words with the claim, in order;
    None when no sentence lines up with at least `min_aligned` of the claim's words."""
    sents = list(passage_doc.sents) if (passage_doc.has_annotation("SENT_START") or passage_doc.has_annotation("DEP")) else [passage_doc[:]]
    claim_lemmas = _lemmas(claim_doc)
    if not claim_lemmas:
        return None
    best = (0, None, None)
    for sent in sents:
        matcher = SequenceMatcher(None, claim_lemmas, _lemmas(sent), autojunk=False)
        aligned = sum(block.size for block in matcher.get_matching_blocks())
        if aligned > best[0]:
            best = (aligned, sent, matcher)
    aligned, sent, matcher = best
    if sent is None or aligned < min_aligned * len(claim_lemmas):
        return None
    return sent, matcher


def substitutions(claim_doc, passage_doc, max_span: int = 8) -> list[tuple[str, str]]:
    """(claim phrase, passage phrase) for every replaced stretch of up to `max_span` words that carries a content
    word, against the passage sentence the claim copies. Empty when the claim copies no sentence."""
    found = aligned_sentence(claim_doc, passage_doc)
    return replaced_phrases(claim_doc, *found, max_span=max_span) if found else []


def replaced_phrases(claim_doc, sent, matcher, max_span: int = 8) -> list[tuple[str, str]]:
    """`substitutions` for an alignment `aligned_sentence` already found."""
    claim_tokens, sent_tokens = _words(claim_doc), _words(sent)
    pairs = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op != "replace" or a2 - a1 > max_span or b2 - b1 > max_span:
            continue
        if any(t.pos_ in CONTENT_POS and not t.is_stop for t in claim_tokens[a1:a2]):
            pairs.append((" ".join(t.text for t in claim_tokens[a1:a2]), " ".join(t.text for t in sent_tokens[b1:b2])))
    return pairs


NEGATING_PREFIXES = ("an", "a", "non", "un", "in", "im", "il", "ir", "dis")


def opposite_by_prefix(a: str, b: str) -> bool:
    """'aerobic' / 'anaerobic', 'living' / 'nonliving': one word is the other with a negating prefix."""
    a, b = a.lower().replace("-", ""), b.lower().replace("-", "")
    if a == b:
        return False
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 4 and any(long_ == prefix + short for prefix in NEGATING_PREFIXES)


def role_swap(claim_doc, sentence_doc) -> bool:
    """Whether a thing the sentence names as the doer of a verb is, in the claim, on the receiving end of the same
    verb while the sentence's receiver does it (both docs dependency-parsed); or a noun and its 'of'/'for'
    complement trade places ('the equation for a decay process' -> 'a decay process for the equation')."""
    claim_roles, sent_roles = verb_roles(claim_doc), verb_roles(sentence_doc)
    for verb, (c_doer, c_other) in claim_roles.items():
        if verb not in sent_roles:
            continue
        s_doer, s_other = sent_roles[verb]
        if c_doer & s_other and s_doer & c_other and not (c_doer & s_doer):
            return True
    claim_pairs, sent_pairs = noun_complements(claim_doc), noun_complements(sentence_doc)
    return any((b, a) in sent_pairs and (a, b) not in sent_pairs for a, b in claim_pairs)


def core_links(span) -> set[tuple[str, str]]:
    """(noun lemma, lemma of a content word attached to it) for a parsed span, linked through function words
    ('the intent of the mass number' -> (intent, number), (number, mass)). Links to verbs are left out: who does
    what is `verb_roles`' business, and the small parser's verb attachments vary too much between a sentence and
    its rephrasing."""
    links = set()
    for t in span:
        if not _content(t) or t.dep_ in ("conj", "appos", "relcl", "acl"):
            continue
        head, hops = t.head, 0
        while head is not head.head and not _content(head) and hops < 4:
            head, hops = head.head, hops + 1
        if head is not t and head.pos_ in ("NOUN", "PROPN", "NUM") and _content(head) and head.lemma_.lower() != t.lemma_.lower():
            links.add((head.lemma_.lower(), t.lemma_.lower()))
    return links


def structure_agreement(claim_doc, sentence_doc) -> tuple[float, int]:
    """(share of the claim's noun links the sentence keeps, number it breaks). A link breaks when the sentence
    attaches the same word to another word of the claim, or the other way round ('the mass number of the intent'
    against 'the intent of the mass number'); a link the sentence simply lacks (a parse that differs, a word of
    another clause) counts neither way. (1.0, 0) when nothing is kept or broken."""
    sentence_links = core_links(sentence_doc)
    claim_words = {t.lemma_.lower() for t in claim_doc}
    kept = broken = 0
    for head, dep in core_links(claim_doc):
        if (head, dep) in sentence_links:
            kept += 1
        elif (dep, head) in sentence_links or any(h != head and h in claim_words for h, d in sentence_links if d == dep):
            broken += 1
    return (kept / (kept + broken) if kept + broken else 1.0), broken


def role_conflicts(claim_doc, sentence_doc) -> tuple[int, int]:
    """(verbs whose doer differs, verbs whose object differs) between claim and sentence, for verbs both use and
    both give a doer (object) to; passive undone, as in `role_swap`."""
    claim_roles, sent_roles = verb_roles(claim_doc), verb_roles(sentence_doc)
    doers = others = 0
    for verb, (c_doer, c_other) in claim_roles.items():
        if verb in sent_roles:
            s_doer, s_other = sent_roles[verb]
            doers += bool(c_doer and s_doer and not (c_doer & s_doer))
            others += bool(c_other and s_other and not (c_other & s_other))
    return doers, others


def imported_share(claim_doc, sentence, passage_doc) -> float:
    """Share of the claim's content words that the copied sentence lacks but another sentence of the passage has:
    a phrase lifted from elsewhere in the passage into this sentence's slot."""
    claim_words = [t.lemma_.lower() for t in claim_doc if _content(t)]
    if not claim_words:
        return 0.0
    own = {t.lemma_.lower() for t in sentence}
    rest = {t.lemma_.lower() for t in passage_doc} - own
    return sum(1 for w in claim_words if w not in own and w in rest) / len(claim_words)


def verb_roles(doc) -> dict[str, tuple[set[str], set[str]]]:
    """verb lemma -> (lemmas naming its doer, lemmas naming what it acts on or relates to), passive undone.
    Forms of 'be' are left out: 'X is Y' and 'Y is X' often say the same thing."""
    roles: dict[str, tuple[set[str], set[str]]] = {}
    for verb in doc:
        if verb.pos_ not in ("VERB", "AUX") or verb.lemma_.lower() == "be":
            continue
        doer: set[str] = set()
        other: set[str] = set()
        children = list(verb.children)
        if verb.dep_ == "conj" and not any(c.dep_ in ("nsubj", "nsubjpass") for c in children):
            children += [c for c in verb.head.children if c.dep_ in ("nsubj", "nsubjpass")]  # a shared subject
        for child in children:
            if child.dep_ == "nsubj":
                doer |= _phrase(child)
            elif child.dep_ == "agent":  # "by the defense"
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        doer |= _phrase(pobj)
            elif child.dep_ in ("nsubjpass", "dobj", "attr", "dative"):
                other |= _phrase(child)
            elif child.dep_ == "prep":
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        other |= _phrase(pobj)
        if doer or other:
            known = roles.setdefault(verb.lemma_.lower(), (set(), set()))
            known[0].update(doer)
            known[1].update(other)
    return roles


def noun_complements(doc) -> set[tuple[str, str]]:
    """(noun, its complement) for 'the X of/for the Y' phrases, by lemma."""
    pairs = set()
    for prep in doc:
        if prep.dep_ == "prep" and prep.lower_ in ("of", "for") and prep.head.pos_ in ("NOUN", "PROPN"):
            for pobj in prep.children:
                if pobj.dep_ == "pobj" and pobj.pos_ in ("NOUN", "PROPN"):
                    pairs.add((prep.head.lemma_.lower(), pobj.lemma_.lower()))
    return pairs


def _phrase(token) -> set[str]:
    """The head noun's lemma and its compound parts ('bank closures' -> {bank, closure})."""
    words = {token.lemma_.lower()}
    words |= {c.lemma_.lower() for c in token.children if c.dep_ == "compound"}
    return {w for w in words if w not in ("it", "they", "this", "that", "which", "who", "he", "she", "we", "you", "i")}


def _content(token) -> bool:
    return token.pos_ in CONTENT_POS and not token.is_stop and not token.is_punct and token.lemma_.lower() != "be"


def _words(span) -> list:
    return [t for t in span if not t.is_punct]


def _lemmas(span) -> list[str]:
    return [t.lemma_.lower() for t in _words(span)]
