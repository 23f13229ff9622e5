"""How expressions are written: SymPy's printers, adjusted to read the way a lecturer writes.

Sums start with a positive term (`y - ybar`, not SymPy's `-ybar + y`). The strings stay valid SymPy
syntax, so an answer key's strings can be parsed back.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import sympy as sp
from sympy.core.function import Application
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from ..model.definitions import WeightedSum


def positive_first(terms: list[sp.Expr]) -> list[sp.Expr]:
    """Reorder a sum's terms so that it starts with a positive one where there is one."""
    negative = [t.could_extract_minus_sign() for t in terms]
    return [t for t, n in zip(terms, negative) if not n] + [t for t, n in zip(terms, negative) if n]


def sympy_order(expr: sp.Add) -> list[sp.Expr]:
    """A sum's terms in the order SymPy prints them (`expr.as_ordered_terms()`), found in time
    linear in the number of terms for the long sums of weighted inputs.

    SymPy's key is each term's exponent vector over every symbol of the sum (lexicographic,
    largest first), which is quadratic: a 129-input weighted sum took 13 ms to print. With positive
    whole-number exponents that comparison is the same as comparing each term's sparse list of
    (symbol position, -exponent) closed by a sentinel, which is what this sorts by. Any other sum,
    and short sums (where SymPy has a special case), are left to SymPy.
    """
    if len(expr.args) < 8:
        return expr.as_ordered_terms()
    terms = []
    symbols = set()
    for term in expr.args:
        coefficient, rest = term.as_coeff_Mul()
        if not (coefficient.is_Rational or coefficient.is_Float):
            return expr.as_ordered_terms()
        powers = {}
        for factor in sp.Mul.make_args(rest) if rest is not sp.S.One else ():
            base, exponent = factor.as_base_exp()
            if factor.is_number or not base.is_Symbol or not (exponent.is_Integer and exponent > 0):
                return expr.as_ordered_terms()
            powers[base] = int(exponent)
        symbols.update(powers)
        terms.append((term, complex(float(coefficient)), powers))
    position = {s: i for i, s in enumerate(sorted(symbols, key=sp.default_sort_key))}
    end = (len(position), 0)

    def key(entry):
        _, coefficient, powers = entry
        monomial = tuple(sorted((position[s], -e) for s, e in powers.items())) + (end,)
        return monomial, (bool(coefficient.imag), coefficient.imag), (coefficient.real, coefficient.imag)

    return [term for term, _, _ in sorted(terms, key=key)]


def _plain_products_in_order(expr: sp.Add) -> list[tuple[list[str], sp.Expr]]:
    """sympy_order of a sum of plain products (w1*x1 + w2*x2 + b), each term with its factors'
    names in order; a short sum, or one whose names repeat, is left to sympy_order itself."""
    terms = [(sorted(f.name for f in sp.Mul.make_args(t)), t) for t in expr.args]
    symbols = {f for t in expr.args for f in sp.Mul.make_args(t)}
    if len(expr.args) < _ORDERED_BY_NAMES or len({s.name for s in symbols}) != len(symbols):
        return [(sorted(f.name for f in sp.Mul.make_args(t)), t) for t in sympy_order(expr)]
    return _by_names(terms)


def weighted_sum_text(terms: WeightedSum) -> str | None:
    """text() of a weighted sum read from text, from its names, its SymPy sum not built: what
    _print_Add writes through _plain_products_in_order; None for a sum it leaves to sympy_order."""
    if len(terms.terms) < _ORDERED_BY_NAMES:
        return None
    return " + ".join("*".join(names) for names, _ in _by_names([(sorted(t), None) for t in terms.terms]))


#: A sum of plain products with at least this many terms is put in sympy_order by its names.
_ORDERED_BY_NAMES = 8


def _by_names(terms: list[tuple[list[str], Any]]) -> list[tuple[list[str], Any]]:
    """Terms of a sum of plain products, each with its names sorted, in sympy_order. Where every
    name is one symbol's, a symbol's place in sympy_order's key is its name's place among the names
    (default_sort_key orders symbols by name), so the key is the sorted names, closed by a mark above
    any name."""
    return sorted(terms, key=lambda term: [(0, name) for name in term[0]] + [(1, "")])


def _is_plain_product(term: sp.Expr) -> bool:
    """A symbol, or a product of distinct symbols with no number: w1*x1."""
    return term.is_Symbol or (term.is_Mul and all(f.is_Symbol for f in term.args))


