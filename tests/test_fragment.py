"""A LaTeX fragment made for \\input into lecture notes (issue 12, item 5; printing/notes.py): the
level of its headings (--section-level), headings without hand-written numbers, numbered and
labelled results (--label-prefix) that notes can \\eqref, no reliance on \\parindent, --no-figure.
Each fragment is compiled inside a report class document that sets its own \\parindent and loads
only what the fragment's header names."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import symbackprop
from symbackprop.cli import main
from symbackprop.printing import notes
from tests.test_rendered_outputs import OVERFULL, SETUP, missing, pdflatex

EXAMPLES = Path(__file__).resolve().parent.parent / "worked_examples"
MAZUR = EXAMPLES / "sigmoid_2_2_2.yaml"
#: What a heading looks like when a number is written into it: "1. Forward pass", "Step 3: ...".
NUMBERED_HEADING = re.compile(r"\\(?:section|subsection|subsubsection|paragraph|subparagraph|textbf)\*?"
                              r"\{\s*(?:\d+\.|Step \d+)")
HEADING = re.compile(r"^\\(section|subsection|subsubsection|paragraph)\*\{(.*)\}$", re.MULTILINE)
UNDEFINED = re.compile(r"Reference .* undefined|There were undefined references")
MULTIPLY = re.compile(r"multiply defined", re.IGNORECASE)


def fragment(path: Path, *options: str, problem: Path = MAZUR) -> str:
    result = CliRunner().invoke(main, ["solve", str(problem), "--format", "tex", "--fragment",
                                       *options, "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path.read_text(encoding="utf-8")


def preamble(text: str) -> list[str]:
    """The \\usepackage and \\usetikzlibrary lines the fragment's leading comment lines name."""
    header = []
    for line in text.splitlines():
        if not line.startswith("%"):
            break
        header.append(line)
    return [line[2:] for line in header if line.startswith(("% \\usepackage", "% \\usetikzlibrary"))]


def compile_notes(directory: Path, fragments: dict[str, str], body: str) -> str:
    """Notes in the report class, with a \\parindent of their own and only the packages the
    fragments name, that \\input each fragment; compiled twice, so references resolve. The log."""
    if shutil.which("pdflatex") is None:
        missing(f"pdflatex is not installed: {SETUP}")
    lines: list[str] = []
    for text in fragments.values():
        lines += [line for line in preamble(text) if line not in lines]
    inputs = "\n".join(f"\\input{{{name}}}" for name in fragments)
    notes_tex = directory / "notes.tex"
    notes_tex.write_text("\\documentclass{report}\n" + "\n".join(lines) + "\n\\setlength{\\parindent}{2em}\n"
                         "\\begin{document}\n\\chapter{Backpropagation}\n\\section{Worked examples}\n"
                         + body + "\n\n" + inputs + "\n\\end{document}\n", encoding="utf-8")
    code, log = pdflatex(notes_tex)
    assert code == 0, "\n".join(log.splitlines()[-40:])
    code, log = pdflatex(notes_tex)
    assert code == 0, "\n".join(log.splitlines()[-40:])
    return log


@pytest.mark.parametrize("level", notes.SECTION_LEVELS)
def test_each_section_level_compiles_in_a_report_with_unnumbered_headings_of_that_level(level: str,
                                                                                      tmp_path: Path):
    text = fragment(tmp_path / "solution.tex", "--section-level", level, "--label-prefix", "p1")
    headings = HEADING.findall(text)
    title = {"section": "section", "subsection": "subsection", "subsubsection": "subsubsection",
             "none": None}[level]
    first_part = {"section": "subsection", "subsection": "subsubsection", "subsubsection": "paragraph",
                  "none": "subsection"}[level]
    if title is None:
        assert "A 2-2-2 sigmoid network" not in text
        assert headings[0] == (first_part, "The problem")
    else:
        assert headings[0] == (title, "A 2-2-2 sigmoid network")
        assert headings[1] == (first_part, "The problem")
    assert (first_part, "Backward pass") in headings
    # Starred: the notes' numbering goes on, and no number is written into a heading by hand.
    assert not re.search(r"\\(section|subsection|subsubsection|paragraph)\{", text)
    assert not NUMBERED_HEADING.search(text), NUMBERED_HEADING.search(text).group(0)
    # Below \paragraph, bold run-in text: \subparagraph is indented by the notes' \parindent.
    assert "\\subparagraph" not in text
    log = compile_notes(tmp_path, {"solution": text}, r"By \eqref{p1:dE-dw5}, \dots")
    assert not UNDEFINED.search(log)
    assert all(float(width) <= 10 for width in OVERFULL.findall(log)), OVERFULL.findall(log)


