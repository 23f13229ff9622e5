"""Batches, epochs and runs of many steps, checked against PyTorch and an independent float64 loop."""

from __future__ import annotations

import math

import mpmath
import pytest
from flint import fmpq
import sympy as sp
from click.testing import CliRunner

import symbackprop
from symbackprop.arithmetic import certified, numeric
from symbackprop.engine import training
from symbackprop.cli import main
from symbackprop.resources import worked_examples_dir

DATA = [{"x1": "0.5", "x2": -1, "t": 1}, {"x1": 2, "x2": "0.25", "t": 0},
        {"x1": -1, "x2": "1.5", "t": 1}, {"x1": "0.1", "x2": 0, "t": 0}]


def relu_problem(**extra):
    return symbackprop.load({
        "nodes": {"z": "w1*x1 + w2*x2 + b", "h": "relu(z)", "y": "v*h + c", "E": "(y - t)**2/2"},
        "values": {"w1": "0.3", "w2": "-0.2", "b": "0.1", "v": "0.7", "c": "-0.1"},
        "data": DATA, "parameters": ["w1", "w2", "b", "v", "c"], "learning_rate": "0.1", **extra})


def test_batch_gradient_is_the_exact_mean_of_the_examples_gradients():
    solution = relu_problem().solve()
    for name, gradient in solution.gradients.items():
        per_example = [e.gradients[name].value for e in solution.examples]
        assert gradient.value == sp.Add(*per_example) / len(per_example)
        assert gradient.value.is_Rational          # piecewise linear with rational data: exact


def test_sum_reduction_adds_the_examples_gradients():
    mean = relu_problem().solve()
    total = relu_problem(reduction="sum").solve()
    for name in mean.gradients:
        assert total.gradients[name].value == 4 * mean.gradients[name].value
    assert total.batch_loss == 4 * mean.batch_loss


def test_batch_gradients_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    solution = relu_problem().solve()
    params = {n: torch.tensor(float(v), dtype=torch.float64, requires_grad=True)
              for n, v in solution.problem.values.items()}
    losses = []
    for row in DATA:
        x1, x2, t = (float(sp.Rational(str(row[k]))) for k in ("x1", "x2", "t"))
        h = torch.relu(params["w1"] * x1 + params["w2"] * x2 + params["b"])
        losses.append((params["v"] * h + params["c"] - t) ** 2 / 2)
    loss = torch.stack(losses).mean()
    loss.backward()
    assert float(solution.batch_loss) == pytest.approx(loss.item(), rel=1e-14)
    for name, tensor in params.items():
        assert float(solution.gradients[name].value) == pytest.approx(tensor.grad.item(), rel=1e-12,
                                                                      abs=1e-15)


def test_pre_activation_exactly_at_zero_follows_the_kink_convention():
    # Example 4 has z = w1*0.1 + 0 + b = 0.03 + 0.1; move b so that z is exactly 0 there.
    problem = relu_problem()
    problem.values["b"] = sp.Rational(-3, 100)
    example = problem.solve().examples[3]
    assert example.forward["z"].value == 0
    assert example.gradients["w1"].value == 0 and example.gradients["b"].value == 0
    half = problem.solve(kink=sp.Rational(1, 2)).examples[3]
    upstream = half.gradients["h"].value
    assert half.gradients["b"].value == upstream / 2 != 0


def test_minibatches_take_the_examples_in_order_and_epochs_count_passes():
    problem = relu_problem(batch=2)
    assert [problem.data.batch(step) for step in range(4)] == [(0, 1), (2, 3), (0, 1), (2, 3)]
    solution = problem.solve(epochs=3)
    assert solution.run.steps == 6 and solution.run.epochs == 3


def test_shuffle_is_reproducible_and_differs_between_epochs():
    problem = relu_problem(batch="sgd", shuffle=7)
    first_epoch = [problem.data.batch(s)[0] for s in range(4)]
    second_epoch = [problem.data.batch(s)[0] for s in range(4, 8)]
    assert sorted(first_epoch) == sorted(second_epoch) == [0, 1, 2, 3]
    assert first_epoch != second_epoch
    assert first_epoch == [relu_problem(batch="sgd", shuffle=7).data.batch(s)[0] for s in range(4)]


def test_first_step_of_a_run_matches_the_exact_update():
    # A ReLU network on decimal data stays rational: the run keeps it exact while it is short.
    solution = relu_problem().solve(steps=5)
    exact_after = solution.batch_loss_after
    assert exact_after.is_Rational
    assert solution.run.history[1] == fmpq(int(exact_after.p), int(exact_after.q))


def test_a_sigmoid_runs_first_step_is_a_ball_holding_the_exact_update():
    solution = symbackprop.load(worked_examples_dir() / "sigmoid_2_2_2.yaml").solve(steps=3)
    after = solution.after_update[solution.loss]
    lower, upper = certified.bounds(solution.run.history[1])
    with mpmath.workdps(60):
        exact = mpmath.mpf(numeric.decimal_string(after, 50))
        assert mpmath.mpf(lower.numerator) / lower.denominator <= exact * (1 + mpmath.mpf(10) ** -45)
        assert mpmath.mpf(upper.numerator) / upper.denominator >= exact * (1 - mpmath.mpf(10) ** -45)
    assert solution.run.history[1].rel_accuracy_bits() >= training.REQUIRED_BITS


