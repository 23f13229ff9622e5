"""The class's variants as a Canvas quiz: a QTI 1.2 zip for Canvas's "QTI .zip file" import (issue 14).

The zip has the files text2qti (gpoore/text2qti 0.8.0, qti.py) writes, in its order:
`imsmanifest.xml`, an empty `non_cc_assessments/`, `{id}/assessment_meta.xml` and `{id}/{id}.xml`,
and every element and attribute of them as text2qti's xml_imsmanifest.py, xml_assessment_meta.py
and xml_assessment.py spell them; tests/test_canvas.py compares an item with one text2qti builds.

Canvas gets a pool, not a student's own variant. Each asked quantity is a question group holding
one item per variant, and Canvas draws one item from each group *at random*, not by student: a
student may get variant 3's item for (a) and variant 7's for (b). So every item carries its whole
variant's question text and worked solution, and the per-student mapping stays the strength of the
Moodle and Gradescope exports.

Why one item per quantity, and why some are scaled (canvas-lms ui/features/take_quiz/jquery/index.js
and gems/plugins/qti_exporter/lib/qti/numeric_interaction.rb):
- Classic quizzes round a typed number to four decimal places (`val.toFixed(4)`) before it is
  marked, so 0.08217 arrives as 0.0822 and anything below 1e-4 as 0 (text2qti's limit). An answer
  whose last asked digit lies past the fourth place is asked scaled instead: "Enter 10² · ∂E/∂w₁",
  with k the smallest power making the tolerance (one unit in the last asked digit) at least 1e-4.
  At 4 significant digits that puts the scaled value at 0.1 or more.
- The importer reads `varequal` as the exact answer and `varlte - varequal` as its margin, so the
  edges are written as the exact value's 12-digit decimal plus and minus the tolerance, exactly:
  Canvas's window is then the one answers.py computed, to the 12th digit.
- Every numeric answer of an imported item is marked 100%: a named mistake's value would be marked
  right, so the distractors (Moodle's feedback) are not exported here, and a numerical question has
  one blank, so each quantity is its own item.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from xml.etree import ElementTree as ET

from ..arithmetic import numeric
from ..errors import ProblemError
from ..model.homework import decimal_text
from .archive import fixed_zip
from .html import markdown_html
from .records import Answer, Variant

QTI = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: Canvas keeps this many decimal places of a typed number.
TYPED_PLACES = 4
#: Significant digits of the exact answer written into the key (Canvas holds it as a double).
KEY_DIGITS = 12
#: The zip's timestamps and the manifest's date: fixed, so the same variants give the same bytes.
FIXED_DATE = "1980-01-01"
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


@dataclass(frozen=True)
class NumericKey:
    """What one item's marking writes: the student enters the quantity times 10**scale, and a
    typed number in [low, high] (after Canvas's rounding to four places) scores 100."""

    scale: int
    exact: Fraction
    low: Fraction
    high: Fraction
    digits: int


def canvas_qti_zip(variants: Sequence[Variant], title: str, *, points_per_item: int | float = 1,
                   description: str = "", date: str = FIXED_DATE) -> bytes:
    """The variants as a Canvas QTI 1.2 zip: one question group per asked quantity (Canvas picks
    one of its items, one per variant, at random for each student). Same input, same bytes."""
    if not variants:
        raise ProblemError("a Canvas quiz needs at least one variant")
    asked = [(a.task, a.key) for a in variants[0].answers]
    owners = set()
    for variant in variants:
        if [(a.task, a.key) for a in variant.answers] != asked:
            raise ProblemError(f"variant of {variant.student} (seed {variant.seed}) asks for other "
                               "quantities than the first variant: a Canvas group holds one quantity")
        if (variant.student, variant.seed) in owners:
            raise ProblemError(f"two variants for {variant.student} with seed {variant.seed}")
        owners.add((variant.student, variant.seed))
    quiz = _ident("assessment", title, *(f"{v.student}:{v.seed}" for v in variants))
    manifest = _manifest(quiz, date)
    meta = _assessment_meta(quiz, title, description, points_per_item * len(asked))
    assessment = _assessment(quiz, title, variants, points_per_item)
    entries = (("imsmanifest.xml", manifest), ("non_cc_assessments/", ""),
               (f"{quiz}/assessment_meta.xml", meta), (f"{quiz}/{quiz}.xml", assessment))
    return fixed_zip((name, data.encode("utf-8"), 0o755 if name.endswith("/") else 0o644)
                     for name, data in entries)


def numeric_key(answer: Answer, variant: Variant) -> NumericKey:
    """The answer's window as Canvas marks it, scaled where Canvas's four places would cut it.

    A window that reaches to within 1e-4 of 0 without an edge at 0 cannot be written: Canvas turns
    such an edge into 0. That needs a value within about a tolerance of 0 asked to 1 significant
    digit (from 2 digits on, |value| is at least 9.5 tolerances). A value exactly 0 is fine:
    its window is ±tolerance, which the scaling makes 1e-4 or more, and 0 stays 0."""
    tolerance = Fraction(int(answer.tolerance.p), int(answer.tolerance.q))
    scale = 0
    while tolerance * 10 ** scale < Fraction(1, 10 ** TYPED_PLACES):
        scale += 1
    r = numeric.rounded(answer.value, KEY_DIGITS)
    exact = Fraction(int(r.digits)) * Fraction(10) ** (r.exponent - len(r.digits) + 1 + scale)
    exact = -exact if r.negative else exact
    width = tolerance * 10 ** scale
    key = NumericKey(scale, exact, exact - width, exact + width, _digits(answer))
    for edge in (key.exact, key.low, key.high):
        if edge != 0 and abs(edge) < Fraction(1, 10 ** TYPED_PLACES):
            raise ProblemError(
                f"variant of {variant.student} (seed {variant.seed}), {answer.label}: its window "
                f"{plain(key.low)} to {plain(key.high)}" + (f" (times 10^{scale})" if scale else "")
                + " comes within 1e-4 of 0, and Canvas rounds a number that small to 0; ask for "
                "more significant digits")
    return key


def plain(q: Fraction) -> str:
    """A decimal fraction written out in full, with a point (1.0, not 1 or 1E+0: Canvas's New
    Quizzes is reported to drop a numerical item whose values lack one)."""
    text = decimal_text(q)
    return text if "." in text else f"{text}.0"


def _digits(answer: Answer) -> int:
    """Significant digits asked: from the first digit of the shown value to the tolerance's."""
    tolerance = Decimal(int(answer.tolerance.p)) / Decimal(int(answer.tolerance.q))
    shown = Decimal(answer.shown)
    return -tolerance.adjusted() if shown == 0 else shown.adjusted() - tolerance.adjusted() + 1


def _ident(*parts: str) -> str:
    """A stable identifier: a hash of what the thing is (text2qti hashes too; "g" + hex is the
    shape of Canvas's own identifiers, and starts with a letter as XML names must)."""
    return "g" + hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16).hexdigest()


