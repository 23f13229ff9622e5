"""printing/network.py: a layered network drawn as neurons in layers with weights on the edges, and
`solve --figure network|graph|none`.

The drawings are parsed back (neurons, edges and their labels), so that a layout tweak does not break
the tests but a missing neuron, edge, weight or bias does. pdflatex skips where it is missing and
fails instead under CI, as in test_diagram.py.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_diagram import TEX_DOCUMENT, require

import symbackprop
from symbackprop.cli import main
from symbackprop.printing import network
from symbackprop.printing.diagram import TIKZ_LIBRARIES, format_value
from symbackprop.printing.printers import latex_name, unicode_name

EXAMPLES = Path(__file__).resolve().parent.parent / "worked_examples"


def solved(name: str):
    return symbackprop.load(EXAMPLES / f"{name}.yaml").solve()


@pytest.fixture(scope="module")
def sigmoid():
    return solved("sigmoid_2_2_2")


@pytest.fixture(scope="module")
def softmax():
    return solved("seed004_two_hidden_softmax")


def shape(found: network.Network) -> list[int]:
    return [len(found.inputs), *(len(layer) for layer in found.layers)]


# --- recognising the layers --------------------------------------------------------------------

def test_the_sigmoid_network_is_two_layers_with_its_shared_biases(sigmoid):
    found = network.recognise(sigmoid.problem)
    assert shape(found) == [2, 2, 2] and found.inputs == ("i1", "i2") and found.targets == ("t1", "t2")
    hidden, output = found.layers
    assert [(u.net, u.output, u.bias) for u in hidden] == [("net_h1", "out_h1", "b1"),
                                                           ("net_h2", "out_h2", "b1")]
    assert [u.bias for u in output] == ["b2", "b2"]
    assert hidden[0].weights == (("w1", "i1"), ("w2", "i2"))
    assert output[1].weights == (("w7", "out_h1"), ("w8", "out_h2"))
    assert all(u.activation[0] == "σ" for layer in found.layers for u in layer)


def test_a_layers_problem_with_a_softmax_output_is_recognised(softmax):
    found = network.recognise(softmax.problem)
    assert shape(found) == [2, 2, 2, 3]
    assert [u.output for u in found.layers[-1]] == ["y1", "y2", "y3"]
    assert [u.net for u in found.layers[-1]] == ["z3_1", "z3_2", "z3_3"]
    assert found.layers[1][0].weights == (("w2_11", "h1_1"), ("w2_12", "h1_2"))


def test_a_linear_output_unit_is_recognised():
    found = network.recognise(solved("minibatch_relu").problem)
    assert shape(found) == [2, 1, 1]
    assert found.layers[1][0] == network.Unit("y", None, None, (("v", "h"),), "c")


@pytest.mark.parametrize("name", ["seed000_gates", "seed003_relu_unit"])
def test_gate_level_problems_are_not_layered(name):
    assert network.recognise(solved(name).problem) is None


def test_layers_are_read_from_the_structure_not_the_names():
    # The 2-2-2 network with names that say nothing, and its terms in another order.
    renamed = symbackprop.load({
        "nodes": {"p": "i1*k + b*i2 + c", "q": "tanh(p)", "r": "i1*m + n*i2 + c", "s": "tanh(r)",
                  "u": "q*f + g*s", "v": "sigmoid(u)", "L": "(v - goal)**2"},
        "values": {"i1": 1, "i2": 2, "k": 0.1, "b": 0.2, "c": 0.3, "m": 0.4, "n": 0.5, "f": 0.6,
                   "g": 0.7, "goal": 1},
        "parameters": ["k", "b", "m", "n", "f", "g"], "learning_rate": 0.1}).solve()
    found = network.recognise(renamed.problem)
    assert shape(found) == [2, 2, 1] and found.loss == "L" and found.targets == ("goal",)
    assert found.layers[0][0].weights == (("k", "i1"), ("b", "i2")) and found.layers[0][0].bias == "c"
    assert found.layers[1][0].weights == (("f", "q"), ("g", "s"))


@pytest.mark.parametrize("nodes", [
    # A skip connection: the output unit uses an input as well as the hidden unit.
    {"z": "w*x", "h": "relu(z)", "o": "v*h + u*x", "y": "sigmoid(o)", "E": "(y - t)**2"},
    # A weighted sum that feeds two activations.
    {"z": "w*x + b", "h": "relu(z)", "g": "tanh(z)", "E": "(h - t)**2 + (g - t)**2"},
    # A loss built from a node that is not a unit.
    {"z": "w*x + b", "h": "relu(z)", "d": "h - t", "E": "d**2"},
    # A product of three.
    {"z": "w*x*v", "h": "relu(z)", "E": "(h - t)**2"},
])
def test_what_is_not_made_of_layers_is_not_recognised(nodes):
    names = {s for e in nodes.values() for s in re.findall(r"[a-z]+", e)} - set(nodes) - {
        "relu", "tanh", "sigmoid"}
    problem = symbackprop.load({"nodes": nodes, "values": dict.fromkeys(sorted(names), 1),
                                "parameters": sorted(names & {"w", "v", "u", "b"}),
                                "learning_rate": 0.1})
    assert network.recognise(problem) is None


# --- the TikZ figure ---------------------------------------------------------------------------

EDGE = re.compile(r"^  \\draw\[->\] \((\w+)\) -- \((\w+)\);$", re.M)
EDGE_LABEL = re.compile(r"^  \\path \((\w+)\) -- node\[weight, pos=[\d.]+\] \{(.*)\} \((\w+)\);$", re.M)
NEURON = re.compile(r"^  \\node\[(input|neuron|bias)\] \((\w+)\) at \((-?[\d.]+),(-?[\d.]+)\)", re.M)


@pytest.mark.parametrize("name", ["sigmoid_2_2_2", "seed004_two_hidden_softmax"])
def test_every_weight_and_bias_is_on_its_edge_with_its_value(name):
    solution = solved(name)
    found = network.recognise(solution.problem)
    picture = network.tikz(solution, found)
    labels = {(source, target, label) for source, label, target in EDGE_LABEL.findall(picture)}
    expected = set()
    for index, layer in enumerate(found.layers, start=1):
        for unit in layer:
            for weight, source in [*unit.weights, *([(unit.bias, f"bias_{index}")] if unit.bias else [])]:
                value = format_value(solution.problem.values[weight], 4)
                expected.add((source if source.startswith("bias_") else f"n_{source}", f"n_{unit.output}",
                              f"${latex_name(weight)} = {value}$"))
    assert labels == expected
    # Every labelled edge is drawn, and each output feeds the loss.
    edges = set(EDGE.findall(picture))
    assert {(s, t) for s, t, _ in expected} <= edges
    assert {(f"n_{u.output}", f"n_{found.loss}") for u in found.layers[-1]} <= edges


def test_the_shared_bias_feeds_both_units_of_its_layer(sigmoid):
    picture = network.tikz(sigmoid, network.recognise(sigmoid.problem))
    from_bias = [(target, label) for source, label, target in EDGE_LABEL.findall(picture)
                 if source == "bias_1"]
    assert from_bias == [("n_out_h1", "$b_{1} = 0.35$"), ("n_out_h2", "$b_{1} = 0.35$")]
    assert picture.count(r"\node[bias]") == 2


def test_neurons_stand_in_columns_one_per_layer(softmax):
    picture = network.tikz(softmax, network.recognise(softmax.problem))
    x = {name: float(x) for _, name, x, _ in NEURON.findall(picture)}
    assert x["n_x1"] == x["n_x2"] < x["n_h1_1"] == x["n_h1_2"] < x["n_h2_1"] < x["n_y1"] == x["n_y3"]
    # Forward values below each neuron, green: h1_1's weighted sum 0.1 and its output 0.1.
    assert re.search(r"\\node\[value\] at \(\[yshift=-0.5mm\]n_y1.south\) \{\$0.111\$\\\\ \$0.3543\$\}",
                     picture)
    assert "text=green!50!black" in picture


def test_the_network_figures_compile_with_tikz_alone(sigmoid, softmax, tmp_path):
    pdflatex = require("pdflatex")
    pictures = [network.tikz(s, network.recognise(s.problem))
                for s in (sigmoid, softmax, solved("minibatch_relu"))]
    (tmp_path / "net.tex").write_text(
        TEX_DOCUMENT % (",".join(TIKZ_LIBRARIES), "\n\\bigskip\n".join(pictures)), encoding="utf-8")
    result = subprocess.run([pdflatex, "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape",
                             "net.tex"], cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:]


def test_a_wide_layer_draws_its_edges_without_labels():
    weights = [[0.1 * (i + j) for i in range(4)] for j in range(8)]
    solution = symbackprop.load({"layers": {
        "inputs": [1, 2, 3, 4], "dense": [{"activation": "relu", "weights": weights},
                                          {"activation": "sigmoid", "weights": [[0.5] * 8]}],
        "targets": [1], "loss": "squared_error"}}).solve()
    picture = network.tikz(solution, network.recognise(solution.problem))
    targets = {target for _, _, target in EDGE_LABEL.findall(picture)}
    assert targets == {"n_y1"} and len(EDGE.findall(picture)) == 32 + 8 + 1
    assert "in the equations only" in picture


# --- Mermaid -------------------------------------------------------------------------------------

def test_mermaid_draws_neurons_as_circles_with_weights_on_the_edges(sigmoid):
    chart = network.mermaid(sigmoid, network.recognise(sigmoid.problem))
    assert chart.startswith("flowchart LR\n")
    edges = re.findall(r'^  n_(\w+) -->\|"(.*)"\| n_(\w+)$', chart, re.M)
    assert ("i1", "w₁ = 0.15", "out_h1") in edges and ("out_h2", "w₈ = 0.55", "out_o2") in edges
    assert len(edges) == 8
    assert 'n_out_h1(("outₕ₁ σ<br/>bias b₁ = 0.35<br/>' in chart
    assert "<span style='color:#008000'>outₕ₁ = 0.5933</span>" in chart
    assert "∂" not in chart and "t₁ = 0.01" in chart  # values only, and the targets by the loss


def test_unicode_names_follow_the_latex_names():
    assert [unicode_name(n) for n in ("w5", "out_h1", "w1_21", "ybar", "eta", "x_n", "net_b1")] == [
        "w₅", "outₕ₁", "w₁,₂₁", "ȳ", "η", "xₙ", "net_b1"]


# --- the command line ----------------------------------------------------------------------------

def run(*args: str):
    return CliRunner().invoke(main, ["solve", *args])


def test_the_network_is_the_default_figure_of_a_layered_problem():
    tex = run(str(EXAMPLES / "sigmoid_2_2_2.yaml"), "--format", "tex").output
    assert r"\node[neuron] (n_out_h1)" in tex and r"\begin{figure}[htbp]" in tex
    md = run(str(EXAMPLES / "sigmoid_2_2_2.yaml"), "--format", "md").output
    assert 'n_out_h1(("outₕ₁ σ' in md
    gates = run(str(EXAMPLES / "seed000_gates.yaml"), "--format", "tex").output
    assert r"\node[nodebox" in gates and r"\node[neuron]" not in gates


def test_figure_graph_and_none():
    graph = run(str(EXAMPLES / "sigmoid_2_2_2.yaml"), "--format", "tex", "--figure", "graph").output
    assert r"\node[symbolbox" in graph and r"\node[neuron]" not in graph
    for format in ("tex", "md"):
        none = run(str(EXAMPLES / "sigmoid_2_2_2.yaml"), "--format", format, "--figure", "none")
        assert none.exit_code == 0
        assert "tikzpicture" not in none.output and "mermaid" not in none.output
        assert "too many to draw" not in none.output


def test_figure_network_of_a_gate_problem_is_one_line_and_exit_2():
    result = run(str(EXAMPLES / "seed000_gates.yaml"), "--format", "tex", "--figure", "network")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: option '--figure': this network is not made of dense layers (weighted sums, each followed "
        "by an activation); use --figure graph"]


@pytest.mark.parametrize("format", ["tex", "md"])
def test_the_figure_is_the_same_every_time(format):
    first = run(str(EXAMPLES / "seed004_two_hidden_softmax.yaml"), "--format", format).output
    assert first == run(str(EXAMPLES / "seed004_two_hidden_softmax.yaml"), "--format", format).output
