"""The step printer and the number writer, as a specification: each kind of step, and each kind of
number, in plain text and in Markdown/LaTeX, with the exact text expected."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import sympy as sp

import symbackprop
from symbackprop.check.claims import loads_claims
from symbackprop.check.judge import judge_claims
from symbackprop.check.report import render_report
from symbackprop.model.steps import ChainStep, ForwardStep, SumStep, UpdateStep
from symbackprop.parsing.expressions import parse_expression as parse
from symbackprop.printing.equations import StepPrinter
from symbackprop.model.functions import sigmoid
from symbackprop.printing.formats import Format, LatexFormat, MarkdownFormat

R = sp.Rational

EXAMPLES = Path(__file__).resolve().parent.parent / "worked_examples"


def lines(printer: StepPrinter, step) -> list[str]:
    return [e["lhs"] + "".join(f" {relation} {text}" for relation, text in e["rhs"])
            for e in printer.equations(step)]


GIVEN = ForwardStep("y", parse("relu(w3*x_n)"), ("w3", "x_n"), {"w3": R(1, 5)}, R(2, 5), given=True)
COMPUTED = ForwardStep("z", parse("w*x + b"), ("b", "w", "x"), {"w": R(-1, 2), "x": R(3, 10), "b": R(1, 2)},
                       R(7, 20))
DIRECT = ChainStep("y", "E", ("power",), parse("2*(y - ybar)"), R(2), None, R(1), None, R(2))
VIA = ChainStep("w", "z", ("multiply",), parse("x"), R(3, 10), parse("2*(z - t)"), R(-2, 5),
                parse("2*x*(z - t)"), R(-3, 25))
PATHS = [ChainStep("h", "z1", ("multiply",), parse("w1"), R(1, 2), None, R(-2, 5), None, R(-1, 5)),
         ChainStep("h", "z2", ("multiply",), parse("w2"), R(3, 2), None, R(3, 10), None, R(9, 20))]
SUM = SumStep("h", ("z1", "z2"), parse("w1*g1 + w2*g2"), R(1, 4))
UPDATE = UpdateStep("w", R(1, 2), R(1, 10), R(-3, 25), R(64, 125))


@pytest.mark.parametrize("step, expected", [
    (GIVEN, ["y = relu(w3*x_n) = 2/5 = 0.4"]),
    (COMPUTED, ["z = b + w*x = (1/2) + (-1/2)*(3/10) = 7/20 = 0.35"]),
    (DIRECT, ["dE/dy = 2*y - 2*ybar = 2"]),
    (VIA, ["dE/dw = dE/dz * dz/dw",
           "dz/dw = x = 3/10 = 0.3",
           "dE/dz = 2*z - 2*t = -2/5 = -0.4",
           "dE/dw = 2*x*(z - t) = (-2/5) * 3/10 = -3/25 = -0.12"]),
    (SUM, ["dE/dh = g1*w1 + g2*w2 = (-1/5) + 9/20 = 1/4 = 0.25"]),
    (UPDATE, ["w+ = w - eta * dE/dw = 1/2 - 1/10 * (-3/25) = 64/125 = 0.512"]),
], ids=["forward-given", "forward-computed", "chain-direct", "chain-via", "sum", "update"])
def test_each_step_in_text(step, expected):
    assert lines(StepPrinter(Format(6), "E", PATHS), step) == expected


@pytest.mark.parametrize("step, expected", [
    (GIVEN, [r"y = \operatorname{ReLU}\left(w_{3} x_{n}\right) = \frac{2}{5} = 0.4"]),
    # -1/2 as a fraction beside 1/2 and 3/10, not as (-0.5): measured without its brackets.
    (COMPUTED, [r"z = b + w x = \frac{1}{2} + \left(- \frac{1}{2}\right) \cdot \frac{3}{10} = \frac{7}{20}"
                r" = 0.35"]),
    (DIRECT, [r"\frac{\partial E}{\partial y} = 2 y - 2 \bar{y} = 2"]),
    (VIA, [r"\frac{\partial E}{\partial w} = \frac{\partial E}{\partial z} \cdot \frac{\partial z}{\partial w}",
           r"\frac{\partial z}{\partial w} = x = \frac{3}{10} = 0.3",
           r"\frac{\partial E}{\partial z} = 2 z - 2 t = - \frac{2}{5} = -0.4",
           r"\frac{\partial E}{\partial w} = 2 x \left(z - t\right) = \left(- \frac{2}{5}\right) \cdot "
           r"\frac{3}{10} = - \frac{3}{25} = -0.12"]),
    (SUM, [r"\frac{\partial E}{\partial h} = g_{1} w_{1} + g_{2} w_{2} = \left(- \frac{1}{5}\right) + "
           r"\frac{9}{20} = \frac{1}{4} = 0.25"]),
    (UPDATE, [r"w^{+} = w - \eta \cdot \frac{\partial E}{\partial w} = \frac{1}{2} - \frac{1}{10} \cdot "
              r"\left(- \frac{3}{25}\right) = \frac{64}{125} = 0.512"]),
], ids=["forward-given", "forward-computed", "chain-direct", "chain-via", "sum", "update"])
@pytest.mark.parametrize("fmt", [MarkdownFormat, LatexFormat])
def test_each_step_in_markdown_and_latex(fmt, step, expected):
    assert lines(StepPrinter(fmt(6), "E", PATHS), step) == expected


@pytest.mark.parametrize("step, expected", [
    (GIVEN, ["y = relu(w3*x_n)"]),
    (COMPUTED, ["z = b + w*x"]),
    (DIRECT, ["dE/dy = 2*y - 2*ybar"]),
    (VIA, ["dE/dw = dE/dz * dz/dw", "dz/dw = x", "dE/dz = 2*z - 2*t", "dE/dw = 2*x*(z - t)"]),
    (SUM, ["dE/dh = g1*w1 + g2*w2"]),
    (UPDATE, ["w+ = w - eta * dE/dw"]),
], ids=["forward-given", "forward-computed", "chain-direct", "chain-via", "sum", "update"])
def test_a_symbolic_derivation_has_no_numbers(step, expected):
    assert lines(StepPrinter(Format(6), "E", PATHS, symbolic=True), step) == expected


def test_a_general_form_too_long_for_markdown_is_left_out_but_kept_in_text():
    long = parse(" + ".join(f"w{i}*x{i}" for i in range(20)))
    step = ChainStep("y", "E", ("add",), sp.Integer(1), R(1), None, R(1), None, R(1), local_general=long)
    assert lines(StepPrinter(MarkdownFormat(6), "E"), step) == [r"\frac{\partial E}{\partial y} = 1"]
    assert lines(StepPrinter(Format(6), "E"), step)[0].startswith("dE/dy = w0*x0 + ")


def test_a_step_without_a_print_method_is_a_clear_type_error():
    class Unknown:
        pass
    with pytest.raises(TypeError, match="StepPrinter has no equations for a Unknown: define _print_Unknown"):
        StepPrinter(Format(6), "E").equations(Unknown())


def test_a_subclass_of_a_step_is_printed_as_its_base():
    class Marked(ForwardStep):
        pass
    step = Marked(GIVEN.node, GIVEN.definition, GIVEN.names, GIVEN.known, GIVEN.value, given=True)
    assert lines(StepPrinter(Format(6), "E"), step) == ["y = relu(w3*x_n) = 2/5 = 0.4"]


GIVEN_Y = """
nodes:
  y: relu(w*x)
  E: (y - t)**2
