"""LaTeX templates: TeX-safe delimiters, a base document with blocks, and a course's few-line override.

- `*.tex.j2` take nbconvert's delimiters, ((* block *)), ((( variable ))), ((= comment =)), so TeX's
  own `{{`, `{%` and `{#` pass through; Markdown and text templates keep Jinja's;
- a course's `solution.tex.j2` in --template-dir that extends "solution.tex.j2" extends the shipped
  one (not itself) and changes exactly the block it overrides; the result compiles with pdflatex
  (skipped without pdflatex, except under CI, as in test_rendered_outputs.py);
- a template's syntax error still names its file and line;
- compiled templates are kept on disk between runs, and one that cannot be read is compiled again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import symbackprop
from symbackprop.cli import main
from symbackprop.errors import ProblemError
from symbackprop.parsing.expressions import parse_number
from symbackprop.printing.rendering import environment, fill, template_dirs
from symbackprop.study import report as study_report
from symbackprop.study import runs

EXAMPLES = Path(__file__).resolve().parent.parent / "worked_examples"
GATES = EXAMPLES / "seed000_gates.yaml"

#: The override README shows under --template-dir, word for word.
BOXED_GRADIENTS = r"""((* extends "solution.tex.j2" *))
((* block gradients *))
\subsubsection*{Answers: the gradients}
\fbox{\begin{minipage}{0.9\linewidth}
((( align(gradients) )))
\end{minipage}}
((* endblock gradients *))
"""

#: README's three lines that add a package (tested with booktabs, which every TeX has).
ADD_A_PACKAGE = r"""((* extends "solution.tex.j2" *))
((* block packages *))((( super() )))\usepackage{course101}
((* endblock packages *))
"""


def solve_tex(*options: str) -> str:
    result = CliRunner().invoke(main, ["solve", str(GATES), "--format", "tex", *options])
    assert result.exit_code == 0, result.output
    return result.stdout


def course(tmp_path: Path, **files: str) -> Path:
    """A course's template folder holding `files` (name with '_' for '.': solution_tex_j2)."""
    folder = tmp_path / "course"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text)
    return folder


def between(text: str, start: str, end: str) -> str:
    """The part of `text` from `start` up to and including the first `end` after it."""
    i = text.index(start)
    return text[i:text.index(end, i) + len(end)]


# --- the course's override -----------------------------------------------------------------------

def test_a_course_override_of_a_few_lines_changes_exactly_the_block_it_overrides(tmp_path: Path):
    shipped = solve_tex()
    restyled = solve_tex("--template-dir", str(course(tmp_path, solution_tex_j2=BOXED_GRADIENTS)))
    # The shipped block: its heading and the align* display (the macro's output and a blank line).
    old = between(shipped, r"\subsubsection*{Gradients of \(E\)}", "\\end{align*}\n\n")
    gradients = old.removeprefix("\\subsubsection*{Gradients of \\(E\\)}\n")
    assert gradients.startswith("\\begin{align*}\n\\frac{\\partial E}{\\partial w_{1}} &= 2 x_{1} \\left(y - \\bar{y}\\right)")
    new = ("\\subsubsection*{Answers: the gradients}\n\\fbox{\\begin{minipage}{0.9\\linewidth}\n"
           + gradients + "\\end{minipage}}\n")
    assert shipped.count(old) == 1
    assert restyled == shipped.replace(old, new)


def test_a_course_adds_a_package_in_three_lines(tmp_path: Path):
    folder = course(tmp_path, solution_tex_j2=ADD_A_PACKAGE.replace("course101", "booktabs"))
    shipped = solve_tex()
    restyled = solve_tex("--template-dir", str(folder))
    line = "\\usetikzlibrary{arrows.meta}\n"
    assert restyled == shipped.replace(line, line + "\\usepackage{booktabs}\n")


def test_readme_shows_the_overrides_these_tests_run():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert f"```latex\n{BOXED_GRADIENTS}```" in readme
    assert f"```latex\n{ADD_A_PACKAGE}```" in readme


