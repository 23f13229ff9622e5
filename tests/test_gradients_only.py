"""Problem.gradients and `solve --format json --gradients-only` (issue 15): exact gradients without
steps, from the compiled tape (engine/tape.py), checked against the exact engine, against sympy.diff
of the closed-form loss evaluated by mpmath, and against PyTorch in float64."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner
from flint import arb, fmpq

import symbackprop
from symbackprop.arithmetic.certified import working_precision
from symbackprop.arithmetic.numeric import decimal_string
from symbackprop.cli import main
from symbackprop.engine import tape

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "worked_examples").glob("*.yaml"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import network, nodes_mapping  # noqa: E402


def _agrees_with_solution(problem, names="all"):
    """Every asked gradient the exact engine's (agree)."""
    fast = problem.gradients(names)
    agree(fast, problem.solve())
    return fast


def agree(fast: dict, solution) -> None:
    """Every gradient the same exact rational, or the same 15-digit decimal, as the exact engine's
    value; a value holding a symbol, the same expression."""
    assert fast, "no gradient asked"
    for name, value in fast.items():
        reference = solution.gradients[name].value
        if isinstance(value, fmpq):
            assert reference.is_Rational and str(value) == str(reference), name
        elif isinstance(value, arb):
            assert not reference.is_Rational, name
            assert decimal_string(value) == decimal_string(reference), name
        else:
            assert sp.simplify(value - reference) == 0, name


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_worked_example_agrees_with_the_exact_engine(path):
    problem = symbackprop.load(path)
    fast = _agrees_with_solution(problem)
    every = problem.graph.ancestors(problem.loss)[1:]
    assert list(fast) == [n for n in every if n in problem.solve().gradients]


def test_the_default_names_are_the_answer_keys():
    problem = symbackprop.load(ROOT / "worked_examples" / "sigmoid_2_2_2.yaml")
    key = problem.solve().to_dict()
    fast = problem.gradients()
    assert list(fast) == list(problem.parameters)          # in the order asked
    for name, value in fast.items():
        assert decimal_string(value) == key["gradients"][name]["decimal"]


def _mlp(sizes, activation, seed, output="same"):
    mapping = nodes_mapping(network(sizes, activation, seed))
    if output == "linear":
        last = len(sizes) - 1
        for j in range(1, sizes[-1] + 1):
            mapping["nodes"][f"y{j}"] = f"z{last}_{j}"
    return mapping


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_sympy_diff_of_the_closed_form_contains_in_every_ball(activation):
    """The loss written out as one SymPy expression of the parameters, differentiated by sympy.diff
    and evaluated by mpmath at 50 digits: inside every ball, equal to every exact rational."""
    mapping = _mlp([3, 4, 2], activation, seed=11)
    problem = symbackprop.load(mapping)
    fast = problem.gradients("all", digits=15)
    nodes = {n: sp.sympify(t, locals={"sigmoid": lambda x: 1 / (1 + sp.exp(-x)),
                                      "relu": lambda x: sp.Max(x, 0)})
             for n, t in mapping["nodes"].items()}
    loss = nodes["E"]
    for _ in range(4):                                  # layers deep: substitute until only symbols
        loss = loss.xreplace({sp.Symbol(n): e for n, e in nodes.items()})
    values = {sp.Symbol(n): sp.Rational(v) for n, v in mapping["values"].items()}
    for name in mapping["parameters"]:
        exact = sp.diff(loss, sp.Symbol(name)).xreplace(values)
        if activation == "relu":
            exact = exact.replace(sp.Heaviside, lambda x, *a: sp.S.One if x > 0 else sp.S.Zero)
        value = fast[name]
        if isinstance(value, fmpq):
            assert exact.is_Rational and sp.Rational(int(value.p), int(value.q)) == exact, name
            continue
        with working_precision(400):
            # The 60-digit decimal lies within 1e-60 of the true value, which the ball holds.
            reference = arb(str(sp.N(exact, 60)))
            assert abs(float((value - reference).mid())) <= float(value.rad()) + 1e-55, name
            assert float(value.rad()) < 1e-16 * abs(float(reference.mid())), name


def test_pytorch_float64_agrees_on_a_relu_network():
    torch = pytest.importorskip("torch")
    sizes = [8, 16, 16, 4]
    net = network(sizes, "relu", 5)
    problem = symbackprop.load(nodes_mapping(net))
    fast = problem.gradients("all")
    h = torch.tensor([float(v) for v in net["inputs"]], dtype=torch.float64)
    weights = []
    for depth, layer in enumerate(net["layers"], 1):
        w = torch.tensor([[float(x) for x in row] for row in layer["weights"]], dtype=torch.float64,
                         requires_grad=True)
        b = torch.tensor([float(x) for x in layer["biases"]], dtype=torch.float64, requires_grad=True)
        weights.append((w, b))
        h = w @ h + b
        if depth < len(net["layers"]):
            h = torch.relu(h)
    targets = torch.tensor([float(t) for t in net["targets"]], dtype=torch.float64)
    ((h - targets) ** 2).sum().backward()
    for depth, (w, b) in enumerate(weights, 1):
        for j in range(w.shape[0]):
            assert float(fast[f"b{depth}_{j + 1}"]) == pytest.approx(b.grad[j].item(), rel=1e-12, abs=1e-12)
            for i in range(w.shape[1]):
                name = f"w{depth}_{j + 1}_{i + 1}" if w.shape[0] >= 10 or w.shape[1] >= 10 else \
                    f"w{depth}_{j + 1}{i + 1}"
                assert float(fast[name]) == pytest.approx(w.grad[j, i].item(), rel=1e-12, abs=1e-12)