# Kept: a solution writes the same values as decimals in every format and table.
@functools.lru_cache(maxsize=4096)
def terminating_decimal(p: int, q: int) -> str | None:
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


#: The bound below which str() writes an integer: made once, as 10**4000 costs more than the str().
_STR_LIMIT = 10 ** 4000


def _digit_string(n: int) -> str:
    """str(n) for n >= 0 of any length (Python refuses str() of an int of more than 4,300 digits)."""
    if n < _STR_LIMIT:
        return str(n)
    half = n.bit_length() * 3 // 20            # about half its digits (log10(2) = 0.301)
    high, low = divmod(n, 10 ** half)
    return _digit_string(high) + _digit_string(low).rjust(half, "0")


class _PositiveFirst:
    """Sums in SymPy's order (found in linear time), then positive terms first: for both printers."""

    def _as_ordered_terms(self, expr, order=None):
        if (order or self.order) is None:
            return list(_readable_order(expr))
        return positive_first(super()._as_ordered_terms(expr, order=order))


@functools.lru_cache(maxsize=4096)
def _readable_order(expr: sp.Add) -> tuple[sp.Expr, ...]:
    """A sum's terms in SymPy's order, positive first, found once per sum: the general forms of a
    layer's steps repeat their unit's (2*h2_1*(y3 - t3), 2*h2_2*(y3 - t3), ...), and SymPy's
    ordering of a short sum takes a tenth of a millisecond."""
    return tuple(positive_first(sympy_order(expr)))


class _Decimals:
    """With the setting decimals=True, a number that terminates is written as its decimal (0.1, not
    1/10), as a problem of decimals writes it; a product keeps SymPy's x/2."""

    def _print_Rational(self, expr, **kwargs):
        if self._settings.get("decimals") and expr.q != 1:
            written = terminating_decimal(int(expr.p), int(expr.q))
            if written is not None and len(written) <= MAX_DECIMAL_LENGTH:
                return written
        return super()._print_Rational(expr, **kwargs)


#: A terminating number longer than this stays a fraction inside an expression.
MAX_DECIMAL_LENGTH = 14


class ReadableStrPrinter(_Decimals, _PositiveFirst, StrPrinter):
    """SymPy's str printer with sums written positive terms first."""

    #: reader: max, min and |x| as a reader writes them (a worked solution), not SymPy's Max, Min and
    #: Abs, which an answer key keeps so that its strings parse back in SymPy.
    _default_settings = {**StrPrinter._default_settings, "decimals": False, "reader": False}

    def _print_Max(self, expr):
        return self._readable("max", expr) if self._settings["reader"] else super()._print_Basic(expr)

    def _print_Min(self, expr):
        return self._readable("min", expr) if self._settings["reader"] else super()._print_Basic(expr)

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|" if self._settings["reader"] else super()._print_Basic(expr)

    def _readable(self, name: str, expr) -> str:
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Mul(self, expr):
        if self.order is None and type(self) is ReadableStrPrinter:
            written = _product_of_names(self, expr)
            if written is not None:
                return written
        return super()._print_Mul(expr)

    def _print_Add(self, expr, order=None):
        # A weighted sum, w1*x1 + w2*x2 + b, printed as SymPy prints it: terms in SymPy's order, each
        # product's symbols in order of name, no sign to move and no bracket to add. SymPy's own
        # printer asks every term for its precedence and sign, a tenth of a millisecond each.
        if (order or self.order) is None and all(_is_plain_product(t) for t in expr.args):
            ordered = _plain_products_in_order(expr)
            if type(self) is ReadableStrPrinter:      # its symbols are their names
                return " + ".join("*".join(names) for names, _ in ordered)
            return " + ".join(
                "*".join(self._print(f) for f in sorted(sp.Mul.make_args(t), key=lambda f: f.name))
                for _, t in ordered)
        return super()._print_Add(expr, order=order)


