"""The Canvas QTI 1.2 export (issue 14): the zip's files, the quiz's shape, each item's window, the
scaling for Canvas's four typed decimal places, determinism, and text2qti (0.8.0) as the oracle for
the shape of the manifest, the quiz settings and a numerical item."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp
from lxml import etree

from symbackprop.arithmetic import certified
from symbackprop.errors import ProblemError
from symbackprop.homework.answers import answers_of
from symbackprop.homework.canvas import canvas_qti_zip, numeric_key, plain
from symbackprop.homework.html import markdown_html
from symbackprop.homework.records import Answer, Variant
from symbackprop.parsing.problems import loads
from symbackprop.printing.rendering import render

text2qti = pytest.importorskip("text2qti")
from text2qti.config import Config  # noqa: E402
from text2qti.qti import QTI  # noqa: E402
from text2qti.quiz import Quiz  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "worked_examples" / "sigmoid_2_2_2.yaml"
Q = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
MANIFEST = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
META_TYPE = "associatedcontent/imscc_xmlv1p1/learning-application-resource"


def _variant(student: str, seed: str, text: str) -> Variant:
    problem = dataclasses.replace(loads(text), asked_gradients=("w5", "w1"))
    solution = problem.solve()
    markdown = render(solution, "md")
    question = "## " + markdown.split("\n## ")[1]        # the problem statement, as a sheet gives it
    return Variant(student, f"Student {student}", seed, {}, answers_of(problem, solution, 4), question,
                   markdown, problem.title)


@pytest.fixture(scope="module")
def variants() -> tuple[Variant, ...]:
    text = EXAMPLE.read_text()
    # Mazur's numbers (dE/dw1 = 0.0004386), other weights, and a small input that makes dE/dw1 about
    # 4.4e-5: below Canvas's 1e-4.
    return (_variant("1001", "a1b2c3d4e5f60718", text),
            _variant("1002", "0f1e2d3c4b5a6978", text.replace("w5: 0.40", "w5: 0.35")),
            _variant("1003", "99aa88bb77cc66dd", text.replace("i1: 0.05", "i1: 0.005")))


@pytest.fixture(scope="module")
def archive(variants) -> bytes:
    return canvas_qti_zip(variants, "Homework 3: backpropagation")


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _quiz_xml(files: dict[str, bytes]) -> tuple[str, etree._Element]:
    name = next(n for n in files if n.endswith(".xml") and "/" in n and not n.endswith("assessment_meta.xml"))
    return name, etree.fromstring(files[name])


def _text2qti_files() -> dict[str, bytes]:
    # No LaTeX in the text and pandoc_mathml off: nothing is rendered, nothing fetched.
    source = ("Quiz title: Oracle\n\nGROUP\npick: 1\npoints per question: 1\n\n"
              "1.  What is 10 times the gradient?\n... The worked solution.\n"
              "= 0.8217 +- 0.0001\n\nEND_GROUP\n")
    return _files(QTI(Quiz(source, config=Config(pandoc_mathml=False))).zip_bytes())


def _shape(element: etree._Element, ignore=("ident", "identifier", "identifierref", "title", "href")):
    """The element's tags and attributes, without identifiers and text: what text2qti and we share."""
    attributes = tuple(sorted((k, "" if k in ignore else v) for k, v in element.attrib.items()))
    return (element.tag, attributes, tuple(_shape(child, ignore) for child in element))


# --- the zip and its files ---------------------------------------------------------------------

def test_the_zip_has_text2qti_s_four_entries_in_its_order(archive):
    names = list(_files(archive))
    quiz = names[2].split("/")[0]
    assert names == ["imsmanifest.xml", "non_cc_assessments/", f"{quiz}/assessment_meta.xml",
                     f"{quiz}/{quiz}.xml"]
    assert re.fullmatch(r"g[0-9a-f]{32}", quiz)
    oracle = list(_text2qti_files())
    oracle_quiz = oracle[2].split("/")[0]
    assert [n.replace(oracle_quiz, "ID") for n in oracle] == [n.replace(quiz, "ID") for n in names]
    assert _files(archive)["non_cc_assessments/"] == b""


