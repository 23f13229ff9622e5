"""`symbackprop train PROBLEM --lr A --lr B ... -o DIR`: the learning-rate study (study/)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import sympy as sp

from ..errors import ProblemError
from ..study import report, runs
from . import options
from .common import input_error, limited, load_problem

#: Updates per learning rate when neither --steps nor --epochs is given.
DEFAULT_STEPS = 200


@click.command()
@options.problem()
@options.learning_rates
@options.steps(f"Updates per learning rate (default {DEFAULT_STEPS}).")
@options.epochs("Passes over the data per learning rate, in the problem's batches.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write loss.png, loss.svg, loss.tex and the report into (created).")
@options.output_format(report.STUDY_FORMATS, "md", "The report: report.md (Markdown, shows loss.png) or "
                       "report.tex (LaTeX, \\input's loss.tex).")
@options.time_limit
def train(problem: Path, rates: tuple[sp.Expr, ...], steps: int | None, epochs: int | None,
          output: Path, fmt: str, time_limit: float) -> None:
    """Train PROBLEM with each learning rate for the same number of steps, plot the loss curves on
    one plot and write a report saying which rates diverge, oscillate, crawl or converge."""
    try:
        with limited(time_limit, problem):
            loaded = load_problem(problem, False)
            learning_rates = list(rates)
            if not learning_rates:
                if loaded.learning_rate is None:
                    raise ProblemError("give --lr, or learning_rate: in the problem file",
                                       key="learning_rate")
                learning_rates = [loaded.learning_rate]
            if steps is None and epochs is None:
                steps = DEFAULT_STEPS
            study = _run(loaded, learning_rates, steps, epochs)
            written = report.write(study, output, fmt)
    except ProblemError as exc:
        raise input_error(exc) from None
    for path in written:
        click.echo(f"wrote {path}", err=True)


def _run(problem, rates, steps, epochs):
    """Run the study; on a terminal, with a progress bar over all the rates' steps."""
    if not sys.stderr.isatty():
        return runs.run_study(problem, rates, steps, epochs=epochs)
    _, checked, count, _ = runs.prepare(problem, rates, steps, epochs)
    with click.progressbar(length=count * len(checked), label="training", file=sys.stderr) as bar:
        return runs.run_study(problem, rates, steps, epochs=epochs, progress=bar.update)