def _product_of_names(printer: StrPrinter, expr: sp.Mul) -> str | None:
    """An integer times names and at most one sum (2*h2_5*(y_3 - t_3): a gradient's general form
    near the loss, thousands in a network's answer key), written as StrPrinter._print_Mul writes it
    (sign, then the factors sorted by sort_key: the number, the names by name, the sum in brackets)
    without asking each factor for its sort key and precedence, a tenth of a millisecond a product;
    None for any other product. tests/test_printers.py checks the two agree."""
    factors = expr.args
    if factors[0] is sp.S.One:
        return None                     # an unevaluated 1*x, which SymPy writes as it stands
    coefficient = factors[0] if factors[0].is_Integer else None
    names, sums = [], []
    for factor in factors[1:] if coefficient is not None else factors:
        if type(factor) is sp.Symbol:       # not a Dummy, which prints its name otherwise
            names.append(factor.name)
        elif factor.is_Add and not sums:
            sums.append(factor)
        else:
            return None
    sign = ""
    written = []
    if coefficient is not None:
        if coefficient < 0:
            sign, coefficient = "-", -coefficient
        if coefficient != 1:
            written.append(str(coefficient))
    written += sorted(names)
    settings = printer._settings
    written += [f"({_printed(total, settings['decimals'], settings['reader'])})" for total in sums]
    return sign + "*".join(written)


class _Substituting:
    """Each named symbol written as its value: `names` where an operator needs it bracketed
    ((-1/8)*x), `bare` as a function's argument, where the function's own brackets and commas
    already set it apart (softmax(1, 111/1000, -1/8), not softmax(1, (111/1000), (-1/8)))."""

    def __init__(self, names: dict[str, str], bare: dict[str, str], *args):
        super().__init__(*args)
        self.names, self.bare = names, bare
        self._printing: list[sp.Basic] = []

    def _print(self, expr, **kwargs):
        self._printing.append(expr)
        try:
            return super()._print(expr, **kwargs)
        finally:
            self._printing.pop()

    def _value(self, name: str, default: str) -> str:
        parent = self._printing[-2] if len(self._printing) > 1 else None
        names = self.bare if isinstance(parent, Application) else self.names
        return names.get(name, default)


class SubstitutingStrPrinter(_Substituting, ReadableStrPrinter):
    """The readable printer, writing each named symbol as a given string (its value)."""

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return self._value(expr.name, expr.name)


def text(expr: sp.Basic, decimals: bool = False, reader: bool = False) -> str:
    """The readable SymPy string of an expression. Numbers and names are written directly (an answer
    key holds tens of thousands); the rest is printed once and kept, as steps repeat their upstream
    gradients."""
    if expr.is_Rational and not decimals:
        return str(expr.p) if expr.q == 1 else f"{expr.p}/{expr.q}"
    if expr.is_Symbol:
        return expr.name
    return _printed(expr, decimals, reader)


@functools.lru_cache(maxsize=65536)
def _printed(expr: sp.Basic, decimals: bool, reader: bool) -> str:
    return ReadableStrPrinter({"decimals": decimals, "reader": reader}).doprint(expr)


# --- LaTeX -------------------------------------------------------------------------------------

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}
ACCENTS = {"bar": r"\bar", "hat": r"\hat", "tilde": r"\tilde", "dot": r"\dot", "vec": r"\vec"}


def name_parts(name: str) -> tuple[str, str, str | None, list[str]]:
    """A name read as notes write it: its letters, the digits after them, an accent suffix (ybar,
    y_hat) and its subscripts: out_h1 -> ("out", "", None, ["h1"]), ybar -> ("y", "", "bar", [])."""
    head, *subscripts = name.split("_")
    letters = head.rstrip("0123456789")
    digits = head[len(letters):]
    accent = None
    for suffix in ACCENTS:
        if letters.endswith(suffix) and len(letters) > len(suffix):
            letters, accent = letters[: -len(suffix)], suffix
            break
    if subscripts and subscripts[-1] in ACCENTS and accent is None:
        accent = subscripts.pop()
    return letters, digits, accent, subscripts


@functools.lru_cache(maxsize=4096)
def latex_name(name: str) -> str:
    """A user's name as a reader writes it: w3 -> w_{3}, x_n -> x_{n}, ybar -> \\bar{y},
    w1_21 -> w_{1,21}, out_h1 -> \\mathrm{out}_{h_{1}}, eta -> \\eta.

    Names are letters, digits and underscores (parsing.expressions.check_name), so nothing here
    can inject TeX.
    """
    letters, digits, accent, subscripts = name_parts(name)
    base = _latex_base(letters)
    if accent:
        base = f"{ACCENTS[accent]}{{{base}}}"
    parts = ([digits] if digits else []) + [latex_name(s) if s[:1].isalpha() else s
                                             for s in subscripts if s]
    return f"{base}_{{{','.join(parts)}}}" if parts else base


