"""The table of operations is a specification: every row is complete, every function a problem file may
call has one, and a new activation (softplus) is one row plus these tests.

Each row's docstring derivative is held to `sympy.diff`, and its ball evaluation to mpmath at 50
digits, large arguments included; both references are independent of the row they check.
"""

from __future__ import annotations

import itertools
import re

import mpmath
import pytest
import sympy as sp
from click.testing import CliRunner
from flint import arb, ctx, fmpq

import symbackprop
from symbackprop.cli import main
from symbackprop.errors import ProblemError
from symbackprop.model.operations import (BY_FUNCTION, BY_KEY, BY_NAME, Kinked, NoRowError, Sign,
                                          Softplus, row)
from symbackprop.model import rules
from symbackprop.model.definitions import WeightedSum, name_terms
from symbackprop.model.symbols import symbol
from symbackprop.parsing.expressions import FUNCTIONS, ExpressionError, parse_expression
from symbackprop.printing.diagram import draw

mpmath.mp.dps = 60


def mp_sigmoid(z):
    return 1 / (1 + mpmath.exp(-z))


def mp_softmax(k, *zs):
    top = max(zs)
    exps = [mpmath.exp(z - top) for z in zs]
    return exps[int(k) - 1] / sum(exps)


def mp_step(z, at_zero=mpmath.mpf(1) / 2):
    return mpmath.mpf(1) if z > 0 else mpmath.mpf(0) if z < 0 else at_zero


#: What each row computes, written independently of the package (mpmath at 60 digits).
REFERENCES = {
    "Relu": lambda z: max(mpmath.mpf(0), z),
    "LeakyRelu": lambda z, alpha: z if z > 0 else alpha * z,
    "Max": lambda *xs: max(xs),
    "Min": lambda *xs: min(xs),
    "Abs": abs,
    "Step": mp_step,
    "Sign": mpmath.sign,
    "Sigmoid": mp_sigmoid,
    "Softplus": lambda z: mpmath.log1p(mpmath.exp(z)),
    "Softmax": mp_softmax,
    "Tanh": mpmath.tanh,
    "Exp": mpmath.exp,
    "Log": mpmath.log,
}

#: Where rows are evaluated: small, around 0, and large enough that a naive formula overflows
#: (e^5000 is no double) or cancels (log(1 + e^-5000)).
POINTS = ["-5000", "-1000", "-30.5", "-2.25", "-0.5", "0", "0.375", "3", "30.5", "1000", "5000"]


def arguments(operation, z: str) -> list[tuple[str, ...]]:
    """Argument tuples for a row at the point z, as its arity allows."""
    if operation.function is symbackprop.softmax:
        return [("1", z, "0.5"), ("2", z, "0.5", "-3")]
    arity = operation.arity if isinstance(operation.arity, int) else operation.arity[0]
    if operation.function is symbackprop.leaky_relu:
        return [(z, "0.01"), (z, "0.2")]
    if arity == 1:
        return [(z,)]
    return [(z, "0.5"), ("-0.5", z)]


EVALUATED = [op for op in BY_FUNCTION.values() if op.ball is not None]


def test_every_evaluated_row_has_an_independent_reference():
    assert {op.__name__ for op in EVALUATED} == set(REFERENCES)


@pytest.mark.parametrize("operation", EVALUATED, ids=lambda op: op.__name__)
def test_ball_evaluation_agrees_with_mpmath_to_50_digits(operation):
    reference = REFERENCES[operation.__name__]
    checked = 0
    for z in POINTS:
        for args in arguments(operation, z):
            saved = ctx.prec
            ctx.prec = 300
            try:
                if operation.function is sp.log and float(z) <= 0:
                    with pytest.raises(ValueError):        # outside its domain: refused, not guessed
                        operation.ball(*(arb(a) for a in args))
                    continue
                value = operation.ball(*(arb(a) for a in args))
            finally:
                ctx.prec = saved
            expected = reference(*(mpmath.mpf(a) for a in args))
            assert value.is_finite(), (operation.__name__, args)
            if expected == 0:
                assert value.is_zero(), (operation.__name__, args, value)
            else:
                midpoint = mpmath.mpf(value.mid().str(70, radius=False))
                assert abs(midpoint - expected) <= abs(expected) * mpmath.mpf(10) ** -50, \
                    (operation.__name__, args, value, expected)
                assert value.rel_accuracy_bits() >= 166, (operation.__name__, args, value)
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize("operation", [op for op in EVALUATED if op.exact is not None],
                         ids=lambda op: op.__name__)
