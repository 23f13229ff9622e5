"""Golden strings for the printers and formats: one behaviour per test."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import sympy as sp

from symbackprop.model.functions import sigmoid, softmax
from symbackprop.printing.formats import Format, LatexFormat, MarkdownFormat, escape_latex
from symbackprop.parsing.expressions import parse_expression as parse
from symbackprop.printing.printers import (ReadableStrPrinter, _product_of_names, latex, latex_name,
                                           sympy_order, text)
from symbackprop.printing.rendering import align_lines, break_sum


@pytest.mark.parametrize("name, expected", [
    ("w3", "w_{3}"),
    ("x_n", "x_{n}"),
    ("ybar", r"\bar{y}"),
    ("y_hat", r"\hat{y}"),
    ("w1_21", "w_{1,21}"),
    ("out_h1", r"\mathrm{out}_{h_{1}}"),
    ("eta", r"\eta"),
    ("E", "E"),
])
def test_latex_names(name, expected):
    assert latex_name(name) == expected


def test_relu_is_an_operator_name():
    assert latex(parse("relu(w3*x_n)")) == r"\operatorname{ReLU}\left(w_{3} x_{n}\right)"


def test_sigmoid_is_sigma():
    assert latex(parse("sigmoid(z)")) == r"\sigma\left(z\right)"


def test_softmax_shows_its_index():
    assert latex(parse("softmax(2, z1, z2)")) == r"\operatorname{softmax}_{2}\left(z_{1}, z_{2}\right)"


def test_max_is_the_max_operator():
    assert latex(parse("max(0, s)")) == r"\max\left(0, s\right)"


def test_step_function_is_an_indicator_that_pdflatex_can_typeset():
    assert latex(sp.Heaviside(parse("w3*x_n"), 0)) == r"\mathbf{1}\left[w_{3} x_{n} > 0\right]"


def test_sums_start_with_a_positive_term_in_text():
    assert text(parse("-ybar + y")) == "y - ybar"


def test_sums_start_with_a_positive_term_in_latex():
    assert latex(parse("(-ybar + y)**2")) == r"\left(y - \bar{y}\right)^{2}"


def test_prose_cannot_inject_tex_commands():
    assert escape_latex(r"\input{/etc/passwd} \write18{rm} 100% $x$ a_b") == (
        r"\textbackslash{}input\{/etc/passwd\} \textbackslash{}write18\{rm\} 100\% \$x\$ a\_b")


def test_prose_cannot_inject_html_into_markdown():
    assert MarkdownFormat(6).prose("<script>alert(1)</script> *x*") == (
        r"&lt;script&gt;alert(1)&lt;/script&gt; \*x\*")


def test_terminating_fraction_is_shown_exactly_beside_its_decimal():
    assert Format(6).value_chain(sp.Rational(2, 5)) == [("=", "2/5"), ("=", "0.4")]


def test_repeating_fraction_is_approximately_its_decimal():
    assert MarkdownFormat(4).value_chain(sp.Rational(1, 3)) == [("=", r"\frac{1}{3}"), (r"\approx", "0.3333")]


def test_integer_is_shown_once():
    assert Format(6).value_chain(sp.Integer(3)) == [("=", "3")]


def test_float_only_value_is_shown_as_an_approximation():
    assert Format(4).value_chain(sp.Float("0.123456789", 30)) == [("≈", "0.1235")]


def test_symbolic_value_is_shown_symbolically():
    assert Format(6).value_chain(2 * sp.Symbol("x_n", real=True)) == [("=", "2*x_n")]


def test_small_decimal_in_latex_uses_powers_of_ten():
    assert LatexFormat(3).decimal(sp.Rational(1, 3) * sp.Rational(1, 10**13)) == r"3.33 \times 10^{-14}"


def test_partial_derivative_in_latex():
    assert LatexFormat(6).partial("E", "w3") == r"\frac{\partial E}{\partial w_{3}}"


def test_substituted_forward_values_keep_the_expression_shape():
    assert Format(6).substituted(parse("(y - ybar)**2"), {"y": sp.Integer(3), "ybar": sp.Integer(2)}) \
        == "(3 - 2)**2"


def test_substituted_fractions_are_bracketed_in_text():
    assert Format(6).substituted(parse("w3*x_n"), {"w3": sp.Rational(1, 5)}) == "(1/5)*x_n"


def test_align_lines_share_a_line_while_it_fits_the_page():
    equations = [{"lhs": "E", "rhs": [["=", "(3 - 2)^{2}"], ["=", "1"]]}]
    assert align_lines(equations) == ["E &= (3 - 2)^{2} = 1"]
    long = "x" * 50
    assert align_lines([{"lhs": "E", "rhs": [["=", long], ["=", long], ["=", "1"]]}]) == \
        [f"E &= {long}", f"&= {long} = 1"]


def test_long_sums_break_before_top_level_signs_only():
    term = r"\left(a + b\right)" * 8
    pieces = break_sum(f"{term} + {term} - {term}")
    assert pieces == [term, f"+ {term}", f"- {term}"]


# --- the order of a long sum's terms ------------------------------------------------------------

_names = st.sampled_from(["a", "b", "w1_1", "w1_2", "w10_1", "x1", "x2", "x10", "h1_1", "ybar", "z"])
_factor = st.tuples(_names, st.integers(1, 3))
_term = st.tuples(st.sampled_from([1, -1, 2, sp.Rational(3, 10), sp.Rational(-7, 5)]),
                  st.lists(_factor, min_size=0, max_size=3))


@given(st.lists(_term, min_size=1, max_size=40))
@settings(max_examples=300, deadline=None)
def test_long_sums_are_ordered_as_sympy_orders_them(terms):
    """The linear-time order of printers.sympy_order is SymPy's own, term for term."""
    expr = sp.Add(*(c * sp.Mul(*(sp.Symbol(n, real=True) ** e for n, e in factors))
                    for c, factors in terms))
    if expr.is_Add:
        assert sympy_order(expr) == expr.as_ordered_terms()