loss: E
values: {w: 0.4, x: 1, t: 1}
given: {y: 0.4}
"""


def test_the_check_report_writes_a_given_value_as_the_solution_does():
    # It wrote "y = relu(w*x) = 2/5" while the solution wrote "= 2/5 = 0.4".
    problem = symbackprop.loads(GIVEN_Y)
    report = render_report(judge_claims(problem, loads_claims("E: 0.5\n", problem)), "txt")
    solution = problem.solve().render("txt")
    assert "    y = relu(w*x) = 0.4\n    E = (y - t)**2 = (0.4 - 1)**2 = 0.36\n" in report
    assert "  y = relu(w*x) = 0.4   (given)\n" in solution
    # The difference and the half unit through the same writer: 0.14 (not 0.140), 5e-2.
    assert "difference: claimed - correct = +0.14\n" in report
    assert "1 decimal place claimed, so right within ±5e-2\n" in report


# --- the number writer ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, text, markdown", [
    (R(7, 20), [("=", "7/20"), ("=", "0.35")], [("=", r"\frac{7}{20}"), ("=", "0.35")]),
    (R(1, 3), [("=", "1/3"), ("≈", "0.333333")], [("=", r"\frac{1}{3}"), (r"\approx", "0.333333")]),
    (R(-2, 5), [("=", "-2/5"), ("=", "-0.4")], [("=", r"- \frac{2}{5}"), ("=", "-0.4")]),
    (sp.Integer(3), [("=", "3")], [("=", "3")]),
    (R(3, 2000000), [("=", "3/2000000"), ("=", "1.5e-6")],
     [("=", r"\frac{3}{2000000}"), ("=", r"1.5 \times 10^{-6}")]),
    (sp.exp(400), [("=", "exp(400)"), ("≈", "5.22147e173")],
     [("=", "e^{400}"), (r"\approx", r"5.22147 \times 10^{173}")]),
], ids=["rational", "repeating", "negative", "integer", "small", "huge"])
def test_a_value_is_written_exactly_and_as_a_decimal(value, text, markdown):
    assert Format(6).value_chain(value) == text
    assert MarkdownFormat(6).value_chain(value) == markdown
    assert LatexFormat(6).value_chain(value) == markdown


def test_a_negative_factor_is_bracketed_in_a_product():
    f, m = Format(6), MarkdownFormat(6)
    assert f.product(f.factor(R(-2, 5)), f.factor(R(7, 20))) == "(-2/5) * 7/20"
    assert m.product(m.factor(R(-2, 5)), m.factor(R(7, 20))) == \
        r"\left(- \frac{2}{5}\right) \cdot \frac{7}{20}"


@pytest.mark.parametrize("value, digits, widest, text, latex", [
    (R(1, 4), None, None, "0.25", "0.25"),
    (R(123456789, 10**6), None, None, "123.457", "123.457"),
    (sp.Integer(12345678), None, None, "1.23457e7", r"1.23457 \times 10^{7}"),
    (R(-15, 10**8), None, None, "-1.5e-7", r"-1.5 \times 10^{-7}"),
    (R(1, 10**4), None, None, "0.0001", "0.0001"),
    (R(1, 10**5), None, None, "1e-5", r"1 \times 10^{-5}"),
    (sp.Integer(12345), 4, None, "1.234e4", r"1.234 \times 10^{4}"),      # half to even
    (sp.Integer(12000), 4, 8, "12000", "12000"),                          # exact: positional wider
    (Decimal("6998420000000000000000"), None, None, "6.99842e21", r"6.99842 \times 10^{21}"),
])
def test_a_decimal_to_significant_digits(value, digits, widest, text, latex):
    assert Format(6).decimal(value, digits, widest=widest) == text
    assert LatexFormat(6).decimal(value, digits, widest=widest) == latex


def test_signs_percentages_rates_and_powers_of_ten_each_format_writes_its_own_way():
    f, m, t = Format(6), MarkdownFormat(6), LatexFormat(6)
    assert [f.signed(R(3, 20), 3), f.signed(R(-15, 10**8), 3)] == ["+0.15", "-1.5e-7"]
    assert [f.times_ten_to("5", -10), m.times_ten_to("5", -10)] == ["5e-10", r"5 \times 10^{-10}"]
    assert [f.percent(Decimal("0.125")), m.percent(Decimal("0.125")), t.percent(Decimal("0.125"))] == \
        ["12.5%", "$12.5$%", r"\(12.5\)\%"]
    assert [f.rate(R(1, 8)), f.rate(R(1, 3)), m.rate(R(1, 3)), m.rate(sp.Float(0.05))] == \
        ["0.125", "1/3", r"\frac{1}{3}", "0.05"]
    assert [f.plus_minus, m.plus_minus] == ["±", r"\pm "]


def test_names_after_the_update_and_words_in_mathematics():
    f, m = Format(6), MarkdownFormat(6)
    assert [f.after_update(f.words("batch loss")), m.after_update(m.words("batch loss"))] == \
        ["batch loss+", r"\text{batch loss}^{+}"]
    assert [f.updated("w3"), m.updated("w3")] == ["w3+", "w_{3}^{+}"]
    assert [f.code("dE/dw3"), m.code("dE/dw3"), LatexFormat(6).code("dE/dw_3")] == \
        ["dE/dw3", "`dE/dw3`", r"\texttt{dE/dw\_3}"]


def test_an_approximation_shows_every_digit_it_certifies_and_an_exact_decimal_is_short():
    """`0.1004` for 0.100400 claimed four digits where six are certain (issue 12): trailing zeros of
    an approximation stay; an exact decimal (2/5 = 0.4) is written as short as it is."""
    f = Format(6)
    assert f.value_chain(sp.Rational(1004001, 10**7)) == [("=", "1004001/10000000"), ("≈", "0.100400")]
    assert f.value_chain(sp.Rational(2, 5)) == [("=", "2/5"), ("=", "0.4")]
    assert MarkdownFormat(6).value_chain(sigmoid(sp.Rational(151, 400)))[-1] == (r"\approx", "0.593270")
    text = (EXAMPLES / "sigmoid_2_2_2.txt").read_text(encoding="utf-8")
    assert "out_h1 = sigmoid(net_h1) = 1/(1 + e^(-0.3775)) ≈ 0.593270\n" in text
    # A value substituted into a formula, too: out_h1 inside net_o1's sum.
    assert ("\\approx 0.4 \\cdot 0.593270 + 0.45 \\cdot 0.596884 + 0.6 \\approx 1.10591 \\\\"
            in (EXAMPLES / "sigmoid_2_2_2.md").read_text(encoding="utf-8"))


def test_a_difference_is_written_as_a_solution_writes_decimals():
    """The check report's difference follows the same rule as the solution: exact and short, or
    approximate with every digit of the three it shows (+0.100 was written +0.1)."""
    f = Format(6)
    assert f.signed(sp.Rational(7, 50), 3) == "+0.14"
    assert f.signed(sp.Rational(-3, 2 * 10**7), 3) == "-1.5e-7"
    assert f.signed(sp.Rational(1, 12), 3) == "+0.0833"
    assert f.signed(sp.Rational(8, 99), 3) == "+0.0808"
    assert f.signed(sp.Rational(1, 9) - sp.Rational(1, 10**7), 3) == "+0.111"
    assert f.signed(sp.Rational(1, 10) + sp.Rational(1, 3 * 10**5), 3) == "+0.100"   # not +0.1