def test_exact_evaluation_is_the_exact_value(operation):
    reference = REFERENCES[operation.__name__]
    for z in ["-9/4", "-1/2", "0", "3/8", "7"]:
        for args in arguments(operation, z):
            exact = operation.exact(*(fmpq(*map(int, a.split("/"))) if "/" in a else
                                      fmpq(sp.Rational(a).p, sp.Rational(a).q) for a in args))
            expected = reference(*(mpmath.mpf(sp.Rational(a).p) / sp.Rational(a).q for a in args))
            assert abs(mpmath.mpf(int(exact.p)) / int(exact.q) - expected) < mpmath.mpf(10) ** -55


# --- the derivative in each docstring is SymPy's --------------------------------------------------

#: The values each variable of a docstring formula takes (z, a, b away from any kink).
SAMPLES = {"z": ["-2.5", "-0.75", "0.5", "1.25"], "a": ["-2.5", "0.5", "1.25"], "b": ["0.25", "-1"],
           "alpha": ["0.01", "0.2"], "n": ["2", "3"], "k": ["1", "2"], "z1": ["-0.75", "1.25"],
           "z2": ["0.5"]}
RHS_NAMESPACE = {"sigmoid": mp_sigmoid, "softmax": mp_softmax, "tanh": mpmath.tanh,
                 "exp": mpmath.exp, "log": mpmath.log, "sign": mpmath.sign}


def formula_parts(operation) -> tuple[str, str, str]:
    """(the expression differentiated, the variable, the derivative as Python) of a docstring."""
    lhs, _, rhs = operation.formula().partition(" = ")
    prime = re.fullmatch(r"(\w+)'\((.+)\)", lhs)
    if prime:
        return f"{prime.group(1)}({prime.group(2)})", prime.group(2).split(",")[0].strip(), rhs
    quotient = re.fullmatch(r"d\((.+)\)/d(\w+)", lhs)
    assert quotient, f"{operation.__name__}'s docstring does not start with its derivative: {lhs!r}"
    return quotient.group(1), quotient.group(2), rhs


# SymPy leaves sign's derivative unevaluated (Derivative(sign(z), z)), so there is nothing to compare.
DIFFERENTIATED = [op for op in BY_FUNCTION.values() if op is not Sign]


@pytest.mark.parametrize("operation", DIFFERENTIATED, ids=lambda op: op.__name__)
def test_the_docstring_derivative_is_sympys(operation):
    expression, variable, rhs = formula_parts(operation)
    names = sorted(set(re.findall(r"[A-Za-z_]\w*", expression)) - set(FUNCTIONS))
    assert variable in names
    compared = 0
    for values in itertools.product(*(SAMPLES[n] for n in names)):
        point = dict(zip(names, values))
        # softmax's index is part of the call, not a variable: written in before parsing.
        text = re.sub(r"\bk\b", point["k"], expression) if "k" in point else expression
        derivative = sp.diff(parse_expression(text), symbol(variable))
        at_point = derivative.subs({symbol(n): sp.Rational(v) for n, v in point.items()})
        expected = eval(rhs, dict(RHS_NAMESPACE),                        # noqa: S307 (test oracle)
                        {n: mpmath.mpf(v) if n != "k" else int(v) for n, v in point.items()})
        assert abs(mpmath.mpf(str(sp.N(at_point, 40))) - expected) < mpmath.mpf(10) ** -30, \
            (operation.__name__, point, derivative, rhs)
        compared += 1
    assert compared >= 2


