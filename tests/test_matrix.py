"""The matrix form (issue 13): each layer's equations as matrices, multiplied out in engine/matrix.py,
and every entry of dE/dW^l checked against the scalar gradient of its weight, against PyTorch, and on
random layered networks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import symbackprop
from symbackprop.cli import main
from symbackprop.engine.matrix import matrix_form
from tests.test_rendered_outputs import pdflatex

EXAMPLES = Path(__file__).resolve().parent.parent / "worked_examples"

NET_2_2_3 = {
    "inputs": {"x1": "1", "x2": "0.5"},
    "dense": [{"activation": "relu", "weights": [["0.2", "-0.4"], ["0.5", "0.1"]], "biases": ["0.1", "-0.2"]},
              {"activation": "softmax", "weights": [["0.7", "-0.3"], ["0.2", "0.5"], ["-0.6", "0.1"]],
               "biases": ["0", "0.1", "0"]}],
    "targets": {"t1": 0, "t2": 1, "t3": 0},
    "loss": "cross_entropy",
}


def problem_file(tmp_path: Path, layers: dict, **more) -> Path:
    path = tmp_path / "net.yaml"
    path.write_text(json.dumps({"layers": layers, "learning_rate": "0.5", **more}), encoding="utf-8")
    return path


def solve(*args) -> str:
    result = CliRunner().invoke(main, ["solve", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.stdout


def equal(a: sp.Expr, b: sp.Expr) -> bool:
    """Equal exactly where both are rational; else to 50 digits (their difference, evaluated)."""
    if a.is_Rational and b.is_Rational:
        return a == b
    return abs(sp.N(a - b, 60)) < sp.Float("1e-50")


def test_the_2_2_3_network_in_matrix_form_compiles_and_writes_its_matrices(tmp_path: Path):
    tex = tmp_path / "m.tex"
    tex.write_text(solve(problem_file(tmp_path, NET_2_2_3), "--form", "matrix", "--format", "tex"),
                   encoding="utf-8")
    status, log = pdflatex(tex)
    assert status == 0, log[-1500:]
    assert "Overfull" not in log
    text = tex.read_text(encoding="utf-8")
    assert r"\begin{bmatrix} 0.2 & -0.4 \\ 0.5 & 0.1 \end{bmatrix}" in text          # W^(1), as written
    # Bracketed as Nielsen's BP2: ((W)^T delta) (.) f'(z), the order of operations fixed.
    assert r"\left(\left(W^{(2)}\right)^{\top} \delta^{(2)}\right) \odot \mathrm{ReLU}'(z^{(1)})" in text
    assert r"\delta^{(1)} \left(a^{(0)}\right)^{\top}" in text                    # the outer product
    assert r"\delta^{(2)} = a^{(2)} - t" in text
    assert "is $2 \\times 3$" not in text and r"is \(2 \times 2\) (a row per unit" in text


def test_every_entry_of_dW_is_the_scalar_gradient_of_its_weight(tmp_path: Path):
    key = json.loads(solve(problem_file(tmp_path, NET_2_2_3), "--form", "matrix", "--format", "json"))
    checked = 0
    for layer in key["matrix"]["layers"]:
        for j, row in enumerate(layer["weights"]):
            for i, name in enumerate(row):
                scalar = key["gradients"][name]
                assert layer["dW"][j][i] == {"exact": scalar["exact"], "decimal": scalar["decimal"]}, name
                checked += 1
        for j, name in enumerate(layer["biases"]):
            scalar = key["gradients"][name]
            assert layer["db"][j][0] == {"exact": scalar["exact"], "decimal": scalar["decimal"]}, name
    assert checked == 10


def test_matrix_gradients_match_pytorch(tmp_path: Path):
    torch = pytest.importorskip("torch")
    problem = symbackprop.load({"layers": NET_2_2_3, "learning_rate": "0.5"})
    form = matrix_form(problem.solve())
    W1 = torch.tensor([[0.2, -0.4], [0.5, 0.1]], dtype=torch.float64, requires_grad=True)
    b1 = torch.tensor([0.1, -0.2], dtype=torch.float64, requires_grad=True)
    W2 = torch.tensor([[0.7, -0.3], [0.2, 0.5], [-0.6, 0.1]], dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor([0.0, 0.1, 0.0], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([1.0, 0.5], dtype=torch.float64)
    logits = W2 @ torch.relu(W1 @ x + b1) + b2
    loss = -torch.log_softmax(logits, dim=0)[1]
    loss.backward()
    for layer, W, b in ((form.layers[0], W1, b1), (form.layers[1], W2, b2)):
        for j in range(layer.dW.rows):
            assert float(layer.db[j]) == pytest.approx(float(b.grad[j]), rel=1e-13, abs=1e-15)
            for i in range(layer.dW.cols):
                assert float(layer.dW[j, i]) == pytest.approx(float(W.grad[j, i]), rel=1e-13, abs=1e-15)


weights = st.integers(-9, 9).map(lambda n: f"{n / 10:g}")


@st.composite
def layered_networks(draw):
    sizes = draw(st.lists(st.integers(1, 3), min_size=2, max_size=4))
    dense = []
    for previous, size in zip(sizes, sizes[1:]):
        dense.append({"activation": draw(st.sampled_from(["relu", "sigmoid", "linear", "tanh"])),
                      "weights": [[draw(weights) for _ in range(previous)] for _ in range(size)],
                      "biases": [draw(weights) for _ in range(size)]})
    outputs = sizes[-1]
    if draw(st.booleans()) and outputs > 1:
        dense[-1]["activation"] = "softmax"
        hot = draw(st.integers(0, outputs - 1))
        targets, loss = [int(k == hot) for k in range(outputs)], "cross_entropy"
    else:
        targets, loss = [draw(weights) for _ in range(outputs)], "half_squared_error"
    return {"inputs": [draw(weights) for _ in range(sizes[0])], "dense": dense, "targets": targets,
            "loss": loss}


@settings(max_examples=25, deadline=None)
@given(layered_networks())
def test_random_layered_networks_agree_in_both_forms(layers):
    problem = symbackprop.load({"layers": layers})
    solution = problem.solve()
    form = matrix_form(solution)
    for layer in form.layers:
        for j, row in enumerate(layer.weight_names):
            for i, name in enumerate(row):
                assert equal(layer.dW[j, i], solution.gradients[name].value), name
        for j, name in enumerate(layer.bias_names):
            assert equal(layer.db[j], solution.gradients[name].value), name


def test_both_links_each_derived_weight_to_its_matrix_entry(tmp_path: Path):
    text = solve(EXAMPLES / "seed004_two_hidden_softmax.yaml", "--form", "both")
    assert "3. Backward pass in matrix form" in text and "3b. Backward pass, entry by entry" in text
    assert "dE/dw3_11 is entry (1, 1) of dE/dW^(3)." in text
    assert re.search(r"W\^\(3\)\+ = W\^\(3\) - eta dE/dW\^\(3\) = ", text)


def test_a_problem_without_layers_says_why_in_one_line(tmp_path: Path):
    result = CliRunner().invoke(main, ["solve", str(EXAMPLES / "seed000_gates.yaml"), "--form", "matrix"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "option '--form'" in result.stderr and "are not layers of units" in result.stderr


@pytest.mark.parametrize("reduction, scale", [("mean", sp.Rational(1, 2)), ("sum", sp.S.One)])
def test_a_batch_is_one_column_per_example_and_its_gradients_are_the_batchs(reduction, scale):
    """minibatch_relu: two examples per batch; dE/dW = scale * Delta A^T is the batch's gradient, exactly."""
    problem = symbackprop.load(str(EXAMPLES / "minibatch_relu.yaml")) if reduction == "mean" else \
        symbackprop.loads((EXAMPLES / "minibatch_relu.yaml").read_text(encoding="utf-8")
                          .replace("reduction: mean", "reduction: sum"))
    solution = problem.solve()
    form = matrix_form(solution)
    assert form.examples == 2 and form.scale == scale and form.layers[0].a_prev.shape == (2, 2)
    for layer in form.layers:
        for j, row in enumerate(layer.weight_names):
            for i, name in enumerate(row):
                assert layer.dW[j, i] == solution.gradients[name].value, name      # rational: exact
        for j, name in enumerate(layer.bias_names):
            assert layer.db[j] == solution.gradients[name].value, name
    text = solution.render("txt", form="matrix")
    assert "one column per example of the batch (2)" in text
    assert ("the mean of 0.3081125, 0.0630125 is 0.1855625" in text) == (reduction == "mean")
    assert "delta^(2) = dE_n/da^(2) = [-0.785, 0.355]" in text
    assert ("dE/dW^(2) = (1/2) delta^(2) (a^(1))^T" in text) == (reduction == "mean")


