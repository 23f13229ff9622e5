"""`symbackprop check PROBLEM CLAIMS`: a hand calculation judged claim by claim."""

from __future__ import annotations

from pathlib import Path

import click
import sympy as sp

from ..check.claims import load_claims
from ..check.judge import Tolerance, judge_claims
from ..check.report import CHECK_FORMATS, WRONG_EXIT, render_report
from ..errors import ProblemError
from ..homework import gradescope_results as gradescope
from . import options
from .common import InputError, input_error, limited, load_problem, write_output

FORMATS = (*CHECK_FORMATS, "gradescope")


@click.command()
@options.problem()
@click.argument("claims", type=options.FILE)
@options.output_format(FORMATS, "txt", "txt for the terminal, md for GitHub, json: a summary and one "
                       "record per claim, gradescope: Gradescope's results.json, one test per asked "
                       "quantity.")
@click.option("--rel-tol", type=options.ExactNumber(0),
              help="Judge decimals by this relative tolerance instead of the digits written (half a "
                   "unit in the last place).")
@click.option("--digits", type=click.IntRange(1, 30),
              help="Judge decimals as right within one unit in this significant digit of the correct "
                   "value (the window of `symbackprop variants` and its Moodle and Canvas exports).")
@click.option("--points", type=click.FloatRange(0, min_open=True),
              help=f"--format gradescope: the points of each asked quantity [default: "
                   f"{gradescope.DEFAULT_POINTS}].")
@click.option("--visibility", type=click.Choice(gradescope.VISIBILITIES),
              help=f"--format gradescope: when students see the tests [default: "
                   f"{gradescope.DEFAULT_VISIBILITY}].")
@options.output
@options.time_limit
def check(problem: Path, claims: Path, fmt: str, rel_tol: sp.Expr | None, digits: int | None,
          points: float | None,
          visibility: str | None, output: Path | None, time_limit: float) -> None:
    """Check CLAIMS (a YAML file: quantity -> claimed value) against PROBLEM: which claims are
    wrong, the correct values and the steps to them, which wrong claim the others follow from, and
    the mistake that reproduces each wrong number. Exit status: 0 all right, 1 any wrong, 2 bad input.

    With --format gradescope the results are written on bad input too (one failed test that says
    why, worth the whole problem), so that an autograder always has its results.json; the exit
    status is the same.

    \b
    out_h1: 0.593269992     a forward value
    dE/dw5: 0.082167041     a gradient of the loss
    dE/dw3: 2*x_n           a formula, right when equivalent
    w5+: 0.35891648         a parameter after the update
    E+: 0.291027924         a value in the forward pass after the update
    E[3]: 0.1304            with data: example 3's value (E alone is the batch loss)
    """
    if fmt != "gradescope" and (points is not None or visibility is not None):
        raise InputError(f"option '{'--points' if points is not None else '--visibility'}': "
                         "applies to --format gradescope only")
    if rel_tol is not None and digits is not None:
        raise InputError("option '--digits': give --rel-tol or --digits, not both")
    tolerance = (Tolerance(relative=rel_tol) if rel_tol is not None else
                 Tolerance(digits=digits) if digits is not None else None)
    points = gradescope.DEFAULT_POINTS if points is None else points
    visibility = visibility or gradescope.DEFAULT_VISIBILITY
    loaded = None
    try:
        with limited(time_limit, problem):
            loaded = load_problem(problem, False)
            report = judge_claims(loaded, load_claims(claims, loaded), tolerance, str(claims))
            written = (gradescope.render(gradescope.results(report, points, visibility))
                       if fmt == "gradescope" else render_report(report, fmt))
    except (ProblemError, InputError) as exc:
        error = input_error(exc) if isinstance(exc, ProblemError) else exc
        if fmt == "gradescope":
            write_output(gradescope.render(gradescope.error_results(error.message, loaded, points)), output)
        raise error from None
    write_output(written, output)
    if not report.all_right:
        click.get_current_context().exit(WRONG_EXIT)
