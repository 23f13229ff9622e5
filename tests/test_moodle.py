"""The Moodle XML export (issue 14): the file follows our schema, and every cloze blank reads back,
through a port of Moodle's own cloze parser, as the answers, windows and feedback it was made from."""

from __future__ import annotations

import dataclasses
import html
import re
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from symbackprop.arithmetic import numeric
from symbackprop.errors import ProblemError
from symbackprop.homework import moodle
from symbackprop.homework.answers import answers_of
from symbackprop.homework.records import Variant
from symbackprop.parsing.problems import load
from symbackprop.printing.rendering import render

EXAMPLE = Path(__file__).resolve().parent.parent / "worked_examples" / "sigmoid_2_2_2.yaml"

# --- Moodle's cloze parser, ported ------------------------------------------------------------------
# From moodle/moodle question/type/multianswer/questiontype.php, qtype_multianswer_extract_question
# and its regular expressions, as in Moodle 4.x (read at andrewnicols/moodle commit
# b70448bd5f99f25ae251a16cb2cea914d12448f7, a fork of moodle/moodle main; the answer, feedback and
# number expressions are the same in moodle/moodle commit 3e52ba108f52b12df66063494905d2d3768183ad).
# PCRE's lookbehind (?<!\\|&|&amp;) has alternatives of different lengths, which Python's re does
# not allow: it is written as three lookbehinds, which match the same positions.
FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
ALTERNATIVE = rf"({FRACTION})?({ANSWER})(#({FEEDBACK}))?"
NUMBER = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
NUMERICAL_ALTERNATIVE = re.compile(rf"^({NUMBER})(:{NUMBER})?$", re.S)
TYPE_DEF = ("(NUMERICAL|NM)|(MULTICHOICE|MC)|(MULTICHOICE_V|MCV)|(MULTICHOICE_H|MCH)|"
            "(SHORTANSWER|SA|MW)|(SHORTANSWER_C|SAC|MWC)|"
            "(MULTICHOICE_S|MCS)|(MULTICHOICE_VS|MCVS)|(MULTICHOICE_HS|MCHS)|"
            "(MULTIRESPONSE|MR)|(MULTIRESPONSE_H|MRH)|(MULTIRESPONSE_S|MRS)|(MULTIRESPONSE_HS|MRHS)")
ANSWER_REGEX = re.compile(rf"\{{([0-9]*):({TYPE_DEF}):({ALTERNATIVE}(~{ALTERNATIVE})*)\}}", re.S)
ALTERNATIVE_REGEX = re.compile(rf"~?{ALTERNATIVE}", re.S)
# Parenthesis positions, as Moodle names them.
ANSWER_REGEX_NORM, ANSWER_REGEX_ANSWER_TYPE_NUMERICAL, ANSWER_REGEX_ALTERNATIVES = 1, 3, 16
ALT_FRACTION, ALT_PERCENTILE, ALT_ANSWER, ALT_FEEDBACK = 1, 2, 3, 5
NUMERICAL_CORRECT_ANSWER, NUMERICAL_ABS_ERROR_MARGIN = 1, 6


@dataclasses.dataclass
class Alternative:
    fraction: float
    answer: str
    tolerance: str
    feedback: str


def extract(text: str) -> tuple[str, list[tuple[str, list[Alternative]]]]:
    """qtype_multianswer_extract_question for NUMERICAL blanks: the text with each blank replaced by
    {#n}, and each blank's weight and alternatives."""
    blanks = []
    while (found := ANSWER_REGEX.search(text)) is not None:
        assert found.group(ANSWER_REGEX_ANSWER_TYPE_NUMERICAL), f"not a NUMERICAL blank: {found.group(0)}"
        alternatives = []
        remaining = found.group(ANSWER_REGEX_ALTERNATIVES)
        while (alt := ALTERNATIVE_REGEX.search(remaining)) is not None:
            if alt.group(ALT_FRACTION) == "=":
                fraction = 1.0
            elif alt.group(ALT_PERCENTILE) and alt.group(ALT_PERCENTILE) != "0":     # PHP: "0" is false
                fraction = 0.01 * float(alt.group(ALT_PERCENTILE).replace(",", "."))
            else:
                fraction = 0.0
            feedback = html.unescape(alt.group(ALT_FEEDBACK) or "")     # html_entity_decode
            feedback = feedback.replace("\\}", "}").replace("\\#", "#")
            number = NUMERICAL_ALTERNATIVE.search(alt.group(ALT_ANSWER))
            if number:
                answer = number.group(NUMERICAL_CORRECT_ANSWER)
                tolerance = number.group(NUMERICAL_ABS_ERROR_MARGIN) or "0"
            else:
                answer = html.unescape(alt.group(ALT_ANSWER)).replace("\\}", "}").replace("\\#", "#")
                tolerance = ""
            alternatives.append(Alternative(fraction, answer, tolerance, feedback))
            remaining = remaining.split(alt.group(0), 1)[1]        # explode($altregs[0], ..., 2)
        blanks.append((found.group(ANSWER_REGEX_NORM) or "1", alternatives))
        text = text.replace(found.group(0), f"{{#{len(blanks)}}}", 1)
    return text, blanks


