"""The command line: `symbackprop solve [PROBLEM]`. Library errors become one-paragraph messages, exit 2."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from . import budget, diagram
from . import render as render_module
from .errors import ProblemError
from .numeric import NumericError
from .parse import parse_number
from .problem import load
from .resources import builtin_example

INPUT_ERROR = 2


class InputError(click.ClickException):
    """Bad input: printed as 'Error: ...' without a traceback, exit status 2."""

    exit_code = INPUT_ERROR


#: The library names its arguments; the command line, the options that give them.
OPTIONS = {"format": "--format", "digits": "--digits", "template_dir": "--template-dir",
           "learning_rates": "--lr", "output": "--output", "steps": "--steps", "epochs": "--epochs"}


def input_error(exc: ProblemError) -> InputError:
    """A library error as the command line says it: the option's flag for the argument's name."""
    exc.key = OPTIONS.get(exc.key, exc.key)
    return InputError(str(exc))


@contextmanager
def limited(seconds: float, problem: Path | None):
    """Run the block within the time budget; running out is bad input (exit 2) naming the file, and
    so is a value the numeric core cannot establish (it says so rather than print a guess)."""
    source = str(problem) if problem is not None else f"built-in example {builtin_example().name}"
    try:
        with budget.time_limit(seconds):
            yield
    except budget.TimeLimitExceeded:
        raise InputError(str(ProblemError(
            f"the derivation took longer than {seconds:g} s (the network or its expressions are too "
            "large); use --time-limit to allow more", source=source))) from None
    except NumericError as exc:
        raise InputError(str(ProblemError(str(exc), source=source))) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="symbackprop")
def main() -> None:
    """Derive backpropagation symbolically and write step-by-step worked solutions."""


@main.command()
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


@main.command()
@click.argument("problem", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(diagram.FORMATS), default="tikz", show_default=True,
              help="tikz for LaTeX, mermaid for GitHub Markdown, dot or svg (needs Graphviz).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.option("--digits", type=click.IntRange(1, 100), default=4, show_default=True,
              help="Significant digits of the values drawn.")
@click.option("--gates", is_flag=True, help="Split compound expressions into one node per operation.")
@budget.option
def graph(problem: Path | None, fmt: str, output: Path | None, digits: int, gates: bool,
          time_limit: float) -> None:
    """Draw the computational graph of PROBLEM with each node's forward value (green) and
    gradient (red); without PROBLEM, the built-in example."""
    try:
        with limited(time_limit, problem):
            loaded = _load(problem, gates)
            solution = loaded.solve()
            text = diagram.draw(solution, fmt, digits=digits)
    except ProblemError as exc:
        raise input_error(exc) from None
    boxes = diagram.box_count(solution)
    if fmt in ("tikz", "mermaid") and boxes > diagram.MAX_DRAWN_BOXES:
        click.echo(f"warning: {boxes} boxes are more than a page holds (pdflatex stops at a few hundred "
                   "with 'Dimension too large'); --format svg draws any size", err=True)
    _write(text if text.endswith("\n") else text + "\n", output)


def _solve_with_progress(problem, kink, steps: int | None, epochs: int | None):
    """Solve; a long run shows a progress bar on a terminal (click hides it elsewhere)."""
    if steps is None and epochs is None:
        return problem.solve(kink=kink)
    from .training import steps_for

    try:
        count, _ = steps_for(problem, steps, epochs)
    except ProblemError as exc:
        raise exc.located(source=problem.source, line=problem.lines.get(exc.key or "")) from None
    if not sys.stderr.isatty():
        return problem.solve(kink=kink, steps=steps, epochs=epochs)
    with click.progressbar(length=count, label="training", file=sys.stderr) as bar:
        return problem.solve(kink=kink, steps=steps, epochs=epochs, progress=bar.update)


def _load(problem: Path | None, gates: bool):
    """Load PROBLEM (or the built-in example), report its warnings on stderr, split it into gates."""
    loaded = load(problem if problem is not None else builtin_example())
    if problem is None:
        loaded.source = f"built-in example {builtin_example().name}"
    for warning in loaded.warnings:
        click.echo(f"warning: {loaded.source}: {warning}", err=True)
    return loaded.with_gates() if gates else loaded


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{output}: cannot write: {exc.strerror}") from None
    click.echo(f"wrote {output}", err=True)


from .check_cli import check as _check_command  # noqa: E402  (check_cli imports cli lazily)

main.add_command(_check_command)

from .train_cli import train  # noqa: E402  (train_cli imports cli lazily)

main.add_command(train)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
