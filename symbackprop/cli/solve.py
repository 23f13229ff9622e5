"""`symbackprop solve [PROBLEM]`: the worked solution in txt, md, tex or json."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import budget
from ..engine.training import steps_for
from ..errors import ProblemError
from ..parsing.expressions import parse_number
from ..printing import rendering as render_module
from .common import _load, _write, input_error, limited


@click.command()
@click.argument("problem", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(render_module.FORMATS), default="txt",
              show_default=True,
              help="txt: every step for the terminal; md: Markdown for GitHub; tex: LaTeX; "
                   "json: the answer key.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.option("--digits", type=click.IntRange(1, 100), default=render_module.DEFAULT_DIGITS,
              show_default=True, help="Significant digits of the decimals shown (txt, md, tex).")
@click.option("--symbolic", is_flag=True,
              help="The general derivation only, without numbers (for lecture notes).")
@click.option("--fragment", is_flag=True,
              help="LaTeX: the body alone, to \\input into lecture notes, not a whole document.")
@click.option("--kink", help="Derivative of ReLU, max and min at exactly 0 (0 by default, as torch.relu; "
              "1/2 splits a max tie as torch.maximum). Leaky ReLU's is always alpha.")
@click.option("--gates", is_flag=True,
              help="Split compound expressions into one node per operation (one gate rule per step).")
@click.option("--steps", type=click.IntRange(1), help="Run this many updates (the first shown in full).")
@click.option("--epochs", type=click.IntRange(1), help="Run this many passes over the data, in batches.")
@click.option("--template-dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Use templates from this folder (a restyled copy of the shipped ones).")
@budget.option
def solve(problem: Path | None, fmt: str, output: Path | None, digits: int, symbolic: bool,
          fragment: bool, kink: str | None, gates: bool, steps: int | None, epochs: int | None,
          template_dir: Path | None, time_limit: float) -> None:
    """Solve PROBLEM (a YAML file); without one, the built-in w1, w2, w3 exercise."""
    with limited(time_limit, problem):
        text = _solve_text(problem, fmt, digits, symbolic, fragment, kink, gates, steps, epochs,
                           template_dir)
    _write(text, output)



def _solve_text(problem: Path | None, fmt: str, digits: int, symbolic: bool, fragment: bool,
                kink: str | None, gates: bool, steps: int | None, epochs: int | None,
                template_dir: Path | None) -> str:
    try:
        loaded = _load(problem, gates)
        if symbolic and (steps or epochs):
            raise ProblemError("shows no numbers, so it cannot be combined with --steps or --epochs",
                               key="--symbolic")
        if symbolic:
            loaded = loaded.without_values()
        kink_value = None
        if kink is not None:
            kink_value = parse_number(kink)
            if not 0 <= kink_value <= 1:
                raise ProblemError(f"must be between 0 and 1, got {kink}", key="--kink")
        solution = _solve_with_progress(loaded, kink_value, steps, epochs)
        return render_module.render(solution, fmt, digits=digits, symbolic=symbolic,
                                    fragment=fragment, template_dir=template_dir)
    except ProblemError as exc:
        raise input_error(exc) from None



def _solve_with_progress(problem, kink, steps: int | None, epochs: int | None):
    """Solve; a long run shows a progress bar on a terminal (click hides it elsewhere)."""
    if steps is None and epochs is None:
        return problem.solve(kink=kink)


    try:
        count, _ = steps_for(problem, steps, epochs)
    except ProblemError as exc:
        raise exc.located(source=problem.source, line=problem.lines.get(exc.key or "")) from None
    if not sys.stderr.isatty():
        return problem.solve(kink=kink, steps=steps, epochs=epochs)
    with click.progressbar(length=count, label="training", file=sys.stderr) as bar:
        return problem.solve(kink=kink, steps=steps, epochs=epochs, progress=bar.update)