def validate(blanks) -> None:
    """What qtype_multianswer_validate_question asks of a NUMERICAL blank: answers, each a number or
    '*', one of them worth 100%."""
    for _, alternatives in blanks:
        assert alternatives
        assert all(NUMERICAL_ALTERNATIVE.search(a.answer) or a.answer == "*" for a in alternatives)
        assert any(a.fraction == 1 for a in alternatives)


# --- variants from the real pipeline ------------------------------------------------------------------

def _variant(problem, seed: str) -> Variant:
    solution = problem.solve()
    question = (f"# {problem.title}\n\nWith $w_{{5}} = {problem.values['w5']}$ and "
                f"$i_{{1}} = {problem.values['i1']}$, answer to 4 significant digits.\n")
    return Variant(student=seed[-1], name=f"Student {seed[-1]}", seed=seed,
                   drawn={k: str(v) for k, v in problem.values.items()},
                   answers=answers_of(problem, solution, 4), question_md=question,
                   solution_md=render(solution, "md"), title=problem.title)


@pytest.fixture(scope="module")
def variants() -> list[Variant]:
    base = dataclasses.replace(load(EXAMPLE), asked_gradients=("w5", "w1"))
    changes = [{}, {"w5": sp.Rational(3, 5)}, {"i1": sp.Rational(1, 5), "t1": sp.Rational(1, 20)}]
    return [_variant(dataclasses.replace(base, values={**base.values, **change}), f"5eed000{n}")
            for n, change in enumerate(changes)]


@pytest.fixture(scope="module")
def cloze(variants) -> str:
    return moodle.moodle_xml(variants, "sigmoid_2_2_2")


@pytest.fixture(scope="module")
def numerical(variants) -> str:
    return moodle.moodle_xml(variants, "sigmoid_2_2_2", mode="numerical")


def _tree(document: str):
    return etree.fromstring(document.encode("utf-8"))


def _exact(value) -> Fraction:
    """The value to 40 significant digits, as a fraction: exact enough to measure a window by."""
    r = numeric.rounded(value, 40)
    whole = Fraction(int(r.digits)) * Fraction(10) ** (r.exponent - len(r.digits) + 1)
    return -whole if r.negative else whole


def _centred(text: str, value, tolerance) -> bool:
    return abs(Fraction(text) - _exact(value)) <= Fraction(tolerance) / 10**6


# --- the file -------------------------------------------------------------------------------------------

def test_the_file_is_a_quiz_with_one_category_then_a_cloze_question_per_variant(cloze, variants):
    assert cloze.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n')
    root = _tree(cloze)
    assert root.tag == "quiz"
    questions = root.findall("question")
    assert [q.get("type") for q in questions] == ["category"] + ["cloze"] * len(variants)
    assert questions[0].findtext("category/text") == "$course$/symbackprop/sigmoid_2_2_2"
    for question, variant in zip(questions[1:], variants):
        assert question.findtext("idnumber") == variant.seed
        assert question.findtext("name/text").strip()
        assert question.find("questiontext").get("format") == "html"
    assert moodle.check(cloze) == cloze


def test_the_html_is_in_cdata_with_mathjax_delimiters(cloze):
    assert "<![CDATA[" in cloze
    for question in _tree(cloze).findall("question[@type='cloze']"):
        assert r"\(" in question.findtext("questiontext/text")
        solution = question.findtext("generalfeedback/text")
        assert r"\[" in solution and r"\(" in solution and "<h2>" in solution


def test_every_blank_reads_back_through_moodles_parser(cloze, variants):
    for question, variant in zip(_tree(cloze).findall("question[@type='cloze']"), variants):
        text, blanks = extract(question.findtext("questiontext/text"))
        validate(blanks)
        assert len(blanks) == len(variant.answers)
        assert not ANSWER_REGEX.search(text)
        for n, (answer, (weight, alternatives)) in enumerate(zip(variant.answers, blanks), start=1):
            # The blank stands after its task's label and the quantity.
            assert f"<p>{html.escape(f'({answer.task}) {answer.label} = ')}{{#{n}}}</p>" in text
            assert weight == "1"
            first, *mistakes, other = alternatives
            assert first.fraction == 1 and first.feedback == moodle.CORRECT_FEEDBACK
            assert Fraction(first.tolerance) == answer.tolerance
            assert _centred(first.answer, answer.value, answer.tolerance)
            assert len(mistakes) == len(answer.distractors)
            for alternative, distractor in zip(mistakes, answer.distractors):
                assert alternative.fraction == 0
                assert Fraction(alternative.tolerance) == distractor.tolerance
                assert _centred(alternative.answer, distractor.value, distractor.tolerance)
                assert alternative.feedback == moodle.mistake_feedback(distractor)
            assert (other.answer, other.fraction, other.feedback) == ("*", 0, moodle.OTHER_FEEDBACK)


