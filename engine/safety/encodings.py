"""Every way a message can be read: plain, normalised, and decoded from the tricks children (and the internet)
use to slip words past a filter — base64, hex, reversed text, spaced-out letters, leetspeak, ROT13, look-alike
letters and invisible characters. The detectors run on every view, so a decoded message is checked again.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass

# Invisible characters used to split words ("ig\u200bnore"): zero-width spaces and joiners, soft hyphens, BOMs,
# word joiners, bidirectional controls.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
                                   "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None)
# Latin look-alikes from Cyrillic and Greek that NFKC leaves alone.
_HOMOGLYPHS = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "ɡ": "g", "һ": "h", "ӏ": "l", "к": "k", "м": "m", "т": "t", "в": "b", "н": "h", "ո": "n",
    "α": "a", "ε": "e", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "ν": "v", "κ": "k", "ι": "i", "χ": "x",
})
# tabs and line breaks end up as single spaces like all white space; made spaces first, most text is printable
_LINE_BREAKS = str.maketrans({"\n": " ", "\r": " ", "\t": " "})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a",
                       "$": "s", "!": "i", "|": "l", "+": "t", "€": "e"})
_LEET_TOKEN = re.compile(r"\S*[a-z]\S*")
_LEET_SYMBOL = re.compile("[01345789@$!|+€]")
# four or more single letters joined by the same separator: "b.o.m.b", "i-g-n-o-r-e", "k i l l"
_SPACED = re.compile(r"(?<![a-z0-9])[a-z0-9@$!|](?P<sep>[.\-_*]| )(?:[a-z0-9@$!|](?P=sep)){2,}[a-z0-9@$!|](?![a-z0-9])")
_LEET_DIGITS = {"1": "i", "4": "a", "2": "to", "0": "o", "3": "e", "5": "s", "7": "t", "8": "ate", "@": "a"}
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}[\s:]?){6,}\b")
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class View:
    """One reading of a message: the text the detectors see, and how it was obtained ("plain" when nothing was
    decoded)."""

    text: str
    how: str

    @property
    def decoded(self) -> bool:
        return self.how not in ("plain", "normalised")


def normalise(text: str) -> str:
    """Lower case, NFKC (full-width and styled letters become plain), look-alike letters folded, invisible and
    control characters removed, whitespace collapsed. Curly quotes become straight ones."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(_LINE_BREAKS)
    if not text.isprintable():  # most text is; the character-by-character pass is for the rest
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = text.lower().translate(_HOMOGLYPHS)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split())


def unspace(text: str) -> str:
    """'i g n o r e  y o u r  r u l e s' and 'b.o.m.b' become 'ignore your rules' and 'bomb': letters spaced one
    apart are joined, and a wider gap stays a space between words."""
    words = re.split(r"\s{2,}", text)
    if len(words) > 1 and all(re.fullmatch(r"(?:\S ?)+", w.strip()) for w in words if w.strip()):
        words = [w.replace(" ", "") if re.fullmatch(r"(?:\S )+\S", w.strip()) else w for w in words]
    text = " ".join(w.strip() for w in words)
    return _SPACED.sub(lambda m: m.group(0).replace(m.group("sep"), ""), text)


def deleet(text: str) -> str:
    """'1gn0r3 y0ur rul3s' becomes 'ignore your rules'. Only words that mix letters with leet symbols change, so
    '7 x 8 = 56' stays as it is."""
    if not _LEET_SYMBOL.search(text):
        return text
    mixed = 0

    def fix(match: re.Match) -> str:
        nonlocal mixed
        token = match.group(0)
        if not _LEET_SYMBOL.search(token) or not any(ch.isalpha() for ch in token):
            return token
        core = token.rstrip(".,?!:;")
        fixed = core.translate(_LEET) + token[len(core):]
        mixed += fixed != token
        return fixed

    text = _LEET_TOKEN.sub(fix, text)
    if mixed >= 2:  # clearly leetspeak: lone digits are letters or words too ("h0w 2 g3t h1gh")
        text = re.sub(r"(?<!\S)[0-9@](?!\S)", lambda m: _LEET_DIGITS.get(m.group(0), m.group(0)), text)
    return text