# --- completeness ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_a_problem_file_may_call_has_a_complete_row(name):
    operation = BY_NAME[name]
    # One argument more than the least where more are allowed: softmax of one input is just 1.
    count = operation.arity if isinstance(operation.arity, int) else operation.arity[0] + 1
    # softmax's first argument is the index of its output, a whole number; the others are symbols.
    first = ["1"] if operation.function is symbackprop.softmax else []
    names = first + [f"z{i}" for i in range(len(first), count)]
    built = parse_expression(f"{name}({', '.join(names)})")
    assert row(built.func) is operation            # what the parser builds is the row's function
    assert " = " in operation.formula() and operation.gate and operation.glyph
    assert BY_KEY[operation.key] is operation


@pytest.mark.parametrize("operation", [op for op in BY_FUNCTION.values() if issubclass(op, Kinked)],
                         ids=lambda op: op.__name__)
def test_every_kinked_row_says_what_each_side_of_its_kink_means(operation):
    assert set(operation.sides) == {1, -1, 0}
    # The convention is named exactly where it applies: not for leaky ReLU (alpha) nor abs (0).
    convention = operation.has_step and operation.step_at_zero is None
    assert ("{kink}" in operation.sides[0]) == convention


@pytest.mark.parametrize("operation", [r for r in sorted(set(BY_FUNCTION.values()), key=lambda r: r.__name__)
                                       if issubclass(r, Kinked) and r.in_nodes and r.key not in ("max", "min")],
                         ids=lambda r: r.__name__)
@pytest.mark.parametrize("z", [sp.Rational(-3, 2), sp.Rational(5, 7)])
def test_each_side_of_a_kink_is_the_value_there(operation, z):
    """`side` (used to judge a claimed formula where the kink has settled) agrees with the value."""
    x = symbol("x")
    expr = operation.function(x) if operation.arity == 1 else operation.function(x, sp.Rational(1, 10))
    sign = 1 if z > 0 else -1
    assert sp.simplify(operation.side(expr, sign).subs(x, z) - expr.subs(x, z)) == 0


def test_an_operation_without_a_row_is_an_error_naming_it():
    with pytest.raises(NoRowError, match="cos has no row in the table of operations"):
        row(sp.cos)
    with pytest.raises(ExpressionError, match="calls cos, which is not a supported function; use "
                                              ".*softplus"):
        parse_expression("cos(z)")
    with pytest.raises(ProblemError, match="Heaviside, which has no derivative rule"):
        symbackprop.loads("nodes: {E: Heaviside(w)}\nvalues: {w: 1}\nparameters: [w]\n")


# --- softplus, end to end -------------------------------------------------------------------------

SOFTPLUS_PROBLEM = """\
title: A softplus unit
nodes:
  z: w*x + b
  h: softplus(z)
  E: (h - t)**2 / 2
values: {{w: {w}, x: 2, b: -0.25, t: 3}}
parameters: [w, b]
learning_rate: 0.1
"""


@pytest.mark.parametrize("w", ["0.5", "400", "-400"])
def test_softplus_gradient_matches_sympy_and_mpmath(w):
    """dE/dw against sympy.diff of the closed form with SymPy's own log and exp, and against mpmath;
    at w*x = +-800 too, where exp overflows a double and log(1 + e^-800) cancels."""
    solution = symbackprop.loads(SOFTPLUS_PROBLEM.format(w=w)).solve()
    ours = solution.gradients["w"].value
    W, B, X, T = sp.symbols("W B X T", real=True)
    closed = (sp.log(1 + sp.exp(W * X + B)) - T) ** 2 / 2
    at = {W: sp.Rational(w), X: 2, B: sp.Rational(-1, 4), T: 3}
    by_sympy = sp.diff(closed, W).subs(at)
    z = mpmath.mpf(w) * 2 - mpmath.mpf("0.25")
    by_mpmath = (mpmath.log1p(mpmath.exp(z)) - 3) * mp_sigmoid(z) * 2
    ours_mp = mpmath.mpf(str(sp.N(ours, 50)))
    assert abs(ours_mp - by_mpmath) <= abs(by_mpmath) * mpmath.mpf(10) ** -45
    assert abs(mpmath.mpf(str(sp.N(by_sympy, 50))) - by_mpmath) <= abs(by_mpmath) * mpmath.mpf(10) ** -45
    assert solution.gradients["w"].general == symbol("x") * (symbol("h") - symbol("t")) * \
        symbackprop.sigmoid(symbol("z"))


