"""check: claims judged to the digits written, each known mistake recognised when made on purpose
(and never on a right answer), root causes told from consequences, exit codes for autograders."""

from __future__ import annotations

import json
import math
import textwrap
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import click
import mpmath
import pytest
import sympy as sp
from click.testing import CliRunner

import symbackprop
from symbackprop import ProblemError
from symbackprop.arithmetic import certified
from symbackprop.model import functions as fn
from symbackprop.check.judge import Checker, Tolerance, agrees
from symbackprop.check.claims import decimal_places, loads_claims, parse_key
from symbackprop.cli.check import check as check_command
from symbackprop.check.equivalence import _settle_kinks
from symbackprop.check.mistakes import round_to

EXAMPLES = Path(__file__).resolve().parent.parent / "worked_examples"
CHECKS = EXAMPLES / "checks"

RELU_PROBLEM = """
nodes:
  z1: w1*x
  h1: relu(z1)
  z2: w2*x
  h2: relu(z2)
  y: v1*h1 + v2*h2
  E: (y - t)**2
values: {w1: -0.5, w2: 0.3, x: 2, v1: 0.7, v2: 0.4, t: 1}
parameters: [w1, w2, v1, v2]
learning_rate: 0.1
"""


#: A loss that is the mean over three outputs (its 1/3), for "summed instead of averaged".
MEAN3_PROBLEM = """
nodes:
  y1: w1*x
  y2: w2*x
  y3: w3*x
  E: ((y1 - t1)**2 + (y2 - t2)**2 + (y3 - t3)**2)/3
values: {w1: 0.3, w2: -0.25, w3: 1, x: 2, t1: 1, t2: 0, t3: 1}
parameters: [w1, w2, w3]
learning_rate: 0.1
"""


@pytest.fixture(scope="module")
def mean3() -> Checker:
    return Checker(symbackprop.loads(MEAN3_PROBLEM))


@pytest.fixture(scope="module")
def sigmoid() -> Checker:
    return Checker(symbackprop.load(EXAMPLES / "sigmoid_2_2_2.yaml"))


@pytest.fixture(scope="module")
def seed003() -> Checker:
    return Checker(symbackprop.load(EXAMPLES / "seed003_relu_unit.yaml"))


@pytest.fixture(scope="module")
def seed004() -> Checker:
    return Checker(symbackprop.load(EXAMPLES / "seed004_two_hidden_softmax.yaml"))


@pytest.fixture(scope="module")
def relu_net() -> Checker:
    return Checker(symbackprop.loads(RELU_PROBLEM))


def verdicts(checker: Checker, claims: str, tolerance=None) -> dict:
    parsed = loads_claims(textwrap.dedent(claims), checker.problem, "claims.yaml")
    return {v.claim.key: v for v in checker.judge_all(parsed, tolerance).verdicts}


def judge(checker: Checker, key: str, value: str):
    return verdicts(checker, f"{key}: {value}\n")[key]


def nine(x) -> str:
    """A value written to nine decimal places, as a student would."""
    return f"{float(x):.9f}"


def gradient(checker: Checker, name: str) -> float:
    return float(checker.solution.gradients[name].value)


def sigmoid_fn(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# --- the digits rule ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, places", [
    ("0.511301270", 9), ("0.51130127", 8), ("1.5e-3", 4), ("-0.5", 1), ("0.50", 2), ("2.", 0),
    ("3", None), ("2/5", None), ("2*x_n", None),
])
def test_decimal_places_are_read_from_the_text_as_written(text, places):
    assert decimal_places(text) == places


def test_trailing_zeros_claim_digits(sigmoid):
    # w7+ = 0.511301270239...: nine places are right, ten (a trailing 0 written) are not.
    assert judge(sigmoid, "w7+", "0.511301270").right
    assert not judge(sigmoid, "w7+", "0.5113012700").right


def test_a_claim_rounded_to_nine_places_is_right_and_one_unit_off_is_wrong(sigmoid):
    # dE/dw5 = 0.0821670405642...
    assert judge(sigmoid, "dE/dw5", "0.082167041").right
    assert not judge(sigmoid, "dE/dw5", "0.082167042").right
    assert not judge(sigmoid, "dE/dw5", "0.082167040").right