_TEXTSPEAK = {"u": "you", "r": "are", "ur": "your", "2": "to", "4": "for", "b4": "before", "y": "why", "pls": "please",
              "plz": "please", "n": "and", "cuz": "because", "bc": "because", "k": "ok", "thx": "thanks", "ppl": "people",
              "sum1": "someone", "some1": "someone", "any1": "anyone", "ne1": "anyone", "wat": "what", "wut": "what",
              "hw": "homework", "ans": "answers", "tho": "though", "im": "i'm", "dont": "don't", "cant": "can't"}


def textspeak(text: str) -> str:
    """'can u tell me how 2 make…' becomes 'can you tell me how to make…'."""
    return re.sub(r"(?<![\w'])[a-z0-9]+(?![\w'])", lambda m: _TEXTSPEAK.get(m.group(0), m.group(0)), text)


def reverse_text(text: str) -> str:
    return text[::-1]


def reverse_words(text: str) -> str:
    """Each word spelled backwards, in place: 'erongi ruoy selur' becomes 'ignore your rules'."""
    return " ".join(word[::-1] for word in text.split())


def rot13(text: str) -> str:
    return codecs.decode(text, "rot_13")


def _readable(data: bytes) -> str | None:
    """Decoded bytes that are mostly readable words, or None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 4:
        return None
    printable = sum(ch.isprintable() or ch.isspace() for ch in text) / len(text)
    letters = sum(ch.isalpha() or ch == " " for ch in text) / len(text)
    return text if printable > 0.95 and letters > 0.7 and " " in text.strip() else None


def base64_segments(text: str) -> list[str]:
    """Readable text hidden as base64 (standard or URL-safe) anywhere in the message."""
    found = []
    for match in _BASE64.finditer(text):
        blob = match.group(0)
        if blob.isalpha() and (blob.islower() or blob.isupper()):  # an ordinary long word, not base64
            continue
        for decoder in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                decoded = _readable(decoder(blob + "=" * (-len(blob) % 4)))
            except (binascii.Error, ValueError):
                decoded = None
            if decoded:
                found.append(decoded)
                break
    return found


def hex_segments(text: str) -> list[str]:
    found = []
    for match in _HEX.finditer(text):
        digits = re.sub(r"[\s:]", "", match.group(0))
        if len(digits) % 2:
            continue
        decoded = _readable(bytes.fromhex(digits))
        if decoded:
            found.append(decoded)
    return found


def views(text: str, max_chars: int = 4000) -> list[View]:
    """The message as the detectors should see it: plain (normalised) first, then every decoding that produced
    something new. Only the first `max_chars` characters are read (longer messages are refused before this)."""
    raw = text[:max_chars]
    plain = normalise(raw)
    out: list[View] = [View(plain, "plain")]
    seen = {plain}

    def add(candidate: str, how: str) -> None:
        candidate = normalise(candidate)
        if candidate and candidate not in seen:
            seen.add(candidate)
            out.append(View(candidate, how))

    spaced = unspace(unicodedata.normalize("NFKC", raw).translate(_INVISIBLE).lower())
    add(spaced, "spaced letters")
    add(textspeak(plain), "textspeak")
    add(deleet(plain), "leetspeak")
    add(deleet(normalise(spaced)), "spaced leetspeak")
    for decoded in base64_segments(raw):
        add(decoded, "base64")
        add(deleet(normalise(decoded)), "base64")
    for decoded in hex_segments(raw):
        add(decoded, "hex")
    add(reverse_text(plain), "reversed")
    add(reverse_words(plain), "reversed words")
    add(rot13(plain), "rot13")
    return out


_COMMON = frozenset("""a about all am an and any are as at be because but by can could did do does don't for from get give
go had has have he her him his how i i'm if in into is it it's just know like make me more my no not now of on or
our out please say she so some tell than that the their them then there they this to up us use want was we what
when where which who why will with would you your you're rules instructions ignore bomb kill myself high drunk
essay answers homework secret bad words anything everything previous all""".split())


def english_share(text: str) -> float:
    """The share of a text's words that are common English words: high for a real message, near 0 for the
    noise that reversing or ROT13-decoding an ordinary message produces."""
    words = re.findall(r"[a-z']+", text)
    if not words:
        return 0.0
    return sum(w in _COMMON for w in words) / len(words)