def test_softplus_in_a_long_run_matches_gradient_descent_in_mpmath():
    solution = symbackprop.loads(SOFTPLUS_PROBLEM.format(w="0.5")).solve(steps=5)
    w, b = mpmath.mpf("0.5"), mpmath.mpf("-0.25")
    for _ in range(5):
        z = 2 * w + b
        upstream = (mpmath.log1p(mpmath.exp(z)) - 3) * mp_sigmoid(z)
        w, b = w - mpmath.mpf("0.1") * 2 * upstream, b - mpmath.mpf("0.1") * upstream
    loss = (mpmath.log1p(mpmath.exp(2 * w + b)) - 3) ** 2 / 2
    last = solution.run.history[5]
    assert abs(mpmath.mpf(last.mid().str(40, radius=False)) - loss) < mpmath.mpf(10) ** -25


def test_the_parser_accepts_softplus():
    assert parse_expression("softplus(w*x)") == symbackprop.softplus(symbol("w") * symbol("x"))
    with pytest.raises(ExpressionError, match="softplus\\(\\) takes 1 argument, got 2"):
        parse_expression("softplus(a, b)")


def test_symbackprop_solve_prints_softplus_and_its_gate_rule(tmp_path):
    problem = tmp_path / "softplus.yaml"
    problem.write_text(SOFTPLUS_PROBLEM.format(w="0.5"), encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", str(problem)])
    assert result.exit_code == 0, result.output
    assert "h = softplus(z) = softplus(0.75) ≈ 1.13687" in result.stdout
    assert "dh/dz = sigmoid(z) = sigmoid(0.75) ≈ 0.679179" in result.stdout
    # The rule is said once, in the legend before the steps.
    assert f"  - {Softplus.gate[0].upper()}{Softplus.gate[1:]}.\n" in result.stdout
    tex = CliRunner().invoke(main, ["solve", str(problem), "--format", "tex"])
    assert r"\operatorname{softplus}\left(z\right)" in tex.stdout


def test_the_diagram_draws_softplus_with_its_glyph():
    solution = symbackprop.loads(SOFTPLUS_PROBLEM.format(w="0.5")).solve()
    assert ('n_h["h<br/>softplus<br/><span style=\'color:#008000\'>h = 1.137</span><br/>'
            '<span style=\'color:#B30000\'>∂E/∂h = -1.863</span>"]') in draw(solution, "mermaid")
    assert r"{\scriptsize $\mathrm{softplus}$}" in draw(solution, "tikz")


# --- leaky ReLU's default slope -------------------------------------------------------------------

LEAKY_PROBLEM = """\
nodes:
  z: w*x + b
  y: {call}
  E: y
values: {{w: 1, x: 2, b: {b}}}
parameters: [w, b]
kink: 1/2
"""


def test_leaky_relu_of_one_argument_takes_alpha_0_01():
    z = symbol("z")
    assert parse_expression("leaky_relu(z)") == symbackprop.leaky_relu(z, sp.Rational(1, 100))
    assert symbackprop.leaky_relu(sp.Integer(-3)) == sp.Rational(-3, 100)
    assert symbackprop.leaky_relu(sp.Integer(3)) == 3
    assert symbackprop.leaky_relu(sp.Integer(0)) == 0
    assert parse_expression("leaky_relu(z, 0.2)") == symbackprop.leaky_relu(z, sp.Rational(1, 5))
    with pytest.raises(ExpressionError, match="leaky_relu\\(\\) takes at most 2 arguments, got 3"):
        parse_expression("leaky_relu(z, 0.2, 1)")


@pytest.mark.parametrize("b, value, slope", [("-5", "-3/100", "1/100"),     # z = -3
                                             ("1", "3", "1"),               # z = 3
                                             ("-2", "0", "1/100")])         # z = 0: alpha, as PyTorch
def test_leaky_relu_default_value_and_gradient(b, value, slope):
    """At z = 0 the slope is alpha even under a kink convention of 1/2 (the problem's kink is for ReLU,
    max and min), as torch.nn.functional.leaky_relu."""
    solution = symbackprop.loads(LEAKY_PROBLEM.format(call="leaky_relu(z)", b=b)).solve()
    assert solution.forward["y"].value == sp.Rational(value)
    assert solution.gradients["b"].value == sp.Rational(slope)
    assert solution.gradients["w"].value == 2 * sp.Rational(slope)


def test_leaky_relu_two_argument_form_keeps_its_alpha():
    solution = symbackprop.loads(LEAKY_PROBLEM.format(call="leaky_relu(z, 0.2)", b="-5")).solve()
    assert solution.forward["y"].value == sp.Rational(-3, 5)
    assert solution.gradients["b"].value == sp.Rational(1, 5)


def test_a_layer_may_take_every_activation_row_of_the_table():
    """A new activation is one class: `layers:` reads its activations from the table (softplus too)."""
    problem = symbackprop.load({"layers": {
        "inputs": [1], "targets": [0], "loss": "half_squared_error",
        "dense": [{"activation": "softplus", "weights": [[0.5]], "biases": [0]}]}})
    assert problem.nodes["y1"] == symbackprop.model.functions.softplus(symbol("z1_1"))
    x = symbol("x")
    expected = sp.diff((sp.log(1 + sp.exp(x / 2)) - 0) ** 2 / 2, x).subs(x, 1)
    assert abs(sp.N(problem.solve().gradients["x1"].value - expected, 50)) < sp.Float("1e-45")


def test_a_given_leaky_relu_output_is_read_back_by_its_own_row():
    """The sentence said "and positive, so the ReLU's input equals it" for any row; a negative given
    leaky ReLU output is its input times alpha."""
    problem = symbackprop.loads("nodes:\n  h: leaky_relu(w*x, 0.1)\n  E: (h - 1)**2\n"
                                "values: {w: 1, x: 2}\ngiven: {h: -0.3}\n")
    text = problem.solve().render("txt")
    assert ("w*x = -3 (the given h = -0.3 is leaky_relu(w*x, 0.1) and negative, so its input is "
            "that value divided by alpha): leaky ReLU is on its slope-alpha side.") in text


@pytest.mark.parametrize("text", [
    "w1*x1 + w2*x2 + b", "w1*x1 + w1*x2 + b", "a*b + relu(a) + c", "2*a + b*c", "a*b*c + d + e*f",
    "x*w + b + x", "a + b", "w*x + (y - t)**2 + max(w, 0)",
    " + ".join(f"w{i}*h{i}" for i in range(20)) + " + b + h3*v",
])
def test_weighted_inputs_are_what_the_general_rules_give(text):
    """rules.weighted_inputs reads a weighted sum's local derivatives and gate rules off its terms;
    for every symbol it answers for, they are what local_derivative, settle_branches and gate_rules
    give, and it answers for every symbol whose one term is the symbol or it times another."""
    expr = parse_expression(text)
    table = rules.weighted_inputs(expr)
    for s in expr.free_symbols:
        derivative = rules.local_derivative(expr, s, sp.S.Zero)
        holding = [t for t in expr.args if t.has(s)]
        simple = len(holding) == 1 and (holding[0] == s or (
            holding[0].is_Mul and len(holding[0].args) == 2 and all(f.is_Symbol for f in holding[0].args)))
        assert (s.name in table) == simple, s
        if s.name in table:
            local, keys = table[s.name]
            assert (local if local is sp.S.One else symbol(local)) == derivative
            assert rules.settle_branches(derivative, expr, {}, {}, sp.S.Zero) == (derivative, ())
            assert keys == tuple(r.key for r in rules.gate_rules(expr, s))
    # A weighted sum read from text is read off its names (apart where no name is in two terms).
    terms = name_terms(expr)
    if terms is not None:
        assert list(rules.weighted_inputs(WeightedSum(tuple(terms))).items()) == list(table.items())
