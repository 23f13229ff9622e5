"""Homework sheets (issue 14): `solve --sheet question|solution|blanks`, `render(sheet=, blank=,
student=)`.

The question sheet gives nothing away: no computed value of any worked example occurs in it, at
any of several digit counts. The blanks sheet boxes every printed occurrence of a blanked value and
keeps the others. The solution's parts carry the labels of the tasks they answer. The LaTeX sheets
compile and the Markdown sheets' math parses with KaTeX (helpers of test_rendered_outputs.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner
from test_rendered_outputs import (
    KATEX_CHECK,
    KATEX_PACKAGE,
    SETUP,
    missing,
    parse_markdown,
    pdflatex,
)

import symbackprop
from symbackprop.cli import main
from symbackprop.printing.formats import Format
from symbackprop.printing.sheets import BOXES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "worked_examples").glob("*.yaml"))
MAZUR = ROOT / "worked_examples" / "sigmoid_2_2_2.yaml"
FORMATS = ("txt", "md", "tex")


@pytest.fixture(scope="module")
def solutions() -> dict[str, symbackprop.Solution]:
    return {path.stem: symbackprop.load(path).solve() for path in EXAMPLES}


def computed(solution) -> list[sp.Expr]:
    """Every value the solution computes: forward values, gradients (deltas among them), the
    updated parameters, the forward pass after the update, the batch's losses."""
    values = [solution.batch_loss, solution.batch_loss_after, *solution.after_update.values(),
              *(u.new for u in solution.updates), *(g.value for g in solution.gradients.values())]
    for example in solution.examples:
        values += [s.value for s in example.forward.values() if not s.given]
        values += [g.value for g in example.gradients.values()]
    return [v for v in values if v is not None and v.is_number]


def given(solution) -> list[sp.Expr]:
    problem = solution.problem
    values = [*problem.values.values(), *problem.given.values(), *problem.context.values()]
    values += [v for e in solution.examples for v in e.inputs.values()]
    return values + ([problem.learning_rate] if problem.learning_rate is not None else [])


def printed(values, problem, digits=(3, 4, 6)) -> set[str]:
    """The decimals a solution prints for these values, as it prints them (to 3, 4 and 6 digits),
    without their signs."""
    found = set()
    for d in digits:
        fmt = Format.of(problem, d)
        for v in values:
            found |= {fmt.shown_decimal(abs(v)), fmt.inside(abs(v)), fmt.decimal(abs(v), d)}
    return found


#: What a reader never sees: a TikZ position (1.95,1.25) and a TeX length (0.4pt, 1.05cm).
LAYOUT = re.compile(r"\(-?[0-9.]+,-?[0-9.]+\)|-?[0-9.]+(?:pt|cm|mm|em)\b")


def occurs(number: str, text: str) -> bool:
    return re.search(rf"(?<![0-9.]){re.escape(number)}(?![0-9])", LAYOUT.sub(" ", text)) is not None


def answers(solution) -> set[str]:
    """The printed decimals of the computed values that no given value shares (a weight of 0.5
    may be printed however many computed values are 0.5), whole numbers left out."""
    shared = printed(given(solution), solution.problem)
    return {n for n in printed(computed(solution), solution.problem) - shared
            if not re.fullmatch(r"[0-9]+", n)}


# --- the question sheet ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_the_question_sheet_holds_no_answer(solutions, name: str, fmt: str):
    solution = solutions[name]
    for digits in (4, 6):
        sheet = solution.render(fmt, sheet="question", digits=digits)
        leaked = sorted(n for n in answers(solution) if occurs(n, sheet))
        assert not leaked, f"{name}.{fmt} question sheet shows computed values {leaked}"
        assert "(a)" in sheet and f"Give numerical answers to {digits} significant digits." in sheet


def test_the_check_finds_a_value_in_the_solution(solutions):
    """The search above is not vacuous: the solution itself shows the answers it looks for."""
    solution = solutions["sigmoid_2_2_2"]
    assert {"0.593270", "0.0821670", "0.358916"} <= answers(solution)
    shown = solution.render("md")
    assert all(occurs(n, shown) for n in ("0.593270", "0.0821670", "0.358916"))


