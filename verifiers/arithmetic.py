"""Find arithmetic statements ("7 × 8 = 56", "seven times eight is fifty-six") and check them exactly.

Expressions are parsed by a small recursive-descent parser over Fractions; nothing is ever eval'd.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from fractions import Fraction

log = logging.getLogger(__name__)

MAX_EXPRESSION_TOKENS = 40
MAX_DIGITS = 30
MAX_NESTING = 10
MAX_TEXT_CHARS = 200_000

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NUMBER_WORDS = set(_UNITS) | set(_TENS) | set(_SCALES)

_OPERATOR_SYMBOLS = {"+": "+", "-": "-", "−": "-", "–": "-", "×": "*", "x": "*", "*": "*", "·": "*", "÷": "/", "/": "/"}
_OPERATOR_WORDS = {"plus": "+", "minus": "-", "times": "*", "multiplied by": "*", "divided by": "/"}
_EQUALS_WORDS = ("is equal to", "are equal to", "equals", "equal", "is", "are", "makes", "make", "gives", "=")

_TOKEN = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"|(?P<opword>multiplied\s+by|divided\s+by|plus|minus|times)\b"
    r"|(?P<eq>(?:is|are)\s+equal\s+to\b|equals?\b|is\b|are\b|makes?\b|gives\b|=)"
    r"|(?P<word>[A-Za-z]+(?:-[A-Za-z]+)*)"
    r"|(?P<op>[+\-−–×x*·÷/])"
    r"|(?P<paren>[()])"
    r"|(?P<other>\S)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ArithmeticClaim:
    """One arithmetic statement found in a text, with its exact value and a corrected version of the text."""

    expression: str
    stated: Fraction
    actual: Fraction
    span: tuple[int, int]
    correct: bool
    corrected_text: str


@dataclass(frozen=True)
class _Tok:
    kind: str  # "num", "op", "eq", "(", ")", "other"
    value: object
    start: int
    end: int
    style: str = ""  # for numbers: "digits" or "words"


class _Unsupported(Exception):
    """The expression cannot be checked (too long, too deep, division by zero)."""


def find_arithmetic(text: str) -> list[ArithmeticClaim]:
    """Every arithmetic statement in text that has an operator and a stated result."""
    if not text or len(text) > MAX_TEXT_CHARS:
        return []
    tokens = _tokenize(text)
    claims: list[ArithmeticClaim] = []
    i = 0
    while i < len(tokens):
        found = _statement_at(text, tokens, i)
        if found is None:
            i += 1
            continue
        claim, i = found
        claims.append(claim)
    return claims


def check_claim(text: str) -> ArithmeticClaim | None:
    """The first arithmetic statement in a single claim, or None when it has none."""
    claims = find_arithmetic(text)
    return claims[0] if claims else None


def correct_all(text: str) -> str:
    """text with every wrong arithmetic result replaced by the right one."""
    out = text
    for claim in reversed(find_arithmetic(text)):
        if not claim.correct:
            tail = len(text) - claim.span[1]
            fixed = claim.corrected_text
            out = out[: claim.span[0]] + fixed[claim.span[0] : len(fixed) - tail] + out[claim.span[1] :]
    return out


def _tokenize(text: str) -> list[_Tok]:
    raw: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        s, e, lexeme = m.start(), m.end(), m.group()
        if kind == "num":
            digits = lexeme.replace(",", "")
            raw.append(_Tok("num", digits if len(digits) <= MAX_DIGITS + 1 else None, s, e, "digits"))
        elif kind == "opword":
            raw.append(_Tok("op", _OPERATOR_WORDS[re.sub(r"\s+", " ", lexeme.lower())], s, e))
        elif kind == "eq":
            raw.append(_Tok("eq", lexeme, s, e))
        elif kind == "op" or (kind == "word" and lexeme.lower() == "x"):
            raw.append(_Tok("op", _OPERATOR_SYMBOLS[lexeme.lower()], s, e))
        elif kind == "paren":
            raw.append(_Tok(lexeme, lexeme, s, e))
        elif kind == "word" and _is_number_word(lexeme):
            raw.append(_Tok("word", lexeme.lower(), s, e))
        elif kind == "word" and lexeme.lower() in ("a", "and", "negative"):
            raw.append(_Tok("glue", lexeme.lower(), s, e))
        else:
            raw.append(_Tok("other", lexeme, s, e))
    return _mark_ranges(text, _merge_number_words(raw))


def _is_number_word(word: str) -> bool:
    return all(part in _NUMBER_WORDS for part in word.lower().split("-"))


def _merge_number_words(raw: list[_Tok]) -> list[_Tok]:
    """Join runs like 'one hundred and five' or 'fifty-six' into single number tokens."""
    out: list[_Tok] = []
    i = 0
    while i < len(raw):
        j, parts = i, []
        while j < len(raw):
            tok = raw[j]
            nxt = raw[j + 1] if j + 1 < len(raw) else None
            if tok.kind == "word":
                parts.extend(tok.value.split("-"))
            elif tok.kind == "glue" and tok.value == "a" and not parts and nxt and nxt.kind == "word" and nxt.value in _SCALES:
                parts.append("one")
            elif tok.kind == "glue" and tok.value == "and" and parts and parts[-1] in _SCALES and nxt and nxt.kind == "word":
                pass
            else:
                break
            j += 1
        if j > i and parts:
            value = _words_to_int(parts)
            if value is not None:
                out.append(_Tok("num", str(value), raw[i].start, raw[j - 1].end, "words"))
                i = j
                continue
        tok = raw[i]
        out.append(tok if tok.kind != "glue" and tok.kind != "word" else _Tok("other", tok.value, tok.start, tok.end))
        i += 1
    return out


def _words_to_int(parts: list[str]) -> int | None:
    total, current = 0, 0
    for word in parts:
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        else:
            total += (current or 1) * _SCALES[word]
            current = 0
    return total + current


def _mark_ranges(text: str, tokens: list[_Tok]) -> list[_Tok]:
    """A hyphen glued between ascending numbers ('1939-1945', 'pages 5-6 are ...') is a range, not a subtraction."""
    out = list(tokens)
    for k in range(1, len(out) - 1):
        left, mid, right = out[k - 1], out[k], out[k + 1]
        glued = mid.kind == "op" and text[mid.start : mid.end] in "-–" and left.end == mid.start == right.start - 1
        after = out[k + 2] if k + 2 < len(out) else None
        written_as_equation = after is not None and after.kind == "eq" and after.value == "="
        if glued and _is_plain_int(left) and _is_plain_int(right) and not written_as_equation:
            if int(left.value) < int(right.value):
                out[k] = _Tok("other", "-", mid.start, mid.end)
    return out


def _is_plain_int(tok: _Tok) -> bool:
    return tok.kind == "num" and tok.style == "digits" and tok.value is not None and tok.value.isdigit()


def _statement_at(text: str, tokens: list[_Tok], i: int) -> tuple[ArithmeticClaim, int] | None:
    if tokens[i].kind not in ("num", "("):
        return None
    parser = _Parser(tokens, i)
    try:
        actual = parser.expression()
    except _Unsupported as err:
        log.debug("arithmetic at %d not checkable: %s", tokens[i].start, err)
        return None
    except _NoParse:
        return None
    end = parser.pos
    if parser.operators == 0 or end - i > MAX_EXPRESSION_TOKENS:
        return None
    if end >= len(tokens) or tokens[end].kind != "eq":
        return None
    stated_at = _stated_result(tokens, end + 1)
    if stated_at is None:
        return None
    stated, first, last = stated_at
    expr_text = text[tokens[i].start : tokens[end - 1].end]
    span = (tokens[i].start, tokens[last].end)
    correct = _agrees(stated, actual, tokens[first:last + 1], text)
    corrected = text
    if not correct:
        result_start, result_end = tokens[first].start, tokens[last].end
        original = text[result_start:result_end]
        corrected = text[:result_start] + _format_like(actual, original, tokens[first:last + 1]) + text[result_end:]
    claim = ArithmeticClaim(expr_text, stated, actual, span, correct, corrected)
    return claim, last + 1


class _NoParse(Exception):
    pass


class _Parser:
    """expr := term (('+'|'-') term)* ; term := factor (('*'|'/') factor)* ; factor := '-' factor | num | '(' expr ')'."""

    def __init__(self, tokens: list[_Tok], pos: int):
        self.tokens = tokens
        self.pos = pos
        self.start = pos
        self.operators = 0
        self.depth = 0

    def _peek(self) -> _Tok | None:
        if self.pos - self.start > MAX_EXPRESSION_TOKENS:
            raise _Unsupported("expression too long")
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expression(self) -> Fraction:
        value = self.term()
        while (tok := self._peek()) is not None and tok.kind == "op" and tok.value in "+-" and self._operand_follows():
            self.pos += 1
            self.operators += 1
            right = self.term()
            value = value + right if tok.value == "+" else value - right
        return value

    def term(self) -> Fraction:
        value = self.factor()
        while (tok := self._peek()) is not None and tok.kind == "op" and tok.value in "*/" and self._operand_follows():
            self.pos += 1
            self.operators += 1
            right = self.factor()
            if tok.value == "/":
                if right == 0:
                    raise _Unsupported("division by zero")
                value = value / right
            else:
                value = value * right
        return value

    def factor(self) -> Fraction:
        tok = self._peek()
        if tok is None:
            raise _NoParse()
        if tok.kind == "op" and tok.value == "-":
            self.pos += 1
            return -self.factor()
        if tok.kind == "num":
            if tok.value is None:
                raise _Unsupported("number too long")
            self.pos += 1
            return Fraction(tok.value)
        if tok.kind == "(":
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise _Unsupported("too deeply nested")
            self.pos += 1
            value = self.expression()
            closing = self._peek()
            if closing is None or closing.kind != ")":
                raise _NoParse()
            self.pos += 1
            self.depth -= 1
            return value
        raise _NoParse()

    def _operand_follows(self) -> bool:
        nxt = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else None
        return nxt is not None and (nxt.kind in ("num", "(") or (nxt.kind == "op" and nxt.value == "-"))


def _stated_result(tokens: list[_Tok], k: int) -> tuple[Fraction, int, int] | None:
    """The stated result after an equals word: a signed number or a simple fraction like 3/4."""
    sign, first = 1, k
    if k < len(tokens) and tokens[k].kind == "op" and tokens[k].value == "-":
        sign, k = -1, k + 1
    elif k < len(tokens) and tokens[k].kind == "other" and str(tokens[k].value).lower() == "negative":
        sign, k = -1, k + 1
    if k >= len(tokens) or tokens[k].kind != "num" or tokens[k].value is None:
        return None
    value = Fraction(tokens[k].value)
    last = k
    slash = tokens[k + 1] if k + 1 < len(tokens) else None
    denom = tokens[k + 2] if k + 2 < len(tokens) else None
    if slash and denom and slash.kind == "op" and slash.value == "/" and denom.kind == "num" and denom.value:
        if Fraction(denom.value) != 0 and tokens[k].style == denom.style == "digits":
            value, last = value / Fraction(denom.value), k + 2
    if last + 1 < len(tokens) and tokens[last + 1].kind == "op" and _operand_at(tokens, last + 2):
        return None  # "= 5 + 3 ..." is another expression, not a stated result
    return sign * value, first, last


def _operand_at(tokens: list[_Tok], k: int) -> bool:
    return k < len(tokens) and tokens[k].kind in ("num", "(")


def _agrees(stated: Fraction, actual: Fraction, result_tokens: list[_Tok], text: str) -> bool:
    """Exact equality; a rounded decimal also agrees with a non-terminating value ('1 ÷ 3 = 0.33')."""
    if stated == actual:
        return True
    lexeme = text[result_tokens[-1].start : result_tokens[-1].end]
    if "." not in lexeme or _terminates(actual):
        return False
    places = len(lexeme.split(".")[1])
    return places >= 2 and stated == _round(actual, places)


def _terminates(value: Fraction) -> bool:
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _round(value: Fraction, places: int) -> Fraction:
    scale = 10**places
    return Fraction(round(value * scale), scale)


def _format_like(value: Fraction, original: str, result_tokens: list[_Tok]) -> str:
    """Write value in the style of the stated result: words stay words, digits stay digits."""
    words = any(t.style == "words" for t in result_tokens)
    if words and value.denominator == 1 and abs(value) < 1_000_000_000:
        text = _int_to_words(abs(int(value)), hyphen="-" in original or " " not in original.strip())
        if value < 0:
            text = f"negative {text}"
        return text[0].upper() + text[1:] if original[:1].isupper() else text
    return _format_digits(value, original)


def _format_digits(value: Fraction, original: str) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value.denominator == 1:
        number = f"{int(value):,}" if "," in original else str(int(value))
        return sign + number
    if "/" in original:
        return f"{sign}{value.numerator}/{value.denominator}"
    if _terminates(value):
        return sign + _terminating_decimal(value)
    places = len(original.split(".")[1]) if "." in original else 0
    if places >= 2:
        return sign + f"{float(_round(value, places)):.{places}f}"
    return f"{sign}{value.numerator}/{value.denominator}"


def _terminating_decimal(value: Fraction) -> str:
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    scaled = int(value * 10**places)
    whole, frac = divmod(scaled, 10**places)
    return f"{whole}.{frac:0{places}d}".rstrip("0").rstrip(".")


def _int_to_words(n: int, hyphen: bool = True) -> str:
    if n < 20:
        return [k for k, v in _UNITS.items() if v == n][0]
    if n < 100:
        tens = [k for k, v in _TENS.items() if v == n - n % 10][0]
        if n % 10 == 0:
            return tens
        return f"{tens}{'-' if hyphen else ' '}{_int_to_words(n % 10)}"
    for scale_word, scale in (("million", 1_000_000), ("thousand", 1000), ("hundred", 100)):
        if n >= scale:
            head = f"{_int_to_words(n // scale, hyphen)} {scale_word}"
            rest = n % scale
            return f"{head} {_int_to_words(rest, hyphen)}" if rest else head
    raise ValueError(n)
