"""How mathematics and prose are written in each output format: plain text, Markdown and LaTeX.

A Format turns SymPy objects into strings for one target. Everything format-specific lives here:
which printer writes expressions, how a partial derivative or a product is written, how numbers are
shown (exact beside a rounded decimal), how inline math is delimited and how user prose is escaped
so that it cannot inject TeX commands or HTML.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

import sympy as sp
from flint import arb, fmpq

from ..arithmetic import certified, numeric
from ..arithmetic.certified import Real
from ..arithmetic.numeric import decimal_string
from ..model.notation import math_spans, refusal
from ..model.operations import BY_FUNCTION
from . import printers

#: An exact value is shown as such while its string is at most this long; beyond, only its decimal.
MAX_EXACT_LENGTH = 40
#: Inside a formula with numbers substituted, values whose LaTeX is longer are written as decimals.
MAX_SUBSTITUTED_LENGTH = 24
#: A general form whose LaTeX is longer than this is left out of Markdown and LaTeX (the chain of
#: numbers still shows every step; the answer key keeps the full form).
MAX_SHOWN_LENGTH = 160


class Format:
    """Plain text: SymPy's string form; the base the other formats adjust."""

    name = "txt"
    eq = "="
    approx = "≈"
    times_sign = " * "
    plus_minus = "±"
    percent_sign = "%"
    #: A general form longer than this is not shown (None: always shown).
    max_shown_length: int | None = None

    def __init__(self, digits: int, *, notation: Mapping[str, str] | None = None):
        self.digits = digits
        #: The lecturer's LaTeX for names (Problem.notation, already on the whitelist); text ignores it.
        self.notation = dict(notation or {})

    # --- expressions ---------------------------------------------------------------------------
    def expr(self, e: sp.Basic) -> str:
        return printers.text(e)

    def substituted(self, e: sp.Basic, values: dict[str, sp.Expr]) -> str:
        """e with each named input written as its value, keeping e's own shape: (3 - 2)**2."""
        names = {n: self.factor(v, bracket_fractions=True) for n, v in values.items()}
        bare = {n: (self.exact(v) or self.shown_decimal(v)) if v.is_number else self.expr(v)
                for n, v in values.items()}
        return printers.SubstitutingStrPrinter(names, bare).doprint(e)

    def symbol(self, name: str) -> str:
        return name

    def partial(self, top: str, bottom: str) -> str:
        return f"d{top}/d{bottom}"

    def product(self, *factors: str) -> str:
        return self.times_sign.join(self.bracket(f) for f in factors)

    def words(self, text: str) -> str:
        """Words used as a name inside mathematics: batch loss."""
        return text

    def after_update(self, lhs: str) -> str:
        """The value of lhs after the update: w5+."""
        return f"{lhs}+"

    def updated(self, name: str) -> str:
        return self.after_update(self.symbol(name))

    def bracket(self, text: str) -> str:
        compound = " + " in text or " - " in text or text.startswith("-")
        return f"({text})" if compound and not text.startswith("(") else text

    def code(self, text: str) -> str:
        """A key as the user typed it (a claim's dE/dw3)."""
        return text

    # --- numbers -------------------------------------------------------------------------------
    def times_ten_to(self, mantissa: str, exponent: int) -> str:
        """A number in scientific notation: 1.5e-7."""
        return f"{mantissa}e{exponent}"

    def decimal(self, value: sp.Expr | arb | fmpq | Decimal, digits: int | None = None, *,
                widest: int | None = None, keep_zeros: bool = False) -> str:
        """A number to `digits` significant digits (the format's by default), correctly rounded,
        every digit certain, trailing zeros dropped; positional from 0.0001 up to below
        10**widest (10**digits by default), the range of Python's %g, else in scientific notation
        with a bare exponent: 0.25, 123.457, 1.5e-7, 5.22147e173 (1.5 \\times 10^{-7} in LaTeX).
        The answer key keeps SymPy's `e+173` (numeric.decimal_string). With keep_zeros, an
        approximation shows all its digits: ≈ 0.100400, not ≈ 0.1004, which would claim less."""
        digits = digits or self.digits
        if isinstance(value, Decimal):
            value = fmpq(*Fraction(value).as_integer_ratio())
        rounded = Decimal(numeric.decimal_string(value, digits))
        if not rounded:
            return "0"
        exponent = rounded.adjusted()
        strip = (lambda text: text) if keep_zeros else _strip
        if -4 <= exponent < (widest or digits):
            return strip(format(rounded, "f"))
        return self.times_ten_to(strip(format(rounded.scaleb(-exponent), "f")), exponent)

    def signed(self, value: sp.Expr, digits: int) -> str:
        """A difference with its sign to `digits` digits, as a solution writes decimals: an exact
        one as short as it is (+0.14, -1.5e-7), an approximation with every digit (+0.0800)."""
        text = self.decimal(value, digits, keep_zeros=not self.terminates(value, digits))
        return text if text.startswith("-") else "+" + text

    def percent(self, fraction: Decimal) -> str:
        return self.math(self.decimal(fraction * 100)) + self.percent_sign

    def rate(self, rate: sp.Expr) -> str:
        """A learning rate as written by a person: 0.05, 20, 1/3."""
        rate = sp.nsimplify(rate) if rate.is_Float else rate
        if rate.is_Rational:
            exact = _terminating_decimal(int(rate.p), int(rate.q))
            if exact is not None:
                return exact
        return printers.text(rate)

    def exact(self, value: sp.Expr) -> str | None:
        """The exact form where there is a short one, else None."""
        exact = exact_string(value)
        return self.expr(value) if exact is not None and len(exact) <= MAX_EXACT_LENGTH else None

    def factor(self, value: sp.Expr, bracket_fractions: bool = False) -> str:
        """A value inside a product: its exact form where short, else its decimal; bracketed if needed.
        With bracket_fractions, 1/5 is written (1/5) so that (1/5)*x_n cannot be misread."""
        if not value.is_number:
            return self.bracket(self.expr(value))
        text = self.exact(value) or self.shown_decimal(value)
        if bracket_fractions and value.is_Rational and not value.is_Integer and value.p > 0:
            return f"({text})"
        return self.bracket(text)

    def value_chain(self, value: sp.Expr) -> list[tuple[str, str]]:
        """How a value is written after '=': [(relation, text), ...].

        3 -> [= 3]; 2/5 -> [= 2/5, = 0.4]; 1/3 -> [= 1/3, ≈ 0.333333];
        sigmoid(1/2) -> [= sigmoid(1/2), ≈ 0.622459]; a long or Float value -> [≈ 0.3384];
        2*x_n (symbolic) -> [= 2*x_n].
        """
        if not value.is_number or value.is_Integer:
            return [(self.eq, self.expr(value))]
        exact = self.exact(value)
        decimal = self.shown_decimal(value)
        if exact is None:
            return [(self.approx, decimal)]
        return [(self.eq, exact), (self.eq if self.terminates(value) else self.approx, decimal)]

    def terminates(self, value: sp.Expr, digits: int | None = None) -> bool:
        """Whether the value's decimal at `digits` (the format's) is exact: 2/5 is 0.4, 1/3 is not."""
        return bool(value.is_Rational) and significant_digits(value) <= (digits or self.digits)

    def shown_decimal(self, value: sp.Expr) -> str:
        """The decimal a solution shows: an exact one as short as it is (0.4), an approximation
        with every digit it certifies (≈ 0.100400, not 0.1004, which would claim less)."""
        return self.decimal(value, keep_zeros=not self.terminates(value))

    def number(self, value: sp.Expr) -> str:
        """A value in running text: 3, 2/5 (= 0.4), ≈ 0.3384."""
        chain = self.value_chain(value)
        if len(chain) == 1:
            relation, text = chain[0]
            return text if relation == self.eq else f"{self.approx} {text}"
        (_, exact), (relation, decimal) = chain
        return f"{exact} ({relation} {decimal})"

    # --- prose ---------------------------------------------------------------------------------
    def math(self, text: str) -> str:
        """Inline mathematics inside a sentence."""
        return text

    def prose(self, text: str) -> str:
        """User-written text (titles, notes), made safe for the format."""
        return text

    def text_with_math(self, text: str) -> str:
        """A title or note, whose `$...$` is mathematics: as written in text."""
        return text

    def equals_in_text(self, lhs: str, value: sp.Expr) -> str:
        """'lhs = value' for a sentence: y = 3, s ≈ 0.5 (as inline math where the format has it)."""
        chain = self.value_chain(value)
        relation, text = chain[0]
        return self.math(f"{lhs} {relation} {text}")