def test_the_question_sheet_names_the_tasks_in_each_format(solutions):
    solution = solutions["sigmoid_2_2_2"]
    txt = solution.render("txt", sheet="question")
    assert "(b) Compute ∂E/∂w1, ∂E/∂w2" in txt
    assert ("(c) Update w1, w2, w3, w4, w5, w6, w7 and w8 by one step of gradient descent with η = 0.5, "
            "and compute the loss E⁺ after the update.") in txt
    assert "Name: ____" in txt and "ID: ____" in txt
    md = solution.render("md", sheet="question")
    assert r"**(b)** Compute $\partial E/\partial w_{1}$" in md and r"$E^{+}$" in md
    tex = solution.render("tex", sheet="question")
    assert r"\item[(a)] Compute the forward pass and the loss \(E\)." in tex
    # The figure keeps the given weights and inputs, and shows no forward value.
    assert "w₅ = 0.4" in md and "netₕ₁ =" not in md and "0.3775" not in md


def test_a_data_problem_question_lists_the_batch(solutions):
    txt = solutions["minibatch_relu"].render("txt", sheet="question")
    assert "example 1: x1 = 0.5, x2 = -1, t = 1" in txt
    assert ("(a) Compute the forward pass for examples 1 and 2 and the batch loss E (mean over the "
            "batch).") in txt


def test_a_student_fills_the_name_line(solutions):
    student = {"id": "s1", "name": "Ada Lovelace", "seed": "3fa2c9"}
    for fmt in FORMATS:
        sheet = solutions["sigmoid_2_2_2"].render(fmt, sheet="question", student=student)
        assert "Ada Lovelace" in sheet and "s1" in sheet and "3fa2c9" in sheet and "____" not in sheet
    # A name is prose: it cannot inject TeX.
    tex = solutions["sigmoid_2_2_2"].render("tex", sheet="question", student={"name": "A_b \\x"})
    assert r"A\_b \textbackslash{}x" in tex


@pytest.mark.parametrize("student", [{"nom": "x"}, {"name": 3}, ["name"]])
def test_a_bad_student_is_a_problem_error(solutions, student):
    with pytest.raises(symbackprop.ProblemError, match="student"):
        solutions["sigmoid_2_2_2"].render("txt", sheet="question", student=student)


def test_a_question_fragment_has_no_preamble(solutions):
    body = solutions["sigmoid_2_2_2"].render("tex", sheet="question", fragment=True)
    assert r"\documentclass" not in body and r"\begin{document}" not in body
    assert r"\item[(c)]" in body


# --- the solution sheet ----------------------------------------------------------------------------

def test_the_solution_sheet_heads_each_part_with_its_task(solutions):
    solution = solutions["sigmoid_2_2_2"]
    md = solution.render("md", sheet="solution")
    for heading in ("## (a) Forward pass", "## (a) Loss", "## (b) Backward pass",
                    "## (c) Gradient descent update", "## (c) Forward pass after the update"):
        assert heading in md
    assert "## 1. Forward pass" not in md and "Name:" not in md
    tex = solution.render("tex", sheet="solution")
    assert r"\subsection*{(b) Backward pass}" in tex
    txt = solution.render("txt", sheet="solution")
    assert "\n(c) Gradient descent update\n" in txt


def test_the_matrix_form_sheet_labels_both_backward_parts(solutions):
    md = solutions["seed004_matrix_form"].render("md", sheet="solution", form="both")
    assert "## (b) Backward pass in matrix form" in md and "## (b) Backward pass, entry by entry" in md


CUSTOM = """
title: Own tasks
nodes: {y: w*x, E: (y - t)**2/2}
values: {w: 0.5, x: 2, t: 3}
parameters: [w]
learning_rate: 0.1
tasks:
  - Compute $y$ and the loss.
  - {task: "Find $\\\\partial E/\\\\partial w$.", answers: [dE/dw]}
"""


def test_a_problems_own_tasks_stand_above_its_solution_unlabelled():
    solution = symbackprop.loads(CUSTOM).solve()
    md = solution.render("md", sheet="solution")
    assert md.index(r"**(b)** Find $\partial E/\partial w$.") < md.index("## The problem")
    assert "## Forward pass" in md and "## (a)" not in md
    question = solution.render("txt", sheet="question")
    assert "(a) Compute $y$ and the loss." in question
    # Blanks default to the tasks' answers: here dE/dw alone, -4 (w+ = 0.5 + 0.4 = 0.9 stays).
    blanks = solution.render("txt", sheet="blanks")
    assert "dE/dw = x*(y - t) = [________]" in blanks and "-4" not in blanks and "= 0.9" in blanks