def test_exponent_notation_counts_the_places_it_means(sigmoid):
    # dE/dw1 = 4.3856773e-4: 4.39e-4 claims 6 places, 4.3857e-4 claims 8.
    assert judge(sigmoid, "dE/dw1", "4.39e-4").right
    assert judge(sigmoid, "dE/dw1", "4.3857e-4").right
    assert not judge(sigmoid, "dE/dw1", "4.3858e-4").right


def test_integers_and_fractions_claim_the_exact_value(seed003):
    assert judge(seed003, "dE/dx_n", "2/5").right
    assert judge(seed003, "dE/dx_n", "0.40").right
    assert not judge(seed003, "dE/dx_n", "0.39").right
    assert judge(seed003, "dE/dy", "2").right
    assert not judge(seed003, "dE/dy", "3").right


def test_relative_tolerance_overrides_the_digits(sigmoid):
    claims = "dE/dw5: 0.0825\n"       # 4 places claimed, off by 3.3e-4
    assert not verdicts(sigmoid, claims)["dE/dw5"].right
    assert verdicts(sigmoid, claims, tolerance=Tolerance(relative=sp.Rational(1, 100)))["dE/dw5"].right
    assert not verdicts(sigmoid, claims, tolerance=Tolerance(relative=sp.Rational(1, 1000)))["dE/dw5"].right


# --- formulas ------------------------------------------------------------------------------------

def test_a_formula_is_right_when_it_is_equivalent(seed003):
    assert judge(seed003, "dE/dw3", "2*x_n").right
    assert judge(seed003, "dE/dw3", "x_n + x_n").right
    # Node names and symbols take the problem's values: y = 3 (given), ybar = 2.
    assert judge(seed003, "dE/dw3", "2*x_n*(y - ybar)").right


def test_the_seeds_formula_is_wrong_with_its_difference(seed003):
    verdict = judge(seed003, "dE/dw3", "2*w3*x_n")
    assert not verdict.right
    assert verdict.correct == 2 * symbackprop.model.symbols.symbol("x_n")
    assert sp.simplify(verdict.difference + sp.Rational(8, 5) * symbackprop.model.symbols.symbol("x_n")) == 0
    assert verdict.diagnosis is None
    assert [s.target for s in verdict.steps] == ["y", "w3"]


@pytest.fixture(scope="module")
def saturated() -> Checker:
    return Checker(symbackprop.load(EXAMPLES / "saturated_cross_entropy.yaml"))


def test_a_formula_that_differs_past_any_float_s_digits_is_wrong(saturated):
    # E = -log(1 - sigmoid(w*x)), so dE/dw = x*sigmoid(w*x); at w*x = 400 the claim `x` is off by
    # x*(1 - sigmoid(400)) = 4*e^-400/(1 + e^-400), about 7.7e-174: zero to 40 digits, yet wrong.
    verdict = judge(saturated, "dE/dw", "x")
    assert not verdict.right
    mpmath.mp.dps = 60
    expected = 4 * mpmath.exp(-400) / (1 + mpmath.exp(-400))
    got = certified.approximation(verdict.difference, 100)
    assert abs(mpmath.mpf(got.numerator) / got.denominator - expected) < expected * mpmath.mpf(10) ** -40
    assert judge(saturated, "dE/dw", "x*sigmoid(w*x)").right
    assert judge(saturated, "dE/dw", "x*p").right
    assert judge(saturated, "dE/dw", "x*(1 - sigmoid(-w*x))").right     # equal, not the same text


def test_a_max_or_min_is_settled_by_certified_comparisons():
    z, a, b, c = (symbackprop.model.symbols.symbol(n) for n in "zabc")
    tiny = 1 - fn.sigmoid(z)                      # at z = 400, e^-400/(1 + e^-400): about 1.9e-174
    values = {z: sp.Integer(400), a: sp.Rational(1, 10**200)}
    # SymPy cannot order 1 - sigmoid(400) against 1e-200 (it raised TypeError); 1.9e-174 > 1e-200.
    assert _settle_kinks(sp.Max(tiny, a), values) == tiny
    assert _settle_kinks(sp.Min(tiny, a), values) == a
    third = {a: sp.Rational(1, 3), b: sp.Rational(1, 3)}
    assert _settle_kinks(sp.Max(a, b), third) == sp.Max(a, b)                       # a tie: unsettled
    assert _settle_kinks(sp.Max(a, b, c), {**third, c: sp.Rational(1, 2)}) == c      # the tie is below
    assert _settle_kinks(sp.Max(a, b, c), {**third, c: sp.Rational(1, 4)}) == sp.Max(a, b, c)
    assert _settle_kinks(sp.Min(a, b + tiny), {**third, z: sp.Integer(400)}) == a