def test_layers_of_8_units_fit_the_page(tmp_path: Path):
    def matrix(rows: int, columns: int) -> list[list[str]]:
        return [[f"{((7 * r + 3 * c) % 19 - 9) / 10:g}" for c in range(columns)] for r in range(rows)]
    layers = {"inputs": ["0.5", "-0.25", "0.125", "1", "-1", "0.75", "0.3", "-0.6"],
              "dense": [{"activation": "sigmoid", "weights": matrix(8, 8), "biases": ["0.1"] * 8},
                        {"activation": "softmax", "weights": matrix(8, 8), "biases": ["0"] * 8}],
              "targets": [0, 0, 1, 0, 0, 0, 0, 0], "loss": "cross_entropy"}
    tex = tmp_path / "wide.tex"
    tex.write_text(solve(problem_file(tmp_path, layers), "--form", "matrix", "--format", "tex",
                         "--digits", "9"), encoding="utf-8")
    status, log = pdflatex(tex)
    assert status == 0, log[-1500:]
    assert not re.search(r"Overfull \\[hv]box \((\d\d+|[1-9]\.)", log), re.findall(r"Overfull.*", log)[:3]


def test_a_symbol_without_a_value_has_no_matrix_form_and_symbolic_stays_scalar(tmp_path: Path):
    path = tmp_path / "open.yaml"
    path.write_text("nodes:\n  z: w*x + b\n  y: sigmoid(z)\n  E: (y - t)**2\nvalues: {w: 0.5, x: 2, b: 0}\n"
                    "parameters: [w, b]\nlearning_rate: 0.1\n",
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", str(path), "--form", "matrix"])
    assert result.exit_code == 2 and "t has no value" in result.stderr and result.stderr.count("\n") == 1
    symbolic = solve(EXAMPLES / "seed004_matrix_form.yaml", "--symbolic")
    assert "Forward pass in matrix form" not in symbolic and "delta_3_1 = dE/dz3_1" in symbolic


def test_a_shared_bias_that_is_no_parameter_is_not_updated_per_unit():
    """The 2-2-2 example shares b1 between its hidden units and updates only w1..w8: its matrix
    update once wrote b1 twice, with two different values."""
    text = solve(EXAMPLES / "sigmoid_2_2_2.yaml", "--form", "matrix")
    assert "b^(1)+" not in text and "W^(1)+ = W^(1) - eta dE/dW^(1)" in text
    assert "b1 is shared by several units of this layer: its gradient is the sum of their entries." in text


def test_an_option_named_in_the_matrix_form_is_code_not_an_en_dash():
    tex = solve(EXAMPLES / "seed004_matrix_form.yaml", "--format", "tex")
    assert r"\texttt{-{}-form both}" in tex and "(--form" not in tex