# --- the blanks sheet ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_blanked_values_are_boxes_everywhere_and_the_others_stay(solutions, fmt: str):
    solution = solutions["sigmoid_2_2_2"]
    sheet = solution.render(fmt, sheet="blanks", blank=_keys(solution, "dE/dw5", "w5+", "out_h1"))
    assert BOXES[fmt] in sheet
    # dE/dw5, w5+ and out_h1 at 6 digits (the derivation), at 4 (the figure) and out_h1 exactly.
    for gone in ("0.0821670", "0.358916", "0.593270", "0.5933", "0.08217"):
        assert not occurs(gone, sheet), gone
    for kept in ("0.000438568", "0.149781", "0.596884", "0.298371", "0.3775"):
        assert occurs(kept, sheet), kept


def test_the_blanks_default_to_the_tasks_answers(solutions):
    solution = solutions["sigmoid_2_2_2"]
    sheet = solution.render("md", sheet="blanks")
    for gone in ("0.298371", "0.0821670", "0.000438568", "0.358916", "0.291028"):
        assert not occurs(gone, sheet), gone
    assert occurs("0.593270", sheet)      # out_h1 is not asked for


def test_the_problems_blank_key_is_used():
    text = MAZUR.read_text(encoding="utf-8") + "blank: [E+]\n"
    sheet = symbackprop.loads(text).solve().render("txt", sheet="blanks")
    assert not occurs("0.291028", sheet) and occurs("0.0821670", sheet)


def test_the_api_takes_blanks_as_keys(solutions):
    solution = solutions["sigmoid_2_2_2"]
    assert solution.render("txt", sheet="blanks", blank=["w5+"]) == \
        solution.render("txt", sheet="blanks", blank=_keys(solution, "w5+"))
    with pytest.raises(symbackprop.ProblemError, match="blank"):
        solution.render("txt", sheet="blanks", blank=["dE/dzz"])


def _keys(solution, *keys):
    from symbackprop.parsing.homework import quantities
    return quantities(list(keys), solution.problem, "--blank")


# --- the command line ------------------------------------------------------------------------------