def test_no_mistakes_window_overlaps_the_correct_one(cloze):
    for question in _tree(cloze).findall("question[@type='cloze']"):
        for _, (first, *rest) in extract(question.findtext("questiontext/text"))[1]:
            centre, width = Fraction(first.answer), Fraction(first.tolerance)
            for other in rest:
                if other.answer != "*":
                    assert abs(Fraction(other.answer) - centre) > width + Fraction(other.tolerance)


def test_the_variants_differ(cloze):
    values = [[blank[1][0].answer for blank in extract(q.findtext("questiontext/text"))[1]]
              for q in _tree(cloze).findall("question[@type='cloze']")]
    assert len({tuple(v) for v in values}) == len(values)


def test_numerical_mode_asks_each_quantity_in_its_own_category_correct_answer_first(numerical, variants):
    questions = _tree(numerical).findall("question")
    keys = [(a.task, a.key) for a in variants[0].answers]
    assert [q.get("type") for q in questions] == (["category"] + ["numerical"] * len(variants)) * len(keys)
    for block, answer_index in zip(range(0, len(questions), len(variants) + 1), range(len(keys))):
        first = variants[0].answers[answer_index]
        path = questions[block].findtext("category/text")
        title = moodle.category_path(f"({first.task}) {first.label}")
        assert path == "$course$/symbackprop/sigmoid_2_2_2/" + title
        if "/" in first.label:      # ∂E/∂w₅'s slash is not a level of Moodle's category path
            assert path.count("/") == 3 + 2 * first.label.count("/")
        for question, variant in zip(questions[block + 1:block + 1 + len(variants)], variants):
            answer = variant.answers[answer_index]
            assert question.findtext("idnumber") == f"{variant.seed} {answer.key}"
            assert question.findtext("name/text") == f"{variant.seed} ({answer.task}) {answer.label}"
            rows = question.findall("answer")
            assert [r.get("fraction") for r in rows] == ["100"] + ["0"] * (len(answer.distractors) + 1)
            assert _centred(rows[0].findtext("text"), answer.value, answer.tolerance)
            assert Fraction(rows[0].findtext("tolerance")) == answer.tolerance
            for row, distractor in zip(rows[1:], answer.distractors):
                assert _centred(row.findtext("text"), distractor.value, distractor.tolerance)
                assert Fraction(row.findtext("tolerance")) == distractor.tolerance
                assert row.findtext("feedback/text") == moodle.mistake_feedback(distractor)
            assert (rows[-1].findtext("text"), rows[-1].findtext("tolerance")) == ("*", "0")


def test_without_catch_all_the_last_answer_is_a_mistake(variants):
    document = moodle.moodle_xml(variants[:1], "x", catch_all=False)
    _, blanks = extract(_tree(document).find("question[@type='cloze']").findtext("questiontext/text"))
    assert all(alternatives[-1].answer != "*" for _, alternatives in blanks)


def test_the_output_is_deterministic(variants, cloze, numerical):
    again = [_variant(dataclasses.replace(load(EXAMPLE), asked_gradients=("w5", "w1")), variants[0].seed)]
    assert moodle.moodle_xml(again + variants[1:], "sigmoid_2_2_2") == cloze
    assert moodle.moodle_xml(variants, "sigmoid_2_2_2", mode="numerical") == numerical


# --- escaping -----------------------------------------------------------------------------------------

@given(st.text(st.characters(exclude_categories=("Cs",))))
def test_any_feedback_reads_back_unchanged_through_moodles_parser(feedback):
    blank = (f"<p>{{1:NUMERICAL:=1:0.1#{moodle.cloze_feedback(feedback)}"
             f"~%0%2:0.1#{moodle.cloze_feedback(feedback)}}}</p>")
    text, [(_, alternatives)] = extract(blank)
    assert text == "<p>{#1}</p>"
    assert [(a.answer, a.tolerance, a.feedback) for a in alternatives] == [("1", "0.1", feedback),
                                                                          ("2", "0.1", feedback)]


def test_the_written_numbers_are_plain_decimals_centred_on_the_value():
    assert moodle.written(sp.Rational(1, 100000), sp.Rational(1, 100000)) == "0.00001"
    assert moodle.written(sp.Integer(-3), sp.Rational(1, 1000)) == "-3"
    assert moodle.written(sp.Rational(1, 3), sp.Rational(1, 10**4)) == "0.333333333333"
    # A narrow window: more digits, so that the written centre stays within a millionth of it.
    assert moodle.written(sp.Rational(1, 3), sp.Rational(1, 10**10)) == "0.333333333333333333"
    assert moodle.written(sp.Integer(0), sp.Rational(1, 10**4)) == "0"
    with pytest.raises(ProblemError):
        moodle.written(sp.Integer(1), sp.Integer(0))


