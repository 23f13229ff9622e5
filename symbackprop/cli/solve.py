"""`symbackprop solve [PROBLEM]`: the worked solution in txt, md, tex or json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import sympy as sp

from ..engine.training import steps_for
from ..errors import ProblemError
from ..parsing.homework import quantities
from ..parsing.problems import names_or_all
from ..printing import answer_key, notes, rendering, sheets
from . import options
from .common import input_error, limited, load_problem, write_output


@click.command()
@options.problem(required=False)
@options.output_format(rendering.SOLUTION_FORMATS, "txt", "txt: every step for the terminal; md: "
                       "Markdown for GitHub; tex: LaTeX; json: the answer key.")
@options.output
@options.digits(rendering.DEFAULT_DIGITS, "Significant digits of the decimals shown (txt, md, tex).")
@click.option("--symbolic", is_flag=True,
              help="The general derivation only, without numbers (for lecture notes).")
@click.option("--fragment", is_flag=True,
              help="LaTeX: the body alone, to \\input into lecture notes, not a whole document.")
@options.numbers
@options.decimals
@options.derivation
@options.form
@options.figure(rendering.FIGURES)
@options.sheet(sheets.SHEETS)
@options.notes(notes.SECTION_LEVELS)
@options.kink
@options.gates
@click.option("--gradients-only", is_flag=True,
              help="json: the gradients asked alone (every one with --all-gradients), exact where "
                   "rational, else certified decimals; no steps, no forward pass (for autograders and "
                   "large networks).")
@options.steps("Run this many updates (the first shown in full).")
@options.epochs("Run this many passes over the data, in batches.")
@click.option("--template-dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Use templates from this folder before the shipped ones (a course's own, which may "
                   "extend them).")
@options.time_limit
def solve(problem: Path | None, fmt: str, output: Path | None, digits: int, symbolic: bool,
          fragment: bool, numbers: str | None, decimals: int | None, delta: bool,
          detail: str | None, all_gradients: bool, form: str | None, figure: str | None, no_figure: bool,
          sheet: str | None, blank: str | None, answer_digits: int | None,
          section_level: str | None, label_prefix: str | None, kink: sp.Expr | None,
          gates: bool, gradients_only: bool, steps: int | None, epochs: int | None,
          template_dir: Path | None, time_limit: float) -> None:
    """Solve PROBLEM (a YAML file); without one, the built-in w1, w2, w3 exercise."""
    if no_figure and figure not in (None, "none"):
        raise input_error(ProblemError(f"--no-figure contradicts --figure {figure}; give one of them",
                                       key="--no-figure"))
    with limited(time_limit, problem):
        if gradients_only:
            write_output(_gradients_text(problem, fmt, kink, gates, all_gradients, steps or epochs,
                                         symbolic or sheet is not None), output)
            return
        text = _solve_text(problem, fmt, digits, symbolic, fragment, kink, gates, steps, epochs,
                           template_dir, {"numbers": numbers, "decimals": decimals, "delta": delta,
                                          "gradients": "all" if all_gradients else None,
                                          "detail": detail, "figure": "none" if no_figure else figure,
                                          "section_level": section_level, "label_prefix": label_prefix,
                                          "form": form, "sheet": sheet, "blank": blank,
                                          "answer_digits": answer_digits})
    write_output(text, output)


def _solve_text(problem: Path | None, fmt: str, digits: int, symbolic: bool, fragment: bool,
                kink: sp.Expr | None, gates: bool, steps: int | None, epochs: int | None,
                template_dir: Path | None, style: dict) -> str:
    try:
        style = {**style, "detail": names_or_all(style["detail"], "--detail")}
        notes.check_prefix(style["label_prefix"])      # before the solving, which may take long
        loaded = load_problem(problem, gates)
        if symbolic and (steps or epochs):
            raise ProblemError("shows no numbers, so it cannot be combined with --steps or --epochs",
                               key="--symbolic")
        if symbolic:
            loaded = loaded.without_values()
        # The keys are read against the problem, before the solving, which may take long.
        style["blank"] = quantities(style["blank"], loaded, "--blank")
        solution = _solve_with_progress(loaded, kink, steps, epochs)
        return rendering.render(solution, fmt, digits=digits, symbolic=symbolic, fragment=fragment,
                                template_dir=template_dir, **style)
    except ProblemError as exc:
        raise input_error(exc) from None


def _gradients_text(problem: Path | None, fmt: str, kink: sp.Expr | None, gates: bool,
                    all_gradients: bool, run: int | None, shown: bool) -> str:
    """--gradients-only: Problem.gradients as JSON."""
    try:
        if fmt != "json":
            raise ProblemError("writes the gradients as JSON: give --format json", key="--gradients-only")
        if run or shown:
            raise ProblemError("writes the gradients of one pass alone: it cannot be combined with "
                               "--steps, --epochs, --symbolic or --sheet", key="--gradients-only")
        loaded = load_problem(problem, gates)
        values = loaded.gradients("all" if all_gradients else None, kink=kink)
        key = answer_key.gradients_only(loaded, values, loaded.kink if kink is None else kink)
        return json.dumps(key, indent=2, ensure_ascii=False) + "\n"
    except ProblemError as exc:
        raise input_error(exc) from None


def _solve_with_progress(problem, kink, steps: int | None, epochs: int | None):
    """Solve; a long run shows a progress bar on a terminal (click hides it elsewhere)."""
    if (steps is None and epochs is None) or not sys.stderr.isatty():
        return problem.solve(kink=kink, steps=steps, epochs=epochs)
    try:
        count, _ = steps_for(problem, steps, epochs)     # the bar's length; solve checks them too
    except ProblemError as exc:
        raise exc.located(source=problem.source, line=problem.lines.get(exc.key or "")) from None
    with click.progressbar(length=count, label="training", file=sys.stderr) as bar:
        return problem.solve(kink=kink, steps=steps, epochs=epochs, progress=bar.update)
