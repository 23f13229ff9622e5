"""The committed worked solutions compile (LaTeX) and render (Markdown, as GitHub shows it).

- every `worked_examples/*.tex` compiles with `pdflatex -halt-on-error`;
- every math fragment of every `worked_examples/*.md` parses with KaTeX (`throwOnError: true`), all
  fragments of all files in one Node process (`tests/katex_check.mjs`);
- no `.md` contains raw HTML (only `<br>` and a colored span inside a Mermaid block), and no Mermaid
  block is empty.

`scripts/setup_test_deps.sh` installs pdflatex and KaTeX. Without them these tests skip, except under
CI (the variable `CI` set), where they fail: CI never skips them. `SYMBACKPROP_EXAMPLES_DIR` points
them at another folder (to try them on sample files).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from symbackprop.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = Path(os.environ.get("SYMBACKPROP_EXAMPLES_DIR") or ROOT / "worked_examples")
KATEX_CHECK = ROOT / "tests" / "katex_check.mjs"
KATEX_PACKAGE = ROOT / "tests" / "katex" / "node_modules" / "katex" / "package.json"
SETUP = "run scripts/setup_test_deps.sh"

TEX_FILES = sorted(EXAMPLES.glob("*.tex"))
MD_FILES = sorted(EXAMPLES.glob("*.md"))  # README.md included: GitHub renders it too
NO_FILES = "no-worked-solutions-yet"


def missing(reason: str) -> None:
    """Skip locally, fail under CI: CI must never skip these tests."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (under CI this fails instead of skipping)")
    pytest.skip(reason)


def params(paths: list[Path], solutions: list[Path]) -> list:
    """One test per file; one placeholder test (None) when there is no worked solution yet."""
    found = [pytest.param(p, id=p.name) for p in paths]
    return found if solutions else found + [pytest.param(None, id=NO_FILES)]


def require_file(path: Path | None, kind: str) -> Path:
    if path is None:
        missing(f"no worked solutions yet: no {kind} in {EXAMPLES}")
    return path


# --- LaTeX ---------------------------------------------------------------------------------------

RERUN = re.compile(r"Rerun to get|Label\(s\) may have changed")
OVERFULL = re.compile(r"Overfull \\hbox \(([0-9.]+)pt too wide\)")


