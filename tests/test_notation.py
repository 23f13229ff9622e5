"""The lecturer's notation (issue 12 item 6): `notation:` maps a name to LaTeX, used in the LaTeX and
Markdown solutions and the TikZ graph, checked against a whitelist; a title's `$...$` is mathematics
after the same check. Text keeps plain names and the title as written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from test_rendered_outputs import (KATEX_CHECK, KATEX_PACKAGE, OVERFULL, SETUP, missing,
                                   parse_markdown, pdflatex)

import symbackprop
from symbackprop.cli import main
from symbackprop.errors import ProblemError
from symbackprop.model import notation
from symbackprop.printing.diagram import draw

ROOT = Path(__file__).resolve().parent.parent
SIGMOID = ROOT / "worked_examples" / "sigmoid_2_2_2.yaml"
NOTATION = {"net_h1": "z^{(1)}_1", "out_h1": "a^{(1)}_1", "E": r"E_{\text{total}}", "eta": r"\alpha",
            "w5": "w^{(2)}_{11}"}


def problem_file(tmp_path: Path, **changes) -> Path:
    """A copy of the 2-2-2 sigmoid example with `changes` to its keys (notation: by default)."""
    data = yaml.safe_load(SIGMOID.read_text(encoding="utf-8"))
    data.update({"notation": NOTATION, **changes})
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def solve(path: Path, fmt: str, *options: str) -> str:
    result = CliRunner().invoke(main, ["solve", str(path), "--format", fmt, *options])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, str]:
    path = problem_file(tmp_path_factory.mktemp("notation"))
    return {fmt: solve(path, fmt) for fmt in ("tex", "md", "txt")}


# --- where the notation appears --------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["tex", "md"])
def test_notation_is_used_for_nodes_expressions_partials_updates_and_eta(outputs, fmt):
    # In LaTeX, \text is written \textnormal: in a bold step heading, \text{total} was bold.
    out = outputs[fmt].replace(r"\textnormal{", r"\text{") if fmt == "tex" else outputs[fmt]
    assert (r"\text{total}" in outputs[fmt]) == (fmt == "md")
    assert r"z^{(1)}_1 &= w_{1} i_{1} + w_{2} i_{2} + b_{1}" in out           # the node list
    assert r"a^{(1)}_1 &= \sigma\left(z^{(1)}_1\right)" in out                # an expression
    assert r"\mathrm{net}_{o_{1}} &= w^{(2)}_{11} a^{(1)}_1 + w_{6}" in out   # a node using both
    assert r"\frac{\partial E_{\text{total}}}{\partial z^{(1)}_1}" in out     # a partial
    # The update: braced, since the notation's own superscript and the + would be a double one.
    assert r"{w^{(2)}_{11}}^{+} &= w^{(2)}_{11} - \alpha \cdot \frac{\partial E_{\text{total}}}" \
           r"{\partial w^{(2)}_{11}}" in out
    assert r"{z^{(1)}_1}^{+}" in out                                          # after the update
    assert "learning rate " + (r"\(\alpha = 0.5\)" if fmt == "tex" else r"$\alpha = 0.5$") in out
    for default in (r"\mathrm{net}_{h_{1}}", r"\mathrm{out}_{h_{1}}", r"w_{5}", r"\eta"):
        assert default not in out, default


def test_notation_is_drawn_in_the_network_figure(outputs):
    tex = outputs["tex"]
    picture = tex[tex.index(r"\begin{tikzpicture}"):tex.index(r"\end{tikzpicture}")]
    assert "{$a^{(1)}_1$" in picture and "$w^{(2)}_{11} = 0.4$" in picture and "$E_{\\textrm{total}}$" in picture
    assert r"\text{" not in picture and r"\mathrm{out}_{h_{1}}" not in picture


def test_notation_is_drawn_in_the_tikz_graph(tmp_path):
    tex = solve(problem_file(tmp_path), "tex", "--figure", "graph")
    picture = tex[tex.index(r"\begin{tikzpicture}"):tex.index(r"\end{tikzpicture}")]
    assert "{$z^{(1)}_1$" in picture and "{$a^{(1)}_1$" in picture                  # the names
    assert r"$b_{2} + a^{(1)}_1 w^{(2)}_{11} + \mathrm{out}_{h_{2}} w_{6}$" in picture  # operations
    # The picture compiles with tikz alone: amsmath's \text becomes LaTeX's \textrm.
    assert r"$\partial E_{\textrm{total}}/\partial(\cdot)$" in picture
    assert r"\text{" not in picture and r"\mathrm{net}_{h_{1}}" not in picture
    # `symbackprop graph --format tikz` draws the same.
    assert "{$z^{(1)}_1$" in draw(symbackprop.load(problem_file(tmp_path)).solve(), "tikz")


def test_text_keeps_the_plain_names(outputs):
    txt = outputs["txt"]
    assert "net_h1 = w1*i1 + w2*i2 + b1" in txt and "learning rate: eta" in txt
    assert "z^{(1)}" not in txt and r"\alpha" not in txt and r"\text" not in txt


def test_without_notation_nothing_changes(tmp_path):
    """The worked examples are compared byte for byte elsewhere; here the same file with an empty
    notation: writes exactly what the file without it writes."""
    plain = problem_file(tmp_path)
    data = yaml.safe_load(plain.read_text(encoding="utf-8"))
    data.pop("notation")
    for fmt in ("tex", "md"):
        without = tmp_path / "without.yaml"
        without.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        empty = tmp_path / "empty.yaml"
        empty.write_text(yaml.safe_dump({**data, "notation": {}}, sort_keys=False), encoding="utf-8")
        assert solve(without, fmt) == solve(empty, fmt)


def test_a_pipe_in_notation_cannot_split_a_markdown_table_cell(tmp_path):
    out = solve(problem_file(tmp_path, notation={"w1": "|w|_1"}), "md")
    assert r"| $\vert w\vert _1$ |" in out and "$|w|_1$" not in out
    assert r"|w|_1" in solve(problem_file(tmp_path, notation={"w1": "|w|_1"}), "tex")


# --- the whitelist ---------------------------------------------------------------------------------

REFUSED = [
    r"\input{x}", r"\include{x}", r"\def\x{1}", r"\edef\x{1}", r"\write18{rm -rf x}", r"\catcode`\^=0",
    r"\csname input\endcsname", r"\usepackage{x}", r"\openout1=x", r"\read16 to\x", r"\immediate",
    r"\newcommand{\x}{1}", r"\renewcommand", r"\let\x\input", r"\expandafter", r"\href{x}{y}",
    r"\includegraphics{x}", r"\begin{x}", "{a", "a}", "}{", "$x$", "50%", "#1", "a & b", r"a \\ b",
    "^^5cinput", "x~y", "x_1_2", "x^2^3", r"\hat", "x_", r"\text{a_b}", r"\text{\alpha}", "α", "",
]


@pytest.mark.parametrize("tex", REFUSED)
def test_each_forbidden_snippet_is_one_line_naming_the_key_and_exit_2(tmp_path, tex):
    path = problem_file(tmp_path, notation={"net_h1": tex})
    result = subprocess.run([sys.executable, "-c", "from symbackprop.cli import main; main()", "solve",
                             str(path), "--format", "tex"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "key 'notation.net_h1'" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("tex", REFUSED)
def test_the_whitelist_refuses_the_same_without_the_command_line(tex):
    assert notation.refusal(tex) is not None


@pytest.mark.parametrize("bad, fragment", [
    ({"nope": "x"}, "'nope' is not a node or symbol"),
    ({"w1": 3}, "must be LaTeX text in quotes"),
    ("z_1", "notation: must map names to LaTeX"),
])
def test_notation_keys_are_names_of_the_problem_and_values_text(tmp_path, bad, fragment):
    with pytest.raises(ProblemError, match=fragment):
        symbackprop.load(problem_file(tmp_path, notation=bad))


ALL_COMMANDS = {  # every whitelisted command, a few per name, as a lecturer might use them
    "w1": r"\alpha\beta\gamma\delta\epsilon\varepsilon\zeta\eta\theta\vartheta\iota\kappa",
    "w2": r"\lambda\mu\nu\xi\pi\varpi\rho\varrho\sigma\varsigma\tau\upsilon\phi\varphi\chi\psi\omega",
    "w3": r"\Gamma\Delta\Theta\Lambda\Xi\Pi\Sigma\Upsilon\Phi\Psi\Omega",
    "w4": r"\prime\ell\partial\nabla\infty\cdot\cdots\ldots\times\ast\star\circ\dagger\top\hbar\imath\jmath",
    "b1": r"\leq\geq\neq\approx\in\to\sum = : ;",
    "w5": r"\mathrm{a}\mathbf{b}\mathit{c}\mathsf{d}\mathtt{e}\mathcal{F}\boldsymbol{\theta}",
    "w6": r"\operatorname{net}_{h1}\hat{y}\bar{y}\tilde{y}\vec{x}\dot{x}\ddot{x}\check{x}\breve{x}",
    "w7": r"\widehat{xy}\widetilde{xy}\overline{x}\underline{x}",
    "w8": r"E_{\text{total, mean}}' + [x] (y) - |z| / 2.5, \hat x^{\prime}_{1}",
}


def test_every_whitelisted_command_is_covered_here():
    used = {c for tex in ALL_COMMANDS.values() for c in notation.COMMANDS if "\\" + c in tex}
    assert used == set(notation.COMMANDS)
    assert all(notation.refusal(tex) is None for tex in ALL_COMMANDS.values())


def test_a_solution_in_every_whitelisted_command_compiles_with_pdflatex(tmp_path):
    if shutil.which("pdflatex") is None:
        missing(f"pdflatex is not installed: {SETUP}")
    tex = tmp_path / "notation.tex"
    tex.write_text(solve(problem_file(tmp_path, notation={**NOTATION, **ALL_COMMANDS}), "tex"),
                   encoding="utf-8")
    code, log = pdflatex(tex)
    assert code == 0, "\n".join(log.splitlines()[-40:])
    # And the graph alone, with tikz alone (no amsmath): `symbackprop graph --format tikz`.
    solution = symbackprop.load(problem_file(tmp_path, notation={**NOTATION, **ALL_COMMANDS})).solve()
    picture = tmp_path / "graph.tex"
    picture.write_text("\\documentclass{article}\n\\usepackage[margin=1cm,paperwidth=60cm]{geometry}\n"
                       "\\usepackage{tikz}\n\\usepackage{xcolor}\n\\usetikzlibrary{arrows.meta}\n"
                       "\\begin{document}\n" + draw(solution, "tikz") + "\\end{document}\n", encoding="utf-8")
    code, log = pdflatex(picture)
    assert code == 0, "\n".join(log.splitlines()[-40:])


def test_the_solution_with_the_issues_notation_compiles_without_overfull_lines(tmp_path):
    if shutil.which("pdflatex") is None:
        missing(f"pdflatex is not installed: {SETUP}")
    tex = tmp_path / "notation.tex"
    tex.write_text(solve(problem_file(tmp_path, title=r"A 2-2-2 $\sigma$ network, $\eta = 0.5$"), "tex"),
                   encoding="utf-8")
    code, log = pdflatex(tex)
    assert code == 0, "\n".join(log.splitlines()[-40:])
    assert all(float(width) <= 10 for width in OVERFULL.findall(log)), OVERFULL.findall(log)


def test_markdown_with_every_whitelisted_command_parses_with_katex(tmp_path):
    node = shutil.which("node")
    if node is None or not KATEX_PACKAGE.exists():
        missing(f"node or KaTeX is not installed: {SETUP}")
    md = solve(problem_file(tmp_path, notation={**NOTATION, **ALL_COMMANDS},
                            title=r"The $\sigma$ net, $\hat{y}_1$"), "md")
    fragments = [{"source": str(line), "math": math, "display": display}
                 for line, math, display in parse_markdown(md).math]
    assert any(r"\widehat{xy}" in f["math"] for f in fragments)
    done = subprocess.run([node, str(KATEX_CHECK)], input=json.dumps(fragments), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_latex_in_yamls_double_quotes_is_refused_with_the_reason(tmp_path):
    """In YAML's double quotes "\\alpha" is a bell and "lpha", "\\text" a tab and "ext": said, not
    typeset as "ext"."""
    path = tmp_path / "q.yaml"
    path.write_text('title: "Net $\\text{x}$"\nnodes: {y: w*x}\nvalues: {w: 1, x: 2}\n'
                    'notation: {w: "\\alpha"}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", str(path)])
    assert result.exit_code == 2 and "key 'title'" in result.output and "single quotes" in result.output
    path.write_text(path.read_text().replace('"Net $\\text{x}$"', "'Net $\\text{x}$'"), encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", str(path)])
    assert result.exit_code == 2 and "key 'notation.w'" in result.output and "U+0007" in result.output
    path.write_text(path.read_text().replace('"\\alpha"', "'\\alpha'"), encoding="utf-8")
    assert r"y &= \alpha x" in solve(path, "tex")


# --- $...$ in the title and notes -------------------------------------------------------------------

def test_a_titles_mathematics_passes_through_and_the_rest_stays_prose(tmp_path):
    path = problem_file(tmp_path, title=r"Learning rate $\alpha$ & 50% \$5 off",
                        notes=[r"With $z^{(1)}_1$ for net_h1"])
    assert r"\section*{Learning rate \(\alpha\) \& 50\% \$5 off}" in solve(path, "tex")
    assert r"\emph{With \(z^{(1)}_1\) for net\_h1}" in solve(path, "tex")
    md = solve(path, "md")
    assert r"# Learning rate $\alpha$ &amp; 50% \$5 off" in md
    assert r"> With $z^{(1)}_1$ for net\_h1" in md
    txt = solve(path, "txt")
    assert r"Learning rate $\alpha$ & 50% \$5 off" in txt and r"With $z^{(1)}_1$ for net_h1" in txt


@pytest.mark.parametrize("key, changes", [
    ("title", {"title": r"Hello $\input{x}$"}),
    ("notes.1", {"notes": ["fine", r"bad $\def\x{1}$ note"]}),
    ("notes", {"notes": r"$\write18{ls}$"}),
    ("title", {"title": r"$$ \catcode $$"}),
])
def test_a_titles_mathematics_off_the_whitelist_is_an_error_naming_the_key(tmp_path, key, changes):
    result = CliRunner().invoke(main, ["solve", str(problem_file(tmp_path, **changes)), "--format", "tex"])
    assert result.exit_code == 2
    assert f"key '{key}'" in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_problem_built_without_the_parser_still_writes_no_unchecked_tex():
    """Defence in depth: the printers check the title again and escape what fails."""
    problem = symbackprop.load({"nodes": {"y": "w*x"}, "values": {"w": 1, "x": 2}})
    problem.title = r"Bad $\input{/etc/passwd}$ and good $\beta$"
    tex = problem.solve().render("tex")
    assert r"\input" not in tex
    assert r"Bad \$\textbackslash{}input\{/etc/passwd\}\$ and good \(\beta\)" in tex


def test_math_spans():
    assert notation.math_spans(r"a \$5 $x$ b $ c") == [(False, "a $5 "), (True, "x"), (False, " b $ c")]
    assert notation.math_spans("$$") == [(False, "$$")]
    assert notation.math_spans("") == []


def test_a_units_delta_takes_the_notation_of_delta_and_its_node(tmp_path):
    notation = {**NOTATION, "delta_net_h1": r"\delta^{(1)}_1"}
    path = problem_file(tmp_path, notation=notation)
    tex = solve(path, "tex")
    assert r"\delta^{(1)}_1 = \frac{\partial E_{\textnormal{total}}}{\partial z^{(1)}_1}" in tex
    assert r"\delta_{h_{1}}" not in tex and r"\delta_{h_{2}}" in tex       # the others keep theirs
    assert "delta_h1 = dE/dnet_h1" in solve(path, "txt")                       # text: plain names
    bad = problem_file(tmp_path, notation={"delta_w1": r"\delta"})
    result = CliRunner().invoke(main, ["solve", str(bad)])
    assert result.exit_code == 2 and "notation.delta_w1" in result.stderr