def test_a_relu_network_stays_exact():
    problem = symbackprop.load(nodes_mapping(network([6, 8, 3], "relu", 2)))
    assert all(isinstance(v, fmpq) for v in problem.gradients("all").values())


KINKS = """\
nodes:
  a: relu(w1*x)
  b: leaky_relu(w2*x, 0.1)
  c: max(w3*x, w4*x)
  E: (a + b + c - t)**2
values: {w1: 0, w2: 0, w3: 0.5, w4: 0.5, x: 2, t: 1}
parameters: [w1, w2, w3, w4]
"""


@pytest.mark.parametrize("kink", ["0", "1/2", "1"])
def test_kinks_at_exactly_zero_follow_the_convention(kink):
    problem = symbackprop.loads(KINKS.replace("parameters", f"kink: {kink}\nparameters"))
    _agrees_with_solution(problem)


def test_given_values_and_saturated_sigmoids_and_batches():
    given = symbackprop.loads("nodes:\n  y: sigmoid(w*x)\n  E: (y - t)**2\n"
                              "values: {w: 0.5, x: 2, t: 1}\ngiven: {y: 0.73}\nparameters: [w]\n")
    _agrees_with_solution(given)
    saturated = symbackprop.loads("nodes:\n  y: sigmoid(w*x)\n  E: -t*log(y) - (1 - t)*log(1 - y)\n"
                                  "values: {w: 30, x: 3, t: 0}\nparameters: [w]\n")
    value = _agrees_with_solution(saturated)["w"]
    assert isinstance(value, arb) and decimal_string(value).startswith("3.0")
    batch = symbackprop.load(ROOT / "worked_examples" / "minibatch_relu.yaml")
    _agrees_with_solution(batch, None)


def test_random_small_networks_agree_with_the_exact_engine():
    rng = random.Random(7)
    for seed in range(6):
        activation = rng.choice(["sigmoid", "relu", "tanh"])
        sizes = [rng.randint(1, 3), rng.randint(1, 4), rng.randint(1, 3)]
        _agrees_with_solution(symbackprop.load(_mlp(sizes, activation, seed)))


def test_an_undecided_value_falls_back_to_the_exact_engine(monkeypatch):
    """A value no ball up to MAX_BITS decides (here: any, with MAX_BITS below the first try) is the
    exact engine's."""
    monkeypatch.setattr(tape, "MAX_BITS", 8)
    problem = symbackprop.load(ROOT / "worked_examples" / "sigmoid_2_2_2.yaml")
    _agrees_with_solution(problem)


def test_cli_writes_the_gradients_as_json(tmp_path):
    path = ROOT / "worked_examples" / "sigmoid_2_2_2.yaml"
    result = CliRunner().invoke(main, ["solve", str(path), "--format", "json", "--gradients-only"])
    assert result.exit_code == 0, result.output
    written = json.loads(result.output)
    key = symbackprop.load(path).solve().to_dict()
    assert set(written) == {"title", "loss", "kink", "gradients"}
    assert written["gradients"]["w5"]["decimal"] == key["gradients"]["w5"]["decimal"] == "0.0821670405642308"
    every = CliRunner().invoke(main, ["solve", str(path), "--format", "json", "--gradients-only",
                                      "--all-gradients"])
    assert "net_o1" in json.loads(every.output)["gradients"]
    builtin = json.loads(CliRunner().invoke(main, ["solve", "--format", "json", "--gradients-only"]).output)
    assert builtin["gradients"]["x_n"] == {"exact": "2/5", "decimal": "0.400000000000000"}
    assert builtin["gradients"]["w3"]["exact"] == "2*x_n"


