"""Numbers as the problem writes them (issue 12): decimals stay decimals, fractions stay fractions,
rounded values follow "≈" with every digit asked, and a node keeps its written term order."""

from __future__ import annotations

import json
import re
from pathlib import Path

import sympy as sp
from click.testing import CliRunner

from symbackprop.cli import main

EXAMPLES = Path(__file__).parent.parent / "worked_examples"
MAZUR = str(EXAMPLES / "sigmoid_2_2_2.yaml")


def solve(*args: str) -> str:
    result = CliRunner().invoke(main, ["solve", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_forward_pass_reads_as_the_published_example():
    """Was `net_h1 = b1 + i1*w1 + i2*w2 = 7/20 + 1/20*3/20 + 1/10*1/5 = 151/400 = 0.3775` and
    `out_h1 = sigmoid(151/400) ≈ 0.59327`."""
    text = solve(MAZUR, "--digits", "9")
    assert "net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3775\n" in text
    assert "out_h1 = sigmoid(net_h1) = 1/(1 + e^(-0.3775)) ≈ 0.593269992\n" in text
    # A rounded number inside a formula makes the formula itself an approximation.
    assert "net_o1 = w5*out_h1 + w6*out_h2 + b2 ≈ 0.4*0.593269992 + 0.45*0.596884378 + 0.6 ≈ " in text
    assert "E = (t1 - out_o1)**2/2 + (t2 - out_o2)**2/2 ≈ (0.01 - 0.751365070)**2/2" in text


def test_no_fraction_of_a_number_written_as_a_decimal_in_latex():
    tex = solve(MAZUR, "--format", "tex", "--digits", "9")
    assert re.findall(r"\\frac\{[0-9]+\}\{[0-9]+\}", tex) == []
    assert r"\frac{1}{1 + e^{-0.3775}}" in tex and r"\approx 0.593269992" in tex
    # Mixed policies in one line were the example: 1/10 + 1/5*1 + (-0.4)*1/2.
    assert "151}{400" not in tex


def test_exact_keeps_fractions_beside_decimals():
    text = solve(MAZUR, "--numbers", "exact")
    assert "= 151/400 = 0.3775" in text
    assert "sigmoid(151/400)" in text


def test_a_problem_written_in_fractions_keeps_them(tmp_path):
    problem = tmp_path / "thirds.yaml"
    problem.write_text("nodes:\n  y: w*x\n  E: (y - t)**2\nvalues: {w: 1/3, x: 2, t: 0.5}\n",
                       encoding="utf-8")
    text = solve(str(problem))
    assert "y = w*x = (1/3)*2 = 2/3 ≈ 0.666667" in text
    # The same numbers written as decimals: the value that does not terminate is rounded.
    problem.write_text("nodes:\n  y: w*x\n  E: (y - t)**2\nvalues: {w: 0.25, x: 2, t: 0.3}\n",
                       encoding="utf-8")
    assert "y = w*x = 0.25*2 = 0.5\n" in solve(str(problem))


def test_digits_keep_trailing_zeros_and_decimals_fix_the_places():
    assert "≈ 0.751365070" in solve(MAZUR, "--digits", "9")
    text = solve(MAZUR, "--decimals", "4")
    assert "out_h1 = sigmoid(net_h1) = 1/(1 + e^(-0.3775)) ≈ 0.5933\n" in text
    # Fixed places: a small gradient keeps its four places, it is not written in scientific form.
    lines = [line for line in text.splitlines() if line.strip().startswith("dE/dw1 = ")]
    assert lines and re.search(r"≈ -?0\.000[0-9]$", lines[-1]), lines


def test_the_numbers_policy_is_checked(tmp_path):
    problem = tmp_path / "bad.yaml"
    problem.write_text("nodes:\n  E: w**2\nvalues: {w: 0.5}\nnumbers: decimal\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", str(problem)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "numbers: must be one of as-written, exact" in result.stderr
    problem.write_text("nodes:\n  E: w**2\nvalues: {w: 0.5}\nnumbers: exact\n", encoding="utf-8")
    assert "E = w**2 = (1/2)**2 = 1/4 = 0.25" in solve(str(problem))


def test_the_check_report_follows_the_same_policy(tmp_path):
    claims = tmp_path / "claims.yaml"
    claims.write_text("dE/dw5: 0.5\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", MAZUR, str(claims)])
    assert result.exit_code == 1, result.output
    assert "151/400" not in result.stdout and "dE/dw5 = out_h1 ≈ " not in result.stdout
    assert "dnet_o1/dw5 = out_h1 ≈ 0.593270\n" in result.stdout


def test_published_figures_to_their_printed_digits():
    """Every figure of the published example, rounded to the digits it prints, is in the solution."""
    text = solve(MAZUR, "--digits", "9")
    numbers = [sp.Rational(n) for n in re.findall(r"-?[0-9]+\.[0-9]+", text)]
    for figure in ("0.593269992", "0.298371109", "0.082167041", "0.000438568", "0.35891648",
                   "0.149780716", "0.75136507", "0.772928465", "0.74136507"):
        places = len(figure.split(".")[1])
        target = sp.Rational(figure)
        assert any(abs(n - target) <= sp.Rational(1, 2 * 10 ** places) for n in numbers), figure


def test_a_value_that_rounds_to_a_whole_number_it_is_not_keeps_its_closed_form():
    """-log(1 - 1.00000) divides by zero as printed: a saturated sigmoid inside a formula is written
    sigmoid(400), its decimal only after the formula (the lecturer's review, issue 12)."""
    text = solve(str(EXAMPLES / "saturated_cross_entropy.yaml"))
    assert "E = -log(1 - p) = -log(1 - sigmoid(400)) ≈ 400.000\n" in text
    assert "1 - 1.00000" not in text
    assert "p = sigmoid(z) = 1/(1 + e^(-400)) ≈ 1.00000\n" in text


def test_max_and_abs_read_as_written_in_text_and_as_sympy_in_the_answer_key(tmp_path):
    problem = tmp_path / "max.yaml"
    problem.write_text("nodes:\n  y: max(0, w*x) + abs(x - 1)\n  E: y**2\nvalues: {w: 0.5, x: 3}\n",
                       encoding="utf-8")
    text = solve(str(problem))
    assert "y = max(0, w*x) + |x - 1|" in text and "Max(" not in text and "Abs(" not in text
    key = json.loads(solve(str(problem), "--format", "json"))
    assert key["forward"]["y"]["expr"] in ("Max(0, w*x) + Abs(x - 1)", "Abs(x - 1) + Max(0, w*x)")