#: A ReLU whose input is 1e-174 from 0 on either side: h's input sigmoid(400) - 1 is below 0,
#: g's input 1 - sigmoid(400) - 1e-200 above it (1 - sigmoid(400) = e^-400/(1 + e^-400) = 1.9e-174).
SATURATED_RELU_PROBLEM = """
nodes:
  z: w*x
  p: sigmoid(z)
  h: relu(p - 1)
  g: relu(1 - p - 1e-200)
  E: (h + g + v*p - t)**2
values: {w: 100, x: 4, v: 1, t: 2}
parameters: [w, v]
learning_rate: 0.1
"""


def test_inactive_relus_are_found_by_certified_signs():
    # SymPy's `sigmoid(400) - 1 <= 0` raised TypeError, and with it every diagnosis of this problem.
    checker = Checker(symbackprop.loads(SATURATED_RELU_PROBLEM))
    assert checker.mistakes._inactive_units() == ["h"]
    assert not judge(checker, "dE/dv", "5").right


@pytest.mark.parametrize("value, places, expected", [
    # 1/8 - e^-200 is 1.4e-87 below the half 0.125: 0.12, where a 40-digit float rounded up to 0.13.
    (sp.Rational(1, 8) - sp.exp(-200), 2, sp.Rational(12, 100)),
    (sp.Rational(1, 8) + sp.exp(-200), 2, sp.Rational(13, 100)),
    (sp.exp(-200) - sp.Rational(1, 8), 2, -sp.Rational(12, 100)),
    # 1/8 - (1 - sigmoid(400)): below the half by 1.9e-174.
    (sp.Rational(1, 8) - (1 - fn.sigmoid(400)), 2, sp.Rational(12, 100)),
    (1 - fn.sigmoid(400), 9, sp.Integer(0)),
    (fn.sigmoid(400), 3, sp.Integer(1)),
    # Exact halves round up, away from zero, as students round.
    (sp.Rational(5, 1000), 2, sp.Rational(1, 100)),
    (-sp.Rational(5, 1000), 2, -sp.Rational(1, 100)),
    # sigmoid(1) + sigmoid(-1) is exactly 1, unsimplified: a half no ball separates from the boundary.
    ((fn.sigmoid(1) + fn.sigmoid(-1)) * sp.Rational(5, 1000), 2, sp.Rational(1, 100)),
    (-(fn.sigmoid(1) + fn.sigmoid(-1)) * sp.Rational(5, 1000), 2, -sp.Rational(1, 100)),
    # 10^30 + e^-1 = 10^30 + 0.36787...: the integer part does not eat the places.
    (sp.Integer(10)**30 + sp.exp(-1), 3, sp.Integer(10)**30 + sp.Rational(368, 1000)),
])
def test_round_to_rounds_the_certified_value_half_up(value, places, expected):
    assert round_to(value, places) == expected


# --- each mistake, made on purpose -----------------------------------------------------------------

def too_early_dE_dw1() -> float:
    """dE/dw1 of the 2-2-2 example, by hand, with w5+ and w7+ used in the backward pass."""
    out_h1, out_h2 = sigmoid_fn(0.3775), sigmoid_fn(0.3925)
    out_o1 = sigmoid_fn(0.4 * out_h1 + 0.45 * out_h2 + 0.6)
    out_o2 = sigmoid_fn(0.5 * out_h1 + 0.55 * out_h2 + 0.6)
    delta_o1 = (out_o1 - 0.01) * out_o1 * (1 - out_o1)
    delta_o2 = (out_o2 - 0.99) * out_o2 * (1 - out_o2)
    w5_new, w7_new = 0.4 - 0.5 * delta_o1 * out_h1, 0.5 - 0.5 * delta_o2 * out_h1
    return (delta_o1 * w5_new + delta_o2 * w7_new) * out_h1 * (1 - out_h1) * 0.05