class MarkdownFormat(Format):
    """GitHub Markdown: mathematics in LaTeX between $ signs, prose escaped."""

    name = "md"
    eq = "="
    approx = r"\approx"
    times_sign = r" \cdot "
    plus_minus = r"\pm "
    max_shown_length = MAX_SHOWN_LENGTH

    def expr(self, e: sp.Basic) -> str:
        return printers.latex(e, self._written)

    @property
    def _written(self) -> tuple[tuple[str, str], ...]:
        """The notation as the printers take it, each name's LaTeX as this format writes it."""
        return tuple((name, self.written(tex)) for name, tex in self.notation.items())

    def written(self, tex: str) -> str:
        # A | would end a cell of a Markdown table, even inside $...$ (GitHub splits cells first).
        return tex.replace("|", r"\vert ")

    def substituted(self, e: sp.Basic, values: dict[str, sp.Expr]) -> str:
        bare = {n: self._substitute(v) for n, v in values.items()}
        names = {n: self._bracketed(v, bare[n]) for n, v in values.items()}
        return printers.SubstitutingLatexPrinter(names, bare, dict(self._written)).doprint(e)

    def _substitute(self, value: sp.Expr) -> str:
        if not value.is_number:
            return self.expr(value)
        # Measured without its brackets, so that -2/5 stays a fraction wherever 2/5 does.
        text = self.exact(value) or self.shown_decimal(value)
        if len(text) > MAX_SUBSTITUTED_LENGTH:
            text = self.shown_decimal(value)     # a long closed form inside a formula hides its shape
        return text

    def _bracketed(self, value: sp.Expr, text: str) -> str:
        if not value.is_number:
            return self.bracket(text)
        if numeric.sign(value) < 0 or not (value.is_Rational or value.func in _BRACKETED):
            return rf"\left({text}\right)"
        return text

    def symbol(self, name: str) -> str:
        tex = self.notation.get(name)
        return printers.latex_name(name) if tex is None else self.written(tex)

    def partial(self, top: str, bottom: str) -> str:
        return r"\frac{\partial %s}{\partial %s}" % (self.symbol(top), self.symbol(bottom))

    def words(self, text: str) -> str:
        return rf"\text{{{text}}}"

    def after_update(self, lhs: str) -> str:
        return f"{lhs}^{{+}}"

    def updated(self, name: str) -> str:
        # A name in the lecturer's notation may carry its own scripts (z^{(1)}_1): braced, so that
        # the + is not a second superscript, which stops LaTeX.
        symbol = self.symbol(name)
        return self.after_update(f"{{{symbol}}}" if name in self.notation else symbol)

    def bracket(self, text: str) -> str:
        compound = " + " in text or " - " in text or text.startswith("-")
        return rf"\left({text}\right)" if compound and not text.startswith(r"\left(") else text

    def code(self, text: str) -> str:
        return f"`{text}`"

    def times_ten_to(self, mantissa: str, exponent: int) -> str:
        return rf"{mantissa} \times 10^{{{exponent}}}"

    def rate(self, rate: sp.Expr) -> str:
        text = super().rate(rate)
        return text if "/" not in text and "(" not in text and "*" not in text else printers.latex(rate)

    def number(self, value: sp.Expr) -> str:
        chain = self.value_chain(value)
        if len(chain) == 1:
            relation, text = chain[0]
            return self.math(text if relation == self.eq else f"{self.approx} {text}")
        (_, exact), (relation, decimal) = chain
        return self.math(f"{exact} {relation} {decimal}")

    def math(self, text: str) -> str:
        return f"${text}$"

    def text_with_math(self, text: str) -> str:
        """A title or note: its `$...$` as mathematics, the rest as escaped prose. The parser has
        refused any `$...$` off the whitelist; one that reaches here unchecked (a Problem built in
        Python) is escaped as prose like the rest."""
        return "".join(self.math(piece.strip()) if is_math and refusal(piece) is None
                       else self.prose(f"${piece}$" if is_math else piece)
                       for is_math, piece in math_spans(text))

    def prose(self, text: str) -> str:
        # Backslash-escape Markdown's punctuation and write HTML's specials as entities, so that
        # a title can neither start a list nor open a tag.
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return re.sub(r"([\\`*_{}\[\]#|$~])", r"\\\1", text)


