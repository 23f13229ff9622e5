"""Steps built when read (model.steps.Steps) and local derivatives derived once per kind of node
(rules.local_derivative): both must give exactly what the direct way gives."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import sympy as sp

import symbackprop
from symbackprop.engine import backprop
from symbackprop.model import rules
from symbackprop.model.definitions import WeightedSum
from symbackprop.parsing.expressions import weighted_sum_terms
from symbackprop.model.steps import ChainStep, Steps, chain_step
from symbackprop.model.symbols import symbol
from symbackprop.printing import answer_key
from symbackprop.printing.printers import text, weighted_sum_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "worked_examples").glob("*.yaml"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import network, nodes_mapping  # noqa: E402

NETWORKS = [nodes_mapping(network(sizes, activation, seed=seed))
            for sizes, activation, seed in (([3, 4, 3, 2], "relu", 1), ([2, 3, 2], "sigmoid", 2),
                                             ([3, 3, 2], "tanh", 3))]
PROBLEMS = [symbackprop.load(path) for path in EXAMPLES] + [symbackprop.load(m) for m in NETWORKS]
IDS = [p.stem for p in EXAMPLES] + [f"network{i}" for i in range(len(NETWORKS))]


def _passes(problem):
    graph = problem.graph
    values = problem.values if problem.data is None else {**problem.values, **problem.data.rows[0]}
    fwd = backprop.forward(graph, values, problem.given)
    return graph, fwd, *backprop.backward(graph, problem.loss, fwd, problem.kink)


@pytest.mark.parametrize("problem", PROBLEMS, ids=IDS)
def test_a_kept_step_reads_as_the_step_the_general_rule_makes(problem):
    """Each weighted input kept as a tuple becomes, when read, the ChainStep that the general chain
    rule (_chain_step: local_derivative, settle_branches, gate_rules) makes for it."""
    graph, fwd, _, steps = _passes(problem)
    reader_names = backprop._ReaderNames(graph)
    gradients = dict(_passes(problem)[2])
    kept = [entry for entry in steps.entries() if type(entry) is tuple]
    for entry in kept:
        target, via = entry[0], entry[1].via
        direct = backprop._chain_step(graph, target, via, gradients[via], fwd, problem.kink, reader_names,
                                      reused=via != problem.loss)
        assert chain_step(entry) == direct


def test_a_network_keeps_its_weighted_inputs_unbuilt_through_the_answer_key():
    problem = symbackprop.load(NETWORKS[0])
    solution = problem.solve()
    before = [type(e) for e in solution.steps.entries()]
    assert before.count(tuple) > 0.7 * len(before)             # 69 of 92 steps
    solution.to_dict()
    assert [type(e) for e in solution.steps.entries()] == before
    step = solution.steps[0]                       # reading one builds that one, and keeps it
    assert isinstance(step, ChainStep) and solution.steps.entries()[0] is step
    assert solution.steps[0] is step
    assert [type(e) for e in solution.steps.entries()][1:] == before[1:]


@pytest.mark.parametrize("problem", PROBLEMS, ids=IDS)
def test_a_kept_steps_answer_key_entry_is_the_generic_one(problem):
    """answer_key writes a kept step without building it: the same fields, in the same order, as
    the generic writer gives the step built from it."""
    steps = problem.solve().steps
    kept = [entry for entry in steps.entries() if type(entry) is tuple]
    for entry in kept:
        fast = answer_key._weighted_input_dict(entry, answer_key._Written())
        assert list(fast.items()) == list(answer_key._step_dict(chain_step(entry)).items())


def test_steps_read_as_a_list():
    steps = symbackprop.load(NETWORKS[1]).solve().steps
    as_list = list(steps)
    assert isinstance(steps, Steps) and len(steps) == len(as_list)
    assert steps == as_list and steps[-1] is as_list[-1] and steps[1:3] == as_list[1:3]


def _node_inputs():
    for problem in PROBLEMS:
        for node in problem.graph.nodes.values():
            for name in node.inputs:
                yield node.expr, symbol(name), problem.kink


@pytest.mark.parametrize("kink", [sp.S.Zero, sp.S.Half])
def test_a_derivative_by_kind_is_the_direct_one(kink):
    """The same expression, structure and printing (not only equal as SymPy compares) for every node
    and input of every worked example and the random networks, and for nodes whose names sort in
    every order against each other."""
    cases = [(expr, wrt) for expr, wrt, _ in _node_inputs()]
    for text in ("(y - ybar)**2", "(ybar - y)**2", "-t*log(y) - (1 - t)*log(1 - y)", "relu(a*b + c)",
                 "max(0, b - a)", "leaky_relu(z, 1/10)", "exp(a)/(exp(a) + exp(b))", "abs(c - a)*b",
                 # sums whose terms share no input, each term derived as a kind of its own
                 "(y1 - t1)**2 + (y2 - t2)**2 + (t10 - y10)**2", "relu(a) + leaky_relu(b, 1/10) + abs(c)*d",
                 "3*sigmoid(z) - log(u)/2 + relu(x - y)"):
        expr = symbackprop.load({"nodes": {"f": text}}).graph.nodes["f"].expr
        cases += [(expr, s) for s in sorted(expr.free_symbols, key=lambda s: s.name)]
    for expr, wrt in cases:
        by_kind, direct = rules.local_derivative(expr, wrt, kink), rules._derived(expr, wrt, kink)
        assert sp.srepr(by_kind) == sp.srepr(direct), (expr, wrt)
        assert str(by_kind) == str(direct)


def test_a_derivative_by_kind_keeps_the_nodes_own_error():
    expr = symbackprop.load({"nodes": {"f": "relu(z) + leaky_relu(z, 1/10)"}}).graph.nodes["f"].expr
    with pytest.raises(symbackprop.ProblemError, match=r"'leaky_relu\(z, 1/10\) \+ relu\(z\)'"):
        rules.local_derivative(expr, symbol("z"), sp.S.Half)
    # A term of a sum whose terms share no input is derived alone; its error still names the node.
    expr = symbackprop.load({"nodes": {"f": "relu(z)*leaky_relu(z, 1/10) + (y - t)**2"}}).graph.nodes["f"].expr
    with pytest.raises(symbackprop.ProblemError, match=r"'\(-t \+ y\)\*\*2 \+ leaky_relu"):
        rules.local_derivative(expr, symbol("z"), sp.S.Half)


def test_a_general_form_times_a_symbol_is_sympys_product():
    """backprop._times builds general * local by sorting local in among the factors: the same
    expression as SymPy's product, for every general form of the worked examples and the networks
    times each of their names (and products where the name is already a factor or a power's base)."""
    generals = {g.general for problem in PROBLEMS for g in _passes(problem)[2].values()
                if g.general is not None}
    generals |= {sp.sympify(t) for t in ("2*h*(y - t)", "-h**2*w", "h*(1 - h)*w", "exp(a)*exp(b)*c",
                                         "-(t - y)", "3*x*sigmoid(z)", "z*Heaviside(z, 0)")}
    names = {s for g in generals for s in g.free_symbols}
    names |= {symbol(n) for problem in PROBLEMS for n in problem.graph.symbols}
    checked = 0
    for general in sorted(generals, key=sp.default_sort_key):
        for name in sorted(names, key=lambda s: s.name)[:40] + [sp.S.One]:
            fast = backprop._times(general, name)
            assert sp.srepr(fast) == sp.srepr(general * name), (general, name)
            checked += general.is_Mul
    assert checked > 1000


def _built_sums(problem) -> list[str]:
    definitions = next(iter(problem.graph.nodes.values())).definitions
    return [name for name in definitions if definitions.weighted_sum(name) is not None
            and type(definitions._exprs[name]) is not WeightedSum]


def test_the_answer_key_of_a_network_builds_none_of_its_weighted_sums():
    """The forward pass adds a weighted sum's values by name, the reverse pass reads its inputs off
    its names, the answer key writes it from its names: its SymPy sum is never built; a renderer
    that shows it builds it, the same expression as the general path's."""
    problem = symbackprop.load(nodes_mapping(network([8, 16, 16, 4], "relu")))
    solution = problem.solve()
    key = solution.to_dict()
    assert _built_sums(problem) == []
    for name, entry in key["forward"].items():
        assert entry["expr"] == text(problem.graph.nodes[name].expr)        # builds each one
    assert len(_built_sums(problem)) == 36


@pytest.mark.parametrize("count", [2, 5, 7, 8, 9, 40])
def test_a_weighted_sum_is_written_from_its_names_as_text_writes_it(count):
    rng = random.Random(count)
    for _ in range(20):
        names = rng.sample([f"w{i}" for i in range(60)] + ["b", "x", "h2_10", "h2_9", "Z", "a_1"], count + 1)
        terms = [(n,) if rng.random() < 0.2 else (n, names[-1]) for n in names[:-1]]
        total = WeightedSum(weighted_sum_terms(" + ".join("*".join(t) for t in terms)))
        written = weighted_sum_text(total)
        assert written is None if len(total.terms) < 8 else written == text(total.expr())


def test_a_derivative_holding_a_weighted_sum_is_written_with_its_node():
    """relu(w*x + b) beside z = w*x + b: the derivative's sum is the node z, as before weighted sums
    were kept as names, the sum then built for it."""
    problem = symbackprop.load({"nodes": {"z": " + ".join(f"w{i}*x{i}" for i in range(9)),
                                          "y": "relu(" + " + ".join(f"w{i}*x{i}" for i in range(9)) + ")",
                                          "E": "(y - t)**2"},
                                "values": {**{f"w{i}": i for i in range(9)}, **{f"x{i}": 1 for i in range(9)},
                                           "t": 1}})
    graph, fwd, gradients, steps = _passes(problem)
    step = next(s for s in steps if s.target == "w3" and s.via == "y")
    assert "z" in str(step.local_general) and step.local == symbol("x3")
