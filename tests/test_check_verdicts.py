"""check's verdicts a grader can trust (issue 10, part 4): formulas judged as formulas, the batch's
values and each example's on data problems, sum versus mean over the batch, diagnoses only where
their premise holds, "follows from" only where recomputing reproduces the claim, bad claims as input
errors, and the JSON summary. Expected values are computed here by hand (math, sympy.diff), never
taken from the tool."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import click
import pytest
import sympy as sp
from click.testing import CliRunner

import symbackprop
from symbackprop.check.judge import Checker
from symbackprop.check.claims import loads_claims
from symbackprop.cli.check import check as check_command

EXAMPLES = Path(__file__).resolve().parent.parent / "worked_examples"

#: The 2-3-1 tanh network at x = 0: h1 = tanh(0) = 0, so dE/dv1 = h1*(y - t) is 0 here.
TANH = """
nodes:
  h1: tanh(w1*x + b1)
  h2: tanh(w2*x + b2)
  h3: tanh(w3*x + b3)
  y: v1*h1 + v2*h2 + v3*h3 + c
  E: (y - t)**2/2
values: {w1: 0.5, w2: -0.3, w3: 0.8, b1: 0, b2: 0.1, b3: -0.2, v1: 0.4, v2: -0.6, v3: 0.2, c: 0.1,
         x: 0, t: 1}
parameters: [w1, w2, w3, b1, b2, b3, v1, v2, v3, c]
learning_rate: 0.1
"""
TANH_VALUES = {"w1": 0.5, "w2": -0.3, "w3": 0.8, "b1": 0, "b2": 0.1, "b3": -0.2, "v1": 0.4,
               "v2": -0.6, "v3": 0.2, "c": 0.1, "x": 0, "t": 1}

#: Logistic regression with binary cross-entropy, the issue's four examples, full batch (mean).
LOGISTIC = """
nodes:
  z: w*x + b
  p: sigmoid(z)
  E: -(t*log(p) + (1 - t)*log(1 - p))
values: {w: 0.5, b: 0}
data:
  - {x: -2, t: 0}
  - {x: -1, t: 0}
  - {x: 1, t: 1}
  - {x: 2, t: 1}
parameters: [w, b]
learning_rate: 0.1
reduction: REDUCTION
"""
XS, TS, W = [-2, -1, 1, 2], [0, 0, 1, 1], 0.5

RELU = """
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


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def example_loss(k: int) -> float:
    """Binary cross-entropy of example k (counting from 1), by hand."""
    p = sigmoid(W * XS[k - 1])
    return -math.log(p) if TS[k - 1] == 1 else -math.log(1 - p)


def example_dw(k: int) -> float:
    """dE/dw of example k: (p - t)*x."""
    return (sigmoid(W * XS[k - 1]) - TS[k - 1]) * XS[k - 1]


def nine(x: float) -> str:
    return f"{x:.9f}"


@pytest.fixture(scope="module")
def tanh() -> Checker:
    return Checker(symbackprop.loads(TANH))


@pytest.fixture(scope="module")
def logistic() -> Checker:
    return Checker(symbackprop.loads(LOGISTIC.replace("REDUCTION", "mean")))


@pytest.fixture(scope="module")
def logistic_sum() -> Checker:
    return Checker(symbackprop.loads(LOGISTIC.replace("REDUCTION", "sum")))


def verdicts(checker: Checker, claims: str) -> dict:
    parsed = loads_claims(textwrap.dedent(claims), checker.problem, "claims.yaml")
    return {v.claim.key: v for v in checker.judge_all(parsed).verdicts}


# --- formulas: equivalent as formulas first, then by value ------------------------------------

def tanh_closed_form():
    """E of the tanh network in SymPy, written out here, and its symbols."""
    s = {n: sp.Symbol(n) for n in TANH_VALUES}
    h = [sp.tanh(s[f"w{i}"] * s["x"] + s[f"b{i}"]) for i in (1, 2, 3)]
    y = sum(s[f"v{i}"] * h[i - 1] for i in (1, 2, 3)) + s["c"]
    return (y - s["t"]) ** 2 / 2, s, h, y