def pdflatex(tex: Path) -> tuple[int, str]:
    command = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", tex.name]
    try:
        done = subprocess.run(command, cwd=tex.parent, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return -1, "pdflatex took more than 120 s"
    log = tex.with_suffix(".log")
    text = log.read_text(errors="replace") if log.exists() else done.stdout.decode(errors="replace")
    return done.returncode, text


@pytest.mark.parametrize("source", params(TEX_FILES, TEX_FILES))
def test_latex_solution_compiles_with_pdflatex(source: Path | None, tmp_path: Path):
    source = require_file(source, "*.tex")
    if shutil.which("pdflatex") is None:
        missing(f"pdflatex is not installed: {SETUP}")
    tex = tmp_path / source.name
    shutil.copyfile(source, tex)
    code, log = pdflatex(tex)
    if code == 0 and RERUN.search(log):  # cross-references: a second run resolves them
        code, log = pdflatex(tex)
    tail = "\n".join(log.splitlines()[-40:])
    assert code == 0, f"{source.name} does not compile; the last 40 lines of its log:\n{tail}"
    assert tex.with_suffix(".pdf").stat().st_size > 0
    # Nothing runs off the page: the batch table of minibatch_relu ran 247 pt over (issue 12).
    overfull = [float(width) for width in OVERFULL.findall(log)]
    assert all(width <= 10 for width in overfull), f"{source.name}: Overfull \\hbox of {max(overfull)} pt"


PROBLEMS = sorted(EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("problem", [pytest.param(p, id=p.name) for p in PROBLEMS])
def test_the_symbolic_latex_derivation_compiles(problem: Path, tmp_path: Path):
    """`--symbolic --format tex` wrote "learning rate \\(\\eta\\) = \\eta", TeX outside math, and never
    compiled (issue 12); the sentence now names eta alone."""
    if shutil.which("pdflatex") is None:
        missing(f"pdflatex is not installed: {SETUP}")
    tex = tmp_path / "symbolic.tex"
    result = CliRunner().invoke(main, ["solve", str(problem), "--symbolic", "--format", "tex", "-o", str(tex)])
    assert result.exit_code == 0, result.output
    if "learning rate" in tex.read_text():
        assert "with learning rate \\(\\eta\\)." in tex.read_text()
    code, log = pdflatex(tex)
    assert code == 0, "\n".join(log.splitlines()[-40:])


def test_a_training_table_of_many_parameters_fits_the_page(tmp_path: Path):
    """The training table of a 2-2-2 network (8 weights and its biases) ran off the page (issue 12)."""
    if shutil.which("pdflatex") is None:
        missing(f"pdflatex is not installed: {SETUP}")
    tex = tmp_path / "run.tex"
    result = CliRunner().invoke(main, ["solve", str(EXAMPLES / "sigmoid_2_2_2.yaml"), "--steps", "3",
                                       "--format", "tex", "-o", str(tex)])
    assert result.exit_code == 0, result.output
    code, log = pdflatex(tex)
    assert code == 0, "\n".join(log.splitlines()[-40:])
    assert all(float(width) <= 10 for width in OVERFULL.findall(log)), OVERFULL.findall(log)


@pytest.mark.parametrize("problem", [pytest.param(p, id=p.name) for p in PROBLEMS])
def test_a_fragment_compiles_in_a_report_that_loads_only_what_its_header_names(problem: Path,
                                                                                tmp_path: Path):
    """A --fragment says in its leading comment lines the exact preamble it needs (the TikZ graph's
    arrows.meta was said nowhere, issue 12); \\input into a report class with only those, it compiles."""
    if shutil.which("pdflatex") is None:
        missing(f"pdflatex is not installed: {SETUP}")
    fragment = tmp_path / "fragment.tex"
    result = CliRunner().invoke(main, ["solve", str(problem), "--fragment", "--format", "tex",
                                       "-o", str(fragment)])
    assert result.exit_code == 0, result.output
    header = []
    for line in fragment.read_text(encoding="utf-8").splitlines():
        if not line.startswith("%"):
            break
        header.append(line)
    preamble = [line[2:] for line in header if line.startswith(("% \\usepackage", "% \\usetikzlibrary"))]
    assert "\\usetikzlibrary{arrows.meta}" in preamble
    notes = tmp_path / "notes.tex"
    notes.write_text("\\documentclass{report}\n" + "\n".join(preamble)
                     + "\n\\begin{document}\n\\chapter{Backpropagation}\n\\input{fragment}\n\\end{document}\n")
    code, log = pdflatex(notes)
    assert code == 0, "\n".join(log.splitlines()[-40:])


# --- Markdown: what GitHub reads as math, code, Mermaid and HTML -----------------------------------

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*([^`\s]*)")
HTML_TAG = re.compile(r"<!--|<\?|<![A-Za-z]|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
MERMAID_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
#: The one other tag a Mermaid label may hold: the green of a value or the red of a gradient, which
#: Mermaid keeps under its strict security level (each line also says what its number is).
MERMAID_COLOR = re.compile(r"<span style='color:#[0-9A-F]{6}'>|</span>")


@dataclass(frozen=True)
class Markdown:
    math: list[tuple[int, str, bool]]  # (line, math, display)
    mermaid: list[tuple[int, str]]  # (line of the opening fence, content)
    prose: list[tuple[int, str]]  # (line, text outside code and math), where HTML would be read
    errors: list[str]  # delimiters GitHub would not read as math: the dollars would show


def parse_markdown(text: str) -> Markdown:
    """Split Markdown as GitHub does: fenced blocks (```math is display math, ```mermaid a
    diagram, any other is code), then in the rest code spans, `$$...$$` (possibly over several
    lines), `$`...`$` and `$...$`; `\\$` is a literal dollar. Indented code blocks are not
    recognised (the solutions use fences)."""
    math: list[tuple[int, str, bool]] = []
    mermaid: list[tuple[int, str]] = []
    rest: list[str] = []  # the text outside fenced blocks, fenced lines blanked (lines keep numbers)
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            rest.append(lines[i])
            i += 1
            continue
        fence, info = opening.groups()
        closing = re.compile(rf"^ {{0,3}}{fence[0]}{{{len(fence)},}}[ \t]*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), len(lines))
        body = "\n".join(lines[i + 1:end])
        if info == "math":
            math.append((i + 1, body, True))
        elif info == "mermaid":
            mermaid.append((i + 1, body))
        rest.extend([""] * (min(end, len(lines) - 1) - i + 1))
        i = end + 1
    prose, fragments, errors = _inline(rest)
    return Markdown(math + fragments, mermaid, prose, errors)


def _inline(lines: list[str]) -> tuple[list[tuple[int, str]], list[tuple[int, str, bool]], list[str]]:
    text = "\n".join(lines)
    line_of = lambda k: text.count("\n", 0, k) + 1  # noqa: E731
    prose: list[tuple[int, str]] = []
    math: list[tuple[int, str, bool]] = []
    errors: list[str] = []
    start = k = 0

    def keep_prose(until: int) -> None:
        if until > start:
            prose.append((line_of(start), text[start:until]))

    while k < len(text):
        c = text[k]
        if c == "\\":  # an escaped character: \$ is a literal dollar
            k += 2
        elif c == "`":  # a code span: its content is neither math nor HTML
            run = re.match(r"`+", text[k:]).group()
            close = re.compile(rf"(?<!`){run}(?!`)").search(text, k + len(run))
            if close is None:
                k += len(run)
                continue
            keep_prose(k)
            k = start = close.end()
        elif text.startswith("$$", k):
            close = _closing(text, "$$", k + 2, blank_line_ends=False)
            if close is None:
                errors.append(f"line {line_of(k)}: $$ is never closed")
                k += 2
                continue
            keep_prose(k)
            math.append((line_of(k), text[k + 2:close], True))
            k = start = close + 2
        elif c == "$" and text.startswith("`", k + 1):  # $`...`$
            close = text.find("`$", k + 2)
            if close < 0:
                errors.append(f"line {line_of(k)}: $` is never closed by `$")
                k += 2
                continue
            keep_prose(k)
            math.append((line_of(k), text[k + 2:close], False))
            k = start = close + 2
        elif c == "$":
            close = _closing(text, "$", k + 1, blank_line_ends=True)
            if close is None or close == k + 1:
                errors.append(f"line {line_of(k)}: a lone $ (write \\$ for a literal dollar)")
                k += 1
                continue
            body = text[k + 1:close]
            if body != body.strip():
                errors.append(f"line {line_of(k)}: GitHub shows ${body}$ as text, not math: "
                              "no space may follow the opening $ or precede the closing $")
            keep_prose(k)
            math.append((line_of(k), body, False))
            k = start = close + 1
        else:
            k += 1
    keep_prose(len(text))
    for line, body, _ in math:  # GitHub splits a table row at every unescaped | before math is read
        if lines[line - 1].lstrip().startswith("|") and re.search(r"(?<!\\)\|", body):
            errors.append(f"line {line}: a | in math splits the table cell: write \\vert or \\lvert")
    return prose, math, errors


def _closing(text: str, delimiter: str, k: int, blank_line_ends: bool) -> int | None:
    """Where the unescaped `delimiter` closing math that starts at `k` is, if anywhere."""
    while k < len(text):
        if text[k] == "\\":
            k += 2
        elif text.startswith(delimiter, k):
            return k
        elif blank_line_ends and text.startswith("\n\n", k):
            return None
        else:
            k += 1
    return None


# --- Markdown tests --------------------------------------------------------------------------------

SOLUTION_MD = [p for p in MD_FILES if p.name != "README.md"]


@pytest.fixture(scope="session")
def katex_failures() -> dict[str, list[dict]]:
    """Every math fragment of every Markdown file through KaTeX in one Node process: the failures
    by file name."""
    node = shutil.which("node")
    if node is None:
        missing(f"node is not installed: {SETUP}")
    if not KATEX_PACKAGE.exists():
        missing(f"KaTeX is not installed in tests/katex: {SETUP}")
    fragments = [
        {"source": f"{path.name}:{line}", "math": math, "display": display}
        for path in MD_FILES
        for line, math, display in parse_markdown(path.read_text(encoding="utf-8")).math
    ]
    done = subprocess.run([node, str(KATEX_CHECK)], input=json.dumps(fragments), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"tests/katex_check.mjs failed to run:\n{done.stderr}"
    failures: dict[str, list[dict]] = {}
    for failure in json.loads(done.stdout):
        failures.setdefault(failure["source"].rsplit(":", 1)[0], []).append(failure)
    return failures


@pytest.mark.parametrize("source", params(MD_FILES, SOLUTION_MD))
def test_markdown_math_parses_with_katex(source: Path | None, katex_failures):
    source = require_file(source, "*.md besides README.md")
    markdown = parse_markdown(source.read_text(encoding="utf-8"))
    assert not markdown.errors, f"{source.name}: " + "\n".join(markdown.errors)
    failures = katex_failures.get(source.name, [])
    report = "\n".join(f"{f['source']}: {f['error']}\n    {f['math']}" for f in failures)
    assert not failures, f"KaTeX cannot render {len(failures)} fragment(s) of {source.name}:\n{report}"


@pytest.mark.parametrize("source", params(MD_FILES, SOLUTION_MD))
def test_markdown_has_no_raw_html(source: Path | None):
    source = require_file(source, "*.md besides README.md")
    markdown = parse_markdown(source.read_text(encoding="utf-8"))
    found = [f"line {line}: {tag.group()}" for line, text in markdown.prose
             for tag in HTML_TAG.finditer(text)]
    found += [f"line {line}: {tag.group()}" for line, math, _ in markdown.math
              for tag in HTML_TAG.finditer(math)]
    found += [f"mermaid block at line {line}: {tag.group()}" for line, body in markdown.mermaid
              for tag in HTML_TAG.finditer(body)
              if not (MERMAID_BR.fullmatch(tag.group()) or MERMAID_COLOR.fullmatch(tag.group()))]
    assert not found, (f"raw HTML in {source.name} (only <br> and a colored span inside Mermaid are "
                       "allowed):\n" + "\n".join(found))


@pytest.mark.parametrize("source", params(MD_FILES, SOLUTION_MD))
def test_markdown_mermaid_blocks_are_not_empty(source: Path | None):
    source = require_file(source, "*.md besides README.md")
    markdown = parse_markdown(source.read_text(encoding="utf-8"))
    empty = [line for line, body in markdown.mermaid if not body.strip()]
    assert not empty, f"{source.name}: empty mermaid block(s) at line(s) {empty}"


def test_katex_check_reports_a_broken_fragment():
    """The checker itself: a fragment that does not parse is reported, one that does is not."""
    node = shutil.which("node")
    if node is None or not KATEX_PACKAGE.exists():
        missing(f"node or KaTeX is not installed: {SETUP}")
    fragments = [{"source": "bad", "math": r"\frac{1}{", "display": False},
                 {"source": "good", "math": r"\frac{\partial E}{\partial w_{3}}", "display": True}]
    done = subprocess.run([node, str(KATEX_CHECK)], input=json.dumps(fragments), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [f["source"] for f in json.loads(done.stdout)] == ["bad"]


def test_markdown_math_is_found_where_github_finds_it():
    text = "\n".join([
        r"Cost \$5 and `$x$ in code` and $`a_1`$ and $\bar{y}$.",
        "$$",
        r"\begin{aligned} E &= (y - \bar{y})^2 \end{aligned}",
        "$$",
        "```python",
        "price = '$1' + '$2'",
        "```",
        "```math",
        r"\sigma(z)",
        "```",
        "```mermaid",
        "graph LR; a-->b",
        "```",
    ])
    markdown = parse_markdown(text)
    assert markdown.math == [
        (8, r"\sigma(z)", True),
        (1, "a_1", False),
        (1, r"\bar{y}", False),
        (2, "\n" + r"\begin{aligned} E &= (y - \bar{y})^2 \end{aligned}" + "\n", True),
    ]
    assert markdown.mermaid == [(11, "graph LR; a-->b")]
    assert markdown.errors == []


def test_markdown_lone_dollar_spaced_math_and_pipe_in_table_are_errors():
    assert parse_markdown("costs $5").errors == [r"line 1: a lone $ (write \$ for a literal dollar)"]
    assert "no space may follow" in parse_markdown("$ x$").errors[0]
    assert "splits the table cell" in parse_markdown("| $|x|$ | 1 |").errors[0]
    assert parse_markdown("$|x|$ and | $\\lvert x \\rvert$ |").errors == []


# --- a graph too large to draw on a page ---------------------------------------------------------

def test_a_graph_too_large_for_a_page_is_described_not_drawn(tmp_path: Path):
    """A 4-6-3 network has 77 boxes: its TikZ would not be legible (and a few hundred boxes stop
    pdflatex with "Dimension too large"), so the solution says how to draw it and still compiles."""
    import symbackprop
    from symbackprop.printing import diagram

    weights = lambda rows, cols: [[f"0.{(r * cols + c) % 9 + 1}" for c in range(cols)] for r in range(rows)]  # noqa: E731
    problem = symbackprop.load({"layers": {
        "inputs": ["0.5", "-0.2", "0.1", "0.7"], "targets": ["1", "0", "0"], "loss": "squared_error",
        "dense": [{"activation": "sigmoid", "weights": weights(6, 4), "biases": ["0.1"] * 6},
                  {"activation": "sigmoid", "weights": weights(3, 6), "biases": ["-0.1"] * 3}]}})
    solution = problem.solve()
    assert diagram.box_count(solution) == 77 > diagram.MAX_DRAWN_BOXES
    # Its network of 13 neurons is drawn by default; the graph, asked for, is described.
    assert r"\node[neuron]" in solution.render("tex") and "```mermaid" in solution.render("md")
    md = solution.render("md", figure="graph")
    assert "```mermaid" not in md
    assert "The computational graph has 77 nodes and symbols, too many to draw" in md
    tex = solution.render("tex", figure="graph")
    assert r"\begin{tikzpicture}" not in tex and "has 77 nodes and symbols" in tex
    # Typeset as "--format", not an en dash: the command can be copied (issue 12).
    assert r"\texttt{symbackprop graph PROBLEM -{}-format svg}" in tex
    if shutil.which("pdflatex") is None:
        missing(f"pdflatex is not installed: {SETUP}")
    (tmp_path / "large.tex").write_text(tex, encoding="utf-8")
    code, log = pdflatex(tmp_path / "large.tex")
    assert code == 0, "\n".join(log.splitlines()[-40:])
