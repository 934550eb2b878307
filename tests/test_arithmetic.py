"""Exact arithmetic checking: detection, exact Fraction comparison, style-preserving corrections, safety."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from verifiers import arithmetic
from verifiers.arithmetic import ArithmeticClaim, check_claim, correct_all, find_arithmetic


@pytest.mark.parametrize(
    "text, corrected",
    [
        ("7 × 8 = 54", "7 × 8 = 56"),
        ("7 × 8 is 54", "7 × 8 is 56"),
        ("7 x 8 = 54.", "7 x 8 = 56."),
        ("7 * 8 equals 54", "7 * 8 equals 56"),
        ("seven times eight is fifty-four", "seven times eight is fifty-six"),
        ("Seven times eight is fifty-four.", "Seven times eight is fifty-six."),
        ("ten minus three makes six", "ten minus three makes seven"),
        ("nine multiplied by nine is eighty", "nine multiplied by nine is eighty-one"),
        ("10 - 15 = 5", "10 - 15 = -5"),
        ("1,000 + 2,000 = 4,000", "1,000 + 2,000 = 3,000"),
        ("7 ÷ 2 = 3", "7 ÷ 2 = 3.5"),
        ("1/2 + 1/4 = 2/3", "1/2 + 1/4 = 3/4"),
        ("2 + 3 × 4 = 20", "2 + 3 × 4 = 14"),
        ("12 − 5 = 8", "12 − 5 = 7"),
        ("So 6 plus 7 = 12, right.", "So 6 plus 7 = 13, right."),
    ],
)
def test_wrong_results_corrected_in_style(text, corrected):
    claim = check_claim(text)
    assert claim is not None
    if text == corrected:
        assert claim.correct
    else:
        assert not claim.correct
        assert claim.corrected_text == corrected


def test_claim_fields():
    claim = check_claim("We know 7 × 8 = 54 from the table.")
    assert claim == ArithmeticClaim(
        expression="7 × 8",
        stated=Fraction(54),
        actual=Fraction(56),
        span=(8, 18),
        correct=False,
        corrected_text="We know 7 × 8 = 56 from the table.",
    )
    assert "We know 7 × 8 = 54 from the table."[8:18] == "7 × 8 = 54"


@pytest.mark.parametrize(
    "text",
    [
        "12 divided by 4 is 3",
        "seven times eight is fifty-six",
        "one hundred minus one is ninety-nine",
        "a hundred divided by four equals twenty five",
        "(2 + 3) × 4 = 20",
        "0.1 + 0.2 = 0.3",
        "1/2 + 1/4 = 3/4",
        "2.5 × 4 = 10",
        "3 - 5 = -2",
        "9 multiplied by 9 makes 81",
        "20 ÷ 5 = 4",
        "100 / 8 = 12.5",
        "6 - (2 + 1) = 3",
        "one hundred and five plus five is one hundred and ten",
        "3 x 4 = 12",
        "1 ÷ 3 = 0.33",
    ],
)
def test_correct_statements(text):
    claim = check_claim(text)
    assert claim is not None
    assert claim.correct, claim
    assert claim.corrected_text == text


def test_exact_fractions_not_floats():
    claim = check_claim("0.1 + 0.2 = 0.3")
    assert claim.actual == Fraction(3, 10) and claim.stated == Fraction(3, 10)
    assert check_claim("1 ÷ 3 = 0.3").correct is False


def test_multiple_statements_and_correct_all():
    text = "3 + 4 = 8, and 7 × 2 = 14. Also 10 / 4 = 2."
    claims = find_arithmetic(text)
    assert [c.expression for c in claims] == ["3 + 4", "7 × 2", "10 / 4"]
    assert [c.correct for c in claims] == [False, True, False]
    for claim in claims:
        assert text[slice(*claim.span)].startswith(claim.expression)
    assert claims[0].corrected_text == "3 + 4 = 7, and 7 × 2 = 14. Also 10 / 4 = 2."
    assert correct_all(text) == "3 + 4 = 7, and 7 × 2 = 14. Also 10 / 4 = 2.5."


def test_number_words_up_to_one_hundred():
    for n in range(0, 101):
        words = arithmetic._int_to_words(n)
        assert arithmetic._words_to_int(words.replace("-", " ").split()) == n
    assert check_claim("fifty plus fifty is one hundred").correct
    assert check_claim("ninety-nine plus one is one hundred").correct


@pytest.mark.parametrize(
    "text",
    [
        "In 1945, 2 ships sank.",
        "Chapter 3 - 5 is about plants.",
        "The war lasted 1939-1945 and it is 6 years long.",
        "The war lasted 1939-1945 is 6 years",
        "Pages 5-6 are 2 pages long.",
        "On 12/25/2020 we had 3 cakes.",
        "There are 8 planets.",
        "7 × 8",
        "7 × 8 is a product",
        "Lincoln was the 16th president.",
        "x = 5",
        "",
        "   ",
    ],
)
def test_no_false_positives(text):
    assert find_arithmetic(text) == []
    assert check_claim(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('echo hacked') = 0",
        "eval('7*8') = 56",
        "().__class__.__bases__ = 1",
        "open('/etc/passwd') is 1",
    ],
)
def test_code_is_never_evaluated(text, monkeypatch):
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec must never be called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    assert find_arithmetic(text) == []
    assert check_claim(text) is None


def test_source_calls_no_eval_exec_or_compile():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(arithmetic))
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__"}


@pytest.mark.parametrize(
    "text",
    [
        "5 ÷ 0 = 0",
        "5 / (3 - 3) = 1",
        "2 ** 100000 = 1",
        "2 ^ 100000 = 1",
        "9" * 500 + " × 9 = 1",
        "(" * 200 + "1" + ")" * 200 + " + 1 = 2",
        " + ".join(["1"] * 5000) + " = 5000",
    ],
)
def test_unverifiable_does_not_crash(text):
    for claim in find_arithmetic(text):
        # Whatever is reported must be a small, sound sub-statement.
        assert claim.actual == claim.stated or not claim.correct


def test_long_texts():
    assert len(find_arithmetic("1 + 1 = 2. " * 1000)) == 1000
    assert find_arithmetic("1 + 1 = 3. " * 50_000) == []  # beyond MAX_TEXT_CHARS: refused, not scanned


def test_negative_and_word_results():
    assert check_claim("3 - 5 = -2").correct
    claim = check_claim("three minus five is two")
    assert not claim.correct and claim.corrected_text == "three minus five is negative two"


def test_random_unicode_robustness():
    rng = random.Random(99)
    alphabet = "0123456789 +-×x*÷/=()., isplustimesequalsone二🙂é"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        for claim in find_arithmetic(text):
            assert 0 <= claim.span[0] < claim.span[1] <= len(text)
            assert claim.correct == (claim.stated == claim.actual) or "." in text
            assert isinstance(claim.actual, Fraction)