def test_a_formula_equal_only_at_these_values_is_wrong_as_a_formula(tanh):
    E, s, h, y = tanh_closed_form()
    at = {s[n]: sp.nsimplify(v) for n, v in TANH_VALUES.items()}
    general = sp.diff(E, s["v1"])
    # Independently: dE/dv1 and 5*h1 are both 0 here, but differ where h1 is not 0 (x = 1).
    assert general.subs(at) == 0 and (5 * h[0]).subs(at) == 0
    assert (general - 5 * h[0]).subs({**at, s["x"]: 1}).evalf() != 0
    verdict = verdicts(tanh, "dE/dv1: 5*h1\n")["dE/dv1"]
    assert not verdict.right
    assert verdict.diagnosis.mistake == "value_not_formula"
    assert "not the general form" in verdict.diagnosis.title


@pytest.mark.parametrize("formula", [
    "h1*(y - t)",                                   # the general form, over node names
    "h1*(c + v1*h1 + v2*h2 + v3*h3 - t)",           # y written out
    "tanh(w1*x + b1)*(y - t)",                      # h1 written out
])
def test_an_equivalent_formula_is_right_with_difference_exactly_0(tanh, formula):
    verdict = verdicts(tanh, f"dE/dv1: {formula}\n")["dE/dv1"]
    assert verdict.right and verdict.difference == 0


def test_an_equivalent_formula_of_an_irrational_value_has_difference_exactly_0(tanh):
    # dE/db3 = v3*(1 - h3**2)*(y - t) by sympy.diff of the closed form; the old check found a
    # difference of 2.95e-126 in the substituted numbers.
    E, s, h, y = tanh_closed_form()
    assert sp.simplify(sp.diff(E, s["b3"]) - s["v3"] * (1 - h[2] ** 2) * (y - s["t"])) == 0
    verdict = verdicts(tanh, "dE/db3: v3*(1 - h3**2)*(y - t)\n")["dE/db3"]
    assert verdict.right and verdict.difference == 0


def test_a_formula_missing_a_factor_is_wrong(tanh):
    # dE/db3 without tanh's slope: wrong as a formula and in value (h3 = tanh(-1/5) is not 0).
    verdict = verdicts(tanh, "dE/db3: v3*(y - t)\n")["dE/db3"]
    assert not verdict.right
    assert verdict.diagnosis is None or verdict.diagnosis.mistake != "value_not_formula"


def test_a_formula_takes_the_same_relu_branch_as_the_solution():
    checker = Checker(symbackprop.loads(RELU))
    # z2 = 0.6 > 0: h2 is w2*x on this branch, so writing it out that way is the same formula.
    result = verdicts(checker, "dE/dw2: 2*(y - t)*v2*x\ndE/dv2: 2*(v1*h1 + v2*w2*x - t)*h2\n")
    assert result["dE/dw2"].right and result["dE/dv2"].right
    # z1 = -1 < 0: the chain rule through the inactive h1 as if ReLU's slope were 1.
    verdict = verdicts(checker, "dE/dw1: 2*(y - t)*v1*x\n")["dE/dw1"]
    assert not verdict.right and verdict.diagnosis.mistake == "relu_inactive"


# --- data problems: E is the batch's, E[k] example k's -----------------------------------------

def test_E_is_the_batch_loss_and_E_k_names_example_k(logistic):
    batch = sum(example_loss(k) for k in (1, 2, 3, 4)) / 4
    assert round(batch, 6) == 0.393669                # the figure the issue quotes
    result = verdicts(logistic, f"""\
        E: {nine(batch)}
        E[3]: {nine(example_loss(3))}
        dE/dw: {nine(sum(example_dw(k) for k in (1, 2, 3, 4)) / 4)}
        dE/dw[2]: {nine(example_dw(2))}
        p[4]: {nine(sigmoid(W * 2))}
        """)
    assert all(v.right for v in result.values()), {k: v.correct for k, v in result.items()}
    assert [v.claim.quantity.example for v in result.values()] == [None, 2, None, 1, 3]


