"""Render a Solution, and the check and study reports, through Jinja2 templates. Python writes every
piece of mathematics; templates lay out.

`view.view()` turns a Solution into plain data using the Format of the target (formats.py), and
`render()` passes that data to `solution.<format>.j2`. One Jinja2 environment per template kind: LaTeX
templates (`*.tex.j2`) take nbconvert's TeX-safe delimiters, since `{{`, `{%` and `{#` occur in TeX;
Markdown and text templates keep Jinja's. A course restyles its solutions with a `template_dir`
searched before the shipped templates: a file there replaces the shipped one of its name, or extends
it (`((* extends "solution.tex.j2" *))` in the course's own solution.tex.j2 extends the shipped one)
and overrides a block.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine.matrix import MatrixForm, NoMatrixForm, matrix_form
from ..engine.solution import Solution
from ..errors import ProblemError
from ..model.problem import FORMS
from . import diagram, network, notes, sheets
from .formats import FORMAT_BY_NAME, MarkdownFormat, exact_and_decimal
from .matrices import answer_key as matrix_answer_key
from .matrices import entry_of, matrix_view
from .view import view

if TYPE_CHECKING:
    import jinja2

SOLUTION_FORMATS = ("txt", "md", "tex", "json")
DEFAULT_DIGITS = 6
#: The figure of a worked solution: the layered network (neurons in layers, weights on the edges), the
#: computational graph (one box per node and symbol), or none.
FIGURES = ("network", "graph", "none")


#: The delimiters of each template kind. LaTeX's are nbconvert's: ((* block *)), ((( variable ))),
#: ((= comment =)); Jinja's defaults would fight TeX braces.
SYNTAXES: dict[str, dict[str, str]] = {
    "jinja": {},
    "tex": {"block_start_string": "((*", "block_end_string": "*))",
            "variable_start_string": "(((", "variable_end_string": ")))",
            "comment_start_string": "((=", "comment_end_string": "=))"},
}

#: The prefix that names a shipped template even where a course's template of the same name exists.
SHIPPED = "shipped"


def template_dirs() -> list[Path]:
    """Where the shipped templates are: printing/templates, inside the package."""
    return [Path(__file__).resolve().parent / "templates"]


def syntax_of(name: str) -> str:
    """The template kind of a template file: 'tex' for *.tex.j2, 'jinja' for every other."""
    return "tex" if name.endswith(".tex.j2") else "jinja"


def fill(name: str, data: dict[str, Any], template_dir: str | Path | None = None) -> str:
    """The template `name` filled with `data`: the one place templates are found and their errors
    said (a missing template names the directory; a syntax error, the template's file and line)."""
    # jinja2 is imported here and in environment(), not at the top: the JSON answer key fills no
    # template, and `solve --format json` starts faster without it (issue 15).
    import jinja2

    try:
        return environment(None if template_dir is None else str(template_dir),
                           syntax_of(name)).get_template(name).render(**data)
    except jinja2.TemplateNotFound as exc:
        raise ProblemError(f"template {exc.name} not found in {template_dir or 'the shipped templates'}",
                           key="template_dir") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ProblemError(f"template error: {exc.message}", source=exc.filename, line=exc.lineno) from None
    except jinja2.UndefinedError as exc:
        raise ProblemError(f"template error: {exc.message}", key="template_dir") from None
    except RecursionError:
        # Two course templates that extend (or include) each other; its own name is the shipped one.
        raise ProblemError(f"template {name} extends or includes itself through another template",
                           key="template_dir") from None
    except UnicodeDecodeError:
        raise ProblemError(f"template {name} (or one it extends) is not UTF-8 text",
                           key="template_dir") from None
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        # What a course's template can get wrong while it runs: a macro called with the wrong
        # arguments, 1/0, a filter on the wrong kind of value.
        raise ProblemError(f"template {name} failed: {exc}", key="template_dir") from None


@functools.cache
def _environment_class() -> type[jinja2.Environment]:
    """Jinja2's environment, where a template that extends, includes or imports its own name gets
    the shipped template of that name: a course's solution.tex.j2 may extend "solution.tex.j2" (as
    Django's recursive template loading allows) instead of extending itself without end. Made when
    the first template is, as jinja2 is imported then."""
    import jinja2

    class Environment(jinja2.Environment):
        def join_path(self, template: str, parent: str) -> str:
            return f"{SHIPPED}/{template}" if template == parent else template

    return Environment


@functools.cache
def _cache_class() -> type[jinja2.FileSystemBytecodeCache]:
    """Jinja2's bytecode cache on disk, where a file it cannot read or write is a template compiled
    again, never an error: the cache only saves time."""
    import jinja2

    class Cache(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except Exception:       # unreadable, or not what Jinja wrote (its pickle, its marshal)
                bucket.reset()

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    return Cache


def _bytecode_cache(syntax: str) -> jinja2.BytecodeCache | None:
    """The templates as compiled by an earlier run, kept in the user's cache directory: compiling
    solution.txt.j2 takes 20-35 ms, a fifth of what `symbackprop solve` adds to importing SymPy
    (issue 15). Jinja compiles a template again when its source changes (it keeps a checksum); the
    file names hold what else the compiled code depends on: Jinja's version, the template kind's
    delimiters and this module's text (the environment's options, and the filters, which Jinja
    applies to literals while it compiles). Without a writable cache directory, templates are
    compiled in every run."""
    import hashlib

    import jinja2

    try:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        root.mkdir(mode=0o700, exist_ok=True)       # in an existing directory, never a new home
        directory = root / "symbackprop" / "templates"
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Loading a cache file runs its code: only from a directory no one else can write into.
        status = directory.stat()
        mine = not hasattr(os, "getuid") or status.st_uid == os.getuid()
        if not (mine and os.access(directory, os.W_OK)) or status.st_mode & 0o022:
            return None
        fingerprint = hashlib.sha1(repr((jinja2.__version__, SYNTAXES[syntax])).encode()
                                   + Path(__file__).read_bytes()).hexdigest()[:16]
    except (OSError, RuntimeError):         # RuntimeError: no home directory to be found
        return None
    return _cache_class()(str(directory), f"{syntax}-{fingerprint}-%s.cache")


@functools.lru_cache(maxsize=16)
def environment(template_dir: str | None = None, syntax: str = "jinja") -> jinja2.Environment:
    """One Jinja2 environment per template directory and kind (SYNTAXES), kept: it caches its
    compiled templates, in memory and on disk (_bytecode_cache). `template_dir` is searched before
    the shipped templates, and "shipped/NAME" is always the shipped template NAME."""
    import jinja2

    search = ([Path(template_dir)] if template_dir else []) + template_dirs()
    shipped = jinja2.FileSystemLoader([str(d) for d in template_dirs()])
    env = _environment_class()(
        loader=jinja2.ChoiceLoader([jinja2.PrefixLoader({SHIPPED: shipped}),
                                    jinja2.FileSystemLoader([str(d) for d in search])]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        bytecode_cache=_bytecode_cache(syntax),
        **SYNTAXES[syntax],
    )
    env.filters["align_lines"] = align_lines
    env.filters["align_block"] = align_block
    env.filters["align_environment"] = align_environment
    env.globals["text_table"] = text_table
    env.filters["segment_lines"] = segment_lines
    return env


def align_lines(equations: list[dict], line_length: int | None = None) -> list[str]:
    """Equations as the lines of an align*/aligned block: 'y &= a = b', '&= c'. Segments share a line
    while it stays within line_length (MAX_LINE_LENGTH by default); a segment too long for the page
    is broken before its top-level + and - signs."""
    width = MAX_LINE_LENGTH if line_length is None else line_length
    lines = []
    for e in equations:
        line = None
        for index, (relation, text) in enumerate(e["rhs"]):
            pieces = break_sum(text, width)
            if line is not None and len(pieces) == 1 and \
                    visible_length(f"{line} {relation} {text}") <= width:
                line = f"{line} {relation} {text}"
                continue
            if line is not None:
                lines.append(line)
            line = f"{e['lhs'] if index == 0 else ''} &{relation} {pieces[0]}".lstrip()
            if len(pieces) > 1:
                lines.append(line)
                lines.extend(rf"&\quad {piece}" for piece in pieces[1:])
                line = None
        if line is not None:
            lines.append(line)
        if not e["rhs"]:
            lines.append(e["lhs"])
    return lines


def segment_lines(equations: list[dict]) -> list[str]:
    """Each equation one step per line, the first with its left side: 'z = W a + b', '= [..] [..]'."""
    return [f"{e['lhs'] if index == 0 else ''} {relation} {text}".lstrip()
            for e in equations for index, (relation, text) in enumerate(e["rhs"])]


def text_table(columns: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """A table as aligned plain-text lines, each column as wide as its widest cell."""
    widths = [max(len(cell) for cell in column) for column in zip(columns, *rows)]
    return [indent + "  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
            for line in [columns, *rows]]


def align_block(equations: list[dict], label_prefix: str | None = None,
                line_length: int | None = None) -> str:
    """The body of a LaTeX align block: a page may break between two equations, never inside one
    (`\\\\*`), so no page starts with a lone "= 2" (the display allows breaks: \\allowdisplaybreaks).
    With a label prefix, an equation the view marks "numbered" gets its number on its last line,
    and its label there (\\label{PREFIX:dE-dw5}); every other line is \\notag (align_environment)."""
    blocks = []
    numbering = align_environment(equations, label_prefix) == "align"
    width = MAX_LINE_LENGTH if line_length is None else line_length
    for e in equations:
        # A number beside the last line takes its room, or LaTeX sets the number a line lower.
        lines = align_lines([e], width - NUMBER_LENGTH if numbering and e.get("numbered") else width)
        if numbering:
            ends = [r"\notag"] * (len(lines) - 1)
            if not e.get("numbered"):
                ends.append(r"\notag")
            else:
                ends.append(rf"\label{{{label_prefix}:{e['label']}}}" if e.get("label") else "")
            lines = [f"{line} {end}".rstrip() for line, end in zip(lines, ends)]
        blocks.append(" \\\\*\n".join(lines))
    return " \\\\\n".join(blocks)


def align_environment(equations: list[dict], label_prefix: str | None = None) -> str:
    """align where notes asked for labels (a label prefix) and the display holds an equation to
    number; align* otherwise, as in a document of its own, where nothing refers to an equation."""
    numbered = label_prefix is not None and any(e.get("numbered") for e in equations)
    return "align" if numbered else "align*"


#: Mathematics wider than this many visible characters (about a line of the page) is broken.
MAX_LINE_LENGTH = 70
#: The room an equation number "(1.10)" and its gap take on a line, in visible characters.
NUMBER_LENGTH = 8


# Kept per string: the same mathematics is measured in Markdown and LaTeX, once for the line it would
# join and again for its own, and again in every solution of the same problem.
@functools.lru_cache(maxsize=4096)
def visible_length(latex: str) -> int:
    """Roughly how many characters wide LaTeX is typeset: braces, \\left and \\right dropped, a
    function's name counted as its letters and any other command as one character, and a fraction
    counted by its wider part."""
    while True:
        fraction = re.search(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", latex)
        if fraction is None:
            break
        wider = max(fraction.group(1), fraction.group(2), key=len)
        latex = latex[:fraction.start()] + wider + latex[fraction.end():]
    latex = re.sub(r"\\(?:operatorname|mathrm|text)\{([^{}]*)\}", r"\1", latex)
    latex = re.sub(r"\\(left|right)\b", "", latex)
    # A function name is as wide as its letters; any other command (a Greek letter, \cdot) one.
    latex = re.sub(r"\\(log|exp|max|min|sin|cos|tanh)\b", r"\1", latex)
    return len(re.sub(r"\\[a-zA-Z]+", "x", re.sub(r"[{}_^ ]", "", latex)))


def break_sum(latex: str, line_length: int = MAX_LINE_LENGTH) -> list[str]:
    """Split LaTeX at top-level ' + ' and ' - ' (outside every bracket and brace) into pieces at most
    line_length characters wide where possible; each later piece starts with its sign."""
    return list(_pieces(latex, line_length))


# A tuple, kept as visible_length is: a caller that changed a kept list would change the next result.
@functools.lru_cache(maxsize=4096)
def _pieces(latex: str, line_length: int) -> tuple[str, ...]:
    if visible_length(latex) <= line_length or r"\begin{bmatrix}" in latex:
        return (latex,)                  # a matrix's rows hold signs that are no place to break
    cuts, depth = [], 0
    for i, char in enumerate(latex):
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif depth == 0 and latex[i - 1:i + 2] in (" + ", " - ") and i > 1:
            cuts.append(i)
    pieces, start = [], 0
    for position, cut in enumerate(cuts):
        following = cuts[position + 1] if position + 1 < len(cuts) else len(latex)
        if visible_length(latex[start:following]) > line_length and cut > start:
            pieces.append(latex[start:cut].strip())
            start = cut
    pieces.append(latex[start:].strip())
    return tuple(pieces)


def render(solution: Solution, format: str = "txt", *, digits: int = DEFAULT_DIGITS,
           symbolic: bool = False, fragment: bool = False,
           template_dir: str | Path | None = None, numbers: str | None = None,
           decimals: int | None = None, gradients: str | list[str] | None = None,
           detail: str | list[str] | None = None, delta: bool = True, figure: str | None = None,
           section_level: str | None = None, label_prefix: str | None = None,
           form: str | None = None, sheet: str | None = None, blank: tuple = (),
           student: dict[str, str] | None = None, answer_digits: int | None = None) -> str:
    """The worked solution as text, Markdown, LaTeX (a whole document, or with fragment=True the body
    alone, to \\input into lecture notes) or the JSON answer key. `numbers` overrides the problem's
    policy (as-written or exact); `decimals` fixes the decimal places of approximations; `gradients`
    ("all" or names), `detail` ("all" or names) and `delta` choose what the backward pass derives,
    in full or in tables (engine/teaching.py), each defaulting to the problem's own. `figure` is
    one of FIGURES; by default the network where the problem is made of layers of neurons, else
    the graph. LaTeX for notes (notes.py): `section_level` is the level of the title, one of
    notes.SECTION_LEVELS ("section" by default); `label_prefix` numbers the results and labels
    them PREFIX:dE-dw5, PREFIX:delta-o1 (none by default: no numbers). `form` is one of FORMS
    (the problem's form:, scalar by default): matrix writes each layer's equations as matrices,
    both adds the scalar derivation, each weight linked to its entry.

    Homework (sheets.py): `sheet` is one of sheets.SHEETS: "question" (the problem, its figure
    without computed values, the tasks), "solution" (the parts headed by the label of the task
    they answer) or "blanks" (the solution with the values of the quantities `blank`, by default
    the tasks' answers, each an empty box). `student` ({"name", "id", "seed"}, each optional) fills
    the name and ID lines of the sheet; {} leaves them out (a quiz online knows who answers).
    `answer_digits` (at most `digits`) is the significant digits the answers are asked to; the
    steps carry `digits`."""
    blank = (blank,) if isinstance(blank, str) else tuple(blank)      # "dE/dw5, w5+" as one text
    sheets.check_sheet(sheet, blank, student, format, symbolic, solution.run is not None)
    sheets.check_answer_digits(answer_digits, digits, sheet)
    layered = _network(solution, figure)
    # A symbolic derivation is the scalar one: the matrix form multiplies numbers out.
    form = "scalar" if symbolic else form or solution.problem.form
    matrices = _matrix_form(solution, form)
    headings = notes.headings(section_level)
    label_prefix = notes.check_prefix(label_prefix)
    if format == "json":
        key = solution.to_dict(gradients)
        if matrices is not None:
            key["matrix"] = matrix_answer_key(matrices, exact_and_decimal)
        return json.dumps(key, indent=2, ensure_ascii=False) + "\n"
    if format not in FORMAT_BY_NAME:
        raise ProblemError(f"unknown format '{format}'; use one of " + ", ".join(SOLUTION_FORMATS),
                           key="format")
    fmt = FORMAT_BY_NAME[format].of(solution.problem, digits, numbers, decimals)
    problem = solution.problem
    blank = sheets.blanked(solution, blank) if sheet == "blanks" else ()
    boxed = sheets.blank_values(solution, blank)
    statement = fmt                       # the problem and the tasks as given, never boxed
    if boxed:
        fmt = sheets.blanking(fmt, boxed)
    plan = {"gradients": gradients if gradients is not None else problem.asked_gradients,
            "detail": detail if detail is not None else problem.detail, "delta": delta}
    # graph_boxes lets the template say why a graph too large for the page is not drawn.
    boxes = 0 if figure == "none" or layered is not None else diagram.box_count(solution)
    entries = entry_of(matrices, fmt) if matrices is not None and form == "both" else None
    data = {**view(solution, fmt, symbolic=symbolic, plan=plan, entries=entries, statement=statement),
            "fragment": fragment, "form": form, "matrix": None if matrices is None else matrix_view(
                matrices, fmt, form == "both", [e.forward[problem.loss].value for e in solution.examples],
                solution.batch_loss),
            "graph": _figure(sheets.figure_solution(solution, sheet, boxed), format, figure, layered),
            "graph_boxes": boxes, "labels": sheets.labels(solution, format, sheet),
            "sheet": None if sheet is None else sheets.sheet_view(solution, statement, sheet, blank, student,
                                                                         answer_digits),
            "tikz_libraries": ",".join(diagram.TIKZ_LIBRARIES), "headings": headings,
            "label_prefix": label_prefix,
            "line_length": notes.FRAGMENT_LINE_LENGTH if fragment else MAX_LINE_LENGTH}
    return fill(f"{'question' if sheet == 'question' else 'solution'}.{format}.j2", data, template_dir)


def _matrix_form(solution: Solution, form: str) -> MatrixForm | None:
    """The matrix form where asked for; one it cannot have is bad input, said in one line."""
    if form not in FORMS:
        raise ProblemError(f"unknown form '{form}'; use one of " + ", ".join(FORMS), key="form")
    if form == "scalar":
        return None
    try:
        return matrix_form(solution)
    except NoMatrixForm as exc:
        raise ProblemError(f"has no matrix form: {exc}", key="--form") from None


def _network(solution: Solution, figure: str | None) -> network.Network | None:
    """The layers to draw, or None for the graph or no figure; asking for the network of a problem
    that has no layers is bad input, said before anything is written."""
    if figure not in (None, *FIGURES):
        raise ProblemError(f"unknown figure '{figure}'; use one of " + ", ".join(FIGURES), key="figure")
    if figure in ("graph", "none"):
        return None
    layered = network.recognise(solution.problem)
    if layered is None and figure == "network":
        raise ProblemError("this network is not made of dense layers (weighted sums, each followed by "
                           "an activation); use --figure graph", key="figure")
    return layered


def _figure(solution: Solution, format: str, figure: str | None,
            layered: network.Network | None) -> str | None:
    """The figure drawn for the format: TikZ in LaTeX, Mermaid in Markdown; None in text, with
    figure="none", and where the graph is too large to draw on a page (the template says so)."""
    kind = {"tex": "tikz", "md": "mermaid"}.get(format)
    if kind is None or figure == "none":
        return None
    if layered is not None:
        draw = network.tikz if kind == "tikz" else network.mermaid
        return draw(solution, layered).strip()
    if diagram.box_count(solution) > diagram.MAX_DRAWN_BOXES:
        return None
    return diagram.draw(solution, kind).strip()


def gradients_latex(solution: Solution) -> str:
    """The gradients alone as one aligned display: Jupyter's LaTeX display is MathJax, which takes
    mathematics only."""
    lines = align_lines(view(solution, MarkdownFormat.of(solution.problem, 6))["gradients"])
    return "$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$"
