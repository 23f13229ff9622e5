"""`symbackprop train PROBLEM --lr A --lr B ... -o DIR`: the learning-rate study (study/)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import budget
from ..errors import ProblemError
from ..parsing.expressions import parse_number
from ..study import report, runs
from .common import _load, input_error, limited

#: Updates per learning rate when neither --steps nor --epochs is given.
DEFAULT_STEPS = 200


@click.command()
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lr", "rates", multiple=True, metavar="ETA",
              help="A learning rate to try (exact: 0.1 is 1/10); repeat for each rate. "
                   "Default: the problem's learning_rate.")
@click.option("--steps", type=click.IntRange(1),
              help=f"Updates per learning rate (default {DEFAULT_STEPS}).")
@click.option("--epochs", type=click.IntRange(1),
              help="Passes over the data per learning rate, in the problem's batches.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write loss.png, loss.svg, loss.tex and the report into (created).")
@click.option("--format", "fmt", type=click.Choice(["md", "tex"]), default="md", show_default=True,
              help="The report: report.md (Markdown, shows loss.png) or report.tex (LaTeX, "
                   "\\input's loss.tex).")
@budget.option
def train(problem: Path, rates: tuple[str, ...], steps: int | None, epochs: int | None,
          output: Path, fmt: str, time_limit: float) -> None:
    """Train PROBLEM with each learning rate for the same number of steps, plot the loss curves on
    one plot and write a report saying which rates diverge, oscillate, crawl or converge."""
    try:
        with limited(time_limit, problem):
            loaded = _load(problem, False)
            learning_rates = [_rate(text) for text in rates]
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


def _rate(text: str):
    try:
        value = parse_number(text)
    except ProblemError as exc:
        raise ProblemError(f"{exc.message}", key="--lr") from None
    if not (value.is_number and value.is_positive):
        raise ProblemError(f"a learning rate must be greater than 0, got {text}", key="--lr")
    return value


def _run(problem, rates, steps, epochs):
    """Run the study; on a terminal, with a progress bar over all the rates' steps."""
    if not sys.stderr.isatty():
        return runs.run_study(problem, rates, steps, epochs=epochs)
    _, checked, count, _ = runs.prepare(problem, rates, steps, epochs)
    with click.progressbar(length=count * len(checked), label="training", file=sys.stderr) as bar:
        return runs.run_study(problem, rates, steps, epochs=epochs, progress=bar.update)
