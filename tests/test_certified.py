"""Every printed digit certain: the cases of issue 10, each against an independent reference.

References are mpmath at a precision far beyond what is printed, and Python's own `decimal` and
`fractions` for rounding; none of them shares code with arithmetic/certified.py.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction
from pathlib import Path

import mpmath
import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

import symbackprop
from symbackprop.arithmetic import certified, numeric
from symbackprop import sigmoid
from symbackprop.cli import main
from symbackprop.resources import worked_examples_dir


def reference_rounding(value: Fraction | mpmath.mpf, digits: int) -> str:
    """`value` to `digits` significant digits, half to even, by Python's decimal module, written
    as SymPy writes a Float (the layout under test is certified.layout, checked separately)."""
    if isinstance(value, Fraction):
        exact = Context(prec=digits + 60).divide(Decimal(value.numerator), Decimal(value.denominator))
    else:
        exact = Decimal(mpmath.nstr(value, digits + 60, strip_zeros=False, min_fixed=1, max_fixed=0))
    rounded = Context(prec=digits, rounding=ROUND_HALF_EVEN, Emax=10**9, Emin=-10**9).plus(exact)
    return _scientific(rounded)


def _scientific(d: Decimal) -> str:
    """Sign, significant digits without trailing zeros, and the exponent of the first digit."""
    sign, digit_tuple, exponent = d.as_tuple()
    digits = "".join(map(str, digit_tuple))
    return ("-" if sign else "") + (digits.rstrip("0") or "0") + f"e{exponent + len(digits) - 1}"


def as_scientific(text: str) -> str:
    """A decimal string (SymPy's layout) as digits and exponent, to compare with the reference."""
    return _scientific(Decimal(text))


def near_tie(value: mpmath.mpf, digits: int) -> bool:
    """True where a value lies so close to a rounding boundary that 60 more digits do not decide."""
    text = mpmath.nstr(value, digits + 60, strip_zeros=False, min_fixed=1, max_fixed=0)
    tail = text.split("e")[0].replace("-", "").replace(".", "").lstrip("0")[digits:digits + 55]
    return tail.strip("0") in ("5", "") or set(tail[1:]) <= {"0"} or set(tail[1:]) <= {"9"}


# --- correctly rounded decimals ------------------------------------------------------------------

def test_the_issues_rational_is_rounded_to_nearest():
    # A 53-bit float printed to 15 digits gave ...261; the nearest 15-digit decimal is ...260.
    assert numeric.decimal_string(sp.Rational(163433497, 630950864871)) == "0.000259027296893260"


@settings(max_examples=3000, deadline=None)
@given(st.integers(-10**30, 10**30).filter(bool), st.integers(1, 10**30), st.integers(1, 20))
def test_random_rationals_are_correctly_rounded(p, q, digits):
    text = numeric.decimal_string(sp.Rational(p, q), digits)
    assert as_scientific(text) == reference_rounding(Fraction(p, q), digits)


@settings(max_examples=1000, deadline=None)
@given(st.integers(1, 10**20), st.integers(-30, 30), st.booleans())
def test_exact_ties_go_to_even(m, e, negative):
    """m + 1/2, scaled by 10**e, rounded to m's digits: a tie exactly, which random rationals
    almost never are."""
    value = Fraction(2 * m + 1, 2) * Fraction(10) ** e * (-1 if negative else 1)
    digits = len(str(m))
    text = numeric.decimal_string(sp.Rational(value.numerator, value.denominator), digits)
    assert as_scientific(text) == reference_rounding(value, digits)


@pytest.mark.parametrize("value, digits, text", [
    (sp.Rational(1, 8), 2, "0.12"), (sp.Rational(3, 8), 2, "0.38"),            # ties go to even
    (sp.Rational(-5, 2), 1, "-2."), (sp.Rational(2, 5), 15, "0.400000000000000"),
    (sp.Integer(400), 15, "400.000000000000"), (sp.Rational(9995, 1000), 3, "10.0"),
    (sp.Rational(1, 3) * 10**20, 6, "3.33333e+19"), (sp.Rational(-1, 7) / 10**8, 6, "-1.42857e-9"),
])
def test_layout_is_sympys_and_ties_go_to_even(value, digits, text):
    assert numeric.decimal_string(value, digits) == text


@settings(max_examples=300, deadline=None)
@given(st.integers(-4000, 4000), st.integers(1, 400), st.sampled_from(["sigmoid", "tanh", "exp",
                                                                         "log1m", "softmax"]),
       st.integers(1, 16))
def test_certified_irrationals_are_correctly_rounded(p, q, kind, digits):
    x = sp.Rational(p, q)
    mx = mpmath.mpf(p) / q
    with mpmath.workdps(3000):
        mx = mpmath.mpf(p) / q
        expr, reference = {
            "sigmoid": (sigmoid(x), lambda: 1 / (1 + mpmath.exp(-mx))),
            "tanh": (sp.tanh(x), lambda: mpmath.tanh(mx)),
            "exp": (sp.exp(x / 10), lambda: mpmath.exp(mx / 10)),
            # binary cross-entropy of a confident wrong logit: cancels in hundreds of digits
            "log1m": (-sp.log(1 - sigmoid(x)), lambda: -mpmath.log(1 - 1 / (1 + mpmath.exp(-mx)))),
            "softmax": (symbackprop.softmax(1, x, 2 * x, sp.Integer(1)),
                        lambda: mpmath.exp(mx) / (mpmath.exp(mx) + mpmath.exp(2 * mx) + mpmath.e)),
        }[kind]
        expected = reference()
        if expected == 0 or near_tie(expected, digits):
            return
        assert as_scientific(numeric.decimal_string(expr, digits)) == reference_rounding(expected, digits)


# --- saturated sigmoid ---------------------------------------------------------------------------

SATURATED = {"nodes": {"z": "w*x", "p": "sigmoid(z)", "E": "-log(1 - p)"},
             "values": {"w": 100, "x": 4}}


def test_saturated_cross_entropy_is_400_to_every_digit():
    key = symbackprop.load(SATURATED).solve().to_dict()
    with mpmath.workdps(400):
        z = mpmath.mpf(400)
        e = -mpmath.log(1 - 1 / (1 + mpmath.exp(-z)))
        de_dz = 1 / (1 + mpmath.exp(-z))         # dE/dz = p, which is 1 - 1.9e-174
    assert key["forward"]["E"]["decimal"] == reference_text(e, 15) == "400.000000000000"
    assert key["gradients"]["z"]["decimal"] == reference_text(de_dz, 15) == "1.00000000000000"
    assert key["gradients"]["w"]["decimal"] == "4.00000000000000"
    assert key["gradients"]["p"]["decimal"] == reference_text(1 / (1 - de_dz), 15)  # 5.22e+173


def reference_text(value: mpmath.mpf, digits: int) -> str:
    """mpmath's own 15-digit text (its rounding is correct away from ties), in SymPy's layout."""
    return str(sp.Float(mpmath.nstr(value, digits + 10, strip_zeros=False), digits))


@pytest.mark.parametrize("z", [275, 320, 400, 1000, 10000])
def test_a_saturated_squared_error_is_not_a_constant(z):
    key = symbackprop.load({"nodes": {"y": "sigmoid(z)", "E": "(y - 1)**2"},
                            "values": {"z": z}}).solve().to_dict()
    with mpmath.workdps(z // 2 + 50):
        expected = (1 / (1 + mpmath.exp(-z)) - 1) ** 2     # e^(-2z), about 10^(-0.87 z)
    assert mpmath.almosteq(mpmath.mpf(key["forward"]["E"]["decimal"]), expected, rel_eps=1e-14)


def test_check_accepts_the_right_saturated_answers_and_refuses_the_old_wrong_one(tmp_path: Path):
    problem = tmp_path / "saturated.yaml"
    problem.write_text("nodes:\n  z: w*x\n  p: sigmoid(z)\n  E: -log(1 - p)\nvalues:\n  w: 100\n  x: 4\n")
    right = tmp_path / "right.yaml"
    right.write_text("E: 400.000\ndE/dz: 1.000\ndE/dw: 4.000\n")
    result = CliRunner().invoke(main, ["check", str(problem), str(right), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [c["right"] for c in report["claims"]] == [True, True, True]
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("E: 275.179\n")
    assert CliRunner().invoke(main, ["check", str(problem), str(wrong)]).exit_code == 1


def test_graph_labels_of_a_saturated_loss_are_right(tmp_path: Path):
    problem = tmp_path / "saturated.yaml"
    problem.write_text("nodes:\n  z: w*x\n  p: sigmoid(z)\n  E: -log(1 - p)\nvalues:\n  w: 100\n  x: 4\n")
    result = CliRunner().invoke(main, ["graph", str(problem), "--format", "mermaid"])
    assert result.exit_code == 0, result.output
    assert "E = 400</span><br/>" in result.output and '∂E/∂z = 1</span>"' in result.output
    assert "∂E/∂p = 5.221e173" in result.output          # 1/(1 - sigmoid(400)) = e^400 + 1


# --- long runs -----------------------------------------------------------------------------------

LOGISTIC = """
nodes:
  z: w*x + b
  p: sigmoid(z)
  E: -(t*log(p) + (1 - t)*log(1 - p))
data:
  - {x: -2, t: 0}
  - {x: -1, t: 0}
  - {x: 1, t: 1}
  - {x: 2, t: 1}
values: {w: 0.5, b: 0}
parameters: [w, b]
learning_rate: 100
"""


def test_a_huge_learning_rate_that_fits_the_data_at_once_does_not_diverge(tmp_path: Path):
    problem = tmp_path / "logistic.yaml"
    problem.write_text(LOGISTIC)
    result = CliRunner().invoke(main, ["solve", str(problem), "--steps", "5", "--format", "json"])
    assert result.exit_code == 0, result.output
    history = json.loads(result.output)["history"]
    with mpmath.workdps(200):
        w, b = mpmath.mpf("0.5"), mpmath.mpf(0)
        data = [(-2, 0), (-1, 0), (1, 1), (2, 1)]
        expected = []
        for _ in range(6):
            s = [1 / (1 + mpmath.exp(-(w * x + b))) for x, _ in data]
            expected.append(sum(-(t * mpmath.log(p) + (1 - t) * mpmath.log(1 - p))
                                for p, (_, t) in zip(s, data)) / 4)
            gw = sum((p - t) * x for p, (x, t) in zip(s, data)) / 4
            gb = sum(p - t for p, (_, t) in zip(s, data)) / 4
            w, b = w - 100 * gw, b - 100 * gb
    assert f"{Decimal(history[1]):.5e}" == "4.01471e-21"      # as solve prints it at 6 digits
    for shown, reference in zip(history, expected):
        assert mpmath.almosteq(mpmath.mpf(shown), reference, rel_eps=1e-14)
    study = CliRunner().invoke(main, ["train", str(problem), "--lr", "100", "--lr", "10", "--steps",
                                      "5", "-o", str(tmp_path / "study")])
    assert study.exit_code == 0, study.output
    report = (tmp_path / "study" / "report.md").read_text()
    assert "diverges" not in report.split("| verdict |")[1].split("\n\n")[0]


TANH = {
    "nodes": {"h1": "tanh(w11*x1 + w12*x2 + b1)", "h2": "tanh(w21*x1 + w22*x2 + b2)",
              "h3": "tanh(w31*x1 + w32*x2 + b3)", "y": "v1*h1 + v2*h2 + v3*h3 + c",
              "E": "(y - t)**2/2"},
    "values": {"x1": "0.5", "x2": "-0.3", "t": "0.8", "w11": "0.1", "w12": "-0.2", "b1": "0.05",
               "w21": "0.4", "w22": "0.3", "b2": "-0.1", "w31": "-0.3", "w32": "0.2", "b3": 0,
               "v1": "0.5", "v2": "-0.4", "v3": "0.3", "c": "0.1"},
    "parameters": ["w11", "w12", "b1", "w21", "w22", "b2", "w31", "w32", "b3", "v1", "v2", "v3", "c"],
    "learning_rate": "0.5",
}


def tanh_history_by_mpmath(steps: int) -> list[mpmath.mpf]:
    """The 2-3-1 tanh network trained by hand at 2,000 digits: the reference for every step."""
    with mpmath.workdps(2000):
        v = {k: mpmath.mpf(str(sp.Rational(x))) if "/" not in str(sp.Rational(x))
             else mpmath.mpf(sp.Rational(x).p) / sp.Rational(x).q for k, x in TANH["values"].items()}
        history = []
        for _ in range(steps + 1):
            h = [mpmath.tanh(v[f"w{j}1"] * v["x1"] + v[f"w{j}2"] * v["x2"] + v[f"b{j}"]) for j in (1, 2, 3)]
            y = sum(v[f"v{j + 1}"] * h[j] for j in range(3)) + v["c"]
            history.append((y - v["t"]) ** 2 / 2)
            dy = y - v["t"]
            grad = {"c": dy}
            for j in (1, 2, 3):
                grad[f"v{j}"] = dy * h[j - 1]
                dz = dy * v[f"v{j}"] * (1 - h[j - 1] ** 2)
                grad[f"w{j}1"], grad[f"w{j}2"], grad[f"b{j}"] = dz * v["x1"], dz * v["x2"], dz
            for name in TANH["parameters"]:
                v[name] -= mpmath.mpf("0.5") * grad[name]
        return history


def test_a_200_step_tanh_run_is_right_at_every_step_down_to_1e_minus_391():
    solution = symbackprop.load(TANH).solve(steps=200)
    history = solution.to_dict()["history"]
    expected = tanh_history_by_mpmath(200)
    assert len(history) == 201
    for step, (shown, reference) in enumerate(zip(history, expected)):
        assert mpmath.almosteq(mpmath.mpf(shown), reference, rel_eps=1e-10), step
    assert expected[-1] < mpmath.mpf("1e-390")          # the run ends deep below 40 digits' reach
    assert solution.run.stopped_decreasing is None


def test_the_run_says_the_loss_never_stopped_decreasing_and_train_does_not_call_it_0():
    solution = symbackprop.load(TANH).solve(steps=200)
    text = solution.render("txt")
    assert "The loss decreased at every one of the 200 updates." in text
    assert all(h != 0 for h in solution.run.history)


def test_a_run_that_grows_without_bound_says_so(tmp_path: Path):
    problem = tmp_path / "grows.yaml"
    problem.write_text("nodes:\n  E: (w - 3)**2\nvalues: {w: 0}\nparameters: [w]\nlearning_rate: 5\n")
    result = CliRunner().invoke(main, ["solve", str(problem), "--steps", "500"])
    assert result.exit_code == 2
    # |w - 3| is multiplied by 9 each update: the loss passes 1e100 at update 52 (9^104 > 1e100).
    assert "the run diverged: the loss grew past 1e100 at update 52" in result.output


def test_ten_thousand_steps_of_the_2_2_2_network_end_where_float64_ends():
    solution = symbackprop.load(worked_examples_dir() / "sigmoid_2_2_2.yaml").solve(steps=10_000)
    last = Decimal(numeric.decimal_string(solution.run.history[-1], 15))
    # A float64 loop drifts from the exact run only in its last digits over 10,000 steps.
    assert abs(float(last) - float64_sigmoid_loss(10_000)) < 1e-12


def float64_sigmoid_loss(steps: int) -> float:
    import math

    i1, i2, t1, t2 = 0.05, 0.1, 0.01, 0.99
    w = [0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55]
    b1, b2 = 0.35, 0.6            # not parameters in this example: only w1..w8 are updated
    s = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    for _ in range(steps + 1):
        h1, h2 = s(w[0] * i1 + w[1] * i2 + b1), s(w[2] * i1 + w[3] * i2 + b1)
        o1, o2 = s(w[4] * h1 + w[5] * h2 + b2), s(w[6] * h1 + w[7] * h2 + b2)
        loss = ((t1 - o1) ** 2 + (t2 - o2) ** 2) / 2
        d1, d2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
        dh1, dh2 = (d1 * w[4] + d2 * w[6]) * h1 * (1 - h1), (d1 * w[5] + d2 * w[7]) * h2 * (1 - h2)
        grads = [dh1 * i1, dh1 * i2, dh2 * i1, dh2 * i2, d1 * h1, d1 * h2, d2 * h1, d2 * h2]
        w = [wi - 0.5 * g for wi, g in zip(w, grads)]
    return loss


# --- exact zeros and the limits ------------------------------------------------------------------

def test_an_exact_zero_not_written_as_one_is_recognised():
    assert numeric.settle(sigmoid(sp.Integer(1)) + sigmoid(sp.Integer(-1)) - 1) == 0


def test_a_digit_beyond_the_working_precision_is_an_error_not_a_guess():
    # e^(e^(-e^11)) - 1 is about 10^-26003, found only as the difference of two numbers near 1:
    # the 2-digit rounding of 1/8 plus it (0.13, not the tie's 0.12) needs 86,000 bits, past
    # certified.MAX_BITS. Three digits (0.125) are certain at once.
    value = sp.Rational(1, 8) + sp.exp(sp.exp(-sp.exp(11))) - 1
    assert numeric.decimal_string(value, 3) == "0.125"
    with pytest.raises(numeric.NumericError, match="no 2 digits certain"):
        numeric.decimal_string(value, 2)


def test_run_values_that_symmetry_keeps_at_0_are_written_0():
    problem = symbackprop.loads(LOGISTIC)
    solution = problem.solve(steps=3)
    key = solution.to_dict()
    assert key["run"]["final"]["parameters"]["b"]["decimal"] == "0"   # as the exact update says
    assert solution.updates[1].new == 0


def test_a_tiny_loss_of_a_ball_run_is_not_written_0():
    # s = sigmoid(1) is irrational, so the run is on balls. The learning rate is 1/(2 s^2) to 42
    # digits: one step takes w*s - 1 from -1 to about 1e-42, the loss from 1 to about 1e-84, below
    # 2^-100, where a ball around it holds 0 unless the precision is raised. It must be: the loss
    # is never written 0.
    rate = "0.935547082789748667542523517647703069149627"
    problem = symbackprop.load({"nodes": {"s": "sigmoid(a)", "E": "(w*s - t)**2"},
                                "values": {"a": 1, "w": 0, "t": 1}, "parameters": ["w"],
                                "learning_rate": rate})
    history = problem.solve(steps=3).to_dict()["history"]
    with mpmath.workdps(400):
        s = 1 / (1 + mpmath.exp(-1))
        w, expected = mpmath.mpf(0), []
        for _ in range(4):
            expected.append((w * s - 1) ** 2)
            w -= mpmath.mpf(rate) * 2 * (w * s - 1) * s
    assert expected[1] < mpmath.mpf("1e-80")
    for shown, reference in zip(history, expected):
        assert shown != "0" and mpmath.almosteq(mpmath.mpf(shown), reference, rel_eps=1e-13)


def test_a_change_too_small_for_the_precision_is_said_so_not_called_a_stop(tmp_path: Path):
    # e^(w*x) at w = 1000, x = -1 falls by a relative 5e-432 a step: the balls cannot tell.
    problem = symbackprop.load({"nodes": {"E": "exp(w*x)"}, "values": {"w": 0, "x": -1},
                                "parameters": ["w"], "learning_rate": 1000})
    solution = problem.solve(steps=5)
    assert solution.run.stopped_decreasing is None and solution.run.too_small_to_tell == 2
    text = solution.render("txt")
    assert "stopped decreasing" not in text
    assert "at update 2 the loss changed by less than one part in 10^29" in text


LINEAR = """
nodes:
  y: w*x + b
  E: (y - t)**2/2
values: {w: 0.3, b: 0.1}
data:
  - {x: 0.5, t: 1}
  - {x: 2, t: 0.3}
  - {x: -1, t: 1.7}
  - {x: 0.1, t: 0}
parameters: [w, b]
learning_rate: RATE
"""


def linear_losses(rate: Fraction, steps: int) -> list[Fraction]:
    """The linear regression above in exact fractions: the reference for its runs."""
    data = [(Fraction(1, 2), Fraction(1)), (Fraction(2), Fraction(3, 10)), (Fraction(-1), Fraction(17, 10)),
            (Fraction(1, 10), Fraction(0))]
    w, b, losses = Fraction(3, 10), Fraction(1, 10), []
    for _ in range(steps + 1):
        residuals = [(w * x + b - t, x) for x, t in data]
        losses.append(sum(r * r / 2 for r, _ in residuals) / 4)
        w -= rate * sum(r * x for r, x in residuals) / 4
        b -= rate * sum(r for r, _ in residuals) / 4
    return losses


def test_a_run_that_leaves_exact_rationals_still_compares_its_losses_with_certainty():
    # At learning rate 1 the values pass 1,024 bits at update 33 and become balls; the loss went
    # on decreasing (by a relative 9e-17 there), which the exact history before it must not hide.
    solution = symbackprop.loads(LINEAR.replace("RATE", "1")).solve(steps=40)
    exact = linear_losses(Fraction(1), 40)
    assert all(later < earlier for earlier, later in zip(exact, exact[1:]))
    assert solution.run.too_small_to_tell is None and solution.run.stopped_decreasing is None
    assert "The loss decreased at every one of the 40 updates." in solution.render("txt")


def test_the_study_of_a_convex_problem_does_not_call_it_oscillating(tmp_path: Path):
    problem = tmp_path / "linear.yaml"
    problem.write_text(LINEAR.replace("RATE", "0.1"))
    result = CliRunner().invoke(main, ["train", str(problem), "--lr", "0.1", "--lr", "0.5",
                                       "--steps", "200", "-o", str(tmp_path / "study")])
    assert result.exit_code == 0, result.output
    report = (tmp_path / "study" / "report.md").read_text()
    exact = linear_losses(Fraction(1, 10), 200)
    assert all(later < earlier for earlier, later in zip(exact, exact[1:]))     # the truth
    assert "oscillates" not in report.split("| verdict |")[1].split("\n\n")[0]
    assert "$\\eta = 0.1$ **converges**" in report and "$\\eta = 0.5$ **converges**" in report


def test_an_exact_value_beside_a_ball_is_compared_at_the_balls_own_precision():
    from flint import arb, fmpq
    ball = arb(1) + arb("0 +/- 1e-300")              # a short midpoint, a tiny radius
    exact = fmpq(1) + fmpq(1, 10**200)               # above every number in the ball
    assert certified.compare(exact, ball) == 1 and certified.compare(ball, exact) == -1
    assert certified.compare(fmpq(1, 3), fmpq(1, 3)) == 0
    assert certified.compare(arb("1 +/- 0.1"), arb("1.05 +/- 0.1")) is None