def test_a_course_document_restyles_solution_and_study_alike(tmp_path: Path):
    # The course's document.tex.j2 extends the shipped document.tex.j2, and the shipped solution
    # and study extend the course's.
    folder = course(tmp_path, document_tex_j2=(
        '((* extends "document.tex.j2" *))\n'
        "((* block documentclass *))\n\\documentclass[12pt,a4paper]{article}\n((* endblock documentclass *))\n"))
    assert solve_tex("--template-dir", str(folder)) == solve_tex().replace(
        "\\documentclass[11pt]{article}\n", "\\documentclass[12pt,a4paper]{article}\n", 1)
    fragment = solve_tex("--fragment", "--template-dir", str(folder))
    assert fragment == solve_tex("--fragment") and "documentclass" not in fragment

    study = runs.run_study(symbackprop.load(GATES), [parse_number("0.1")], 3)
    shipped = study_report.render_report(study, "tex")
    assert shipped.startswith("\\documentclass[11pt]{article}\n\\usepackage[T1]{fontenc}\n")
    assert study_report.render_report(study, "tex", template_dir=folder) == shipped.replace(
        "\\documentclass[11pt]{article}\n", "\\documentclass[12pt,a4paper]{article}\n", 1)


def test_the_course_override_compiles_with_pdflatex(tmp_path: Path):
    if shutil.which("pdflatex") is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is not installed (under CI this fails instead of skipping)")
        pytest.skip("pdflatex is not installed: run scripts/setup_test_deps.sh")
    tex = tmp_path / "boxed.tex"
    tex.write_text(solve_tex("--template-dir", str(course(tmp_path, solution_tex_j2=BOXED_GRADIENTS))))
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                           tex.name], cwd=tmp_path, capture_output=True, timeout=120)
    log = tex.with_suffix(".log").read_text(errors="replace")
    assert done.returncode == 0, log[-3000:]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "boxed.pdf", "-"], cwd=tmp_path, capture_output=True, text=True)
        assert "Answers: the gradients" in text.stdout


# --- delimiters ----------------------------------------------------------------------------------

def test_tex_braces_pass_through_latex_templates_untouched(tmp_path: Path):
    tex = "\\newcommand{\\pair}[2]{{#1},{#2}}% {% not a tag %} {{ nor a variable }} {# nor a comment #}\n"
    folder = course(tmp_path, solution_tex_j2=(
        '((* extends "solution.tex.j2" *))\n((* block title *))\n' + tex
        + "((( super() )))((= a comment =))((* endblock title *))\n"))
    restyled = solve_tex("--template-dir", str(folder))
    assert restyled == solve_tex().replace("\\section*{", tex + "\\section*{", 1)
    # The shipped template writes TeX's {% as it is, no longer as {{ "{%" }}.
    shipped = (template_dirs()[0] / "solution.tex.j2").read_text()
    assert "{!}{%\n" in shipped and '"{%"' not in shipped


def test_markdown_and_text_templates_keep_jinjas_delimiters(tmp_path: Path):
    folder = course(tmp_path, solution_md_j2="# {{ title }} ((( title )))\n", check_txt_j2="{# x #}ok\n")
    assert fill("solution.md.j2", {"title": "T"}, folder) == "# T ((( title )))\n"
    assert fill("check.txt.j2", {}, folder) == "ok\n"
    assert fill("solution.tex.j2", {"title": "T"}, course(tmp_path, solution_tex_j2="{{ title }} ((( title )))\n")) \
        == "{{ title }} T\n"


def test_one_environment_per_template_directory_and_kind_kept():
    assert environment(None, "tex") is environment(None, "tex")
    assert environment(None, "tex") is not environment(None, "jinja")
    assert environment(None, "tex").block_start_string == "((*"
    assert environment(None, "jinja").block_start_string == "{%"


