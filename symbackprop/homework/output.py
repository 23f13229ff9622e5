"""The class's directory as `symbackprop variants` writes it (issue 14):

    DIR/<student>/problem.yaml, question.{md,tex}, solution.{md,tex}, key.json   each variant
    DIR/questions.tex, DIR/solutions.tex    every student's sheet, one after another, each from page 1
    DIR/answers.csv                         one row per student, one column per asked quantity
    DIR/moodle.xml, DIR/canvas_qti.zip      the exports (moodle.py, canvas.py)
    DIR/gradescope/                         an autograder that rebuilds a student's variant

Every file is the same bytes for the same problem, seed and roster.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

from ..errors import ProblemError
from .canvas import canvas_qti_zip
from .moodle import moodle_xml
from .variants import Built

#: The LaTeX between a sheet's preamble and its body, and after its body.
_BEGIN, _END = "\\begin{document}", "\\end{document}"


def write_files(directory: Path, files: dict[str, str | bytes]) -> None:
    """Write each file under `directory` (names may hold one subdirectory)."""
    for name, content in files.items():
        path = directory / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        except OSError as exc:
            raise ProblemError(f"cannot write: {exc.strerror}", source=str(path)) from None


def variant_files(built: Sequence[Built]) -> dict[str, str]:
    """Each variant's files under its student's directory."""
    return {f"{b.student.directory}/{name}": text for b in built for name, text in b.files.items()}


#: Between two students' sheets: a new page, and an empty one where the sheet ended on an odd
#: page, so that a double-sided print never puts two students on one sheet of paper; then the
#: next student's pages are counted from 1.
_NEXT_STUDENT = "\n\\clearpage\n\\ifodd\\value{page}\\else\\null\\clearpage\\fi\n\\setcounter{page}{1}\n"


def class_document(sheets: Sequence[str]) -> str:
    """One LaTeX document of many sheets of the same problem: the first's preamble, then every
    sheet's body, each starting a new sheet of paper, its pages numbered from 1."""
    preamble = sheets[0][:sheets[0].index(_BEGIN)]
    bodies = [sheet[sheet.index(_BEGIN) + len(_BEGIN):sheet.rindex(_END)].strip("\n") for sheet in sheets]
    return f"{preamble}{_BEGIN}\n{_NEXT_STUDENT.join(bodies)}\n{_END}\n"


def answers_csv(built: Sequence[Built]) -> str:
    """One row per student, one column per asked quantity (its task's label first), each value to
    the digits asked, and the seed that rebuilds the variant."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "name", "seed", *(f"({a.task}) {a.key}" for a in built[0].variant.answers)])
    for b in built:
        writer.writerow([b.student.id, b.student.name, b.variant.seed, *(a.shown for a in b.variant.answers)])
    return out.getvalue()


def class_files(built: Sequence[Built], name: str, moodle: str = "cloze") -> dict[str, str | bytes]:
    """The files of the whole class: both sheets of everyone, the answers, and the exports, whose
    category (Moodle) and quiz title (Canvas) are `name`."""
    variants = [b.variant for b in built]
    return {"questions.tex": class_document([b.files["question.tex"] for b in built]),
            "solutions.tex": class_document([b.files["solution.tex"] for b in built]),
            "answers.csv": answers_csv(built),
            "moodle.xml": moodle_xml(variants, name, moodle),
            "canvas_qti.zip": canvas_qti_zip(variants, name)}