class LatexFormat(MarkdownFormat):
    """LaTeX: the same mathematics as Markdown, inline math in \\( \\), prose escaped for TeX."""

    name = "tex"
    percent_sign = r"\%"

    def code(self, text: str) -> str:
        return rf"\texttt{{{escape_latex(text)}}}"

    def written(self, tex: str) -> str:
        # \text takes the surrounding font, so E_{\text{total}} turned bold in a step's bold heading
        # (the E beside it stays upright math); \textnormal is the same text in the normal font.
        return re.sub(r"\\text(?![A-Za-z])", r"\\textnormal", tex)

    def math(self, text: str) -> str:
        return rf"\({text}\)"

    def prose(self, text: str) -> str:
        return escape_latex(text)


#: Functions whose LaTeX ends in its own bracket, sigma(...): a value written so needs no other
#: (exp(2) is e^{2}, which would take a second superscript as the base of a power).
_BRACKETED = tuple(f for f, operation in BY_FUNCTION.items() if operation.bracketed)

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
}


#: Punctuation beyond Latin-1 that titles often hold, as TeX writes it.
_LATEX_PUNCTUATION = {
    "\u2013": "--", "\u2014": "---", "\u2018": "`", "\u2019": "'", "\u201c": "``", "\u201d": "''",
    "\u2026": r"\ldots{}", "\u2022": r"\textbullet{}", "\u2212": "-", "\u00a0": "~",
}


