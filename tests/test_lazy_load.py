"""A weighted sum read from a node's text is kept as its terms (model/definitions.py) and its SymPy
expression built when first read: the expression must be the one the general path (Python's parser
and SymPy) builds, the graph the same, the tape's gradients the exact engine's without any sum being
built, and every load error word for word the general path's. So must the loader's other shortcuts:
a function of one name built without the parser, names checked in bulk, decimals kept by text."""

from __future__ import annotations

import random
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp

import symbackprop
from symbackprop.errors import ProblemError
from symbackprop.model.definitions import Definitions, OneNameCall, WeightedSum
from symbackprop.parsing import expressions

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "worked_examples").glob("*.yaml"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import network, nodes_mapping  # noqa: E402
from test_gradients_only import agree  # noqa: E402


def _eager(monkeypatch):
    """From here on, every node text goes the general way (no weighted sum or call is recognised)."""
    monkeypatch.setattr(expressions, "weighted_sum_terms", lambda text: None)
    monkeypatch.setattr(expressions, "one_name_call", lambda text: None)


def _shape(problem) -> dict:
    """Everything a load makes of the nodes, as comparable text: each node's expression (srepr),
    its written order, inputs, the graph's symbols and consumers, the ancestors of the loss."""
    graph = problem.graph
    return {"nodes": {n: sp.srepr(e) for n, e in problem.nodes.items()},
            "written": {n: sp.srepr(e) for n, e in problem.written.items()},
            "inputs": {n: node.inputs for n, node in graph.nodes.items()},
            "symbols": graph.symbols, "consumers": graph.consumers,
            "ancestors": graph.ancestors(problem.loss), "parameters": problem.parameters,
            "warnings": problem.warnings}


def _random_sum(rng: random.Random) -> str:
    names = ["a", "b", "x1", "x10", "x2", "w1_1_10", "w1_1_2", "b1", "A", "Z", "z_", "ybar", "w10",
             "lambda", "relu", "a" * 64, "a" * 65, "x"]
    terms = [rng.choice(names) + rng.choice(["*", " * ", "*  "]) + rng.choice(names)
             if rng.random() < .6 else rng.choice(names) for _ in range(rng.randint(2, 9))]
    text = rng.choice([" + ", "+", "  +"]).join(terms)
    return rng.choice(["", " ", "\t"]) + text + rng.choice(["", " ", "\n"])


def test_a_read_sum_is_kept_as_its_terms_and_built_as_the_general_path_builds_it(monkeypatch):
    rng = random.Random(3)
    texts = [_random_sum(rng) for _ in range(600)]
    kept, built = {}, {}
    for text in texts:
        try:
            kept[text] = expressions.parse_definition(text)
        except ProblemError as exc:
            kept[text] = str(exc)
    assert sum(type(k) is WeightedSum for k in kept.values()) > 80
    _eager(monkeypatch)
    for text in texts:
        try:
            built[text] = expressions.parse_expression(text)
        except ProblemError as exc:
            built[text] = str(exc)
    for text, definition in kept.items():
        if type(definition) is WeightedSum:
            expr = definition.expr()
            assert expr == built[text] and sp.srepr(expr) == sp.srepr(built[text]), text
            assert expr.args == built[text].args and hash(expr) == hash(built[text]), text
            assert definition.names() == sorted(s.name for s in expr.free_symbols), text
        else:
            assert definition == built[text], text


def test_a_function_of_one_name_is_built_as_the_parser_builds_it(monkeypatch):
    """one_name_call builds relu(z1_1) without Python's parser: the same expression as the general
    path for every function and for names it must refuse (the general path's error then)."""
    rng = random.Random(4)
    functions = sorted(expressions.FUNCTIONS) + ["foo", "if", "Max"]
    arguments = ["z1_1", "x", "relu", "if", "None", "a" * 64, "a" * 65, "_x", "2", "x y"]
    spaces, ends = ["", " ", "  "], ["", "\n"]
    texts = [f"{rng.choice(spaces)}{f}({rng.choice(spaces)}{a}{rng.choice(spaces)}){rng.choice(ends)}"
             for f in functions for a in arguments]

    def outcome(text):
        try:
            return sp.srepr(expressions.parse_expression(text))
        except ProblemError as exc:
            return str(exc)

    fast = {text: outcome(text) for text in texts}
    takes_one = [f for f in expressions.FUNCTIONS if expressions.one_name_call(f"{f}(x)") is not None]
    assert len(takes_one) >= 9 and sum(expressions.one_name_call(t) is not None for t in texts) > 20
    monkeypatch.setattr(expressions, "one_name_call", lambda text: None)
    assert {text: outcome(text) for text in texts} == fast


def test_a_function_of_one_name_is_kept_unbuilt_where_it_stays_a_call(monkeypatch):
    """relu(z) is kept as relu and z, for every name, and built when read as the parser builds it;
    sqrt(x), which SymPy makes x**(1/2), and leaky_relu(x), which takes its default slope as a
    second argument, are built at once; a function with no rule for nodes is refused at load as
    before, by its node's key."""
    kept = expressions.one_name_call(" relu( z1_1 ) ")
    assert kept == OneNameCall(expressions.FUNCTIONS["relu"], "z1_1") and kept.names() == ["z1_1"]
    with monkeypatch.context() as patch:
        patch.setattr(expressions, "one_name_call", lambda text: None)
        general = expressions.parse_expression("relu(z1_1)")
    assert kept.expr() is general and sp.srepr(general) == "relu(Symbol('z1_1', real=True))"
    for text in ("leaky_relu(x)", "Heaviside(x)"):
        assert not isinstance(expressions.one_name_call(text), OneNameCall), text
    problem = symbackprop.load({"nodes": {"y": "sigmoid(z)", "u": "sigmoid(v)", "E": "(y + u - t)**2"},
                                "values": {"z": 0, "v": 0, "t": 1}})
    assert problem.nodes.unbuilt("y") == OneNameCall(expressions.FUNCTIONS["sigmoid"], "z")
    assert problem.graph.nodes["u"].call.argument == "v" and problem.graph.nodes["E"].call is None
    assert problem.graph.nodes["y"].expr is problem.nodes["y"]
    with pytest.raises(ProblemError) as refused:
        symbackprop.load({"nodes": {"y": "tanh(z)", "s": "Heaviside(y)", "E": "s**2"}, "values": {"z": 1}})
    assert refused.value.key == "nodes.s" and "Heaviside" in str(refused.value)


def test_a_sum_is_built_once_when_first_read_and_every_reader_gets_that_object():
    problem = symbackprop.load({"nodes": {"z": "w2*h + w1*x + b", "y": "relu(z)", "E": "(y - t)**2"},
                                "values": {"w1": 0.5, "w2": -1, "x": 2, "h": 1, "b": 0, "t": 1}})
    assert isinstance(problem.nodes, Definitions)
    assert problem.nodes.weighted_sum("z") == WeightedSum((("b",), ("h", "w2"), ("w1", "x")))
    assert problem.nodes.weighted_sum("y") is None
    assert "z" in problem.nodes and "w1" not in problem.nodes and list(problem.nodes) == ["z", "y", "E"]
    first = problem.graph.nodes["z"].expr
    assert first is problem.nodes["z"] is problem.graph.nodes["z"].expr
    assert problem.graph.nodes["z"].inputs == ("b", "h", "w1", "w2", "x")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_worked_example_loads_as_the_general_path_loads_it(path, monkeypatch):
    lazy = symbackprop.load(path)
    _eager(monkeypatch)
    assert _shape(lazy) == _shape(symbackprop.load(path))


def test_a_network_loads_as_the_general_path_loads_it(monkeypatch):
    mapping = nodes_mapping(network([5, 12, 4], "sigmoid", 4))
    lazy = symbackprop.load(mapping)
    _eager(monkeypatch)
    assert _shape(lazy) == _shape(symbackprop.load(mapping))


def _no_sum_built(monkeypatch):
    def refuse(self):
        raise AssertionError(f"an unbuilt definition's SymPy expression was built: {self}")
    monkeypatch.setattr(WeightedSum, "expr", refuse)
    monkeypatch.setattr(OneNameCall, "expr", refuse)


def _ancestors_by_definition(graph, name: str) -> list[str]:
    """Graph.ancestors as its docstring defines it, from the nodes' inputs alone: the nodes the
    named one depends on in reverse forward order, each followed by the symbols whose earliest
    consumer among them it is, and the named node's own such symbols last."""
    seen, pending = {name}, [name]
    while pending:
        for used in graph.nodes[pending.pop()].inputs:
            if used not in seen:
                seen.add(used)
                if used in graph.nodes:
                    pending.append(used)
    first = {}
    for node in graph.nodes.values():
        for used in node.inputs:
            if used not in graph.nodes and node.name in seen:
                first.setdefault(used, node.name)
    after = {}
    for symbol_name in graph.symbols:          # in order of first use anywhere
        if symbol_name in first:
            after.setdefault(first[symbol_name], []).append(symbol_name)
    order = []
    for node_name in reversed(graph.nodes):
        if node_name in seen:
            order += [node_name] + (after.get(node_name, []) if node_name != name else [])
    return order + after.get(name, [])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_ancestors_are_found_as_defined_from_every_node(path):
    """From the loss, every node's symbols follow the node that introduced them (Graph.introduced);
    from an earlier node, some symbols' first users are not ancestors (the general search)."""
    graph = symbackprop.load(path).graph
    for name in graph.nodes:
        assert graph.ancestors(name) == _ancestors_by_definition(graph, name), name
    assert graph.symbols == tuple(s for fresh in graph.introduced.values() for s in fresh)


def test_ancestors_of_a_network_with_a_side_branch_are_found_as_defined():
    nodes = {"a": "w1*x + w2*y", "side": "w3*x + v*y", "b": "relu(a) + w3*a", "c": "v*b + u*side",
             "E": "(b - t)**2"}
    graph = symbackprop.load({"nodes": nodes, "loss": "E"}).graph
    for name in graph.nodes:
        assert graph.ancestors(name) == _ancestors_by_definition(graph, name), name
    assert graph.ancestors("E") == ["E", "b", "w3", "a", "w1", "w2", "x", "y", "t"]
    # The tape then holds only what the loss depends on, and asks nothing of the rest.
    values = {"w1": "0.5", "w2": "-1", "w3": "0.25", "x": "2", "y": "0.5", "v": "3", "u": "1", "t": "1"}
    problem = symbackprop.load({"nodes": nodes, "loss": "E", "values": values})
    fast = problem.gradients("all")
    assert set(fast) == set(graph.ancestors("E")[1:])
    agree(fast, problem.solve())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_tape_builds_no_sum_and_agrees_with_the_exact_engine(path, monkeypatch):
    problem = symbackprop.load(path)
    data = problem.data.symbols if problem.data else ()
    tape_runs = not problem.given and all(s in problem.values or s in data for s in problem.graph.symbols)
    with monkeypatch.context() as patch:
        if tape_runs:            # else the exact engine answers, and builds what it reads
            _no_sum_built(patch)
        fast = problem.gradients("all")
    agree(fast, problem.solve())


@pytest.mark.parametrize("activation,seed", [("relu", 1), ("relu", 2), ("sigmoid", 3), ("tanh", 5)])
def test_random_networks_get_the_exact_engines_gradients_without_a_sum_built(activation, seed,
                                                                            monkeypatch):
    rng = random.Random(seed)
    sizes = [rng.randint(2, 5), rng.randint(2, 6), rng.randint(1, 4)]
    problem = symbackprop.load(nodes_mapping(network(sizes, activation, seed)))
    assert sum(problem.nodes.weighted_sum(n) is not None for n in problem.nodes) == sum(sizes[1:])
    with monkeypatch.context() as patch:
        _no_sum_built(patch)
        fast = problem.gradients("all")
    agree(fast, problem.solve())


#: Texts and values the loader refuses, and two sums it leaves to the general way (w*w, a term twice).
CASES = [
    ({"z": "w*x + z", "E": "z**2"}, {}),                           # uses itself
    ({"z": "w*x + y", "y": "v*z + c", "E": "y**2"}, {}),           # a cycle
    ({"z": "w*x + y", "y": "v*q + c", "E": "y**2"}, {}),           # defined later
    ({"z": "w*x + lambda", "E": "z**2"}, {}),                      # a reserved word
    ({"z": "w*x + relu", "E": "z**2"}, {}),                        # a function's name
    ({"z": "w*x + " + "a" * 65, "E": "z**2"}, {}),                 # a name too long
    ({"z": "w*w + b", "E": "z**2"}, {"w": 1, "b": 2}),             # a square: SymPy's w**2
    ({"z": "w*x + x*w", "E": "z**2"}, {"w": 1, "x": 2}),           # a term twice
    ({"z": "w*x + b", "E": "z**2"}, {"w": "0.1.2", "x": 1, "b": 1}),      # not a number
    ({"z": "w*x + b", "E": "z**2"}, {"w": "1" * 101, "x": 1, "b": 1}),    # too long a number
    ({"z": "w*x + b", "E": "z**2"}, {"w": "1/0", "x": 1, "b": 1}),
    ({"z": "w*x + b", "E": "z**2"}, {"z": 1, "w": 1, "x": 1, "b": 1}),    # a node under values
    ({"z": "w*x + b", "E": "z**2"}, {"w": 1, "x": 1, "b": 1, "if": 2}),   # a reserved value name
    ({"z": "w*x + b", "E": "z**2"}, {"w": 1, "x": 1, "b": 1, "1x": 2}),
    ({"z": "w*x + b", "y": "w*x +", "E": "z**2"}, {}),
    ({"z": "w*x + b", "E": "z**2", "for": "z + 1"}, {}),
]


@pytest.mark.parametrize("nodes,values", CASES)
def test_load_errors_are_the_general_paths_word_for_word(nodes, values, monkeypatch):
    problem = {"nodes": nodes, "values": values, "parameters": [n for n in values if n == "w"]}

    def outcome():
        try:
            return _shape(symbackprop.load(problem))
        except ProblemError as exc:
            assert "\n" not in str(exc)
            return str(exc)

    fast = outcome()
    _eager(monkeypatch)
    assert fast == outcome()


def test_a_name_is_checked_as_the_full_checks_would(monkeypatch):
    """check_name's one-pattern test for the common case gives what its full checks give, and
    all_names is true of a list exactly where check_name takes each of its names."""
    rng = random.Random(5)
    alphabet = "aZ_09 -é"
    names = ["x", "if", "None", "relu", "sigmoid", "a" * 64, "a" * 65, "", "_a", "a_", 3, None, "x\n",
             "a\nb", "b\n", "\n"]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(500)]

    def outcome(name):
        try:
            return expressions.check_name(name)
        except ProblemError as exc:
            return str(exc)

    fast = [outcome(n) for n in names]
    for _ in range(300):                 # all_names: every name of a list at once
        some = rng.sample(names, rng.randint(0, 4))
        assert expressions.all_names(some) <= all(outcome(n) == n for n in some), some
        if all(isinstance(n, str) and outcome(n) == n for n in some) and some:
            assert expressions.all_names(some), some
    monkeypatch.setattr(expressions, "_SHORT_NAME", expressions.re.compile(r"(?!)"))
    assert [outcome(n) for n in names] == fast


def test_a_plain_decimal_is_the_exact_number_its_text_says():
    rng = random.Random(9)
    for _ in range(300):
        text = rng.choice(["", "-"]) + str(rng.randint(0, 10**rng.randint(0, 12)))
        if rng.random() < .7:
            text += "." + str(rng.randint(0, 10**rng.randint(0, 8))).zfill(rng.randint(1, 9))
        number = expressions.parse_number(text)
        assert number == sp.Rational(Fraction(text).numerator, Fraction(text).denominator), text
        assert expressions.parse_number(text) is number        # kept by its text