def test_eqref_of_a_gradient_and_a_delta_resolves_in_the_notes(tmp_path: Path):
    text = fragment(tmp_path / "mazur.tex", "--section-level", "subsection", "--label-prefix", "mazur")
    assert "\\label{mazur:dE-dw5}" in text and "\\label{mazur:delta-o1}" in text
    # Every gradient asked for is labelled, whether derived in full (w5) or in a table (w6).
    assert "\\label{mazur:dE-dw6}" in text and "\\label{mazur:dE-dout-h1}" in text
    log = compile_notes(tmp_path, {"mazur": text},
                        r"The gradient \eqref{mazur:dE-dw5} uses the delta \eqref{mazur:delta-o1}.")
    assert not UNDEFINED.search(log), [line for line in log.splitlines() if "undefined" in line]
    assert not MULTIPLY.search(log)
    aux = (tmp_path / "notes.aux").read_text()
    assert re.search(r"\\newlabel\{mazur:dE-dw5\}\{\{1\.\d+\}", aux), aux


def test_labels_are_unique_and_only_the_results_are_numbered(tmp_path: Path):
    text = fragment(tmp_path / "mazur.tex", "--label-prefix", "mazur")
    labels = re.findall(r"\\label\{([^}]*)\}", text)
    assert len(labels) == len(set(labels)) and labels
    assert all(re.fullmatch(r"mazur:[A-Za-z0-9-]+", label) for label in labels), labels
    # The problem's and the forward pass's displays stay unnumbered.
    forward = text[text.index("{Forward pass}"):text.index("{Backward pass}")]
    assert "\\begin{align*}" in forward and "\\begin{align}" not in forward
    # A line that carries no label is \notag in a numbered display, but for the block's own result.
    for display in re.findall(r"\\begin\{align\}\n(.*?)\\end\{align\}", text, re.DOTALL):
        last = display.strip().splitlines()[-1]
        assert "\\notag" not in last or "\\label" not in last


def test_without_a_prefix_nothing_is_numbered(tmp_path: Path):
    text = fragment(tmp_path / "plain.tex")
    assert "\\begin{align}" not in text and "\\label" not in text and "\\notag" not in text


def test_two_fragments_with_different_prefixes_share_one_document(tmp_path: Path):
    first = fragment(tmp_path / "first.tex", "--label-prefix", "p1", "--section-level", "subsection")
    second = fragment(tmp_path / "second.tex", "--label-prefix", "p2", "--section-level", "subsection",
                      problem=EXAMPLES / "seed004_two_hidden_softmax.yaml")
    log = compile_notes(tmp_path, {"first": first, "second": second},
                        r"Compare \eqref{p1:dE-dw5} with \eqref{p2:delta-3-1}.")
    assert not MULTIPLY.search(log), [line for line in log.splitlines() if "multiply" in line.lower()]
    assert not UNDEFINED.search(log)


@pytest.mark.parametrize("prefix", ["a b", "p1:x", "{p}", "1p", "p\\x", "p_1", ""])
def test_a_bad_label_prefix_is_one_line_and_exit_2(prefix: str):
    result = CliRunner().invoke(main, ["solve", str(MAZUR), "--format", "tex", "--label-prefix", prefix])
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert "\n" not in message and message.startswith("Error:") and "--label-prefix" in message
    assert "Traceback" not in result.output
    with pytest.raises(symbackprop.ProblemError):
        symbackprop.load(MAZUR).solve().render("tex", label_prefix=prefix)


def test_paragraphs_after_a_display_do_not_take_the_notes_indent(tmp_path: Path):
    """Notes that set \\parindent would indent the first line of text after a display (the values
    after the network's equations, the loss's change after the update): \\noindent starts them."""
    text = fragment(tmp_path / "mazur.tex")
    after_display = re.findall(r"\\end\{align\*?\}\n\s*(.+)", text)
    assert len(after_display) > 10
    assert all(line.startswith((r"\noindent", r"\begin", r"\subsection*", r"\paragraph*", "%"))
               for line in after_display), after_display
    assert r"\noindent Values: " in text and r"\noindent The loss was" in text


def test_no_figure_is_figure_none(tmp_path: Path):
    assert "tikzpicture" in fragment(tmp_path / "with.tex")
    assert "tikzpicture" not in fragment(tmp_path / "without.tex", "--no-figure")
    result = CliRunner().invoke(main, ["solve", str(MAZUR), "--no-figure", "--figure", "graph"])
    assert result.exit_code == 2 and "\n" not in result.output.strip()