def rounded_dE_dnet_o1(places: int) -> str:
    """dE/dnet_o1 of the 2-2-2 example, by hand, every value rounded half up to `places`."""
    def r(x) -> Decimal:
        return Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    net_h1, net_h2 = r(Decimal("0.3775")), r(Decimal("0.3925"))
    out_h1, out_h2 = r(sigmoid_fn(float(net_h1))), r(sigmoid_fn(float(net_h2)))
    net_o1 = r(Decimal("0.4") * out_h1 + Decimal("0.45") * out_h2 + Decimal("0.6"))
    out_o1 = r(sigmoid_fn(float(net_o1)))
    upstream = r(out_o1 - Decimal("0.01"))
    return str(r(upstream * r(out_o1 * (1 - out_o1))))


MISTAKES = {
    # id: (fixture, claim key, the wrong value computed here, the mistake it must be named)
    "sign": ("sigmoid", "dE/dw5", lambda c: nine(-gradient(c, "w5")), "sign"),
    "loss doubled": ("sigmoid", "dE/dw5", lambda c: nine(2 * gradient(c, "w5")), "loss_half"),
    "loss halved": ("seed003", "dE/dy", lambda c: "1", "loss_half"),
    # dE/dw1 = 2/3*(w1*x - t1)*x = 2/3*(0.6 - 1)*2; summed over the outputs instead: 3 times that.
    "sum over 3 outputs": ("mean3", "dE/dw1", lambda c: nine(2 * (0.6 - 1) * 2), "mean_sum"),
    "mean over 3 outputs": ("seed004", "dE/dw2_12", lambda c: nine(gradient(c, "w2_12") / 3),
                            "mean_sum"),
    # z1 = -1, so h1 = relu(z1) is inactive: dE/dw1 is 0, not dE/dy * v1 * x = 2*(0.24 - 1)*0.7*2.
    "relu inactive": ("relu_net", "dE/dw1", lambda c: "-2.128", "relu_inactive"),
    "swapped w5/w6": ("sigmoid", "dE/dw5", lambda c: nine(gradient(c, "w6")), "indices_swapped"),
    "swapped w1_12/w1_21": ("seed004", "dE/dw1_12", lambda c: nine(gradient(c, "w1_21")),
                            "indices_swapped"),
    # z1_1 = w1_11*x1 + w1_12*x2 + b1_1 written with w1_21 = 0.5 in place of w1_12 = -0.4.
    "transposed forward": ("seed004", "z1_1", lambda c: "0.55", "indices_swapped"),
    "updated too early": ("sigmoid", "dE/dw1", lambda c: nine(too_early_dE_dw1()), "updated_too_early"),
    "rounding": ("sigmoid", "dE/dnet_o1", lambda c: rounded_dE_dnet_o1(3), "rounding"),
    "learning rate sign": ("sigmoid", "w5+", lambda c: nine(0.4 + 0.5 * gradient(c, "w5")),
                           "learning_rate_sign"),
}


@pytest.mark.parametrize("case", MISTAKES.values(), ids=MISTAKES.keys())
def test_each_mistake_made_on_purpose_is_named(case, request):
    fixture, key, wrong_value, mistake = case
    checker = request.getfixturevalue(fixture)
    verdict = judge(checker, key, wrong_value(checker))
    assert not verdict.right
    assert verdict.diagnosis is not None, f"{key}: {wrong_value(checker)} not diagnosed"
    assert verdict.diagnosis.mistake == mistake, verdict.diagnosis


@pytest.mark.parametrize("case", MISTAKES.values(), ids=MISTAKES.keys())
def test_no_mistake_fires_on_the_right_answer(case, request):
    fixture, key, _, _ = case
    checker = request.getfixturevalue(fixture)
    quantity = parse_key(key, checker.problem)
    right = nine(checker.correct.value(quantity))
    verdict = judge(checker, key, right)
    assert verdict.right and verdict.diagnosis is None
    # Asked directly, the catalogue names no mistake for a right number either (too early, for
    # one, leaves dE/dw5 unchanged and would otherwise "reproduce" it).
    claim, = loads_claims(f"{key}: {right}\n", checker.problem)
    assert checker.mistakes.diagnose(claim.quantity, lambda v: agrees(claim, claim.value, v)) is None


def test_the_rounding_diagnosis_reports_the_places(sigmoid):
    assert rounded_dE_dnet_o1(3) == "0.139"     # the correct value 0.13849856... rounds to 0.138
    verdict = judge(sigmoid, "dE/dnet_o1", "0.139")
    assert "3 decimal places" in verdict.diagnosis.detail


