"""The smaller statements of issue 10, point 5: each sentence the tool writes is true of its numbers.

* leaky ReLU at exactly 0 has slope alpha, as `torch.nn.functional.leaky_relu`, whatever the kink
  convention (which is for relu, max and min); the sentence says so.
* A learning rate of 0 or below is refused (exit 2, one line naming file, key and line).
* The answer key's `symbolic` gradient is the general form, true for any input: the step of a ReLU
  stays, it is not specialised to the branch taken (an inactive unit's is not 0).
* The graph of a data problem says which values it shows: example 1's forward values and the
  batch's gradients.

Expected values are computed here independently: by hand, with `sympy.diff` of the closed form, or
with PyTorch's autograd in float64 (those tests skip without torch).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

import symbackprop
import symbackprop.resources
from symbackprop.cli import main


def solved(nodes: dict, values: dict, **options):
    return symbackprop.load({"nodes": nodes, "values": values, **options}).solve()


def write(tmp_path: Path, text: str, name: str = "problem.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def cli(*args: str):
    """The command's exit status, stdout and stderr."""
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


# --- leaky ReLU at exactly 0 ------------------------------------------------------------------------

#: y = leaky_relu(w*x + b, 1/10) at w = 0, b = 0: the input is exactly 0.
LEAKY_AT_ZERO = {"y": "leaky_relu(w*x + b, 1/10)", "E": "(y - t)**2"}
LEAKY_VALUES = {"w": 0, "x": 2, "b": 0, "t": 1}


def torch_leaky_gradients(torch, steps: int = 1, eta: float = 0.1):
    """dE/dw, dE/db at the start, and w, b after `steps` updates, by torch autograd in float64."""
    import torch.nn.functional as F

    w = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    first = None
    for _ in range(steps):
        E = (F.leaky_relu(w * 2 + b, 0.1) - 1) ** 2
        w.grad = b.grad = None
        E.backward()
        first = first or (w.grad.item(), b.grad.item())
        with torch.no_grad():
            w -= eta * w.grad
            b -= eta * b.grad
    return first, (w.item(), b.item())


@pytest.mark.parametrize("kink", [None, "1/2", "1"])
def test_leaky_relu_at_zero_has_slope_alpha_whatever_the_kink(kink):
    """dE/dy = 2*(0 - 1) = -2 and dy/d(input) = alpha = 1/10 at exactly 0, so dE/db = -1/5 and
    dE/dw = -1/5 * x = -2/5, with any kink convention."""
    options = {} if kink is None else {"kink": kink}
    solution = solved(LEAKY_AT_ZERO, LEAKY_VALUES, **options)
    assert solution.gradients["b"].value == sp.Rational(-1, 5)
    assert solution.gradients["w"].value == sp.Rational(-2, 5)
    text = solution.render("txt")
    assert "leaky ReLU sits exactly at its kink; its slope there is alpha" in text
    assert re.search(r"dy/db = .*= 0\.1\n", text)          # the number the sentence speaks of


def test_leaky_relu_at_zero_matches_torch_in_a_solution_and_a_run():
    torch = pytest.importorskip("torch")
    (dw, db), (w2, b2) = torch_leaky_gradients(torch, steps=2)
    problem = symbackprop.load({"nodes": LEAKY_AT_ZERO, "values": LEAKY_VALUES, "kink": "1/2",
                                "parameters": ["w", "b"], "learning_rate": "0.1"})
    solution = problem.solve()
    assert float(solution.gradients["w"].value) == pytest.approx(dw, rel=1e-15)
    assert float(solution.gradients["b"].value) == pytest.approx(db, rel=1e-15)
    # The long run is computed on the compiled graph, not the exact engine: the same rule there.
    run = problem.solve(steps=2).to_dict()["run"]["final"]["parameters"]
    assert float(run["w"]["decimal"]) == pytest.approx(w2, rel=1e-14)
    assert float(run["b"]["decimal"]) == pytest.approx(b2, rel=1e-14)


@pytest.mark.parametrize("function, torch_name", [("max", "maximum"), ("min", "minimum")])
def test_max_and_min_ties_take_the_kink_which_one_half_makes_torch(function, torch_name):
    torch = pytest.importorskip("torch")
    a, b = (torch.tensor(1.0, dtype=torch.float64, requires_grad=True) for _ in range(2))
    getattr(torch, torch_name)(a, b).backward()
    solution = solved({"y": f"{function}(a, b)"}, {"a": 1, "b": 1}, kink="1/2")
    assert a.grad.item() == b.grad.item() == 0.5
    assert solution.gradients["a"].value == solution.gradients["b"].value == sp.Rational(1, 2)


