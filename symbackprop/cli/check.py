"""`symbackprop check PROBLEM CLAIMS`: a hand calculation judged claim by claim."""

from __future__ import annotations

from pathlib import Path

import click
import sympy as sp

from .. import budget
from ..check.claims import load_claims
from ..check.judge import check as check_claims
from ..check.report import FORMATS, WRONG_EXIT, render_report
from ..errors import ProblemError
from ..parsing.expressions import parse_number
from .common import _load, _write, input_error, limited


@click.command()
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("claims", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="txt", show_default=True,
              help="txt for the terminal, md for GitHub, json: a summary and one record per claim.")
@click.option("--rel-tol", help="Judge decimals by this relative tolerance instead of the digits "
                                "written (half a unit in the last place).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@budget.option
def check(problem: Path, claims: Path, fmt: str, rel_tol: str | None, output: Path | None,
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
            tolerance = _relative_tolerance(rel_tol)
            loaded = _load(problem, False)
            report = check_claims(loaded, load_claims(claims, loaded), tolerance, str(claims))
            written = render_report(report, fmt)
    except ProblemError as exc:
        raise input_error(exc) from None
    _write(written, output)
    if not report.all_right:
        click.get_current_context().exit(WRONG_EXIT)



def _relative_tolerance(raw: str | None) -> sp.Expr | None:
    if raw is None:
        return None
    try:
        value = parse_number(raw)
    except ProblemError as exc:
        raise ProblemError(exc.message, key="--rel-tol") from None
    if not (value.is_real and value >= 0):
        raise ProblemError(f"must be a number of at least 0, got {raw}", key="--rel-tol")
    return value