def test_long_sums_with_other_terms_are_left_to_sympy():
    expr = parse("sigmoid(a) + 1/b + b**c + " + " + ".join(f"w{i}*x{i}" for i in range(12)))
    assert sympy_order(expr) == expr.as_ordered_terms()


@given(st.lists(st.lists(_names, min_size=1, max_size=3, unique=True), min_size=1, max_size=30))
@settings(max_examples=200, deadline=None)
def test_weighted_sums_print_as_sympy_prints_them(products):
    """The fast path for sums of plain products gives SymPy's own string."""
    expr = sp.Add(*(sp.Mul(*(sp.Symbol(n, real=True) for n in names)) for names in products))
    assert text(expr) == sp.StrPrinter().doprint(expr)


@given(st.one_of(st.integers(-10**30, 10**30), st.fractions().map(lambda f: sp.Rational(f.numerator, f.denominator)),
                 st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)))
@settings(max_examples=300, deadline=None)
def test_numbers_and_names_print_as_sympy_prints_them(value):
    """text() writes rationals and symbols without SymPy's printer: the same strings."""
    expr = sp.Symbol(value, real=True) if isinstance(value, str) else sp.sympify(value)
    assert text(expr) == sp.StrPrinter().doprint(expr)


def test_escaped_prose_keeps_double_hyphens_apart_so_a_command_can_be_copied():
    # TeX sets -- as an en dash and --- as an em dash: "--format" would become "–format".
    assert escape_latex("run symbackprop graph --format svg") == "run symbackprop graph -{}-format svg"
    assert escape_latex("a---b, well-known") == "a-{}-{}-b, well-known"


def test_a_substituted_value_is_bracketed_where_an_operator_needs_it_not_as_a_function_argument():
    """seed 004 printed each softmax line twice, softmax(1, (111/1000), (-1/8)) and then
    softmax(1, 111/1000, -1/8) (issue 12): a function's argument needs no brackets of its own."""
    x, y, z = (sp.Symbol(n, real=True) for n in "xyz")
    values = {"x": sp.Rational(111, 1000), "y": sp.Rational(-1, 8), "z": sp.Rational(5, 4)}
    text, tex = Format(6), LatexFormat(6)
    assert text.substituted(softmax(1, x, y), values) == "softmax(1, 111/1000, -1/8)"
    assert text.substituted(sp.Max(0, z), values) == "max(0, 5/4)"
    assert text.substituted(sigmoid(y * z), values) == "sigmoid((-1/8)*(5/4))"
    assert text.substituted(y * x, values) == "(111/1000)*(-1/8)"
    assert tex.substituted(softmax(2, x, y), values) == (
        r"\operatorname{softmax}_{2}\left(\frac{111}{1000}, - \frac{1}{8}\right)")
    assert tex.substituted(y * x, values) == r"\frac{111}{1000} \cdot \left(- \frac{1}{8}\right)"


_NAMES = st.sampled_from(["h", "h2_5", "w3_1_10", "x", "y_3", "t_3", "b1", "a", "Z", "zeta", "x_n"])
_SUMS = st.sampled_from(["y_3 - t_3", "t - y", "1 - h", "a + b1 - 1", "-x - y_3", "h2_5 + 2*x"])


@settings(max_examples=300, deadline=None)
@given(st.integers(-12, 12), st.lists(_NAMES, min_size=0, max_size=4, unique=True),
       st.lists(_SUMS, max_size=2), st.booleans())
def test_a_product_of_names_is_written_as_sympy_writes_it(coefficient, names, sums, evaluate):
    """printers._product_of_names (an integer times names and a sum, without asking each factor
    its sort key) writes what SymPy's own _print_Mul writes, evaluated products and factor_terms'
    unevaluated ones alike; and it takes most of them."""
    factors = [sp.Integer(coefficient), *(sp.Symbol(n, real=True) for n in names),
               *(parse(s) for s in sums)]
    expr = sp.Mul(*factors, evaluate=evaluate)
    if not expr.is_Mul:
        return
    printer = ReadableStrPrinter()
    fast = _product_of_names(printer, expr)
    assert fast is None or fast == super(ReadableStrPrinter, printer)._print_Mul(expr), sp.srepr(expr)
    if len(sums) <= 1 and evaluate and expr.args[0] is not sp.S.One:
        assert fast is not None