def test_the_swapped_weight_is_named(sigmoid):
    verdict = judge(sigmoid, "dE/dw5", nine(gradient(sigmoid, "w6")))
    assert "dE/dw6" in verdict.diagnosis.detail


def test_an_unexplained_value_is_said_to_be_unexplained(sigmoid):
    verdict = judge(sigmoid, "dE/dw5", "0.123456789")
    assert not verdict.right and verdict.diagnosis is None


# --- root cause versus consequence --------------------------------------------------------------

def net_222(w: dict[str, float], out_h1: float | None = None) -> dict[str, float]:
    """The 2-2-2 example by hand in floats: forward values and the gradients of the weights (the
    textbook deltas); out_h1 may be replaced, as a student who got it wrong carries it on."""
    i1, i2, t1, t2 = 0.05, 0.1, 0.01, 0.99
    h1 = sigmoid_fn(w["w1"] * i1 + w["w2"] * i2 + 0.35) if out_h1 is None else out_h1
    h2 = sigmoid_fn(w["w3"] * i1 + w["w4"] * i2 + 0.35)
    o1 = sigmoid_fn(w["w5"] * h1 + w["w6"] * h2 + 0.6)
    o2 = sigmoid_fn(w["w7"] * h1 + w["w8"] * h2 + 0.6)
    d1, d2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
    g1, g2 = (d1 * w["w5"] + d2 * w["w7"]) * h1 * (1 - h1), (d1 * w["w6"] + d2 * w["w8"]) * h2 * (1 - h2)
    return {"E": ((t1 - o1) ** 2 + (t2 - o2) ** 2) / 2,
            "dE/dw1": g1 * i1, "dE/dw2": g1 * i2, "dE/dw3": g2 * i1, "dE/dw4": g2 * i2,
            "dE/dw5": d1 * h1, "dE/dw6": d1 * h2, "dE/dw7": d2 * h1, "dE/dw8": d2 * h2}


WEIGHTS_222 = {"w1": 0.15, "w2": 0.2, "w3": 0.25, "w4": 0.3, "w5": 0.4, "w6": 0.45, "w7": 0.5, "w8": 0.55}


def test_a_gradient_carried_on_from_a_wrong_forward_value_follows_from_it(sigmoid):
    carried = net_222(WEIGHTS_222, out_h1=0.6)["dE/dw1"]      # computed right from the wrong 0.6
    result = verdicts(sigmoid, f"""\
        out_h1: 0.6000
        dE/dw1: {nine(carried)}
        out_h2: 0.5000
        """)
    assert result["out_h1"].root_cause and result["out_h2"].root_cause
    assert not result["dE/dw1"].right
    assert result["dE/dw1"].follows_from == ("out_h1",)
    # Also computed from the wrong out_h2 (through out_o1), which does not explain it.
    assert result["dE/dw1"].wrong_upstream == ("out_h2",)


def test_a_wrong_gradient_not_reproduced_from_a_wrong_value_above_it_is_a_root_cause(sigmoid):
    result = verdicts(sigmoid, "out_h1: 0.6000\ndE/dw1: 0.0005000\n")
    assert not result["dE/dw1"].right
    assert result["dE/dw1"].root_cause and result["dE/dw1"].follows_from == ()
    assert result["dE/dw1"].wrong_upstream == ("out_h1",)


def test_a_wrong_loss_value_is_not_used_by_the_reverse_pass(sigmoid):
    result = verdicts(sigmoid, "E: 0.3000\ndE/dw5: 0.09000\n")
    assert not result["E"].right and not result["dE/dw5"].right
    assert result["dE/dw5"].root_cause


def test_the_update_follows_from_its_gradient_and_the_loss_after_from_the_update(sigmoid):
    # w5+ = 0.4 - 0.5*0.09 = 0.355; E+ by hand with w5 = 0.355 and the other weights updated right.
    gradients = net_222(WEIGHTS_222)
    updated = {w: v - 0.5 * gradients[f"dE/d{w}"] for w, v in WEIGHTS_222.items()}
    e_after = net_222({**updated, "w5": 0.355})["E"]
    result = verdicts(sigmoid, f"dE/dw5: 0.09000\nw5+: 0.3550\nE+: {nine(e_after)}\n")
    assert result["dE/dw5"].root_cause
    assert result["w5+"].follows_from == ("dE/dw5",)
    # Recomputed from either the claimed gradient or the claimed w5+ it comes out as claimed.
    assert not result["E+"].right and result["E+"].follows_from == ("dE/dw5", "w5+")
    # A loss after the update that the wrong w5+ does not give is wrong on its own.
    assert verdicts(sigmoid, "w5+: 0.3550\nE+: 0.2900\n")["E+"].root_cause