def test_example_1s_loss_is_not_the_batch_loss(logistic):
    assert not verdicts(logistic, f"E: {nine(example_loss(1))}\n")["E"].right


def test_the_solution_numbers_examples_from_1(logistic):
    # The solution's table: the row of example 3 has x = 1.
    table = logistic.solution.render("txt")
    assert any(line.split()[:4] == ["3", "x", "=", "1,"] for line in table.splitlines())
    assert verdicts(logistic, f"z[3]: {W * 1}\n")["z[3]"].right


# --- sum versus mean over the batch, and premises ---------------------------------------------

def test_summing_over_the_batch_instead_of_averaging_is_named(logistic):
    summed = sum(example_dw(k) for k in (1, 2, 3, 4))
    result = verdicts(logistic, f"dE/dw: {nine(summed)}\nE: {nine(sum(map(example_loss, (1, 2, 3, 4))))}\n")
    for key in ("dE/dw", "E"):
        assert not result[key].right
        assert result[key].diagnosis.mistake == "batch_sum", result[key].diagnosis
        assert "summed instead of averaged" in result[key].diagnosis.detail


def test_averaging_over_the_batch_instead_of_summing_is_named(logistic_sum):
    mean = sum(example_dw(k) for k in (1, 2, 3, 4)) / 4
    verdict = verdicts(logistic_sum, f"dE/dw: {nine(mean)}\n")["dE/dw"]
    assert not verdict.right and verdict.diagnosis.mistake == "batch_mean"


def test_a_batch_of_two_summed_is_not_called_the_loss_factor_half():
    two = LOGISTIC.replace("REDUCTION", "mean").replace("  - {x: -1, t: 0}\n", "").replace(
        "  - {x: 2, t: 1}\n", "")
    checker = Checker(symbackprop.loads(two))
    summed = example_dw(1) + example_dw(3)           # examples x = -2 and x = 1
    verdict = verdicts(checker, f"dE/dw: {nine(summed)}\n")["dE/dw"]
    assert verdict.diagnosis.mistake == "batch_sum"


def test_no_factor_half_is_offered_on_a_loss_without_one():
    # One example of cross-entropy: the gradient doubled is no "factor 1/2 left out" (there is none).
    checker = Checker(symbackprop.loads(LOGISTIC.split("data:")[0].replace(
        "values: {w: 0.5, b: 0}", "values: {w: 0.5, b: 0, x: 1, t: 1}") + "parameters: [w, b]\n"))
    doubled = 2 * (sigmoid(0.5) - 1) * 1
    verdict = verdicts(checker, f"dE/dw: {nine(doubled)}\n")["dE/dw"]
    assert not verdict.right
    assert verdict.diagnosis is None or verdict.diagnosis.mistake not in ("loss_half", "mean_sum")


# --- follows from: only when recomputing reproduces the claim ----------------------------------

def test_a_sign_flip_does_not_follow_from_an_unrelated_wrong_value(tanh):
    E, s, h, y = tanh_closed_form()
    at = {s[n]: sp.nsimplify(v) for n, v in TANH_VALUES.items()}
    dE_dc = float(sp.diff(E, s["c"]).subs(at))               # y - t
    result = verdicts(tanh, f"y: 0.5\ndE/dc: {nine(-dE_dc)}\n")
    flipped = result["dE/dc"]
    assert flipped.diagnosis.mistake == "sign"
    assert flipped.root_cause and flipped.follows_from == ()
    assert flipped.wrong_upstream == ("y",)


def test_a_value_recomputed_from_a_wrong_claim_follows_from_it(tanh):
    # dE/dc = y - t = 0.5 - 1 with the claimed y.
    result = verdicts(tanh, "y: 0.5\ndE/dc: -0.5\n")
    assert result["dE/dc"].follows_from == ("y",) and not result["dE/dc"].root_cause


