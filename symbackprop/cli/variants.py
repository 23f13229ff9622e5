"""`symbackprop variants PROBLEM (--count N | --roster FILE) --seed S -o DIR`: one variant per
student, each checked, with the class's files and the exports (homework/)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from ..errors import ProblemError
from ..homework import output
from ..homework.answers import DEFAULT_DIGITS
from ..homework.gradescope import write_autograder
from ..homework.moodle import MODES as MOODLE_MODES
from ..homework.variants import Homework, Student, build_class, numbered, read_roster
from ..parsing.problems import loads, read_text
from . import options
from .common import input_error


@click.command()
@options.problem()
@click.option("--count", type=click.IntRange(1, 10_000), help="Variants for students 001, 002, ...")
@click.option("--roster", type=options.FILE,
              help="A CSV with a header: id (or student_id, sid), and name and email if known.")
@click.option("--seed", required=True,
              help="The class's seed (any text, e.g. the course and term): with the same problem and "
                   "roster it gives the same variants.")
@click.option("-o", "--output", "directory", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="The directory to write into.")
@click.option("--student", metavar="ID", help="Rebuild this student's variant only.")
@click.option("--digits", type=click.IntRange(1, 12), default=DEFAULT_DIGITS, show_default=True,
              help="Significant digits the answers are asked to; one unit in the last is the tolerance.")
@click.option("--moodle", type=click.Choice(MOODLE_MODES), default="cloze", show_default=True,
              help="moodle.xml: one cloze question per variant (a blank per asked quantity), or one "
                   "numerical question per quantity with the named mistakes' feedback.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None,
              help="Processes that build variants (default: one per core).")
@options.time_limit
def variants(problem: Path, count: int | None, roster: Path | None, seed: str, directory: Path,
             student: str | None, digits: int, moodle: str, jobs: int | None, time_limit: float) -> None:
    """Draw one variant of PROBLEM per student from its vary: values until it meets require:,
    solve and check each, and write into DIR each student's problem.yaml, question and solution
    sheets (md, tex) and key.json; for the class, questions.tex, solutions.tex, answers.csv,
    moodle.xml and canvas_qti.zip, and with --roster a Gradescope autograder (gradescope/).
    --time-limit applies to each variant."""
    started = time.perf_counter()
    try:
        if (count is None) == (roster is None):
            raise ProblemError("give either --count N or --roster FILE.csv", key="--count")
        students = numbered(count) if count is not None else read_roster(roster)
        if student is not None:
            students = _only(students, student)
        homework = Homework(read_text(problem), str(problem), seed, digits, time_limit)
        loads(homework.text, homework.source)     # the problem's own errors, said once, not per student
        built = build_class(homework, students, jobs or os.cpu_count() or 1)
        files = output.variant_files(built)
        if student is None:
            files.update(output.class_files(built, problem.stem, moodle))
        output.write_files(directory, files)
        if student is None and roster is not None:
            # Marking by student needs the roster: --count's numbers are no one's Gradescope id.
            write_autograder(directory / "gradescope", problem, seed, roster, digits=digits)
    except ProblemError as exc:
        raise input_error(exc) from None
    click.echo(f"wrote {len(built)} variant{'s' if len(built) != 1 else ''} into {directory} in "
               f"{time.perf_counter() - started:.1f} s", err=True)


def _only(students: list[Student], wanted: str) -> list[Student]:
    chosen = [s for s in students if s.id == wanted]
    if not chosen:
        raise ProblemError(f"no student {wanted} on the roster (or among --count's numbers)", key="--student")
    return chosen