def test_every_file_is_well_formed_utf8_xml(archive):
    for name, data in _files(archive).items():
        if name.endswith(".xml"):
            assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
            etree.fromstring(data)


def test_the_manifest_lists_the_assessment_and_its_meta_as_lms_md_says(archive):
    files = _files(archive)
    manifest = etree.fromstring(files["imsmanifest.xml"])
    resources = manifest.findall(f"{MANIFEST}resources/{MANIFEST}resource")
    by_type = {r.get("type"): r for r in resources}
    assert set(by_type) == {"imsqti_xmlv1p2", META_TYPE}
    qti, meta = by_type["imsqti_xmlv1p2"], by_type[META_TYPE]
    assert qti.find(f"{MANIFEST}dependency").get("identifierref") == meta.get("identifier")
    for resource in resources:
        for file in resource.findall(f"{MANIFEST}file"):
            assert file.get("href") in files
    quiz_name, quiz = _quiz_xml(files)
    assert qti.find(f"{MANIFEST}file").get("href") == quiz_name
    assert quiz.find(f"{Q}assessment").get("ident") == qti.get("identifier")


def test_the_manifest_and_quiz_settings_have_text2qti_s_shape(archive):
    ours, oracle = _files(archive), _text2qti_files()
    manifests = [etree.fromstring(files["imsmanifest.xml"]) for files in (ours, oracle)]
    assert _shape(manifests[0]) == _shape(manifests[1])
    meta = [etree.fromstring(data) for files in (ours, oracle)
            for name, data in files.items() if name.endswith("assessment_meta.xml")]
    assert _shape(meta[0]) == _shape(meta[1])
    assert meta[0].findtext("{http://canvas.instructure.com/xsd/cccv1p0}points_possible") == "5.0"   # E, two gradients, two updates


# --- the quiz: a group per quantity, an item per variant ----------------------------------------

def test_one_group_per_asked_quantity_drawing_one_of_an_item_per_variant(archive, variants):
    _, quiz = _quiz_xml(_files(archive))
    assert quiz.tag == f"{Q}questestinterop"
    root = quiz.find(f"{Q}assessment/{Q}section")
    assert root.get("ident") == "root_section"
    groups = root.findall(f"{Q}section")
    assert [g.get("title") for g in groups] == [f"({a.task}) {a.label}" for a in variants[0].answers]
    for group in groups:
        assert group.findtext(f"{Q}selection_ordering/{Q}selection/{Q}selection_number") == "1"
        assert group.findtext(f".//{Q}selection_extension/{Q}points_per_item") == "1"
        items = group.findall(f"{Q}item")
        assert len(items) == len(variants)
        for item in items:
            fields = {f.findtext(f"{Q}fieldlabel"): f.findtext(f"{Q}fieldentry")
                      for f in item.iter(f"{Q}qtimetadatafield")}
            assert fields["question_type"] == "numerical_question" and fields["points_possible"] == "1"
            assert fields["original_answer_ids"] and fields["assessment_question_identifierref"]
            assert item.find(f".//{Q}response_str").attrib == {"ident": "response1", "rcardinality": "Single"}
            assert item.find(f".//{Q}render_fib").get("fibtype") == "Decimal"
            assert item.find(f".//{Q}decvar").attrib == {"maxvalue": "100", "minvalue": "0",
                                                         "varname": "SCORE", "vartype": "Decimal"}
    idents = [e.get("ident") for e in quiz.iter() if re.fullmatch(r"g[0-9a-f]{32}", e.get("ident", ""))]
    assert len(idents) == len(set(idents)) == 1 + 5 + 5 * len(variants)


def _items(archive, variants):
    """Each numeric item with its variant and the answer it asks: a group per asked quantity, an
    item per variant in it."""
    _, quiz = _quiz_xml(_files(archive))
    for index, group in enumerate(quiz.findall(f"{Q}assessment/{Q}section/{Q}section")):
        for variant, item in zip(variants, group.findall(f"{Q}item")):
            yield variant, item, variant.answers[index]