def test_category_names_follow_moodles_path_escaping(variants):
    # question/format.php assemble_category_path
    assert moodle.category_path("a/b") == "a//b"
    assert moodle.category_path("/x/") == " //x// "
    document = moodle.moodle_xml(variants[:1], "Tom & <Jerry>")
    assert _tree(document).findtext("question/category/text") == "$course$/symbackprop/Tom & <Jerry>"


def test_cdata_is_never_broken(numerical):
    assert moodle._cdata("a]]>b") == "<![CDATA[a]]]]><![CDATA[>b]]>"
    field = '<questiontext format="html"><text>{}</text></questiontext>'
    document = re.sub(re.escape(field).replace(r"\{\}", ".*?"), field.format(moodle._cdata("]]> and ]]>")),
                      numerical, count=1, flags=re.S)
    assert moodle.check(document) == document
    assert _tree(document).findtext("question[2]/questiontext/text") == "]]> and ]]>"


def test_a_question_text_moodle_would_read_as_a_blank_is_refused(variants):
    for text in ("see {1:NUMERICAL:=1}", "see {#1}"):
        with pytest.raises(ProblemError, match="cloze blank"):
            moodle.moodle_xml([dataclasses.replace(variants[0], question_md=text)], "x")


def test_an_unknown_mode_or_an_empty_category_is_refused(variants):
    with pytest.raises(ProblemError, match="mode"):
        moodle.moodle_xml(variants, "x", mode="essay")
    with pytest.raises(ProblemError, match="category"):
        moodle.moodle_xml(variants, " ")
    with pytest.raises(ProblemError, match="no variants"):
        moodle.moodle_xml([], "x")


# --- the schema catches a broken file -------------------------------------------------------------------

BROKEN = {
    "no name": lambda d: re.sub(r"<name><text>[^<]*</text></name>", "", d, count=1),
    "cloze without a blank": lambda d: d.replace("{1:NUMERICAL:", "{1:NUMERIC:"),
    "cloze with answers": lambda d: d.replace(
        "</idnumber>\n</question>", '</idnumber>\n<answer fraction="100"><text>1</text>'
        '<feedback format="html"><text/></feedback><tolerance>0</tolerance></answer></question>', 1),
    "category not first": lambda d: re.sub(r'<question type="category">.*?</question>\n', "", d, count=1,
                                           flags=re.S),
    "category outside symbackprop": lambda d: d.replace("$course$/symbackprop/", "$course$/"),
    "a duplicated idnumber": lambda d: d.replace("<idnumber>5eed0001", "<idnumber>5eed0000"),
    "an unknown type": lambda d: d.replace('type="cloze"', 'type="essay"', 1),
    "a text format other than html": lambda d: d.replace('format="html"', 'format="markdown"', 1),
    "not well-formed": lambda d: d[:-20],
}
BROKEN_NUMERICAL = {
    "the correct answer not first": lambda d: d.replace('fraction="100"', 'fraction="0"', 1),
    "a partial fraction": lambda d: d.replace('fraction="0"', 'fraction="50"', 1),
    "the catch-all first": lambda d: re.sub(r"(<answer fraction=\"100\">\s*<text>)[^<]*", r"\1*", d, count=1),
    "a comma decimal": lambda d: re.sub(r"<tolerance>0\.", "<tolerance>0,", d, count=1),
    "an exponent": lambda d: re.sub(r"<tolerance>[^<]*", "<tolerance>1e-4", d, count=1),
    "no tolerance": lambda d: re.sub(r"\s*<tolerance>[^<]*</tolerance>", "", d, count=1),
}


def _refused(written: str, damage) -> None:
    """The damaged file differs from the one written, and the schema refuses it."""
    broken = damage(written)
    assert broken != written
    with pytest.raises(ProblemError, match="does not follow its schema"):
        moodle.check(broken)


@pytest.mark.parametrize("damage", BROKEN, ids=list(BROKEN))
def test_the_schema_refuses_a_broken_cloze_file(cloze, damage):
    _refused(cloze, BROKEN[damage])


@pytest.mark.parametrize("damage", BROKEN_NUMERICAL, ids=list(BROKEN_NUMERICAL))
def test_the_schema_refuses_a_broken_numerical_file(numerical, damage):
    _refused(numerical, BROKEN_NUMERICAL[damage])


def test_the_schema_is_packaged():
    from importlib import resources
    assert (resources.files("symbackprop.homework") / "schemas" / "moodle_quiz.xsd").is_file()
