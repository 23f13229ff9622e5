"""printing/diagram.py: the computational graph as TikZ, Mermaid, DOT and SVG, with values and gradients.

The outputs are parsed back (boxes, arrows, colored labels) rather than compared to golden files, so
that a layout tweak does not break the tests but a missing box, arrow, value or color does. pdflatex
and Graphviz tests skip where the tool is missing, and fail instead under CI (CI set), where the
test setup installs both.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
import sympy as sp

import symbackprop
from symbackprop.printing import diagram
from symbackprop import resources
from symbackprop.printing.diagram import TIKZ_LIBRARIES, draw, format_value

EXAMPLES = Path(__file__).resolve().parent.parent / "worked_examples"
# The colors of the brief, spelled out so that swapping them in diagram.py fails the tests:
# forward values green, gradients red, as xcolor names (TikZ) and as hex (Graphviz).
FORWARD_TIKZ, GRADIENT_TIKZ = "green!50!black", "red!70!black"
FORWARD_RGB, GRADIENT_RGB = "#008000", "#B30000"


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{message}, and under CI this test must run (the test setup installs it)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def seed():
    """The built-in example: y = relu(w3*x_n) given as 3, E = (y - ybar)**2, x_n symbolic."""
    return symbackprop.load(resources.builtin_example()).solve()


@pytest.fixture(scope="module")
def sigmoid():
    return symbackprop.load(EXAMPLES / "sigmoid_2_2_2.yaml").solve()


@pytest.fixture(scope="module")
def reserved():
    """Names that are keywords of Mermaid (end, graph, style, subgraph, click, classDef), ids that
    start with o or x (circle and cross edges), and keywords of DOT (node, edge, digraph,
    strict)."""
    return symbackprop.load({
        "nodes": {"end": "w*x + default", "o": "x*x_o", "graph": "relu(end)", "style": "graph*o",
                  "subgraph": "style + click", "classDef": "subgraph - strict",
                  "node": "classDef*edge", "digraph": "(node - t)**2"},
        "values": {"w": 1, "x": 2, "default": 0.5, "click": 1, "strict": 1, "x_o": 2, "t": 3,
                   "edge": 1},
    }).solve()


# --- parsing the outputs back ------------------------------------------------------------------

def dot_boxes(source: str) -> list[tuple[str, str]]:
    """(name, HTML label) of every box definition."""
    return re.findall(r'^  "(\w+)" \[label=<(.*)>(?:, [^<>]*)?\];$', source, re.M)


def dot_edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r'^  "(\w+)" -> "(\w+)";$', source, re.M)


MERMAID_BOX = re.compile(r'^  n_(\w+)(?:\["([^"]*)"\]|\("([^"]*)"\))$')
MERMAID_EDGE = re.compile(r"^  n_(\w+) --> n_(\w+)$")


def mermaid_boxes(source: str) -> list[tuple[str, str]]:
    return [(m[1], m[2] or m[3]) for m in map(MERMAID_BOX.match, source.splitlines()) if m]


def mermaid_edges(source: str) -> list[tuple[str, str]]:
    return [m.groups() for m in map(MERMAID_EDGE.match, source.splitlines()) if m]


TIKZ_BOX = re.compile(r"^  \\node\[(\w+)box, minimum width=[\d.]+cm\] \(n_(\w+)\) "
                      r"at \((-?[\d.]+),(-?[\d.]+)\) \{(.*)\};$", re.M)


def tikz_boxes(source: str) -> list[tuple[str, str]]:
    return [(m[1], m[4]) for m in TIKZ_BOX.findall(source)]


def tikz_edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^  \\draw\[->\] \(n_(\w+)\.east\) -- \(n_(\w+)\.west\);$", source, re.M)


PARSERS = {"tikz": (tikz_boxes, tikz_edges), "mermaid": (mermaid_boxes, mermaid_edges),
           "dot": (dot_boxes, dot_edges)}


def labels(solution, format: str, **options) -> dict[str, str]:
    return dict(PARSERS[format][0](draw(solution, format, **options)))


def expected_edges(solution) -> list[tuple[str, str]]:
    return sorted((used, name) for name, node in solution.problem.graph.nodes.items()
                  for used in node.inputs)


# --- structure: every box and every arrow, once ----------------------------------------------

@pytest.mark.parametrize("example", ["seed", "sigmoid", "reserved"])
@pytest.mark.parametrize("format", ["tikz", "mermaid", "dot"])
def test_every_node_and_symbol_is_drawn_once_with_every_arrow(format, example, request):
    solution = request.getfixturevalue(example)
    graph = solution.problem.graph
    source = draw(solution, format)
    boxes, edges = PARSERS[format]
    drawn = Counter(name for name, _ in boxes(source))
    # Values the graph does not use (w1, w2, x4 of the built-in example) get no box.
    assert drawn == Counter([*graph.nodes, *graph.symbols])
    assert sorted(edges(source)) == expected_edges(solution)


def test_tikz_arrows_run_left_to_right_and_boxes_of_a_column_do_not_overlap(sigmoid):
    source = draw(sigmoid, "tikz")
    boxes = {name: (float(x), float(y)) for _, name, x, y, _ in TIKZ_BOX.findall(source)}
    for used, name in tikz_edges(source):
        assert boxes[used][0] < boxes[name][0], (used, name)
    # A weight stands one column before the node it feeds, not at the far left.
    assert boxes["w5"][0] == boxes["out_h1"][0] < boxes["net_o1"][0]
    assert boxes["t1"][0] == boxes["out_o1"][0]
    for a, (xa, ya) in boxes.items():
        for b, (xb, yb) in boxes.items():
            if a < b and xa == xb:
                assert abs(ya - yb) >= 1.2, (a, b)


# --- values and gradients, in their colors -----------------------------------------------------

def test_dot_shows_the_seed_values_in_green_and_gradients_in_red(seed):
    box = labels(seed, "dot")
    green = lambda text: f'<font color="{FORWARD_RGB}">{text}</font>'
    red = lambda text: f'<font color="{GRADIENT_RGB}">{text}</font>'
    assert green("3 (given)") in box["y"] and red("2") in box["y"]
    assert red("0.4") in box["x_n"] and FORWARD_RGB not in box["x_n"]  # x_n has no value
    assert green("0.2") in box["w3"] and red("2*x_n") in box["w3"]
    # ybar is a target: the loss compares y with it, so no gradient is drawn for it (issue 12).
    assert green("2") in box["ybar"] and GRADIENT_RGB not in box["ybar"]
    assert green("1") in box["E"] and red("1") in box["E"]
    assert "relu(w3*x_n)" in box["y"]


def test_tikz_shows_the_seed_values_in_green_and_gradients_in_red(seed):
    box = labels(seed, "tikz")
    green = lambda tex: f"\\textcolor{{{FORWARD_TIKZ}}}{{${tex}$}}"
    red = lambda tex: f"\\textcolor{{{GRADIENT_TIKZ}}}{{${tex}$}}"
    assert box["y"].startswith("$y$") and green("3") in box["y"] and red("2") in box["y"]
    assert box["x_n"] == "$x_{n}$\\\\ " + red("0.4")
    assert green("0.2") in box["w3"] and red("2 x_{n}") in box["w3"]
    assert box["ybar"].startswith(r"$\bar{y}$") and GRADIENT_TIKZ not in box["ybar"]
    assert r"\mathrm{ReLU}\left(w_{3} x_{n}\right)" in box["y"]


def green(line: str) -> str:
    return f"<span style='color:{FORWARD_RGB}'>{line}</span>"


def red(line: str) -> str:
    return f"<span style='color:{GRADIENT_RGB}'>{line}</span>"


def test_mermaid_says_which_number_is_which_as_readers_write_it_and_colors_it(seed):
    box = {name: label.split("<br/>") for name, label in labels(seed, "mermaid").items()}
    assert box["y"] == ["y", "relu(w₃·xₙ)", green("y = 3 (given)"), red("∂E/∂y = 2")]
    assert box["x_n"] == ["xₙ", red("∂E/∂xₙ = 0.4")]
    assert box["w3"] == ["w₃", green("w₃ = 0.2"), red("∂E/∂w₃ = 2·xₙ")]
    # The target ybar (ȳ) has its value and no gradient; E's square is raised.
    assert box["ybar"] == ["ȳ", green("ȳ = 2")]
    assert box["E"][1] == "(y - ȳ)²"


def test_mermaid_writes_sigma_and_no_gradient_for_the_targets(sigmoid):
    box = {name: label.split("<br/>") for name, label in labels(sigmoid, "mermaid").items()}
    assert box["out_h1"][:2] == ["outₕ₁", "σ"]
    assert red("∂E/∂w₅ = 0.08217") in box["w5"]
    assert box["t1"] == ["t₁", green("t₁ = 0.01")] and "∂" not in "".join(box["t2"])
    # Every other symbol and node keeps its gradient.
    assert all(any(line.startswith(f"<span style='color:{GRADIENT_RGB}'>∂E/∂") for line in lines)
               for name, lines in box.items() if name not in ("t1", "t2"))


@pytest.mark.parametrize("format", ["dot", "tikz", "mermaid"])
def test_sigmoid_network_shows_the_published_figures(sigmoid, format):
    # Mazur's example: out_h1 = 0.593269992, E = 0.298371109, dE/dw5 = 0.082167041.
    box = labels(sigmoid, format)
    for name, number in [("out_h1", "0.5933"), ("E", "0.2984"), ("w5", "0.08217")]:
        assert number in box[name], (name, box[name])
    if format == "dot":
        assert f'<font color="{FORWARD_RGB}">0.5933</font>' in box["out_h1"]
        assert f'<font color="{GRADIENT_RGB}">0.08217</font>' in box["w5"]
        assert ">σ<" in box["out_h1"]  # one operation on a symbol: its operator
        assert "b1 + i1*w1 + i2*w2" in box["net_h1"]  # short: the expression
        assert "**" not in box["E"]  # too long to fit: left out


def test_digits_sets_the_significant_digits(sigmoid):
    assert f'<font color="{FORWARD_RGB}">0.59</font>' in labels(sigmoid, "dot", digits=2)["out_h1"]


def test_gates_show_their_operator():
    solution = symbackprop.load(EXAMPLES / "seed000_gates.yaml").solve()
    box = {name: label.split("<br/>") for name, label in labels(solution, "mermaid").items()}
    assert box["a"][1] == "×" and box["s"][1] == "+"
    assert box["y"][1] == "max(0, s)"  # max with a number: the expression, as readers write max


@pytest.mark.parametrize("value, digits, shown", [
    (sp.Rational(2, 5), 4, "0.4"), (sp.Integer(3), 4, "3"), (sp.Rational(-1, 5), 4, "-0.2"),
    (sp.Rational(151, 400), 4, "0.3775"), (sp.Rational(151, 400), 3, "0.378"),
    (sp.Rational(1, 3), 4, "0.3333"), (sp.Rational(-2, 3), 4, "-0.6667"),
    (sp.Rational(1, 8), 2, "0.12"), (sp.Rational(3, 8), 2, "0.38"),  # ties go to the even digit
    (sp.Integer(12000), 4, "12000"), (sp.Integer(12345), 4, "1.234e4"), (sp.Integer(12355), 4, "1.236e4"),
    (sp.Integer(12346), 4, "1.235e4"),
    (sp.Rational(1, 10**6), 4, "1e-6"), (sp.Integer(0), 4, "0"),
    (sp.Float("0.29837110876", 50), 4, "0.2984"), (sp.Rational(-12346, 10**9), 4, "-1.235e-5"),
    (symbackprop.sigmoid(sp.Integer(0)), 4, "0.5"), (2 * sp.Symbol("x_n"), 4, "2*x_n"),
])
def test_format_value(value, digits, shown):
    assert format_value(value, digits) == shown


def test_long_symbolic_values_and_missing_values_are_left_out():
    x = sp.Symbol("x")
    assert format_value(sp.sin(x) + sp.cos(x) + sp.exp(x) + x**7 + sp.tan(x), 4) is None
    assert format_value(None, 4) is None


def test_a_weighted_sum_of_two_units_keeps_its_expression_in_its_box():
    """net_o1 = b2 + out_h1*w5 + out_h2*w6 lost its expression in the 2-2-2 graph (issue 12)."""
    solution = symbackprop.load(EXAMPLES / "sigmoid_2_2_2.yaml").solve()
    assert "netₒ₁<br/>b₂ + outₕ₁·w₅ + outₕ₂·w₆<br/>" in draw(solution, "mermaid", digits=4)


# --- the formats -------------------------------------------------------------------------------

MERMAID_TEXT = r"(?:[^\"<>]|<span style='color:#[0-9A-F]{6}'>|</span>)*"
MERMAID_LABEL = rf"{MERMAID_TEXT}(<br/>{MERMAID_TEXT})*"
MERMAID_LINE = re.compile(
    rf'flowchart LR|  n_\w+(\["{MERMAID_LABEL}"\]|\("{MERMAID_LABEL}"\))'
    r"|  n_\w+ --> n_\w+|  classDef (symbol|loss) [\w:#,-]+|  class n_\w+(,n_\w+)* (symbol|loss)")


def test_mermaid_ids_are_safe_for_keyword_names(reserved):
    source = draw(reserved, "mermaid")
    for line in source.splitlines():
        assert MERMAID_LINE.fullmatch(line), line
    ids = re.findall(r"^  (\w+)[\[(]", source, re.M)
    assert "n_end" in ids and "n_graph" in ids and "n_o" in ids
    assert all(i.startswith("n_") for i in ids)


def test_mermaid_escapes_what_would_break_a_label():
    assert diagram.mermaid_escape('a "b" <c> #d') == "a #quot;b#quot; #lt;c#gt; #35;d"


def test_unknown_format_and_bad_digits_are_refused(seed):
    with pytest.raises(symbackprop.ProblemError) as error:
        draw(seed, "png")
    assert error.value.key == "format" and "tikz, mermaid, dot, svg" in error.value.message
    with pytest.raises(symbackprop.ProblemError) as error:
        draw(seed, "dot", digits=0)
    assert error.value.key == "digits"


def test_svg_without_graphviz_says_how_to_install_it(seed, monkeypatch):
    monkeypatch.setattr(diagram.shutil, "which", lambda name: None)
    with pytest.raises(symbackprop.ProblemError) as error:
        draw(seed, "svg")
    assert error.value.key == "format"
    assert "apt-get install graphviz" in error.value.message


def test_svg_is_valid_xml_with_every_box(reserved):
    require("dot")
    svg = draw(reserved, "svg")
    root = ET.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    titles = [g.find("svg:title", ns).text for g in root.iter(f"{{{ns['svg']}}}g")
              if g.get("class") == "node"]
    graph = reserved.problem.graph
    assert sorted(titles) == sorted([*graph.nodes, *graph.symbols])
    assert "Generated by graphviz" not in svg


TEX_DOCUMENT = r"""\documentclass{article}
\usepackage[margin=1cm]{geometry}
\usepackage{tikz}
\usetikzlibrary{%s}
\begin{document}
%s
\end{document}
"""


def test_tikz_compiles_with_tikz_alone(seed, sigmoid, tmp_path):
    pdflatex = require("pdflatex")
    # No amsmath or amssymb: the picture must not need the solution document's packages. The extra
    # problem brings the printer's \operatorname (softmax), \mathbb{1} (a symbolic ReLU slope) and a
    # value in scientific notation.
    extra = symbackprop.load({"nodes": {"y": "relu(w*x)", "p": "softmax(1, y, b)",
                                        "E": "(p - t)**2 + big*y"},
                              "values": {"w": 1, "t": 0, "b": 2, "big": 12346}}).solve()
    slope = symbackprop.load({"nodes": {"y": "relu(w*x)"}, "values": {"w": 1}}).solve()
    gates = symbackprop.load(EXAMPLES / "seed000_gates.yaml").solve()
    pictures = [draw(s, "tikz") for s in (seed, sigmoid, extra, slope, gates)]
    assert r"\operatorname" not in "".join(pictures) and r"\mathbb" not in "".join(pictures)
    assert r"\mathbf{1}" in pictures[3] and r"1.235 \times 10^{4}" in pictures[2]
    (tmp_path / "graph.tex").write_text(
        TEX_DOCUMENT % (",".join(TIKZ_LIBRARIES), "\n\\bigskip\n".join(pictures)), encoding="utf-8")
    result = subprocess.run([pdflatex, "-halt-on-error", "-interaction=nonstopmode",
                             "-no-shell-escape", "graph.tex"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "graph.pdf").stat().st_size > 0


# --- determinism -------------------------------------------------------------------------------

@pytest.mark.parametrize("format", ["tikz", "mermaid", "dot"])
def test_drawing_twice_gives_the_same_text(sigmoid, format):
    again = symbackprop.load(EXAMPLES / "sigmoid_2_2_2.yaml").solve()
    assert draw(sigmoid, format) == draw(sigmoid, format) == draw(again, format)


def test_output_does_not_depend_on_hash_order():
    # Set iteration order changes with PYTHONHASHSEED; the drawings must not.
    script = ("import sys, symbackprop; from symbackprop.printing.diagram import draw; "
              "s = symbackprop.load(sys.argv[1]).solve(); "
              "sys.stdout.write(''.join(draw(s, f) for f in ('tikz', 'mermaid', 'dot')))")
    outputs = {subprocess.run([sys.executable, "-c", script, str(EXAMPLES / "sigmoid_2_2_2.yaml")],
                              env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True,
                              check=True, timeout=120).stdout
               for seed in ("1", "2")}
    assert len(outputs) == 1


def test_svg_is_deterministic(seed):
    require("dot")
    assert draw(seed, "svg") == draw(seed, "svg")