def escape_latex(text: str) -> str:
    """Prose for TeX: every special character written literally, so no command can be injected, and
    every character pdflatex can typeset: ASCII and Latin-1 as they are, Greek letters as math, an
    accented letter beyond Latin-1 as its base letter, and anything else (an emoji, CJK) as its
    code point `[U+1F600]` rather than a pdflatex error. A hyphen before a hyphen is kept apart
    (`-{}-`): TeX would set `--format` as an en dash, and a copied command would fail."""
    return "".join("-{}" if c == "-" and text[i + 1:i + 2] == "-" else _latex_character(c)
                   for i, c in enumerate(text))


def _latex_character(c: str) -> str:
    if c in _LATEX_SPECIALS:
        return _LATEX_SPECIALS[c]
    if c in _LATEX_PUNCTUATION:
        return _LATEX_PUNCTUATION[c]
    if " " <= c <= "~" or "\u00a1" <= c <= "\u00ff":
        return c
    if c in "\t\n\r":
        return c
    category = unicodedata.category(c)
    if category.startswith("M"):
        return ""            # a combining accent or an emoji's variation selector
    if category.startswith(("Z", "C")):
        return " "           # other spaces and invisible control characters
    name = unicodedata.name(c, "")
    greek = name.removeprefix("GREEK SMALL LETTER ").removeprefix("GREEK CAPITAL LETTER ")
    if greek != name and greek.isalpha():
        word = greek.lower() if name.startswith("GREEK SMALL") else greek.capitalize()
        if word in printers.GREEK:
            return rf"\({{\{word}}}\)"
    base = unicodedata.normalize("NFKD", c)[:1]
    if base.isascii() and base.isalpha():
        return base
    return f"[U+{ord(c):04X}]"


FORMAT_BY_NAME = {f.name: f for f in (Format, MarkdownFormat, LatexFormat)}


def significant_digits(value: sp.Rational) -> int:
    """Significant digits of a terminating decimal (60 for one that does not terminate within 60)."""
    return len(certified.rounded(value, 60).digits.rstrip("0"))


def _terminating_decimal(p: int, q: int) -> str | None:
    """p/q written out exactly with integer arithmetic where q = 2^a 5^b, else None: a Decimal
    division rounds to its context's 28 digits (1/2 - 5e-41 would be written 0.5)."""
    twos = (q & -q).bit_length() - 1
    if q >> twos != 5 ** _multiplicity(q >> twos, 5):
        return None
    places = max(twos, _multiplicity(q >> twos, 5))        # p/q = p * (10^places / q) / 10^places
    digits = _digit_string(abs(p) * (10 ** places // q)).rjust(places + 1, "0")
    whole, fraction = digits[:len(digits) - places], digits[len(digits) - places:].rstrip("0")
    return ("-" if p < 0 else "") + whole + ("." + fraction if fraction else "")


def _multiplicity(n: int, factor: int) -> int:
    count = 0
    while n % factor == 0:
        n //= factor
        count += 1
    return count


def _digit_string(n: int) -> str:
    """str(n) for n >= 0 of any length (Python refuses str() of an int of more than 4,300 digits)."""
    if n < 10 ** 4000:
        return str(n)
    half = n.bit_length() * 3 // 20            # about half its digits (log10(2) = 0.301)
    high, low = divmod(n, 10 ** half)
    return _digit_string(high) + _digit_string(low).rjust(half, "0")


def _strip(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def is_exact(expr: sp.Expr) -> bool:
    """True when the value is known exactly (no Real was needed to carry it)."""
    return not expr.has(Real, sp.Float)


def exact_string(expr: sp.Expr) -> str | None:
    """SymPy's string for an exact value, or None where only a decimal is carried."""
    return printers.text(expr) if is_exact(expr) else None


def exact_and_decimal(value: sp.Expr | arb | fmpq) -> dict[str, str | None]:
    """A number as the answer key and check's JSON write it: its exact form (None where only a
    decimal is known: a Real, or a long run's ball) and its decimal to DECIMAL_DIGITS digits."""
    if isinstance(value, fmpq):
        exact = str(value)                # 5, -23111/80000: as SymPy writes a Rational
    else:
        exact = None if isinstance(value, arb) else exact_string(value)
    return {"exact": exact, "decimal": decimal_string(value)}


def decimal_or_formula(value: sp.Expr) -> str:
    """A value as the check's JSON writes it: a decimal for a number, SymPy's string for a formula."""
    return decimal_string(value) if value.is_number else printers.text(value)