def test_relu_and_leaky_relu_of_one_input_with_a_kink_are_refused_in_one_line(tmp_path):
    """relu(z) + leaky_relu(z, 1/10) differentiates to one step of z, which cannot be 1/2 for the
    ReLU and 0 for the leaky ReLU at once: a clear error rather than a wrong slope (with --gates each
    is its own node: 1/2 + 1/10 = 3/5, so dE/dz = -2 * 3/5)."""
    path = write(tmp_path, "nodes:\n  y: relu(z) + leaky_relu(z, 1/10)\n  E: (y - t)**2\n"
                           "values: {z: 0, t: 1}\n")
    result = cli("solve", str(path), "--kink", "1/2")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert str(path) in result.stderr and "separate nodes" in result.stderr
    gates = symbackprop.load(str(path)).with_gates().solve(kink=sp.Rational(1, 2))
    assert gates.gradients["z"].value == sp.Rational(-6, 5)


# --- the learning rate is greater than 0 --------------------------------------------------------------

LEARNING_RATE_PROBLEM = """\
nodes:
  y: w*x
  E: (y - t)**2
values: {{w: 0.5, x: 1, t: 2}}
parameters: [w]
learning_rate: {rate}
"""


@pytest.mark.parametrize("rate", ["-0.1", "0", "0.0", "-0", "'-1/3'", "-1e-30"])
@pytest.mark.parametrize("command", [["solve"], ["solve", "--steps", "3"], ["graph"],
                                     ["train", "--steps", "2", "-o", "out"], ["check", "claims.yaml"]])
def test_a_learning_rate_of_zero_or_below_is_refused_naming_file_key_and_line(tmp_path, rate, command):
    """With eta <= 0 the update does not descend; it was accepted and the rising loss then called
    'the learning rate is too large'."""
    path = write(tmp_path, LEARNING_RATE_PROBLEM.format(rate=rate))
    write(tmp_path, "E: 2.25\n", "claims.yaml")
    result = cli(command[0], str(path), *[str(tmp_path / a) if a in ("out", "claims.yaml") else a
                                          for a in command[1:]])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"{path}, line 6: key 'learning_rate'" in lines[0]
    assert "greater than 0" in lines[0]
    assert "too large" not in result.output


def test_a_positive_learning_rate_however_small_is_accepted(tmp_path):
    """w+ = 1/2 - 10**-30 * 2*(1/2 - 2) = 1/2 + 3*10**-30, exactly."""
    path = write(tmp_path, LEARNING_RATE_PROBLEM.format(rate="1e-30"))
    solution = symbackprop.load(str(path)).solve()
    assert solution.updates[0].new == sp.Rational(1, 2) + 3 * sp.Rational(1, 10**30)


# --- the answer key's `symbolic` is the general form, true for any input -------------------------------

#: An inactive ReLU unit: h = relu(w1*x) with w1*x = -2 < 0, so dE/dw1 = 0 here, but not in general.
INACTIVE = """\
nodes:
  h: relu(w1*x)
  y: w2*h
  E: (y - t)**2
values: {w1: -1, x: 2, w2: 3, t: 1}
parameters: [w1, w2]
learning_rate: 0.1
"""


def closed_form_gradient(name: str, kink) -> sp.Expr:
    """d/d name of E = (w2*max(0, w1*x) - t)**2 by sympy.diff, its steps valued `kink` at 0."""
    w1, x, w2, t = sp.symbols("w1 x w2 t")
    E = (w2 * sp.Max(0, w1 * x) - t) ** 2
    return sp.diff(E, sp.Symbol(name)).replace(sp.Heaviside, lambda a, *h0: sp.Heaviside(a, kink))


@pytest.mark.parametrize("kink", ["0", "1/2"])
def test_an_inactive_relu_units_symbolic_gradient_is_the_general_form_not_0(tmp_path, kink):
    path = write(tmp_path, INACTIVE + f"kink: {kink}\n")
    key = json.loads(cli("solve", str(path), "--format", "json", "--all-gradients").stdout)
    names = {n: sp.Symbol(n) for n in ("w1", "x", "w2", "t", "h", "y")}
    y_of_h = {names["y"]: names["w2"] * names["h"]}
    h_of_inputs = {names["h"]: sp.Max(0, names["w1"] * names["x"])}
    for name in ("w1", "x"):
        gradient = key["gradients"][name]
        assert gradient["exact"] == "0"                      # the value on this input: blocked
        assert gradient["symbolic"] != "0"
        # The answer key's formula over node names, parsed as SymPy and expanded into the inputs.
        symbolic = sp.sympify(gradient["symbolic"], locals={**names, "Heaviside": sp.Heaviside})
        symbolic = symbolic.subs(y_of_h).subs(h_of_inputs)
        expected = closed_form_gradient(name, sp.Rational(kink))
        assert sp.expand(symbolic - expected) == 0, (symbolic, expected)
        # As a formula: right on the active side and at the kink too, not only where w1*x < 0.
        for point in ({"w1": 1, "x": 2}, {"w1": 0, "x": 2}, {"w1": -1, "x": 2}):
            at = {names[k]: v for k, v in {**point, "w2": 3, "t": 1}.items()}
            assert symbolic.subs(at) == expected.subs(at)


