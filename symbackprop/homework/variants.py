"""One variant per student, each drawn, solved, checked and written with its sheets and key
(issue 14): the work of `symbackprop variants`.

A variant is built from the problem's text alone (`build_variant`), so a process pool can build
many at once and one student's can be rebuilt anywhere: the seed is a hash of (the class's seed,
the problem's text, the student's id), and it is written into every file. Before a variant is
written it is checked as the anchors do before release: its own problem file is read back and
solved again, its answers must be the same exact numbers, and its answer key, written to the digits
asked, must be judged right by `symbackprop check`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import yaml

from .. import budget
from ..check.claims import loads_claims
from ..check.judge import Checker
from ..engine.answers import Answers
from ..errors import ProblemError
from ..parsing.problems import FloatText, loads, read_yaml
from ..parsing.quantities import parse_key
from ..printing.formats import exact_and_decimal
from ..printing.rendering import render
from .answers import DEFAULT_DIGITS, answers_of
from .drawing import Drawn, draw, variant_seed
from .records import Answer, Variant

#: The files of one variant, in its own directory.
SHEETS = ("question.md", "question.tex", "solution.md", "solution.tex")
#: The keys a variant's problem file leaves out: it is one variant, drawn already.
HOMEWORK_ONLY_KEYS = ("vary", "require")
#: The digits the sheets carry beyond those the answers are asked to.
WORKING_DIGITS = 2
#: Characters a directory name keeps; every other becomes "_".
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""

    @property
    def directory(self) -> str:
        """The student's directory: the id with characters outside [A-Za-z0-9._-] as "_"."""
        return _UNSAFE.sub("_", self.id)


@dataclass(frozen=True)
class Built:
    """One student's variant: its record for the exports and its files by name."""

    student: Student
    variant: Variant
    files: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Homework:
    """What every variant is built from: the problem as written, the class's seed, the digits
    asked."""

    text: str
    source: str
    seed: str
    digits: int = DEFAULT_DIGITS
    #: The time one variant may take (budget.py; each process arms its own timer), 0: no limit.
    seconds: float = budget.DEFAULT_SECONDS