def test_compiled_templates_are_kept_on_disk_and_one_not_readable_is_compiled_again(tmp_path: Path):
    """Start-up (issue 15): a run loads the templates an earlier run compiled, from the user's
    cache directory (XDG_CACHE_HOME); a cache file that is not what Jinja wrote is compiled again.
    The output is the same every time."""
    def solve(fmt: str) -> bytes:
        done = subprocess.run([sys.executable, "-m", "symbackprop", "solve", "--format", fmt],
                              env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)}, capture_output=True,
                              timeout=120)
        assert done.returncode == 0 and done.stderr == b"", done.stderr.decode()
        return done.stdout

    for fmt in ("txt", "tex"):
        expected = CliRunner().invoke(main, ["solve", "--format", fmt]).stdout_bytes
        assert solve(fmt) == expected
        cached = sorted((tmp_path / "symbackprop" / "templates").glob("*.cache"))
        assert cached and solve(fmt) == expected
        for file in cached:
            file.write_bytes(file.read_bytes()[:40])
        assert solve(fmt) == expected
    assert {f.name.split("-")[0] for f in (tmp_path / "symbackprop" / "templates").iterdir()} == {"jinja", "tex"}


# --- errors --------------------------------------------------------------------------------------

def test_a_latex_template_syntax_error_names_its_file_and_line(tmp_path: Path):
    folder = course(tmp_path, solution_tex_j2=(
        '((* extends "solution.tex.j2" *))\n((* block title *))\n((* for x in *))\n((* endblock title *))\n'))
    with pytest.raises(ProblemError) as caught:
        fill("solution.tex.j2", {}, folder)
    assert caught.value.source == str(folder / "solution.tex.j2") and caught.value.line == 3
    result = CliRunner().invoke(main, ["solve", "--format", "tex", "--template-dir", str(folder)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "solution.tex.j2" in result.output and "template error" in result.output


def test_a_syntax_error_in_a_template_a_course_extends_names_that_file(tmp_path: Path):
    # The course's document.tex.j2 is broken on line 2; the solution extending it says so.
    folder = course(tmp_path, document_tex_j2="\\documentclass{article}\n((* block body *))((( )))\n")
    with pytest.raises(ProblemError) as caught:
        fill("solution.tex.j2", {}, folder)
    assert caught.value.source == str(folder / "document.tex.j2") and caught.value.line == 2


def test_a_missing_template_names_the_directory(tmp_path: Path):
    with pytest.raises(ProblemError, match=f"template shipped/nothing.tex.j2 not found in {tmp_path}"):
        fill("shipped/nothing.tex.j2", {}, tmp_path)
    with pytest.raises(ProblemError, match=f"template nothing.tex.j2 not found in {tmp_path}"):
        fill("nothing.tex.j2", {}, tmp_path)


def test_course_templates_that_extend_each_other_are_one_clear_error(tmp_path: Path):
    # Its own name is the shipped template; two names in a circle are bad input, not a traceback.
    folder = course(tmp_path, solution_tex_j2='((* extends "course.tex.j2" *))\n',
                    course_tex_j2='((* extends "solution.tex.j2" *))\n')
    result = CliRunner().invoke(main, ["solve", "--format", "tex", "--template-dir", str(folder)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.splitlines()[-1] == (
        "Error: option '--template-dir': template solution.tex.j2 extends or includes itself through "
        "another template")


@pytest.mark.parametrize("body, said", [
    ("((( align(1, 2, 3, 4) )))", "macro 'align' takes not more than 1 argument(s)"),
    ("((( 1/0 )))", "division by zero"),
    ('((( (1|int) + "a" )))', "unsupported operand type(s) for +: 'int' and 'str'"),
])
def test_a_course_template_that_fails_while_it_runs_is_one_clear_error(tmp_path: Path, body, said):
    folder = course(tmp_path, solution_tex_j2=(
        f'((* extends "solution.tex.j2" *))\n((* block title *)){body}((* endblock title *))\n'))
    result = CliRunner().invoke(main, ["solve", "--format", "tex", "--template-dir", str(folder)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.splitlines()[-1] == (
        f"Error: option '--template-dir': template solution.tex.j2 failed: {said}")


def test_a_course_template_that_is_not_utf8_is_one_clear_error(tmp_path: Path):
    folder = course(tmp_path)
    (folder / "solution.tex.j2").write_bytes(b"\xff\xfe((* block title *))")
    result = CliRunner().invoke(main, ["solve", "--format", "tex", "--template-dir", str(folder)])
    assert result.exit_code == 2 and result.stderr.splitlines()[-1] == (
        "Error: option '--template-dir': template solution.tex.j2 (or one it extends) is not UTF-8 text")
