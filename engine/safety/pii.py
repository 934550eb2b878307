"""Personal details a child (or a planted page) may type: emails, phone numbers, street addresses and the full
names of private people. Redacted in answers and before anything is logged.

Names are found by context ("my name is…", "my teacher Mrs…", "my friend Sam Jones"), not by guessing every
capitalised pair, so the historical people of the books (Abraham Lincoln, Marie Curie) stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE = re.compile(
    r"(?<![\w.,])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{3}[\s.-])\d{3,4}[\s.-]\d{3,4}(?![\w.,]\d)"
    r"|(?<![\w.,])\+?\d{10,13}(?![\w.,]\d)"
    r"|(?<![\w.,])0\d{2,4}[\s-]\d{3,4}[\s-]?\d{3,4}(?![\w.,]\d)"
)
_STREET = r"(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|court|ct|boulevard|blvd|way|place|pl|terrace|close|crescent|circle|cir|highway|hwy|parkway|pkwy)"
ADDRESS = re.compile(rf"\b\d{{1,5}}[a-z]?\s+(?:[A-Za-z][a-z]+\.?\s+){{1,3}}{_STREET}\b\.?(?:,?\s+(?:apt|apartment|unit|flat)\.?\s*#?\w+)?", re.IGNORECASE)
_NAME = r"[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?"
FULL_NAME = re.compile(
    rf"(?i:\b(?:my (?:full )?name is|my name'?s|i am|i'?m|call me|this is|named|called|"
    rf"(?:my|our) (?:teacher|friend|best friend|brother|sister|mom|mum|dad|mother|father|neighbou?r|cousin|classmate|grandma|grandpa|aunt|uncle|coach|babysitter|nanny)(?: is| called| named|,)?)\s+)"
    rf"({_NAME}\s+{_NAME}(?:\s+{_NAME})?)\b"
)
TITLED = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+({_NAME}(?:\s+{_NAME})?)\b")
_PUBLIC_TITLED = re.compile(r"^(?:Dr)\.?\s+(?:Martin Luther King|Seuss)", re.IGNORECASE)


@dataclass(frozen=True)
class Redaction:
    kind: str
    text: str


def find(text: str, public_names: str = "") -> list[tuple[int, int, str]]:
    """(start, end, kind) of every personal detail; names that appear in `public_names` (the passages from the
    books) are public and stay."""
    spans: list[tuple[int, int, str]] = []
    for kind, pattern in (("email", EMAIL), ("phone", PHONE), ("address", ADDRESS)):
        spans += [(m.start(), m.end(), kind) for m in pattern.finditer(text)]
    for m in FULL_NAME.finditer(text):
        name = m.group(1)
        if name not in public_names:
            spans.append((m.start(1), m.end(1), "name"))
    for m in TITLED.finditer(text):
        if m.group(1) not in public_names and not _PUBLIC_TITLED.match(m.group(0)):
            spans.append((m.start(), m.end(), "name"))
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for s in spans:
        if merged and s[0] < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], s[1]), last[2])
        else:
            merged.append(s)
    return merged


def redact(text: str, public_names: str = "") -> tuple[str, list[Redaction]]:
    """The text with each personal detail replaced by [email], [phone], [address] or [name]."""
    if not text:
        return text, []
    spans = find(text, public_names)
    if not spans:
        return text, []
    out, at, found = [], 0, []
    for start, end, kind in spans:
        out += [text[at:start], f"[{kind}]"]
        found.append(Redaction(kind, text[start:end]))
        at = end
    out.append(text[at:])
    return "".join(out), found


def redact_text(text: str, public_names: str = "") -> str:
    return redact(text, public_names)[0]
