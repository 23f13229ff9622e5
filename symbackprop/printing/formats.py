"""How mathematics and prose are written in each output format: plain text, Markdown and LaTeX.

A Format turns SymPy objects into strings for one target. Everything format-specific lives here:
which printer writes expressions, how a partial derivative or a product is written, how numbers are
shown (exact beside a rounded decimal), how inline math is delimited and how user prose is escaped
so that it cannot inject TeX commands or HTML.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import sympy as sp
from flint import arb, fmpq

from ..arithmetic import certified, numeric
from ..arithmetic.certified import Real
from ..arithmetic.numeric import decimal_string
from ..model.notation import math_spans, refusal
from ..model.operations import BY_FUNCTION, BY_KEY
from ..model.problem import Problem
from . import printers
from .printers import terminating_decimal

#: An exact value is shown as such while its string is at most this long; beyond, only its decimal.
MAX_EXACT_LENGTH = 40
#: Inside a formula with numbers substituted, values whose LaTeX is longer are written as decimals.
MAX_SUBSTITUTED_LENGTH = 24
#: A general form whose LaTeX is longer than this is left out of Markdown and LaTeX (the chain of
#: numbers still shows every step; the answer key keeps the full form).
MAX_SHOWN_LENGTH = 160
#: A terminating result is written out exactly while it has at most this many significant digits
#: (or the format's digits, where more): 0.15 * 0.05 = 0.0075 is exact; beyond, it is rounded.
MAX_EXACT_DECIMAL_DIGITS = 12


@dataclass(frozen=True)
class NumberStyle:
    """How a solution writes its numbers, one policy for every format and for the check report.

    "as-written" (the default of a problem): a value prints as the problem writes its numbers. In a
    problem of decimals, a terminating value is its decimal (0.3775, exact), anything else its
    correctly rounded decimal after "≈" (a sigmoid's value also as 1/(1 + e^{-0.3775})); in a
    problem that writes fractions, a value that does not terminate stays a fraction (1/3 ≈ 0.333).
    "exact": every rational as p/q beside its decimal, closed forms such as σ(151/400) kept.
    `places` fixes the decimal places of approximations instead of their significant digits."""

    numbers: str = "exact"
    #: Whether the problem writes fractions (a value given as p/q).
    fractions: bool = False
    places: int | None = None

    @property
    def as_written(self) -> bool:
        return self.numbers == "as-written"

    @classmethod
    def of(cls, problem: Problem, numbers: str | None = None, places: int | None = None) -> "NumberStyle":
        """The problem's own policy (numbers:), or the command line's."""
        return cls(numbers or problem.numbers, problem.fractions, places)


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

    def __init__(self, digits: int, style: NumberStyle = NumberStyle(),
                 written: Mapping[sp.Expr, sp.Expr] | None = None, *,
                 notation: Mapping[str, str] | None = None):
        self.digits = digits
        self.style = style
        #: A node's expression -> the same in the order its text writes it (Problem.written).
        self.written = written or {}
        #: The lecturer's LaTeX for names (Problem.notation, already on the whitelist); text ignores it.
        self.notation = dict(notation or {})

    @classmethod
    def of(cls, problem: Problem, digits: int, numbers: str | None = None,
           places: int | None = None) -> "Format":
        """The format for one problem: its number policy and its nodes in their written order."""
        return cls(digits, NumberStyle.of(problem, numbers, places),
                   {problem.nodes[n]: e for n, e in problem.written.items() if n in problem.nodes},
                   notation=problem.notation)

    @property
    def decimals(self) -> bool:
        """Whether numbers inside expressions are written as decimals (a problem of decimals)."""
        return self.style.as_written and not self.style.fractions

    def _settings(self, e: sp.Basic) -> tuple[sp.Basic, dict | None]:
        """What to print: a node's definition in its written order (printed in the order held),
        anything else as it is (None: the printer's cached defaults)."""
        written = self.written.get(e)
        return (e, None) if written is None else (written, {"order": "none", "decimals": self.decimals})

    # --- expressions ---------------------------------------------------------------------------
    def expr(self, e: sp.Basic) -> str:
        shown, settings = self._settings(e)
        if settings is None:
            return printers.text(e, self.decimals, reader=True)
        return printers.printed_text(shown, printers.frozen({**settings, "reader": True}))

    def substituted(self, e: sp.Basic, values: dict[str, sp.Expr]) -> str:
        """e with each named input written as its value, keeping e's own shape: (3 - 2)**2."""
        names = {n: self.factor(v, bracket_fractions=True) for n, v in values.items()}
        bare = {n: self.inside(v) for n, v in values.items()}
        shown, settings = self._settings(e)
        return printers.substituted_text(
            shown, printers.frozen(names), printers.frozen(bare),
            printers.frozen({**(settings or {"decimals": self.decimals}), "reader": True}))

    def symbol(self, name: str) -> str:
        return name

    def noted(self, key: str) -> str | None:
        """The lecturer's notation for a key (delta_net_h1), where this format writes it: text never."""
        return None

    def partial(self, top: str, bottom: str) -> str:
        return f"d{top}/d{bottom}"

    def partial_in_line(self, top: str, bottom: str) -> str:
        """d top/d bottom on one line, as a heading writes it: dE/dw5."""
        return self.partial(top, bottom)

    def delta(self, subscript: str) -> str:
        """A unit's delta, dE/d(its net input): delta_o1."""
        return f"delta_{subscript.replace(',', '_')}"

    # --- the matrix form -----------------------------------------------------------------------
    times = "x"
    hadamard = "⊙"

    def layered(self, letter: str, index: int, updated: bool = False) -> str:
        """Layer l's matrix or vector: W^(2), a^(0); after the update W^(2)+."""
        return f"{letter}^({index})" + ("+" if updated else "")

    def layered_delta(self, index: int) -> str:
        return f"delta^({index})"

    #: A column of ones: summing a batch's columns.
    ones = "1"

    def grouped(self, text: str) -> str:
        """Brackets that fix an order of operations: ((W)^T delta) (.) f'(z)."""
        return f"({text})"

    def one_over(self, count: int) -> str:
        return f"(1/{count})"

    def transpose(self, matrix: str) -> str:
        return f"({matrix})^T"

    def partial_matrix(self, loss: str, matrix: str) -> str:
        return f"d{loss}/d{matrix}"

    def matrix(self, rows: list[list[str]]) -> str:
        return "[" + "; ".join(", ".join(row) for row in rows) + "]"

    def function_name(self, key: str | None, prime: bool = False) -> str:
        """An activation applied elementwise, or its derivative: σ, ReLU'; empty for a linear layer."""
        if key is None:
            return ""
        return BY_KEY[key].glyph[0] + ("'" if prime else "")

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
        if isinstance(value, Decimal):
            value = fmpq(*Fraction(value).as_integer_ratio())
        places = self.style.places if digits is None else None
        arguments = (value, digits or self.digits, places, widest, keep_zeros)
        # A SymPy value is written in every format and table alike: kept. A ball or a long run's
        # rational (a table of a run) is met once.
        written = _kept_decimal(*arguments) if isinstance(value, sp.Basic) else _decimal(*arguments)
        return written if isinstance(written, str) else self.times_ten_to(*written)

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
            exact = terminating_decimal(int(rate.p), int(rate.q))
            if exact is not None:
                return exact
        return printers.text(rate)

    def exact(self, value: sp.Expr) -> str | None:
        """The exact form where there is a short one, else None. As written, only a rational has
        one: its decimal where that terminates, else its fraction in a problem of fractions."""
        if self.style.as_written and value.is_number:
            if value.is_Integer:
                return self.expr(value)
            if not value.is_Rational:
                return None
            if self.exact_decimal(value):
                return terminating_decimal(int(value.p), int(value.q))
            if not self.style.fractions:
                return None
        exact = exact_string(value)
        return self.expr(value) if exact is not None and len(exact) <= MAX_EXACT_LENGTH else None

    def exact_decimal(self, value: sp.Expr) -> bool:
        """Whether a rational is written out as its exact decimal (0.3775) under the as-written
        policy: it terminates within MAX_EXACT_DECIMAL_DIGITS digits (or the format's, if more)."""
        return bool(value.is_Rational) and \
            significant_digits(value) <= max(self.digits, MAX_EXACT_DECIMAL_DIGITS)

    def shown_exactly(self, value: sp.Expr) -> bool:
        """Whether a value inside a formula is written exactly (so "=" follows it, not "≈")."""
        return not value.is_number or self.exact(value) is not None or self.saturated(value) is not None

    def relation(self, *values: sp.Expr) -> str:
        """"=" before a formula or value written with these numbers exactly, else "≈"."""
        return self.eq if all(self.shown_exactly(v) for v in values) else self.approx

    def inside(self, value: sp.Expr) -> str:
        """A value inside a formula or a table: its exact form where short, else its decimal,
        unless that decimal is a whole number the value is not (sigmoid(400) ≈ 1.00000, which would
        make 1 - p a zero to divide by): then its closed form, sigmoid(400). A formula (a value in
        unknown symbols) as it is."""
        if not value.is_number:
            return self.expr(value)
        return self.exact(value) or self.saturated(value) or self.shown_decimal(value)

    def saturated(self, value: sp.Expr) -> str | None:
        """The closed form of a value whose rounded decimal is a whole number it is not, or None."""
        if value.is_Rational or not value.is_number:
            return None
        rounded = Decimal(numeric.decimal_string(value, self.digits))
        if rounded != rounded.to_integral_value():
            return None
        closed = exact_string(value)
        return self.expr(value) if closed is not None and len(closed) <= MAX_EXACT_LENGTH else None

    def closed_form(self, value: sp.Expr) -> tuple[str, str] | None:
        """As written, the one closed form a value line shows before its number, with its relation:
        a sigmoid, as lectures evaluate it, = 1/(1 + e^{-0.3775}) (≈ where its argument is rounded)."""
        if not (self.style.as_written and value.func in _SIGMOIDS and value.args[0].is_number):
            return None
        negated = -value.args[0]
        return self.relation(negated), self.sigmoid_form(self.inside(negated))

    def sigmoid_form(self, negated: str) -> str:
        """1/(1 + e^(-z)), given the text of -z."""
        return f"1/(1 + e^({negated}))"

    def factor(self, value: sp.Expr, bracket_fractions: bool = False) -> str:
        """A value inside a product: its exact form where short, else its decimal; bracketed if needed.
        With bracket_fractions, 1/5 is written (1/5) so that (1/5)*x_n cannot be misread."""
        if not value.is_number:
            return self.bracket(self.expr(value))
        text = self.inside(value)
        if bracket_fractions and "/" in text and not text.startswith("-"):
            return f"({text})"
        return self.bracket(text)

    def value_chain(self, value: sp.Expr, closed: bool = False) -> list[tuple[str, str]]:
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
            form = self.closed_form(value) if closed else None
            return ([form] if form else []) + [(self.approx, decimal)]
        if self.style.as_written and self.exact_decimal(value):
            return [(self.eq, exact)]
        return [(self.eq, exact), (self.eq if self.terminates(value) else self.approx, decimal)]

    def terminates(self, value: sp.Expr, digits: int | None = None) -> bool:
        """Whether the value's decimal at `digits` (the format's digits or places) is exact: 2/5 is
        0.4, 1/3 is not."""
        if not value.is_Rational:
            return False
        if digits is None and self.style.places is not None:
            return (value * 10 ** self.style.places).is_Integer
        return significant_digits(value) <= (digits or self.digits)

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
        relation, text = self.value_chain(value)[0]
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
        shown, settings = self._settings(e)
        if settings is None:
            return printers.latex(e, self.decimals, self._notation_pairs)
        return printers.printed_latex(shown, printers.frozen(settings), self._notation_pairs)

    @property
    def _notation_pairs(self) -> tuple[tuple[str, str], ...]:
        """The notation as the printers take it, each name's LaTeX as this format writes it."""
        return tuple((name, self.notation_tex(tex)) for name, tex in self.notation.items())

    def notation_tex(self, tex: str) -> str:
        # A | would end a cell of a Markdown table, even inside $...$ (GitHub splits cells first).
        return tex.replace("|", r"\vert ")

    def substituted(self, e: sp.Basic, values: dict[str, sp.Expr]) -> str:
        bare = {n: self._substitute(v) for n, v in values.items()}
        names = {n: self._bracketed(v, bare[n]) for n, v in values.items()}
        shown, settings = self._settings(e)
        return printers.substituted_latex(
            shown, printers.frozen(names), printers.frozen(bare),
            printers.frozen(settings or {"decimals": self.decimals}), tuple(sorted(self._notation_pairs)))

    def _substitute(self, value: sp.Expr) -> str:
        # Measured without its brackets, so that -2/5 stays a fraction wherever 2/5 does.
        text = self.inside(value)
        if value.is_number and len(text) > MAX_SUBSTITUTED_LENGTH:
            text = self.shown_decimal(value)     # a long closed form inside a formula hides its shape
        return text

    def _bracketed(self, value: sp.Expr, text: str) -> str:
        if not value.is_number:
            return self.bracket(text)
        plain = _PLAIN_NUMBER.match(text) is not None
        if numeric.sign(value) < 0 or not (plain or value.is_Rational or value.func in _BRACKETED):
            return rf"\left({text}\right)"
        return text

    def symbol(self, name: str) -> str:
        tex = self.notation.get(name)
        return printers.latex_name(name) if tex is None else self.notation_tex(tex)

    def noted(self, key: str) -> str | None:
        tex = self.notation.get(key)
        return None if tex is None else self.notation_tex(tex)

    def partial(self, top: str, bottom: str) -> str:
        return r"\frac{\partial %s}{\partial %s}" % (self.symbol(top), self.symbol(bottom))

    def partial_in_line(self, top: str, bottom: str) -> str:
        # A stacked fraction in a heading is set small and low, hard to read at a glance.
        return r"\partial %s/\partial %s" % (self.symbol(top), self.symbol(bottom))

    def words(self, text: str) -> str:
        return rf"\text{{{text}}}"

    times = r"\times"
    hadamard = r"\odot"

    def layered(self, letter: str, index: int, updated: bool = False) -> str:
        return f"{letter}^{{({index}){'+' if updated else ''}}}"

    def layered_delta(self, index: int) -> str:
        return rf"\delta^{{({index})}}"

    ones = r"\mathbf{1}"

    def grouped(self, text: str) -> str:
        return rf"\left({text}\right)"

    def one_over(self, count: int) -> str:
        return rf"\frac{{1}}{{{count}}}"

    def transpose(self, matrix: str) -> str:
        return rf"\left({matrix}\right)^{{\top}}"

    def partial_matrix(self, loss: str, matrix: str) -> str:
        return r"\frac{\partial %s}{\partial %s}" % (self.symbol(loss), matrix)

    def matrix(self, rows: list[list[str]]) -> str:
        return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(row) for row in rows) + r" \end{bmatrix}"

    def function_name(self, key: str | None, prime: bool = False) -> str:
        if key is None:
            return ""
        return BY_KEY[key].glyph[1] + ("'" if prime else "")

    def delta(self, subscript: str) -> str:
        # A subscript is a name's letters and digits with commas (teaching.delta_subscript), each
        # part written as the names are (o1 -> o_{1}, as in net_{o_{1}}): delta_{o_{1}}, delta_{2,1}.
        parts = subscript.replace("_", ",").split(",")
        return r"\delta_{%s}" % ",".join(p if p.isdigit() else printers.latex_name(p) for p in parts)

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

    def sigmoid_form(self, negated: str) -> str:
        return rf"\frac{{1}}{{1 + e^{{{negated}}}}}"

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

    def notation_tex(self, tex: str) -> str:
        # \text takes the surrounding font, so E_{\text{total}} turned bold in a step's bold heading
        # (the E beside it stays upright math); \textnormal is the same text in the normal font.
        return re.sub(r"\\text(?![A-Za-z])", r"\\textnormal", tex)

    def math(self, text: str) -> str:
        return rf"\({text}\)"

    def prose(self, text: str) -> str:
        return escape_latex(text)


#: A number written out plainly (needs no bracket in a product unless negative): 0.3775, 12, 1.5e-7.
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?(e-?[0-9]+| \\times 10\^\{-?[0-9]+\})?\Z")
#: The sigmoid as the table of operations knows it (its closed form 1/(1 + e^{-z}) is shown).
_SIGMOIDS = tuple(f for f, operation in BY_FUNCTION.items() if "sigmoid" in operation.names)

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


def _decimal(value: sp.Expr | arb | fmpq, digits: int, places: int | None, widest: int | None,
             keep_zeros: bool) -> str | tuple[str, int]:
    """Format.decimal's number: its text, or the mantissa and exponent of scientific notation,
    which each format writes its own way (Format.times_ten_to)."""
    if places is not None:
        digits, widest = _digits_for_places(value, places), 10 ** 6
        if digits < 1:
            # Below half a unit of the last place (or just above): rounded at 40 digits first,
            # which could round twice only within 10^-40 of a tie.
            tiny = Decimal(numeric.decimal_string(value, 40)).quantize(Decimal(1).scaleb(-places))
            return format(tiny, "f") if keep_zeros else _strip(format(tiny, "f")) or "0"
    rounded = Decimal(numeric.decimal_string(value, digits))
    if not rounded:
        return format(Decimal(0).scaleb(-places), "f") if places and keep_zeros else "0"
    exponent = rounded.adjusted()
    strip = (lambda text: text) if keep_zeros else _strip
    if (-4 <= exponent or places is not None) and exponent < (widest or digits):
        return strip(format(rounded, "f"))
    return strip(format(rounded.scaleb(-exponent), "f")), exponent


_kept_decimal = functools.lru_cache(maxsize=4096)(_decimal)


def _digits_for_places(value, places: int) -> int:
    """The significant digits that give `places` decimal places for this value's magnitude."""
    rough = Decimal(numeric.decimal_string(value, 3))
    return rough.adjusted() + 1 + places if rough else 1


def _strip(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def is_exact(expr: sp.Expr) -> bool:
    """True when the value is known exactly (no Real was needed to carry it)."""
    return not expr.has(Real, sp.Float)


def exact_string(expr: sp.Expr) -> str | None:
    """SymPy's string for an exact value, or None where only a decimal is carried."""
    # A rational is exact: asked first, as an answer key's values are nearly all rationals.
    return printers.text(expr) if expr.is_Rational or is_exact(expr) else None


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