def _latex_base(letters: str) -> str:
    if letters in GREEK:
        return "\\" + letters
    if len(letters) == 1:
        return letters
    return r"\mathrm{%s}" % letters


class ReadableLatexPrinter(_Decimals, _PositiveFirst, LatexPrinter):
    """SymPy's LaTeX printer: positive terms first, the users' names typeset, max/min/step readable."""

    _default_settings = {**LatexPrinter._default_settings, "decimals": False}

    def __init__(self, settings: dict | None = None):
        super().__init__({"mul_symbol": None, **(settings or {})})

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        # SymPy's own setting for a symbol's LaTeX (the lecturer's notation), else the readable name.
        written = self._settings["symbol_names"].get(expr)
        return latex_name(expr.name) if written is None else written

    def _print_Heaviside(self, expr, exp=None):
        # The step function of ReLU's and max's derivatives, as lecture notes write it, with its
        # value at exactly 0 (the kink convention) said: 1[x > 0] alone would claim 0 there.
        x = self._print(expr.args[0])
        at_zero = expr.args[1] if len(expr.args) == 2 else sp.S.Half
        if at_zero == 0:
            step = r"\mathbf{1}\left[%s > 0\right]" % x
        elif at_zero == 1:
            step = r"\mathbf{1}\left[%s \geq 0\right]" % x
        else:
            step = r"\left(\mathbf{1}\left[%s > 0\right] + %s \, \mathbf{1}\left[%s = 0\right]\right)" % (
                x, self._print(at_zero), x)
        return step if exp is None else "%s^{%s}" % (step, exp)

    def _print_Float(self, expr):
        return sp.N(expr, DISPLAY_FLOAT_DIGITS).__str__()


#: Digits of Floats met inside expressions (values are formatted by the renderers, not here).
DISPLAY_FLOAT_DIGITS = 15


class SubstitutingLatexPrinter(_Substituting, ReadableLatexPrinter):
    """The LaTeX printer, writing each named symbol as a given LaTeX string (its value), with a
    visible multiplication sign so that 2 \\cdot \\frac{1}{5} cannot be misread; the symbols left
    as they are follow `notation` (name -> LaTeX)."""

    def __init__(self, names: dict[str, str], bare: dict[str, str], settings: dict | None = None,
                 notation: Mapping[str, str] | None = None):
        super().__init__(names, bare, {"mul_symbol": "dot", **(settings or {})})
        self.notation = notation or {}

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        return self._value(expr.name, self.notation.get(expr.name) or latex_name(expr.name))


@functools.lru_cache(maxsize=65536)
def latex(expr: sp.Basic, decimals: bool = False, notation: tuple[tuple[str, str], ...] = ()) -> str:
    """The LaTeX of an expression, with the users' names typeset (and with decimals, numbers that
    terminate as decimals); `notation` pairs a name with the lecturer's LaTeX for it (a tuple, so
    that printed expressions can be kept)."""
    return ReadableLatexPrinter({"decimals": decimals,
                                 "symbol_names": notation_names(expr, notation)}).doprint(expr)


def notation_names(expr: sp.Basic, notation: tuple[tuple[str, str], ...]) -> dict[sp.Symbol, str]:
    """SymPy's symbol_names for an expression. It is keyed by Symbol, which compares assumptions
    too: key it by the expression's own symbols, whatever assumptions they carry."""
    if not notation:
        return {}
    written = dict(notation)
    return {s: written[s.name] for s in expr.free_symbols if s.name in written}


# --- kept printings -------------------------------------------------------------------------------
# Each a function of its arguments alone (an expression, strings, settings as sorted pairs): a worked
# solution prints the same definitions and substitutions in every format and in every solution of
# the same problem, and SymPy's printers build them anew each time (most of a warm render). A few
# thousand each, as certified.rounded keeps: enough for a worked solution, little memory on a large one.

def frozen(mapping: Mapping) -> tuple:
    """A mapping of names or settings as the kept printings take it: its sorted pairs."""
    return tuple(sorted(mapping.items()))


@functools.lru_cache(maxsize=4096)
def printed_text(expr: sp.Basic, settings: tuple) -> str:
    """The readable string of an expression with these settings (pairs, as `frozen` makes them)."""
    return ReadableStrPrinter(dict(settings)).doprint(expr)


