"""`symbackprop check PROBLEM CLAIMS`: a hand calculation judged claim by claim."""

from __future__ import annotations

from pathlib import Path

import click
import sympy as sp

from ..check.claims import load_claims
from ..check.judge import judge_claims
from ..check.report import CHECK_FORMATS, WRONG_EXIT, render_report
from ..errors import ProblemError
from . import options
from .common import input_error, limited, load_problem, write_output


@click.command()
@options.problem()
@click.argument("claims", type=options.FILE)
@options.output_format(CHECK_FORMATS, "txt", "txt for the terminal, md for GitHub, json: a summary and one "
                       "record per claim.")
@click.option("--rel-tol", type=options.ExactNumber(0),
              help="Judge decimals by this relative tolerance instead of the digits written (half a "
                   "unit in the last place).")
@options.output
@options.time_limit
def check(problem: Path, claims: Path, fmt: str, rel_tol: sp.Expr | None, output: Path | None,
          time_limit: float) -> None:
    """Check CLAIMS (a YAML file: quantity -> claimed value) against PROBLEM: which claims are
    wrong, the correct values and the steps to them, which wrong claim the others follow from, and
    the mistake that reproduces each wrong number. Exit status: 0 all right, 1 any wrong, 2 bad input.

    \b
    out_h1: 0.593269992     a forward value
    dE/dw5: 0.082167041     a gradient of the loss
    dE/dw3: 2*x_n           a formula, right when equivalent
    w5+: 0.35891648         a parameter after the update
    E+: 0.291027924         a value in the forward pass after the update
    E[3]: 0.1304            with data: example 3's value (E alone is the batch loss)
    """
    try:
        with limited(time_limit, problem):
            loaded = load_problem(problem, False)
            report = judge_claims(loaded, load_claims(claims, loaded), rel_tol, str(claims))
            written = render_report(report, fmt)
    except ProblemError as exc:
        raise input_error(exc) from None
    write_output(written, output)
    if not report.all_right:
        click.get_current_context().exit(WRONG_EXIT)