# --- the worked examples -------------------------------------------------------------------------

def test_the_published_2_2_2_figures_are_right_except_the_loss_after_the_update(sigmoid):
    claims = loads_claims((CHECKS / "sigmoid_2_2_2_claims.yaml").read_text(), sigmoid.problem)
    report = sigmoid.judge_all(claims)
    assert [v.claim.key for v in report.verdicts if not v.right] == ["E+"]
    wrong = report.verdicts[-1]
    # The published 0.291027924 is what updating w1..w4 with gradients that used w5+..w8+ gives.
    assert wrong.diagnosis.mistake == "updated_too_early"
    assert wrong.root_cause


# --- the command: exit codes, formats, errors that name the claim ------------------------------

@pytest.fixture(scope="module")
def cli():
    group = click.Group()
    group.add_command(check_command)

    def run(*args):
        return CliRunner().invoke(group, ["check", *map(str, args)])
    return run


def write(tmp_path: Path, text: str, name: str = "claims.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_exit_status_0_when_every_claim_is_right(cli, tmp_path):
    claims = write(tmp_path, "dE/dy: 2\ndE/dx_n: 0.4\ndE/dw3: 2*x_n\n")
    result = cli(EXAMPLES / "seed003_relu_unit.yaml", claims)
    assert result.exit_code == 0, result.output
    assert "All 3 claims are right." in result.stdout


def test_exit_status_1_when_a_claim_is_wrong(cli):
    result = cli(EXAMPLES / "seed003_relu_unit.yaml", CHECKS / "seed003_claims.yaml")
    assert result.exit_code == 1, result.output
    assert "WRONG  dE/dw3 = 2*w3*x_n" in result.stdout
    assert "no known mistake reproduces this value" in result.stdout
    # The steps say what the worked solution says (seed003_relu_unit.txt, steps 1 and 2), without
    # step 2's line recalling dE/dy: its own step stands just above.
    assert ("  steps to the correct value:\n"
            "    dE/dy = 2*(y - ybar) = 2\n"
            "    dE/dw3 = dE/dy * dy/dw3\n"
            "    dy/dw3 = x_n*Heaviside(w3*x_n, 0) = x_n\n"
            "    dE/dw3 = 2*x_n*(y - ybar)*Heaviside(w3*x_n, 0) = 2 * x_n = 2*x_n\n") in result.stdout


@pytest.mark.parametrize("claims, key, words", [
    ("out_h1: 0.6\ndE/dw9: 0.1\n", "dE/dw9", "'w9' is not a node or symbol"),
    ("dL/dw5: 0.1\n", "dL/dw5", "'L' is not the loss"),
    ("i1+: 0.1\n", "i1+", "'i1' is not a parameter"),
    ("h9: 0.1\n", "h9", "'h9' is not a node"),
    ("w5: 0.4\n", "w5", "input of the problem"),
    ("E: [1, 2]\n", "E", "must be a number or a formula"),
    ("E: 2*w_n\n", "E", "uses w_n"),
    ("what is E: 0.3\n", "what is E", "is not a quantity"),
])
def test_bad_claims_are_input_errors_that_name_the_claim(cli, tmp_path, claims, key, words):
    path = write(tmp_path, claims)
    result = cli(EXAMPLES / "sigmoid_2_2_2.yaml", path)
    assert result.exit_code == 2, result.output
    assert f"key '{key}'" in result.output
    assert words in result.output
    assert f"{path}, line {claims.count(chr(10))}" in result.output      # the bad claim's line
    assert "Traceback" not in result.output


def test_a_value_after_the_update_needs_a_learning_rate(tmp_path):
    problem = symbackprop.load({"nodes": {"y": "w*x", "E": "(y - 1)**2"}, "values": {"w": 2, "x": 1}})
    with pytest.raises(ProblemError) as error:
        loads_claims("E+: 0.5\n", problem, "claims.yaml")
    assert error.value.key == "E+" and "no learning_rate" in str(error.value)


def test_exit_status_2_for_a_missing_file_or_a_bad_tolerance(cli, tmp_path):
    assert cli(EXAMPLES / "sigmoid_2_2_2.yaml", tmp_path / "missing.yaml").exit_code == 2
    claims = write(tmp_path, "E: 0.298371109\n")
    result = cli(EXAMPLES / "sigmoid_2_2_2.yaml", claims, "--rel-tol", "-1")
    assert result.exit_code == 2 and "--rel-tol" in result.output


def test_json_is_a_summary_and_one_record_per_claim(cli):
    result = cli(EXAMPLES / "sigmoid_2_2_2.yaml", CHECKS / "sigmoid_2_2_2_claims.yaml",
                 "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    records = report["claims"]
    assert [r["claim"] for r in records] == ["out_h1", "E", "dE/dw5", "w5+", "w1+", "E+"]
    assert {"claim", "kind", "right", "claimed", "correct", "difference", "diagnosis", "root_cause",
            "follows_from", "wrong_upstream", "example", "steps"} <= set(records[0])
    wrong = records[-1]
    assert (wrong["right"], wrong["claimed"], wrong["kind"]) == (False, "0.291027924", "after_update")
    assert wrong["correct"]["decimal"].startswith("0.29102777369")
    assert wrong["diagnosis"]["mistake"] == "updated_too_early"
    assert wrong["root_cause"] is True and wrong["steps"][-1].startswith("E+ = ")
    assert records[0]["right"] is True and records[0]["root_cause"] is None
    # Five published figures are right, E+ is wrong and a root cause with a named mistake.
    assert report["summary"] == {"claims": 6, "right": 5, "wrong": 1, "root_causes": 1,
                                 "follow_from_others": 0, "diagnosed": 1, "all_right": False,
                                 "verdict": "wrong", "exit_status": 1}


def test_markdown_writes_mathematics_for_github(cli):
    result = cli(EXAMPLES / "seed003_relu_unit.yaml", CHECKS / "seed003_claims.yaml", "--format", "md")
    assert result.exit_code == 1
    assert r"$\frac{\partial E}{\partial w_{3}}$" in result.stdout
    assert "\\begin{aligned}" in result.stdout and "`2*w3*x_n`" in result.stdout


def test_output_file(cli, tmp_path):
    output = tmp_path / "report.txt"
    result = cli(EXAMPLES / "sigmoid_2_2_2.yaml", CHECKS / "sigmoid_2_2_2_claims.yaml", "-o", output)
    assert result.exit_code == 1
    assert "5 of 6 claims are right; 1 is wrong." in output.read_text(encoding="utf-8")


def test_a_claims_file_that_never_ends_is_refused_not_read_forever():
    from click.testing import CliRunner
    from symbackprop.cli import main

    problem = Path(__file__).resolve().parent.parent / "worked_examples" / "seed003_relu_unit.yaml"
    result = CliRunner().invoke(main, ["check", str(problem), "/dev/zero"])
    assert result.exit_code == 2
    assert "/dev/zero: the file is larger than" in result.output


def test_intermediates_rounded_and_the_result_written_in_full_is_diagnosed(cli, tmp_path):
    # The 2-2-2 network by hand with every intermediate (each net and out) rounded half up to 4
    # places and the loss written in full: independent of the tool (mpmath, Decimal rounding).
    def r4(x):
        return mpmath.mpf(str(Decimal(mpmath.nstr(x, 30)).quantize(Decimal("0.0001"), ROUND_HALF_UP)))
    m = mpmath.mpf
    with mpmath.workdps(40):
        s = lambda x: 1 / (1 + mpmath.exp(-x))  # noqa: E731
        h1 = r4(s(r4(m("0.15") * m("0.05") + m("0.2") * m("0.1") + m("0.35"))))
        h2 = r4(s(r4(m("0.25") * m("0.05") + m("0.3") * m("0.1") + m("0.35"))))
        o1 = r4(s(r4(m("0.4") * h1 + m("0.45") * h2 + m("0.6"))))
        o2 = r4(s(r4(m("0.5") * h1 + m("0.55") * h2 + m("0.6"))))
        loss = ((m("0.01") - o1) ** 2 + (m("0.99") - o2) ** 2) / 2
    path = write(tmp_path, f"E: {mpmath.nstr(loss, 9)}\n")
    result = cli(EXAMPLES / "sigmoid_2_2_2.yaml", path)
    assert result.exit_code == 1
    assert ("every intermediate value rounded to 4 decimal places (the result written in full)"
            in result.output)