@pytest.mark.parametrize("extra, said", [
    ([], "give --format json"),
    (["--format", "json", "--steps", "2"], "cannot be combined with --steps"),
    (["--format", "md", "--sheet", "question"], "give --format json"),
])
def test_cli_refuses_what_gradients_only_cannot_write(extra, said):
    result = CliRunner().invoke(main, ["solve", "--gradients-only", *extra])
    assert result.exit_code == 2
    assert said in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("text, said", [
    ("nodes:\n  z: exp(w)\n  E: (z - t)**2\nvalues: {w: 100000, t: 1}\n", "overflows"),
    ("nodes:\n  z: x/(w - 1)\n  E: z**2\nvalues: {w: 1, x: 2}\n", "division by zero"),
    ("nodes:\n  z: w*x\n  h: relu(z) + leaky_relu(z)\n  E: h**2\nvalues: {w: 1, x: 0}\nkink: 1/2\n",
     "same input z"),
])
def test_a_value_the_tape_cannot_take_gets_the_exact_engines_error(tmp_path, text, said):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    fast = CliRunner().invoke(main, ["solve", str(path), "--format", "json", "--gradients-only"])
    full = CliRunner().invoke(main, ["solve", str(path), "--format", "json"])
    assert fast.exit_code == full.exit_code == 2
    assert fast.output == full.output and said in fast.output and len(fast.output.splitlines()) == 1
    assert "_0" not in fast.output


def test_names_passed_by_the_caller_are_checked():
    problem = symbackprop.load(ROOT / "worked_examples" / "sigmoid_2_2_2.yaml")
    assert list(problem.gradients("w5")) == ["w5"]                  # one name, not its letters
    with pytest.raises(symbackprop.ProblemError) as unknown:
        problem.gradients(["w5", "w9"])
    assert "'w9' is not a symbol or node" in str(unknown.value) and "line" not in str(unknown.value)
    with pytest.raises(symbackprop.ProblemError, match="'E' has no gradient"):
        problem.gradients(["E"])
    with pytest.raises(ValueError, match="digits"):
        problem.gradients(digits=0)


def test_a_data_problem_says_how_its_batch_combines():
    path = ROOT / "worked_examples" / "minibatch_relu.yaml"
    written = json.loads(CliRunner().invoke(main, ["solve", str(path), "--format", "json",
                                                   "--gradients-only"]).output)
    assert written["reduction"] == symbackprop.load(path).data.reduction


@pytest.mark.parametrize("text", ["(a - t)**2 + (b - u)**2 + (c - v)**2",
                                  "relu(a)*w + max(b, c) + leaky_relu(d, 0.1) + abs(e - f) + 3",
                                  "sigmoid(a)**2 + tanh(b) + exp(c)*d",
                                  "-t*log(y) - (1 - t)*log(1 - y) + relu(a)"])
def test_a_sums_terms_derived_as_kinds_of_their_own_are_the_whole_sums_derivatives(text):
    """tape._local: a sum whose terms share no input has each input's derivative derived from its
    own term, renamed; its values must be those of rules.local_derivative of the whole sum, at kinks
    (0) and away from them, under every kink convention."""
    from symbackprop.engine.compiled import compile_expr
    from symbackprop.model import rules
    from symbackprop.model.symbols import symbol
    expr = symbackprop.parsing.expressions.parse_expression(text)
    names = sorted(expr.free_symbols, key=lambda s: s.name)
    kind = expr.xreplace({s: symbol(f"_{i}") for i, s in enumerate(names)})
    inputs = [symbol(f"_{i}") for i in range(len(names))]
    rng = random.Random(11)
    for kink in (sp.S.Zero, sp.Rational(1, 2), sp.S.One):
        for x in inputs:
            ours, whole = tape._local(kind, x, kink), compile_expr(rules.local_derivative(kind, x, kink))
            for _ in range(6):
                env = {x.name: fmpq(rng.choice([0, 0, 1, -2, 3]), rng.choice([1, 4, 5])) for x in inputs}
                if "y" in [s.name for s in names]:
                    env[f"_{[s.name for s in names].index('y')}"] = fmpq(1, 3)
                with working_precision(128):
                    a, b = ours(env), whole(env)
                assert (a == b) if isinstance(a, fmpq) and isinstance(b, fmpq) else arb(a).overlaps(arb(b))
    assert (rules.own_terms(kind) != {}) == ("log" not in text)


def test_sums_with_coefficients_and_units_that_are_off_agree_with_the_exact_engine():
    """_Linear keeps products of coefficient 1 apart from the other terms, and the reverse pass
    skips a sum whose gradient is an exact 0 (a ReLU unit off): both give the exact engine's values,
    exact and on balls."""
    text = """\
nodes:
  z1: 2*w1*x1 - w2*x2 + w3*x1 + 3*b1 + 1/2
  z2: w1*x2 + w4*x1 + b2
  h1: relu(z1)
  h2: relu(z2)
  s: sigmoid(w5*h1 - w6*h2/3 + w4*x2)
  E: (s - t)**2 + (h2 - t)**2
values: {w1: 0.5, w2: -1.5, w3: 0.25, w4: -2, w5: 0.3, w6: 1.2, x1: 1, x2: 0.5, b1: 0.1, b2: 0.2, t: 1}
parameters: [w1, w2, w3, w4, w5, w6, b1, b2]
"""
    problem = symbackprop.loads(text)
    fast = _agrees_with_solution(problem)
    assert problem.nodes.weighted_sum("z2") is not None and problem.nodes.weighted_sum("z1") is None
    assert any(isinstance(v, arb) for v in fast.values()) and fast["b2"] == 0    # h2 is off