def test_each_item_carries_its_variant_s_question_the_ask_and_the_worked_solution(archive, variants):
    for variant, item, answer in _items(archive, variants):
        text = item.findtext(f"{Q}presentation/{Q}material/{Q}mattext")
        assert text.startswith(markdown_html(variant.question_md))
        assert f"<strong>({answer.task})</strong>" in text and "to 4 significant digits" in text
        assert item.find(f"{Q}itemfeedback").get("ident") == "general_fb"
        assert item.findtext(f"{Q}itemfeedback/{Q}flow_mat/{Q}material/{Q}mattext") == \
            markdown_html(variant.solution_md)


# --- the windows --------------------------------------------------------------------------------

def _window(item) -> tuple[str, str, str]:
    return tuple(item.findtext(f".//{Q}{tag}") for tag in ("varequal", "vargte", "varlte"))


def test_the_window_is_the_exact_value_plus_minus_the_tolerance_to_the_digits_written(archive, variants):
    for variant, item, answer in _items(archive, variants):
        key = numeric_key(answer, variant)
        exact, low, high = (Fraction(t) for t in _window(item))
        for text in _window(item):
            assert re.fullmatch(r"-?\d+\.\d+", text)        # plain decimals, always with a point
        value = certified.approximation(answer.value, 300) * 10 ** key.scale
        tolerance = Fraction(int(answer.tolerance.p), int(answer.tolerance.q)) * 10 ** key.scale
        last = Fraction(1, 10 ** len(_window(item)[0].split(".")[1]))   # the last digit written
        assert abs(exact - value) <= last / 2 + Fraction(1, 10 ** 40)
        assert (low, high) == (exact - tolerance, exact + tolerance)
        assert tolerance >= Fraction(1, 10 ** 4)
        # The student who types the shown answer scores, after Canvas's rounding to 4 places.
        typed = Fraction(answer.shown) * 10 ** key.scale
        assert low <= round(typed, 4) <= high


def test_quantities_past_the_fourth_decimal_place_are_asked_scaled(archive, variants):
    _, quiz = _quiz_xml(_files(archive))
    groups = {g.get("title"): g.findall(f"{Q}item")
              for g in quiz.findall(f"{Q}assessment/{Q}section/{Q}section")}
    scales = {title: [numeric_key(v.answers[i], v).scale for v in variants]
              for i, title in enumerate(groups)}
    assert scales == {"(a) E": [0, 0, 0], "(b) ∂E/∂w₅": [1, 1, 1], "(b) ∂E/∂w₁": [3, 3, 4],
                      "(c) w₅⁺": [0, 0, 0], "(c) w₁⁺": [0, 0, 0]}
    small = variants[2].answers[2]
    assert small.key == "dE/dw1" and abs(small.value) < sp.Rational(1, 10 ** 4)
    text = groups["(b) ∂E/∂w₁"][2].findtext(f".//{Q}mattext")
    assert "Enter 10⁴ · ∂E/∂w₁ (∂E/∂w₁ multiplied by 10,000) to 4 significant digits" in text
    assert "Enter 10³ · ∂E/∂w₁" in groups["(b) ∂E/∂w₁"][0].findtext(f".//{Q}mattext")
    assert "Enter 10 · ∂E/∂w₅" in groups["(b) ∂E/∂w₅"][0].findtext(f".//{Q}mattext")
    exact, low, high = (Fraction(t) for t in _window(groups["(b) ∂E/∂w₁"][2]))
    assert Fraction(1, 10) <= exact < 1 and high - exact == Fraction(1, 10 ** 4)
    # Why: unscaled, Canvas would turn the typed 0.08217 into 0.0822, outside 0.08217 ± 0.00001.
    mazur = variants[0].answers[1]
    value = certified.approximation(mazur.value, 200)
    assert mazur.shown == "0.08217" and abs(Fraction("0.0822") - value) > Fraction(1, 10 ** 5)


