"""The layers: shorthand expands into readable nodes and gives the same gradients as a matrix network."""

from __future__ import annotations

import sympy as sp
import pytest

import symbackprop
from symbackprop.parsing.layers import expand
from symbackprop.resources import worked_examples_dir

SEED004 = worked_examples_dir() / "seed004_two_hidden_softmax.yaml"


def test_names_follow_the_lecture_notation():
    expansion = expand({
        "inputs": {"x1": 1, "x2": 2},
        "dense": [{"activation": "relu", "weights": [[1, 2], [3, 4]], "biases": [0, 1]},
                  {"activation": "sigmoid", "weights": [[5, 6]]}],
        "targets": [1],
        "loss": "half_squared_error",
    })
    assert expansion.nodes == {
        "z1_1": "w1_11*x1 + w1_12*x2 + b1_1",
        "z1_2": "w1_21*x1 + w1_22*x2 + b1_2",
        "h1_1": "relu(z1_1)",
        "h1_2": "relu(z1_2)",
        "z2_1": "w2_11*h1_1 + w2_12*h1_2",
        "y1": "sigmoid(z2_1)",
        "E": "((y1 - t1)**2)/2",
    }
    assert expansion.parameters == ("w1_11", "w1_12", "b1_1", "w1_21", "w1_22", "b1_2", "w2_11", "w2_12")
    assert expansion.values["w1_21"] == 3 and expansion.values["t1"] == 1


def test_wide_layers_separate_the_indices():
    expansion = expand({"inputs": [0] * 10, "dense": [{"weights": [[0] * 10]}], "targets": [0]})
    assert "w1_1_10" in expansion.values


@pytest.mark.parametrize("loss, expected", [
    ("squared_error", (sp.Rational(1, 2) - 1) ** 2),
    ("half_squared_error", (sp.Rational(1, 2) - 1) ** 2 / 2),
    ("mean_squared_error", (sp.Rational(1, 2) - 1) ** 2),
    ("binary_cross_entropy", -sp.log(sp.Rational(1, 2))),
])
def test_loss_functions(loss, expected):
    # One sigmoid output at z = 0 is 1/2; the target is 1.
    problem = symbackprop.load({"layers": {"inputs": [1], "dense": [{"activation": "sigmoid",
                                                                      "weights": [[0]]}],
                                           "targets": [1], "loss": loss}})
    assert sp.simplify(problem.solve().forward["E"].value - expected) == 0


def test_cross_entropy_of_a_softmax_output_with_equal_inputs_is_exact():
    problem = symbackprop.load({"layers": {"inputs": [1], "dense": [
        {"activation": "softmax", "weights": [[0], [0], [0]]}], "targets": [0, 1, 0],
        "loss": "cross_entropy"}})
    solution = problem.solve()
    assert solution.forward["y2"].value == sp.Rational(1, 3)
    assert solution.forward["E"].value == sp.log(3)
    # d(-log softmax_2)/dz_k = softmax_k - t_k: 1/3 - 1 for the true class, 1/3 otherwise.
    assert solution.gradients["z1_2"].value == sp.Rational(-2, 3)
    assert solution.gradients["z1_1"].value == sp.Rational(1, 3)


def test_softmax_minus_target_with_distinct_inputs():
    problem = symbackprop.load({"layers": {"inputs": [1], "dense": [
        {"activation": "softmax", "weights": [[1], [0], [-1]]}], "targets": [1, 0, 0],
        "loss": "cross_entropy"}})
    solution = problem.solve()
    e = sp.E
    softmax_1 = e / (e + 1 + 1 / e)
    assert sp.simplify(solution.gradients["z1_1"].value.rewrite(sp.exp) - (softmax_1 - 1)) == 0


def test_seed004_network_agrees_with_a_matrix_implementation_in_pytorch():
    torch = pytest.importorskip("torch")
    import yaml

    spec = yaml.safe_load(SEED004.read_text())["layers"]
    solution = symbackprop.load(SEED004).solve()

    x = torch.tensor(list(spec["inputs"].values()), dtype=torch.float64)
    params = []
    activation = x
    for index, layer in enumerate(spec["dense"]):
        w = torch.tensor(layer["weights"], dtype=torch.float64, requires_grad=True)
        b = torch.tensor(layer["biases"], dtype=torch.float64, requires_grad=True)
        params.append((index + 1, w, b))
        z = w @ activation + b
        activation = torch.relu(z) if layer["activation"] == "relu" else torch.softmax(z, dim=0)
    target = torch.tensor(list(spec["targets"].values()), dtype=torch.float64)
    loss = -(target * torch.log(activation)).sum()
    loss.backward()

    assert float(sp.N(solution.forward["E"].value, 20)) == pytest.approx(loss.item(), rel=1e-12)
    for number, w, b in params:
        for j in range(w.shape[0]):
            assert float(sp.N(solution.gradients[f"b{number}_{j + 1}"].value, 20)) == \
                pytest.approx(b.grad[j].item(), rel=1e-10, abs=1e-14)
            for i in range(w.shape[1]):
                ours = solution.gradients[f"w{number}_{j + 1}{i + 1}"].value
                assert float(sp.N(ours, 20)) == pytest.approx(w.grad[j, i].item(), rel=1e-10, abs=1e-14)


def test_seed004_updates_every_weight_and_bias():
    solution = symbackprop.load(SEED004).solve()
    assert len(solution.updates) == 2 * 2 + 2 + 2 * 2 + 2 + 3 * 2 + 3
    assert solution.after_update["E"] < solution.forward["E"].value


def test_a_layer_of_64_inputs_is_a_flat_sum_not_64_levels_of_nesting():
    problem = symbackprop.load({"layers": {"inputs": [1] * 64, "dense": [{"weights": [[0] * 64]}],
                                           "targets": [0]}})
    assert len(problem.nodes["z1_1"].args) == 64
