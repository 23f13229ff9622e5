"""What every command shares: loading the problem, writing the output, the time budget, and
library errors said as the command line's (exit status 2)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click

from .. import budget
from ..arithmetic.numeric import NumericError
from ..errors import ProblemError
from ..parsing.problems import load
from ..resources import builtin_example

INPUT_ERROR = 2


class InputError(click.ClickException):
    """Bad input: printed as 'Error: ...' without a traceback, exit status 2."""

    exit_code = INPUT_ERROR


#: The library names its arguments; the command line, the options that give them.
OPTIONS = {"format": "--format", "digits": "--digits", "template_dir": "--template-dir",
           "learning_rates": "--lr", "output": "--output", "steps": "--steps", "epochs": "--epochs",
           "figure": "--figure", "section_level": "--section-level", "label_prefix": "--label-prefix"}


def input_error(exc: ProblemError) -> InputError:
    """A library error as the command line says it: the option's flag for the argument's name."""
    exc.key = OPTIONS.get(exc.key, exc.key)
    return InputError(str(exc))


@contextmanager
def limited(seconds: float, problem: Path | None):
    """Run the block within the time budget; running out is bad input (exit 2) naming the file, and
    so is a value the numeric core cannot establish (it says so rather than print a guess)."""
    source = source_name(problem)
    try:
        with budget.time_limit(seconds):
            yield
    except budget.TimeLimitExceeded:
        raise InputError(str(ProblemError(
            f"the derivation took longer than {seconds:g} s (the network or its expressions are too "
            "large); use --time-limit to allow more", source=source))) from None
    except NumericError as exc:
        raise InputError(str(ProblemError(str(exc), source=source))) from None


def source_name(problem: Path | None) -> str:
    """How messages name the problem: its path, or the built-in example when none is given."""
    return str(problem) if problem is not None else f"built-in example {builtin_example().name}"


def load_problem(problem: Path | None, gates: bool):
    """Load PROBLEM (or the built-in example), report its warnings on stderr, split it into gates."""
    loaded = load(problem if problem is not None else builtin_example())
    loaded.source = source_name(problem)
    for warning in loaded.warnings:
        click.echo(f"warning: {loaded.source}: {warning}", err=True)
    return loaded.with_gates() if gates else loaded


def write_output(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{output}: cannot write: {exc.strerror}") from None
    click.echo(f"wrote {output}", err=True)