def _answer(value, shown: str, tolerance) -> Answer:
    return Answer("b", "dE/dw1", "∂E/∂w₁", sp.sympify(value), shown, sp.Rational(tolerance))


VARIANT = Variant("2001", "Ada", "feedc0de", {}, (), "", "", "t")


def test_a_value_of_exactly_zero_is_kept_its_window_edges_are_safe():
    key = numeric_key(_answer(0, "0", sp.Rational(1, 10 ** 4)), VARIANT)
    assert (key.scale, plain(key.exact), plain(key.low), plain(key.high)) == (0, "0.0", "-0.0001", "0.0001")
    key = numeric_key(_answer(0, "0", sp.Rational(1, 10 ** 5)), VARIANT)   # 5 digits asked: scaled
    assert (key.scale, plain(key.low), plain(key.high)) == (1, "-0.0001", "0.0001")


def test_negative_values_scale_and_keep_their_sign():
    key = numeric_key(_answer(sp.Rational(-3, 1000), "-0.003000", sp.Rational(1, 10 ** 6)), VARIANT)
    assert (key.scale, plain(key.exact), plain(key.low), plain(key.high)) == (2, "-0.3", "-0.3001", "-0.2999")


def test_a_window_reaching_within_1e_4_of_zero_is_refused_naming_the_variant_and_quantity():
    # One significant digit of 0.00011: the window 0.00001 .. 0.00021 has an edge Canvas makes 0.
    with pytest.raises(ProblemError, match=r"2001 \(seed feedc0de\), ∂E/∂w₁.*within 1e-4 of 0"):
        numeric_key(_answer(sp.Rational(11, 10 ** 5), "0.0001", sp.Rational(1, 10 ** 4)), VARIANT)


def test_plain_decimals():
    assert [plain(Fraction(x)) for x in ("4", "-5", "0", "0.1", "-0.00012", "123.456")] == \
        ["4.0", "-5.0", "0.0", "0.1", "-0.00012", "123.456"]


# --- determinism, errors, and text2qti's own item --------------------------------------------------

def test_the_same_variants_give_byte_identical_zips(archive, variants):
    assert canvas_qti_zip(variants, "Homework 3: backpropagation") == archive
    assert canvas_qti_zip(variants, "Homework 4") != archive
    for info in zipfile.ZipFile(io.BytesIO(archive)).infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)


def test_variants_that_ask_different_quantities_are_refused(variants):
    other = dataclasses.replace(variants[1], answers=variants[1].answers[:-1])
    with pytest.raises(ProblemError, match="1002"):
        canvas_qti_zip([variants[0], other], "t")
    with pytest.raises(ProblemError, match="at least one variant"):
        canvas_qti_zip([], "t")
    with pytest.raises(ProblemError, match="two variants for 1001"):
        canvas_qti_zip([variants[0], variants[0]], "t")


def test_a_numerical_item_has_the_shape_text2qti_builds_for_v_plus_minus_tol(archive):
    """The oracle: text2qti's `= 0.8217 +- 0.0001` with general feedback, inside a group of one
    pick, against our group and its item, without identifiers and text."""
    _, oracle = _quiz_xml(_text2qti_files())
    _, ours = _quiz_xml(_files(archive))
    oracle_group = oracle.find(f"{Q}assessment/{Q}section/{Q}section")
    our_group = ours.find(f"{Q}assessment/{Q}section/{Q}section")
    assert _shape(our_group.find(f"{Q}item")) == _shape(oracle_group.find(f"{Q}item"))
    selection = f"{Q}selection_ordering"
    assert _shape(our_group.find(selection)) == _shape(oracle_group.find(selection))
    assert _shape(ours)[1] == _shape(oracle)[1]                      # the root's namespaces
    assert [e.tag for e in ours.find(f"{Q}assessment")] == [e.tag for e in oracle.find(f"{Q}assessment")]
    # text2qti writes the window to 4 places; ours has 12 significant digits of the same shape.
    assert _window(oracle_group.find(f"{Q}item")) == ("0.8217", "0.8216", "0.8218")