def test_a_rational_run_prints_an_exact_rounding_tie_as_such():
    # minibatch_relu: after update 1, w1 = 23111/80000 = 0.2888875, a tie at 6 digits (to even:
    # 0.288888). A ball around it could never decide which way it rounds.
    solution = symbackprop.load(worked_examples_dir() / "minibatch_relu.yaml").solve(steps=2)
    w1 = solution.run.parameters[1]["w1"]
    assert w1 == fmpq(23111, 80000)
    assert numeric.decimal_string(w1, 6) == "0.288888"
    text = solution.render("txt")
    assert "0.288888" in text and "computed exactly, in rational arithmetic" in text
    assert solution.to_dict()["run"]["exact"] is True


def float64_sigmoid_run(steps: int) -> float:
    """The 2-2-2 sigmoid example trained by hand in float64: independent of the library's engine."""
    s = lambda x: 1 / (1 + math.exp(-x))
    w = [.15, .2, .25, .3, .4, .45, .5, .55]
    b1, b2, i1, i2, t1, t2, eta = .35, .6, .05, .1, .01, .99, .5
    for _ in range(steps + 1):
        h1, h2 = s(w[0] * i1 + w[1] * i2 + b1), s(w[2] * i1 + w[3] * i2 + b1)
        o1, o2 = s(w[4] * h1 + w[5] * h2 + b2), s(w[6] * h1 + w[7] * h2 + b2)
        loss = (t1 - o1) ** 2 / 2 + (t2 - o2) ** 2 / 2
        d1, d2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
        e1, e2 = (d1 * w[4] + d2 * w[6]) * h1 * (1 - h1), (d1 * w[5] + d2 * w[7]) * h2 * (1 - h2)
        grad = [e1 * i1, e1 * i2, e2 * i1, e2 * i2, d1 * h1, d1 * h2, d2 * h1, d2 * h2]
        w = [wi - eta * g for wi, g in zip(w, grad)]
    return loss


def test_many_steps_agree_with_an_independent_float64_loop():
    problem = symbackprop.load(worked_examples_dir() / "sigmoid_2_2_2.yaml")
    run = problem.solve(steps=300).run
    assert float(run.history[-1]) == pytest.approx(float64_sigmoid_run(300), rel=1e-11)
    assert run.stopped_decreasing is None


def test_answer_key_of_a_batch_run_has_examples_history_and_batch_loss():
    key = relu_problem().solve(steps=3).to_dict()
    assert len(key["examples"]) == 4 and set(key["examples"][0]) >= {"forward", "gradients"}
    assert set(key["gradients"]) == {"w1", "w2", "b", "v", "c"}     # no data symbols
    assert len(key["history"]) == 4
    assert key["run"]["final"]["loss"]["decimal"] == key["history"][-1]
    assert key["batch_loss"]["decimal"] == key["history"][0]


def test_after_update_means_the_first_update_whatever_the_number_of_steps():
    # The full batch here: the batch loss after the first update is the run's loss after step 1.
    one = relu_problem().solve().to_dict()
    many = relu_problem().solve(steps=3).to_dict()
    assert many["after_update"] == one["after_update"] and many["updated"] == one["updated"]
    assert many["after_update"]["batch_loss"]["decimal"] == many["history"][1]
    assert set(many["run"]["final"]["parameters"]) == {"w1", "w2", "b", "v", "c"}


def test_a_run_of_one_step_has_a_history():
    key = relu_problem().solve(steps=1).to_dict()
    assert len(key["history"]) == 2 and key["run"]["steps"] == 1
    assert key["history"][1] == key["after_update"]["batch_loss"]["decimal"]


def test_a_too_large_learning_rate_is_reported_as_the_loss_not_decreasing():
    problem = symbackprop.load({"nodes": {"E": "(w - 3)**2"}, "values": {"w": 0},
                                "parameters": ["w"], "learning_rate": "1.5"})
    run = problem.solve(steps=4).run
    assert run.stopped_decreasing == 1
    assert [float(v) for v in run.history] == [9, 36, 144, 576, 2304]


def test_cli_steps_show_the_first_step_in_full_and_a_table():
    result = CliRunner().invoke(main, ["solve", str(worked_examples_dir() / "sigmoid_2_2_2.yaml"),
                                       "--steps", "40"])
    assert result.exit_code == 0, result.output
    assert "Step 1:" in result.stdout and "6. Training: 40 updates" in result.stdout
    assert "every digit shown is certain" in result.stdout


def test_epochs_without_data_is_a_clean_error():
    result = CliRunner().invoke(main, ["solve", "--epochs", "2"])
    assert result.exit_code == 2 and "option '--epochs': epochs need a data set" in result.output


def test_library_errors_name_the_argument_and_the_command_line_its_option():
    # A notebook user passed epochs=, not --epochs.
    problem = symbackprop.load(worked_examples_dir() / "seed003_relu_unit.yaml")
    with pytest.raises(symbackprop.ProblemError) as error:
        problem.solve(epochs=2)
    assert error.value.key == "epochs" and "--" not in str(error.value)


@pytest.mark.parametrize("args, message", [
    (["--steps", "3"], "needs a number for every symbol the loss depends on; no value for x_n"),
    (["--symbolic", "--steps", "2"], "cannot be combined with --steps"),
])
def test_runs_that_cannot_be_computed_are_clean_errors(args, message):
    result = CliRunner().invoke(main, ["solve", *args])
    assert result.exit_code == 2 and message in result.output


def test_a_run_needs_no_value_for_a_symbol_the_loss_does_not_use():
    # u feeds only a node the loss does not depend on: a run need not know it.
    problem = symbackprop.load({"nodes": {"side": "u*w", "E": "(w - 3)**2"}, "values": {"w": 0},
                                "loss": "E", "parameters": ["w"], "learning_rate": "0.25"})
    run = problem.solve(steps=3).run
    assert [numeric.decimal_string(h, 6) for h in run.history] == ["9.00000", "2.25000", "0.562500",
                                                                 "0.140625"]
