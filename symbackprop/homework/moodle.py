"""A class's variants as a Moodle XML question file (issue 14), checked against our schema of the
subset written before it is returned: Moodle's importer reports no errors in a malformed file, it
imports what it can and leaves the rest out.

Moodle gives each student a variant by drawing a "random question" from a category, so the file
holds one category per problem and the variants in it. Mode "cloze" writes one question per variant
with a NUMERICAL blank per asked quantity; mode "numerical" writes one question per quantity and
variant, each quantity in its own subcategory (a random draw from one category per quantity).

Read from moodle/moodle's own code: question/format/xml/format.php (import_headers,
import_numerical, import_multianswer, import_category; commit 9094211d), question/format.php
(assemble_category_path) and question/type/multianswer/questiontype.php
(qtype_multianswer_extract_question, the cloze grammar; Moodle 4.x as in andrewnicols/moodle
b70448bd, the grammar unchanged since moodle/moodle 3e52ba10). tests/test_moodle.py re-reads every
blank with a port of that parser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from xml.etree.ElementTree import ParseError

import sympy as sp

from ..errors import ProblemError
from .answers import rounded
from .html import markdown_html
from .records import Answer, Distractor, Variant

MODES = ("cloze", "numerical")
#: Significant digits a value is written with at least. Moodle marks |response - value| <= tolerance,
#: so the window must be centred on the true value, not on the rounded one a student sees.
WRITTEN_DIGITS = 12
#: Moodle's default penalty for a wrong try (question/format.php defaultquestion()), written out.
PENALTY = "0.3333333"
CORRECT_FEEDBACK = "Correct."
#: Feedback for a value no named mistake gives, the `*` answer Moodle tries last.
OTHER_FEEDBACK = "Not a value one of the usual mistakes gives: compare your steps with the worked solution."
#: What Moodle would read as a cloze blank ({1:NUMERICAL:...) or a blank's placeholder ({#1}) in the
#: question text itself: the question's own text must hold neither.
_BLANK_LIKE = re.compile(r"\{[0-9]*:[A-Z_]+:|\{#[0-9]+\}")


def moodle_xml(variants: Sequence[Variant], category: str, mode: str = "cloze",
               catch_all: bool = True) -> str:
    """The variants as a Moodle XML quiz file: an XML declaration, <quiz>, the category, the
    questions. `category` names the problem (its file's stem or title); `catch_all` adds a last
    `*` answer whose feedback points to the worked solution. Raises ProblemError if the result
    does not follow the schema."""
    if mode not in MODES:
        raise ProblemError(f"unknown Moodle mode '{mode}'; it may be " + " or ".join(MODES))
    if not category.strip():
        raise ProblemError("the Moodle category (the problem's name) is empty")
    if not variants:
        raise ProblemError("there are no variants to write into the Moodle file")
    root = "$course$/symbackprop/" + category_path(category)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    if mode == "cloze":
        parts.append(_category(root))
        parts += [_cloze(variant, _pages(variant), catch_all) for variant in variants]
    else:
        # One subcategory per asked quantity, in the order the tasks ask them: a quiz draws one
        # random question from each, as one cloze question would ask them all.
        order: dict[tuple[str, str], str] = {}
        for variant in variants:
            for answer in variant.answers:
                order.setdefault((answer.task, answer.key), f"({answer.task}) {answer.label}")
        pages = [_pages(variant) for variant in variants]       # each variant's HTML, made once
        for (task, key), title in order.items():
            parts.append(_category(root + "/" + category_path(title)))
            parts += [_numerical(variant, answer, page, catch_all) for variant, page in zip(variants, pages)
                      for answer in variant.answers if (answer.task, answer.key) == (task, key)]
    parts.append("</quiz>\n")
    return check("\n".join(parts))


def check(document: str) -> str:
    """The document if it follows schemas/moodle_quiz.xsd, else a ProblemError naming the first
    difference (the schema checks the shape; it also asks that a numerical question's first answer
    be the correct one and that idnumbers differ)."""
    import xmlschema  # here, not at the top: importing it costs every command 0.24 s
    from xmlschema.validators import XsdAssert

    try:
        error = next(_schema().iter_errors(document.encode("utf-8")), None)
    except (ParseError, xmlschema.XMLSchemaException) as exc:
        error = exc
    if error is not None:
        reason = getattr(error, "reason", None) or str(error).splitlines()[0]
        if isinstance(getattr(error, "validator", None), XsdAssert):
            reason += f": {error.validator.path}"       # the assertion's test says what failed
        where = getattr(error, "path", None)
        raise ProblemError(f"the Moodle XML does not follow its schema{f' at {where}' if where else ''}: "
                           f"{reason}")
    return document


@cache
def _schema():
    import xmlschema

    path = resources.files("symbackprop.homework") / "schemas" / "moodle_quiz.xsd"
    return xmlschema.XMLSchema11(path.read_text(encoding="utf-8"))


def category_path(name: str) -> str:
    """One category's name as a part of Moodle's path: '/' doubled, and a space put before a leading
    or after a trailing '/' (question/format.php, assemble_category_path)."""
    escaped = name.strip().replace("/", "//")
    return (" " if escaped.startswith("/") else "") + escaped + (" " if escaped.endswith("/") else "")


def written(value: sp.Expr, tolerance: sp.Rational) -> str:
    """The value as Moodle reads a number: a plain decimal with '.', to WRITTEN_DIGITS significant
    digits or more, until its rounding is below a millionth of the window it centres."""
    if not tolerance > 0:
        raise ProblemError(f"a Moodle answer's tolerance must be positive, not {tolerance}")
    digits = WRITTEN_DIGITS
    text, unit = rounded(value, digits)
    while unit * 10**6 > tolerance:
        digits += 3
        text, unit = rounded(value, digits)
    return text.rstrip("0").rstrip(".") if "." in text else text


def mistake_feedback(distractor: Distractor) -> str:
    """A named mistake's feedback as HTML: what went wrong and what was recomputed."""
    return html.escape(f"This is the value a common mistake gives, {distractor.title}: "
                       f"{distractor.detail}.", quote=False)


def cloze_feedback(text: str) -> str:
    """Feedback HTML written into a cloze blank so that Moodle reads it back unchanged. Moodle ends
    an alternative's feedback at a '~' or '}' not after a backslash, then decodes entities and
    unescapes only '\\}' and '\\#' (qtype_multianswer_extract_question): so '}' and '#' are
    backslash-escaped, and '~', '\\' and '&' (which it would decode) are written as entities, as is a
    line break (its '$' would end the last alternative's feedback before a final one)."""
    out = {"&": "&amp;", "~": "&#126;", "\\": "&#92;", "\n": "&#10;", "}": "\\}", "#": "\\#"}
    return "".join(out.get(c, c) for c in text)


def _blank(answer: Answer, catch_all: bool) -> str:
    """One NUMERICAL sub-question: the correct value first (Moodle takes the first alternative whose
    window holds the response), then each named mistake at 0%, then `*`."""
    alternatives = [f"={_window(answer.value, answer.tolerance)}#{cloze_feedback(CORRECT_FEEDBACK)}"]
    alternatives += [f"%0%{_window(d.value, d.tolerance)}#{cloze_feedback(mistake_feedback(d))}"
                     for d in answer.distractors]
    if catch_all:
        alternatives.append(f"%0%*#{cloze_feedback(OTHER_FEEDBACK)}")
    return "{1:NUMERICAL:" + "~".join(alternatives) + "}"


def _window(value: sp.Expr, tolerance: sp.Rational) -> str:
    return f"{written(value, tolerance)}:{written(tolerance, tolerance)}"


def _pages(variant: Variant) -> tuple[str, str]:
    """The variant's question and worked solution as HTML."""
    text = markdown_html(variant.question_md)
    if found := _BLANK_LIKE.search(text):
        raise ProblemError(f"the question text of variant {variant.seed} holds '{found.group(0)}', "
                           "which Moodle would read as a cloze blank")
    return text, markdown_html(variant.solution_md)


def _asked(answer: Answer) -> str:
    return html.escape(f"({answer.task}) {answer.label} = ", quote=False)


def _cloze(variant: Variant, pages: tuple[str, str], catch_all: bool) -> str:
    blanks = "".join(f"<p>{_asked(a)}{_blank(a, catch_all)}</p>\n" for a in variant.answers)
    return _question("cloze", f"{variant.title} {variant.seed}", pages[0] + blanks, pages[1],
                     len(variant.answers), variant.seed, "")


def _numerical(variant: Variant, answer: Answer, pages: tuple[str, str], catch_all: bool) -> str:
    text = pages[0] + f"<p>{_asked(answer)}?</p>\n"
    rows = [_answer(100, written(answer.value, answer.tolerance), answer.tolerance, CORRECT_FEEDBACK)]
    rows += [_answer(0, written(d.value, d.tolerance), d.tolerance, mistake_feedback(d))
             for d in answer.distractors]
    if catch_all:
        rows.append(_answer(0, "*", None, OTHER_FEEDBACK))
    return _question("numerical", f"{variant.seed} ({answer.task}) {answer.label}", text, pages[1], 1,
                     f"{variant.seed} {answer.key}", "".join(rows))


def _answer(fraction: int, value: str, tolerance: sp.Rational | None, feedback: str) -> str:
    width = "0" if tolerance is None else written(tolerance, tolerance)
    return (f'  <answer fraction="{fraction}">\n    <text>{value}</text>\n'
            f'    <feedback format="html"><text>{_cdata(feedback)}</text></feedback>\n'
            f"    <tolerance>{width}</tolerance>\n  </answer>\n")


def _question(kind: str, name: str, text: str, solution: str, grade: int, idnumber: str,
              answers: str) -> str:
    # The elements in the order Moodle's own export writes them.
    return (f'<question type="{kind}">\n'
            f"  <name><text>{_escape(name)}</text></name>\n"
            f'  <questiontext format="html"><text>{_cdata(text)}</text></questiontext>\n'
            f'  <generalfeedback format="html"><text>{_cdata(solution)}</text></generalfeedback>\n'
            f"  <defaultgrade>{grade}</defaultgrade>\n  <penalty>{PENALTY}</penalty>\n"
            f"  <hidden>0</hidden>\n  <idnumber>{_escape(idnumber)}</idnumber>\n"
            f"{answers}</question>")


def _category(path: str) -> str:
    return f'<question type="category">\n  <category><text>{_escape(path)}</text></category>\n</question>'


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _cdata(text: str) -> str:
    """Text in a CDATA section; a ']]>' inside it is split across two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