@functools.lru_cache(maxsize=4096)
def printed_latex(expr: sp.Basic, settings: tuple, notation: tuple[tuple[str, str], ...] = ()) -> str:
    """The LaTeX of an expression with these settings, the lecturer's `notation` for its names."""
    return ReadableLatexPrinter({**dict(settings),
                                 "symbol_names": notation_names(expr, notation)}).doprint(expr)


@functools.lru_cache(maxsize=4096)
def substituted_text(expr: sp.Basic, names: tuple, bare: tuple, settings: tuple) -> str:
    """SubstitutingStrPrinter's string, its `names`, `bare` and settings as sorted pairs."""
    return SubstitutingStrPrinter(dict(names), dict(bare), dict(settings)).doprint(expr)


@functools.lru_cache(maxsize=4096)
def substituted_latex(expr: sp.Basic, names: tuple, bare: tuple, settings: tuple,
                      notation: tuple[tuple[str, str], ...] = ()) -> str:
    """SubstitutingLatexPrinter's LaTeX, its arguments as sorted pairs."""
    return SubstitutingLatexPrinter(dict(names), dict(bare), dict(settings), dict(notation)).doprint(expr)


# --- Unicode, for drawings read as plain text (Mermaid) ---------------------------------------------

GREEK_LETTERS = {name: chr(0x3B1 + i) for i, name in enumerate(
    ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
     "mu", "nu", "xi", "omicron", "pi", "rho", "final_sigma", "sigma", "tau", "upsilon", "phi", "chi",
     "psi", "omega"])}
GREEK_LETTERS.update({name.capitalize(): chr(0x391 + i) for i, name in enumerate(
    ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
     "mu", "nu", "xi", "omicron", "pi", "rho", "", "sigma", "tau", "upsilon", "phi", "chi", "psi",
     "omega"]) if name})
#: The combining marks of latex_name's accents: ybar -> ȳ, yhat -> ŷ.
UNICODE_ACCENTS = {"bar": "\u0304", "hat": "\u0302", "tilde": "\u0303", "dot": "\u0307", "vec": "\u20d7"}
#: The characters Unicode has a subscript form of (digits and a few letters).
SUBSCRIPTS = dict(zip("0123456789aehijklmnoprstuvx+-=()",
                      "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₊₋₌₍₎"))


@functools.lru_cache(maxsize=4096)
def unicode_name(name: str) -> str:
    """A user's name as a reader writes it, in plain Unicode, following latex_name: w5 -> w₅,
    out_h1 -> outₕ₁, w1_21 -> w₁,₂₁, ybar -> ȳ, eta -> η. A subscript with a letter Unicode has no
    subscript form of keeps its underscore (net_b1 -> net_b1): a drawing that cannot typeset must
    still be read right. Names are letters, digits and underscores, so nothing here is markup."""
    letters, digits, accent, subscripts = name_parts(name)
    base = GREEK_LETTERS.get(letters, letters)
    if accent:
        # Composed where Unicode has the letter (ȳ, ŷ): fonts draw those better than a mark.
        base = unicodedata.normalize("NFC", base + UNICODE_ACCENTS[accent])
    parts = ([digits] if digits else []) + [s for s in subscripts if s]
    if not parts:
        return base
    written = ",".join(parts)
    if all(char in SUBSCRIPTS for char in written.replace(",", "")):
        return base + "".join(SUBSCRIPTS.get(char, char) for char in written)
    return f"{base}_{written}"


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Functions as a reader writes them in plain text (the rest keep their names).
UNICODE_FUNCTIONS = {"sigmoid": "σ", "Max": "max", "Min": "min"}
SUPERSCRIPTS = dict(zip("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def unicode_text(expr: sp.Basic) -> str:
    """The readable text of an expression with its names as unicode_name writes them, σ for the
    sigmoid, · for a product and a one-digit power raised: sigmoid(net_h1) -> σ(netₕ₁),
    w1*i1 -> w₁·i₁, (y - ybar)**2 -> (y - ȳ)²."""
    names = {s.name for s in expr.free_symbols}

    def reader(match: re.Match) -> str:
        word = match.group()
        if word in names:
            return unicode_name(word)
        return UNICODE_FUNCTIONS.get(word, word)

    written = _NAME.sub(reader, text(expr))
    written = re.sub(r"\*\*(\d)(?![\d.])", lambda m: SUPERSCRIPTS[m.group(1)], written)
    return written.replace("**", "^").replace("*", "·")