def build_class(homework: Homework, students: Sequence[Student], jobs: int = 1) -> list[Built]:
    """Every student's variant, in the roster's order, built by `jobs` processes."""
    if jobs <= 1 or len(students) <= 1:
        return [build_variant(homework, s) for s in students]
    from concurrent.futures import (
        ProcessPoolExecutor,  # here: every command imports this module
    )

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        # Chunks: a variant takes about 0.1-0.3 s, comparable to sending work to a process.
        return list(pool.map(build_variant, [homework] * len(students), students,
                             chunksize=max(1, len(students) // (4 * jobs))))


def build_variant(homework: Homework, student: Student) -> Built:
    """One student's variant, drawn, solved, checked and laid out; a ProblemError naming the
    student where it cannot be built."""
    try:
        with budget.time_limit(homework.seconds):
            return _build_variant(homework, student)
    except budget.TimeLimitExceeded:
        raise ProblemError(f"the variant of student {student.id} took longer than {homework.seconds:g} s "
                           "(the network or its expressions are too large)", source=homework.source) from None


def _build_variant(homework: Homework, student: Student) -> Built:
    try:
        problem = loads(homework.text, homework.source)
        seed = variant_seed(homework.seed, homework.text, student.id)
        drawn = draw(problem, seed)
        problem_yaml = variant_yaml(homework, student, drawn)
        answers = answers_of(drawn.problem, drawn.solution, homework.digits)
        check_before_release(problem_yaml, answers, drawn, homework, student)
        sheets, anonymous = _sheets(drawn, student, homework.digits)
        files = {"problem.yaml": problem_yaml, **sheets, "key.json": _key(drawn, student, answers)}
    except ProblemError as exc:
        if exc.key and exc.key.startswith("require."):
            raise       # the problem's conditions, not this student's: said once, with its key
        raise ProblemError(f"the variant of student {student.id}: {exc.message}", source=exc.source,
                           line=exc.line, key=exc.key) from None
    variant = Variant(student.id, student.name, seed, dict(drawn.values), answers, anonymous["question"],
                      anonymous["solution"], problem.title or Path(homework.source).stem)
    return Built(student, variant, files)


def check_before_release(problem_yaml: str, answers: Sequence[Answer], drawn: Drawn, homework: Homework,
                         student: Student) -> None:
    """The variant's own problem file solved again gives the same exact answers, and its key, as
    a claims file to the digits asked, is judged right: else the variant is not released."""
    again = loads(problem_yaml, f"{student.directory}/problem.yaml")
    checker = Checker(again)          # solves the read-back problem once, for both checks
    rebuilt = Answers.of(checker.solution)
    if any(rebuilt.value(parse_key(a.key, again)) != a.value for a in answers):
        raise ProblemError("its problem file, read back, gives other answers than the variant drawn "
                           "(a value lost in writing); not released")
    claims = loads_claims("".join(f"{a.key}: {a.shown}\n" for a in answers), again, "key")
    report = checker.judge_all(claims)
    if not report.all_right:
        wrong = ", ".join(v.claim.key for v in report.verdicts if not v.right)
        raise ProblemError(f"its answer key is judged wrong by the checker ({wrong}); not released")


def variant_yaml(homework: Homework, student: Student, drawn: Drawn) -> str:
    """The variant's problem file: the problem as written with the drawn values put in and vary:
    and require: left out, under a header naming the student and the seed."""
    data, _ = read_yaml(homework.text, homework.source)
    data = {k: v for k, v in data.items() if k not in HOMEWORK_ONLY_KEYS}
    data["values"] = {**data.get("values", {}), **{n: FloatText(t) for n, t in drawn.values.items()}}
    header = (f"# The variant of {Path(homework.source).name} for student {student.id}"
              f"{f' ({student.name})' if student.name else ''}; variant seed {drawn.seed}.\n"
              f"# Drawn: {', '.join(f'{n} = {t}' for n, t in drawn.values.items()) or 'nothing'}.\n")
    return header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                              width=1_000_000, default_flow_style=False)


class _Dumper(yaml.SafeDumper):
    """Writes a number as the problem wrote it: 0.10 stays 0.10 (FloatText), a plain float."""


_Dumper.add_representer(FloatText, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", str(v)))
# A list of names stays on one line, as problem files write it: parameters: [w1, w2].
_Dumper.add_representer(list, lambda d, v: d.represent_sequence(
    "tag:yaml.org,2002:seq", v, flow_style=all(isinstance(x, (str, int, float)) for x in v)))


def _sheets(drawn: Drawn, student: Student, digits: int) -> tuple[dict[str, str], dict[str, str]]:
    """The question and solution sheets, with the student's name, id and seed, at the digits
    asked; and the question again without them, for the exports (an LMS shows one variant's text
    to other students too)."""
    who = {"id": student.id, "name": student.name, "seed": drawn.seed}
    # The sheets carry WORKING_DIGITS more digits than the answers are asked to: a student who
    # rounds each step to the digits asked lands several units off in the last one.
    shown = {"digits": digits + WORKING_DIGITS}
    sheets = {name: render(drawn.solution, name.split(".")[1], sheet=name.split(".")[0], student=who,
                           **shown, **_asked(name, digits)) for name in SHEETS}
    anonymous = {part: render(drawn.solution, "md", sheet=part, student={}, **shown, **_asked(part, digits))
                 for part in ("question", "solution")}
    return sheets, anonymous


def _asked(sheet: str, digits: int) -> dict[str, int]:
    return {"answer_digits": digits} if sheet.startswith("question") else {}


def _key(drawn: Drawn, student: Student, answers: Sequence[Answer]) -> str:
    """The answer key of the solution, after the variant's own record: who, which seed, what was
    drawn, and each asked quantity with its value to the digits asked and its window."""
    key = json.loads(render(drawn.solution, "json"))
    head = {"student": {"id": student.id, "name": student.name}, "seed": drawn.seed,
            "drawn": drawn.values,
            "answers": [{"task": a.task, "quantity": a.key, "answer": a.shown,
                         "tolerance": str(a.tolerance), **exact_and_decimal(a.value)} for a in answers]}
    return json.dumps({"variant": head, **key}, indent=2, ensure_ascii=False) + "\n"


# --- the roster -------------------------------------------------------------------------------

def read_roster(path: Path) -> list[Student]:
    """A CSV with a header: an id column (id, student_id or sid) and optionally name and email."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ProblemError(f"cannot read the roster: {exc.strerror}", source=str(path)) from None
    except UnicodeDecodeError:
        raise ProblemError("the roster is not UTF-8 text", source=str(path)) from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ProblemError("the roster is empty: write a header line such as id,name,email", source=str(path))
    header = [h.strip().lower() for h in rows[0]]
    column = next((header.index(h) for h in ("id", "student_id", "sid") if h in header), None)
    if column is None:
        raise ProblemError("the roster's header has no id column (id, student_id or sid)",
                           source=str(path), line=1)
    students, seen = [], {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        record = _record(header, row)
        control = next((c for cell in row for c in cell if unicodedata.category(c) == "Cc"), None)
        if control is not None:
            # A line break in a quoted name would end the comment naming the student in the
            # variant's problem file, and what followed it would be read as YAML.
            raise ProblemError(f"a cell holds the control character U+{ord(control):04X}",
                               source=str(path), line=line)
        student = Student(record.get(header[column], ""), record.get("name", ""), record.get("email", ""))
        if not student.id:
            raise ProblemError("a student without an id", source=str(path), line=line)
        if student.id in seen:
            raise ProblemError(f"the id {student.id} is on line {seen[student.id]} already",
                               source=str(path), line=line)
        other = next((s for s in students if s.directory == student.directory), None)
        if other is not None:
            raise ProblemError(f"the ids {other.id} and {student.id} give the same directory name "
                               f"{student.directory}", source=str(path), line=line)
        seen[student.id] = line
        students.append(student)
    if not students:
        raise ProblemError("the roster lists no student", source=str(path))
    return students


def _record(header: list[str], row: list[str]) -> Mapping[str, str]:
    return {h: cell.strip() for h, cell in zip(header, row)}


def numbered(count: int) -> list[Student]:
    """Students 001, 002, ... for a class without a roster (--count)."""
    width = max(3, len(str(count)))
    return [Student(str(i).zfill(width)) for i in range(1, count + 1)]