def _el(parent: ET.Element | None, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    # Tags and attributes are written as the files spell them, prefix included, and the namespace
    # declarations as attributes: ElementTree's prefix registry is process-wide, and other exports
    # in the same process have their own.
    attributes = {name.replace("__", ":"): value for name, value in attributes.items()}
    element = ET.Element(tag, attributes) if parent is None else ET.SubElement(parent, tag, attributes)
    element.text = text
    return element


def _xml(root: ET.Element) -> str:
    ET.indent(root, "  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _fields(parent: ET.Element, tag: str, entries: Sequence[tuple[str, str]]) -> None:
    metadata = _el(parent, tag)
    for label, entry in entries:
        field = _el(metadata, "qtimetadatafield")
        _el(field, "fieldlabel", label)
        _el(field, "fieldentry", entry)


def _manifest(quiz: str, date: str) -> str:
    dependency = _ident("dependency", quiz)
    root = _el(None, "manifest", identifier=_ident("manifest", quiz),
               xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1",
               xmlns__lom="http://ltsc.ieee.org/xsd/imsccv1p1/LOM/resource",
               xmlns__imsmd="http://www.imsglobal.org/xsd/imsmd_v1p2", xmlns__xsi=XSI,
               xsi__schemaLocation=(
                   "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1 "
                   "http://www.imsglobal.org/xsd/imscp_v1p1.xsd "
                   "http://ltsc.ieee.org/xsd/imsccv1p1/LOM/resource "
                   "http://www.imsglobal.org/profile/cc/ccv1p1/LOM/ccv1p1_lomresource_v1p0.xsd "
                   "http://www.imsglobal.org/xsd/imsmd_v1p2 http://www.imsglobal.org/xsd/imsmd_v1p2p2.xsd"))
    metadata = _el(root, "metadata")
    _el(metadata, "schema", "IMS Content")
    _el(metadata, "schemaversion", "1.1.3")
    lom = _el(metadata, "imsmd:lom")
    _el(_el(_el(lom, "imsmd:general"), "imsmd:title"), "imsmd:string",
        "QTI assessment generated by symbackprop")
    contribute = _el(_el(lom, "imsmd:lifeCycle"), "imsmd:contribute")
    _el(_el(contribute, "imsmd:date"), "imsmd:dateTime", date)
    rights = _el(lom, "imsmd:rights")
    _el(_el(rights, "imsmd:copyrightAndOtherRestrictions"), "imsmd:value", "yes")
    _el(_el(rights, "imsmd:description"), "imsmd:string",
        "Private (Copyrighted) - http://en.wikipedia.org/wiki/Copyright")
    _el(root, "organizations")
    resources = _el(root, "resources")
    resource = _el(resources, "resource", identifier=quiz, type="imsqti_xmlv1p2")
    _el(resource, "file", href=f"{quiz}/{quiz}.xml")
    _el(resource, "dependency", identifierref=dependency)
    meta = _el(resources, "resource", identifier=dependency,
               type="associatedcontent/imscc_xmlv1p1/learning-application-resource",
               href=f"{quiz}/assessment_meta.xml")
    _el(meta, "file", href=f"{quiz}/assessment_meta.xml")
    return _xml(root)


def _assessment_meta(quiz: str, title: str, description: str, points: int | float) -> str:
    """The quiz's settings, as text2qti's defaults: unpublished, one attempt, answers shown after."""
    root = _el(None, "quiz", identifier=quiz, xmlns="http://canvas.instructure.com/xsd/cccv1p0",
               xmlns__xsi=XSI, xsi__schemaLocation=("http://canvas.instructure.com/xsd/cccv1p0 "
                                                    "https://canvas.instructure.com/xsd/cccv1p0.xsd"))
    false, true, total = "false", "true", f"{points:.1f}"
    for tag, text in (("title", title), ("description", description), ("shuffle_answers", false),
                      ("scoring_policy", "keep_highest"), ("hide_results", ""), ("quiz_type", "assignment"),
                      ("points_possible", total), ("require_lockdown_browser", false),
                      ("require_lockdown_browser_for_results", false),
                      ("require_lockdown_browser_monitor", false), ("lockdown_browser_monitor_data", None),
                      ("show_correct_answers", true), ("anonymous_submissions", false),
                      ("could_be_locked", false), ("allowed_attempts", "1"),
                      ("one_question_at_a_time", false), ("cant_go_back", false), ("available", false),
                      ("one_time_results", false),
                      ("show_correct_answers_last_attempt", false), ("only_visible_to_overrides", false),
                      ("module_locked", false)):
        _el(root, tag, text)
    assignment = _el(root, "assignment", identifier=_ident("assignment", quiz))
    for tag, text in (("title", title), ("due_at", None), ("lock_at", None), ("unlock_at", None),
                      ("module_locked", false), ("workflow_state", "unpublished"),
                      ("assignment_overrides", None), ("quiz_identifierref", quiz),
                      ("allowed_extensions", None), ("has_group_category", false),
                      ("points_possible", total), ("grading_type", "points"), ("all_day", false),
                      ("submission_types", "online_quiz"), ("position", "1"), ("turnitin_enabled", false),
                      ("vericite_enabled", false), ("peer_review_count", "0"), ("peer_reviews", false),
                      ("automatic_peer_reviews", false), ("anonymous_peer_reviews", false),
                      ("grade_group_students_individually", false), ("freeze_on_copy", false),
                      ("omit_from_final_grade", false), ("intra_group_peer_reviews", false),
                      ("only_visible_to_overrides", false), ("post_to_sis", false),
                      ("moderated_grading", false), ("grader_count", "0"),
                      ("grader_comments_visible_to_graders", true), ("anonymous_grading", false),
                      ("graders_anonymous_to_graders", false), ("grader_names_visible_to_final_grader", true),
                      ("anonymous_instructor_annotations", false)):
        _el(assignment, tag, text)
    _el(_el(assignment, "post_policy"), "post_manually", false)
    _el(root, "assignment_group_identifierref", _ident("assignment-group", quiz))
    _el(root, "assignment_overrides")
    return _xml(root)


def _assessment(quiz: str, title: str, variants: Sequence[Variant], points: int | float) -> str:
    root = _el(None, "questestinterop", xmlns=QTI, xmlns__xsi=XSI,
               xsi__schemaLocation=f"{QTI} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd")
    assessment = _el(root, "assessment", ident=quiz, title=title)
    _fields(assessment, "qtimetadata", [("cc_maxattempts", "1")])
    sections = _el(assessment, "section", ident="root_section")
    # Each variant's question and solution as HTML, once: every one of its items carries them.
    pages = [(markdown_html(v.question_md), markdown_html(v.solution_md)) for v in variants]
    for index, first in enumerate(variants[0].answers):
        group = _el(sections, "section", ident=_ident("group", quiz, first.key),
                    title=f"({first.task}) {first.label}")
        selection = _el(_el(group, "selection_ordering"), "selection")
        _el(selection, "selection_number", "1")
        _el(_el(selection, "selection_extension"), "points_per_item", str(points))
        for variant, page in zip(variants, pages):
            _item(group, quiz, variant, variant.answers[index], points, page)
    return _xml(root)


def _item(group: ET.Element, quiz: str, variant: Variant, answer: Answer, points: int | float,
          page: tuple[str, str]) -> None:
    key = numeric_key(answer, variant)
    ident = _ident("item", quiz, variant.student, variant.seed, answer.key)
    item = _el(group, "item", ident=ident, title=f"{answer.label}, variant {variant.seed[:8]}")
    _fields(_el(item, "itemmetadata"), "qtimetadata", [
        ("question_type", "numerical_question"), ("points_possible", str(points)),
        ("original_answer_ids", _ident("answer", ident)),
        ("assessment_question_identifierref", _ident("question", ident))])
    presentation = _el(item, "presentation")
    question, solution = page
    _el(_el(presentation, "material"), "mattext", question + _ask(answer, key),
        texttype="text/html")
    response = _el(presentation, "response_str", ident="response1", rcardinality="Single")
    _el(_el(response, "render_fib", fibtype="Decimal"), "response_label", ident="answer1")
    marking = _el(item, "resprocessing")
    _el(_el(marking, "outcomes"), "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    # The worked solution is shown whatever the answer (text2qti's general feedback), ...
    show = _el(marking, "respcondition", **{"continue": "Yes"})
    _el(_el(show, "conditionvar"), "other")
    _el(show, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
    # ... and the answer scores 100 when equal to the exact value or within the window.
    correct = _el(marking, "respcondition", **{"continue": "No"})
    either = _el(_el(correct, "conditionvar"), "or")
    _el(either, "varequal", plain(key.exact), respident="response1")
    within = _el(either, "and")
    _el(within, "vargte", plain(key.low), respident="response1")
    _el(within, "varlte", plain(key.high), respident="response1")
    _el(correct, "setvar", "100", action="Set", varname="SCORE")
    feedback = _el(item, "itemfeedback", ident="general_fb")
    _el(_el(_el(feedback, "flow_mat"), "material"), "mattext", solution,
        texttype="text/html")


def _ask(answer: Answer, key: NumericKey) -> str:
    """The quantity this item asks for, after the variant's question: "(b) ∂E/∂w₅ to 4 significant
    digits", or scaled, "(b) Enter 10³ · ∂E/∂w₁ ..." with the reason."""
    label = html.escape(answer.label)
    digits = f"to {key.digits} significant digit{'s' if key.digits != 1 else ''}"
    if not key.scale:
        return f"<p><strong>({html.escape(answer.task)})</strong> {label} {digits}.</p>\n"
    factor = "10" if key.scale == 1 else "10" + str(key.scale).translate(_SUPERSCRIPT)
    return (f"<p><strong>({html.escape(answer.task)})</strong> Enter {factor} · {label} ({label} "
            f"multiplied by {10 ** key.scale:,}) {digits}. Canvas keeps four decimal places of a typed "
            "number, so this answer is asked scaled.</p>\n")