def test_the_worked_solution_writes_the_general_form_then_the_branch(tmp_path):
    """dE/dw1 = 2*w2*x*(y - t)*1[w1 x > 0], then (-6) * 0 = 0; never 'dE/dw1 = 0 = (-6) * 0'."""
    path = write(tmp_path, INACTIVE)
    text = cli("solve", str(path)).stdout
    assert "dh/dw1 = x*Heaviside(w1*x, 0) = 0" in text
    assert "dE/dw1 = dE/dh * dh/dw1 = (-6) * 0 = 0\n" in text
    assert "dE/dw1 = 2*w2*x*(y - t)*Heaviside(w1*x, 0) = 0\n" in text          # the summary
    assert "dE/dw1 = 0 =" not in text
    markdown = cli("solve", str(path), "--format", "md").stdout
    assert r"\mathbf{1}\left[w_{1} x > 0\right]" in markdown


@pytest.mark.parametrize("at_zero, latex", [
    (0, r"\mathbf{1}\left[z > 0\right]"),
    (1, r"\mathbf{1}\left[z \geq 0\right]"),
    (sp.Rational(1, 2),
     r"\left(\mathbf{1}\left[z > 0\right] + \frac{1}{2} \, \mathbf{1}\left[z = 0\right]\right)"),
])
def test_the_printed_step_says_its_value_at_zero(at_zero, latex):
    """1[z > 0] is 0 at z = 0: with the kink 1/2 or 1 the printed step must not claim so."""
    from symbackprop.printing.printers import ReadableLatexPrinter

    assert ReadableLatexPrinter().doprint(sp.Heaviside(sp.Symbol("z"), at_zero)) == latex


# --- the graph of a data problem says which values it shows ------------------------------------------

#: y = w*x, E = (y - t)**2 on four examples; w = 1/2.
BATCH = """\
nodes:
  y: w*x
  E: (y - t)**2
values: {{w: 0.5}}
data:
  - {{x: 1, t: 2}}
  - {{x: 2, t: 0}}
  - {{x: -1, t: 1}}
  - {{x: 4, t: 1}}
parameters: [w]
learning_rate: 0.1
{extra}"""
EXAMPLES = [(1, 2), (2, 0), (-1, 1), (4, 1)]


def batch_gradient(rows, reduction="mean"):
    """dE/dw over the rows by hand: each example's 2*(w*x - t)*x, then their mean or sum."""
    from fractions import Fraction

    w = Fraction(1, 2)
    total = sum(2 * (w * x - t) * x for x, t in rows)
    return total / len(rows) if reduction == "mean" else total


def graph(path: Path, fmt: str) -> str:
    result = cli("graph", str(path), "--format", fmt, "--digits", "6")
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("extra, caption, rows, reduction", [
    ("", "forward values of example 1; gradients of the batch (mean over 4 examples)", EXAMPLES, "mean"),
    ("reduction: sum\n", "forward values of example 1; gradients of the batch (sum over 4 examples)",
     EXAMPLES, "sum"),
    ("batch: 2\n", "forward values of example 1; gradients of the first batch (mean over 2 of 4 examples)",
     EXAMPLES[:2], "mean"),
    ("batch: sgd\n", "forward values of example 1; gradients of the first batch (example 1 alone)",
     EXAMPLES[:1], "mean"),
])
def test_the_graph_of_a_data_problem_says_whose_values_and_gradients_it_shows(
        tmp_path, extra, caption, rows, reduction):
    path = write(tmp_path, BATCH.format(extra=extra))
    values, gradients = caption.split("; ")
    gradients_word, _, which = gradients.partition(" ")
    # Example 1: y = 1/2 * 1 = 0.5, E = (0.5 - 2)**2 = 2.25; the gradient is the batch's.
    dw = batch_gradient(rows, reduction)
    shown_dw = f"{float(dw):.6g}"

    mermaid = graph(path, "mermaid")
    assert mermaid.startswith(f'---\ntitle: "{caption}"\n---\nflowchart LR\n')
    assert "y = 0.5" in mermaid and "E = 2.25" in mermaid
    assert 'x<br/><span style=\'color:#008000\'>x = 1</span>"' in mermaid
    assert f"∂E/∂w = {shown_dw}" in mermaid

    dot = graph(path, "dot")
    assert f">{values}</font>" in dot and f">{gradients_word} ∂E/∂(name) {which}</font>" in dot
    assert f">{shown_dw}</font>" in dot

    tikz = graph(path, "tikz")
    assert f"{{{values}}}" in tikz
    assert f"{{{gradients_word} $\\partial E/\\partial(\\cdot)$ {which}}}" in tikz

    if shutil.which("dot"):
        svg = graph(path, "svg")
        assert values in svg and which in svg


def test_the_graph_without_data_keeps_its_plain_legend():
    dot = graph(Path(symbackprop.resources.builtin_example()), "dot")
    assert ">forward value</font>" in dot and ">gradient ∂E/∂(name)</font>" in dot
    assert not graph(Path(symbackprop.resources.builtin_example()), "mermaid").startswith("---")