@pytest.mark.parametrize("args, key", [
    (["--sheet", "question", "--format", "json"], "--sheet"),
    (["--sheet", "blanks", "--format", "json"], "--sheet"),
    (["--blank", "dE/dw5"], "--blank"),
    (["--sheet", "solution", "--blank", "dE/dw5"], "--blank"),
    (["--sheet", "blanks", "--blank", "dE/dzz"], "--blank"),
    (["--sheet", "blanks", "--blank", "dE/dw5,dE/dw5"], "--blank"),
    (["--sheet", "question", "--symbolic"], "--sheet"),
    (["--sheet", "blanks", "--steps", "2"], "--sheet"),
])
def test_bad_sheet_options_are_one_line_and_exit_2(args, key):
    result = CliRunner().invoke(main, ["solve", str(MAZUR), *args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and "Traceback" not in result.output


def test_the_json_solution_sheet_is_the_answer_key():
    result = CliRunner().invoke(main, ["solve", str(MAZUR), "--sheet", "solution", "--format", "json"])
    plain = CliRunner().invoke(main, ["solve", str(MAZUR), "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.output) == json.loads(plain.output)


def test_the_cli_writes_a_blanks_sheet():
    result = CliRunner().invoke(main, ["solve", str(MAZUR), "--sheet", "blanks", "--blank", "dE/dw5, w5+"])
    assert result.exit_code == 0 and BOXES["txt"] in result.output and not occurs("0.358916", result.output)


# --- they compile and render -----------------------------------------------------------------------

SHEET_EXAMPLES = ["sigmoid_2_2_2", "seed000_gates", "minibatch_relu", "seed004_matrix_form"]


@pytest.mark.parametrize("sheet", ["question", "blanks"])
@pytest.mark.parametrize("name", SHEET_EXAMPLES)
def test_latex_sheets_compile(solutions, name: str, sheet: str, tmp_path: Path):
    if shutil.which("pdflatex") is None:
        missing(f"pdflatex is not installed: {SETUP}")
    tex = tmp_path / f"{name}.tex"
    student = {"name": "Ada", "id": "s1", "seed": "3fa2"}
    tex.write_text(solutions[name].render("tex", sheet=sheet, student=student), encoding="utf-8")
    code, log = pdflatex(tex)
    assert code == 0, f"{name} {sheet} sheet does not compile:\n{log[-3000:]}"


def test_a_question_fragment_compiles_inside_a_class_file(solutions, tmp_path: Path):
    """A class's file \\input-s (or concatenates) the fragments: two students' sheets in one."""
    if shutil.which("pdflatex") is None:
        missing(f"pdflatex is not installed: {SETUP}")
    solution = solutions["sigmoid_2_2_2"]
    for student in ("a", "b"):
        (tmp_path / f"{student}.tex").write_text(solution.render(
            "tex", sheet="question", fragment=True, student={"name": student}), encoding="utf-8")
    (tmp_path / "class.tex").write_text(
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb,xcolor,graphicx,tikz}\n"
        "\\usetikzlibrary{arrows.meta,positioning}\n\\begin{document}\n\\input{a}\n\\clearpage\n"
        "\\input{b}\n\\end{document}\n", encoding="utf-8")
    code, log = pdflatex(tmp_path / "class.tex")
    assert code == 0, log[-3000:]


def test_markdown_sheets_parse_with_katex(solutions):
    node = shutil.which("node")
    if node is None:
        missing(f"node is not installed: {SETUP}")
    if not KATEX_PACKAGE.exists():
        missing(f"KaTeX is not installed in tests/katex: {SETUP}")
    fragments = []
    for name, solution in solutions.items():
        for sheet in ("question", "blanks", "solution"):
            markdown = parse_markdown(solution.render("md", sheet=sheet, student={"name": "Ada_*"}))
            assert not markdown.errors, f"{name} {sheet}: {markdown.errors}"
            fragments += [{"source": f"{name}.{sheet}:{line}", "math": math, "display": display}
                          for line, math, display in markdown.math]
    assert any(BOXES["md"] in f["math"] for f in fragments)
    done = subprocess.run([node, str(KATEX_CHECK)], input=json.dumps(fragments), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_a_courses_own_solution_template_never_reaches_the_question_sheet(solutions, tmp_path: Path):
    """A course's solution.md.j2 that knows nothing of sheets (it writes every forward value) is
    its solution's; the question sheet stays the shipped one, with no answer in it."""
    (tmp_path / "solution.md.j2").write_text("{% for f in forward %}{{ f.equation.rhs }}\n{% endfor %}")
    solution = solutions["sigmoid_2_2_2"]
    assert "0.593270" in solution.render("md", template_dir=tmp_path)
    question = solution.render("md", sheet="question", template_dir=tmp_path)
    assert "## Tasks" in question and not occurs("0.593270", question)


def test_a_given_value_equal_to_a_blanked_one_stays_in_the_statement(solutions):
    """seed003's context gives x4 = 1, and its loss E is 1: the statement keeps x4 = 1, the
    derivation boxes E."""
    sheet = solutions["seed003_relu_unit"].render("txt", sheet="blanks", blank=["E"])
    assert "x4 = 1" in sheet and "E = [________]" in sheet


def test_a_blanked_updated_weight_boxes_the_forward_pass_after_the_update_too():
    """net_o1+ = w5+ out_h1+ + w6+ out_h2+ + b2 solves for w5+ (a lecturer's review found it): with
    w5+ blanked, every value of the pass after the update is boxed; with dE/dw5 alone, none is."""
    from click.testing import CliRunner

    from symbackprop.cli import main

    def after(blank: str) -> str:
        result = CliRunner().invoke(main, ["solve", str(ROOT / "worked_examples" / "sigmoid_2_2_2.yaml"),
                                           "--sheet", "blanks", "--blank", blank])
        assert result.exit_code == 0, result.output
        return result.output.split("Forward pass after the update")[1]

    assert "1.05685" not in after("dE/dw5, w5+") and after("dE/dw5, w5+").count("[________]") >= 9
    assert "1.05685" in after("dE/dw5")