# --- bad claims are input errors (exit 2, one line), JSON summary ------------------------------

@pytest.fixture(scope="module")
def cli():
    group = click.Group()
    group.add_command(check_command)

    def run(*args):
        return CliRunner().invoke(group, ["check", *map(str, args)])
    return run


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("claims, key, words", [
    ("E: 1e5000\n", "E", "more than 4000 digits"),
    ("E: 0.3\ndE/dw: 1/10**4001\n", "dE/dw", "above 4000"),
    ("E: (-1)**0.5\n", "E", "not a real number"),
    ("E[5]: 0.3\n", "E[5]", "numbered 1 to 4"),
    ("E[0]: 0.3\n", "E[0]", "numbered 1 to 4"),
    ("E: 0.3\nz: 0.1\n", "z", "z[1]"),
    ("w+[2]: 0.3\n", "w+[2]", "the batch's"),
    ("E: -(t*log(p) + (1 - t)*log(1 - p))\n", "E", "example to example"),
])
def test_bad_claims_exit_2_with_one_line_naming_file_key_and_line(cli, tmp_path, claims, key, words):
    problem = write(tmp_path, LOGISTIC.replace("REDUCTION", "mean"), "problem.yaml")
    path = write(tmp_path, claims, "claims.yaml")
    result = cli(problem, path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
    assert len(result.output.strip().splitlines()) == 1
    assert f"{path}, line {claims.count(chr(10))}" in result.output
    assert f"key '{key}'" in result.output and words in result.output


@pytest.mark.parametrize("claims", ["E: 1e400\n", "E: 0.3\ndE/dw: 2e308\n", "E: exp(800)\n",
                                    "E: 1e-400\n"])
def test_huge_and_tiny_claims_are_judged_exactly_not_refused(cli, tmp_path, claims):
    # Exact arithmetic has no overflow: these are wrong answers (exit 1), not bad input (exit 2).
    problem = write(tmp_path, LOGISTIC.replace("REDUCTION", "mean"), "problem.yaml")
    result = cli(problem, write(tmp_path, claims, "claims.yaml"))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "WRONG" in result.output


def test_an_example_outside_the_batch_of_the_update_is_an_input_error(cli, tmp_path):
    # minibatch_relu.yaml updates with examples 1 and 2 of its four.
    path = write(tmp_path, "E[3]: 0.1\n", "claims.yaml")
    result = cli(EXAMPLES / "minibatch_relu.yaml", path)
    assert result.exit_code == 2 and "not in the batch the update uses (examples 1, 2)" in result.output


def test_a_tiny_claim_is_judged_not_crashed(cli, tmp_path):
    problem = write(tmp_path, TANH, "problem.yaml")
    result = cli(problem, write(tmp_path, "E: 1e-400\n", "claims.yaml"))
    assert result.exit_code == 1 and "WRONG  E = 1e-400" in result.output


def test_json_has_a_summary_and_keeps_every_claim(cli, tmp_path):
    problem = write(tmp_path, LOGISTIC.replace("REDUCTION", "mean"), "problem.yaml")
    batch = sum(map(example_loss, (1, 2, 3, 4))) / 4
    dw = sum(map(example_dw, (1, 2, 3, 4))) / 4
    claims = write(tmp_path, f"""\
        E: {nine(batch)}
        dE/dw: {nine(-dw)}
        w+: {nine(0.5 + 0.1 * dw)}
        E[1]: 0.5
        """, "claims.yaml")
    result = cli(problem, claims, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [r["claim"] for r in report["claims"]] == ["E", "dE/dw", "w+", "E[1]"]
    assert [r["right"] for r in report["claims"]] == [True, False, False, False]
    assert report["claims"][3]["example"] == 1
    # w+ = 0.5 - 0.1*(-dw) is what the wrong (sign-flipped) dE/dw gives: it follows from it.
    assert report["claims"][2]["follows_from"] == ["dE/dw"]
    assert report["summary"] == {"claims": 4, "right": 1, "wrong": 3, "root_causes": 2,
                                 "follow_from_others": 1, "diagnosed": 2, "all_right": False,
                                 "verdict": "wrong", "exit_status": 1}


def test_a_value_computed_from_a_wrong_formula_follows_from_it(cli, tmp_path):
    # dE/dw[2] written with its sign flipped as a formula; the batch's dE/dw computed from it.
    s = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    g = [(s(W * x) - t) * x for x, t in zip(XS, TS)]
    g[1] = (TS[1] - s(W * XS[1])) * XS[1]                  # the formula's value at example 2
    problem = write(tmp_path, LOGISTIC.replace("REDUCTION", "mean"), "problem.yaml")
    claims = write(tmp_path, f"dE/dw[2]: (t - p)*x\ndE/dw: {sum(g) / 4:.9f}\n", "claims.yaml")
    report = json.loads(cli(problem, claims, "--format", "json").output)
    batch = next(c for c in report["claims"] if c["claim"] == "dE/dw")
    assert not batch["right"] and batch["follows_from"] == ["dE/dw[2]"]


def test_a_wrong_formula_is_not_said_to_be_recomputed_from_claims_above_it(cli, tmp_path):
    problem = write(tmp_path, RELU_INACTIVE, "problem.yaml")
    claims = write(tmp_path, "dE/dw: x*v*(y - t)\ndE/dz: -0.56\n", "claims.yaml")
    output = cli(problem, claims).output
    assert "recomputed from the values claimed there" not in output
    assert "a root cause: a wrong formula, judged as a formula, separately from the wrong dE/dz" in output


def test_one_quantity_answered_twice_in_two_spellings_is_bad_input(cli, tmp_path):
    problem = write(tmp_path, RELU_INACTIVE, "problem.yaml")
    claims = write(tmp_path, "dE/dw: 0.08\ndE / dw: 0.09\n", "claims.yaml")
    result = cli(problem, claims)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert f"{claims}, line 2: key 'dE / dw'" in result.output and "same quantity as 'dE/dw'" in result.output


def test_a_claim_that_cannot_be_judged_with_certainty_names_its_key_and_line(cli, tmp_path):
    # sigmoid(151/400) written out, plus exp(-72000): the closed forms cancel exactly and leave a
    # number below what 65,536 bits of working precision can tell from 0.
    claims = write(tmp_path, "E: 0.3\nout_h1: exp(151/400)/(1+exp(151/400)) + exp(-9000)**8\n",
                   "claims.yaml")
    result = cli(EXAMPLES / "sigmoid_2_2_2.yaml", claims)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert f"{claims}, line 2: key 'out_h1'" in result.output
    assert "cannot be judged with certainty" in result.output
    assert len(result.output) < 400


RELU_INACTIVE = """
nodes:
  z: w*x + b
  h: relu(z)
  y: v*h + c
  E: (y - t)**2/2
values: {w: 0.5, x: 2, b: -1.5, v: 0.7, c: 0.2, t: 1}
parameters: [w, b, v, c]
learning_rate: 0.1
"""


def test_a_formula_copied_from_the_answer_keys_general_form_is_judged(cli, tmp_path):
    problem = write(tmp_path, RELU_INACTIVE, "problem.yaml")
    key = symbackprop.load(problem).solve().to_dict()
    general = key["gradients"]["w"]["symbolic"]
    assert "Heaviside(z, 0)" in general                  # the step kept: true for any input
    claims = write(tmp_path, f"dE/dw: {general}\ndE/db: v*(y - t)*Heaviside(z)\n", "claims.yaml")
    result = cli(problem, claims)
    assert result.exit_code == 0, result.output
    nodes = write(tmp_path, "nodes:\n  y: Heaviside(x)\nvalues: {x: 1}\n", "node.yaml")
    refused = CliRunner().invoke(symbackprop.cli.main, ["solve", str(nodes)])
    assert refused.exit_code == 2 and "Heaviside, which has no derivative rule" in refused.output
