"""Issue 14: per-student variants. The same seed and roster give the same bytes, every variant's
answers are re-derived here from its own problem file by sympy.diff of the closed form (not by
symbackprop), drawn values lie on the declared grid and meet every `require:`, and bad input or an
impossible condition says so in one line with exit status 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sympy as sp
import yaml
from click.testing import CliRunner

from symbackprop.cli import main
from symbackprop.homework.drawing import MAX_DRAWS, variant_seed
from symbackprop.parsing.problems import load, loads

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = ROOT / "worked_examples" / "homework"
PROBLEM = HOMEWORK / "homework.yaml"
ROSTER = HOMEWORK / "roster.csv"


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("class")
    result = run("variants", PROBLEM, "--roster", ROSTER, "--seed", "ml-2026", "-o", out, "--jobs", "1")
    assert result.exit_code == 0, result.output
    return out


def files_of(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_the_same_seed_and_roster_give_the_same_bytes_with_a_process_pool_too(klass, tmp_path):
    result = run("variants", PROBLEM, "--roster", ROSTER, "--seed", "ml-2026", "-o", tmp_path, "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert files_of(tmp_path) == files_of(klass)
    other = tmp_path / "other"
    run("variants", PROBLEM, "--roster", ROSTER, "--seed", "ml-2027", "-o", other, "--jobs", "1")
    assert files_of(other)["answers.csv"] != files_of(klass)["answers.csv"]


def test_every_artefact_of_a_variant_holds_its_seed(klass):
    for row in csv.DictReader((klass / "answers.csv").open(encoding="utf-8")):
        seed = variant_seed("ml-2026", PROBLEM.read_text(encoding="utf-8"), row["id"])
        assert row["seed"] == seed
        for name in ("problem.yaml", "question.md", "question.tex", "solution.md", "solution.tex", "key.json"):
            assert seed in (klass / row["id"] / name).read_text(encoding="utf-8"), name


def test_one_student_is_rebuilt_alone_to_the_same_bytes(klass, tmp_path):
    result = run("variants", PROBLEM, "--roster", ROSTER, "--seed", "ml-2026", "-o", tmp_path,
                 "--student", "s2304")
    assert result.exit_code == 0, result.output
    assert sorted(files_of(tmp_path)) == sorted(f"s2304/{n}" for n in (
        "problem.yaml", "question.md", "question.tex", "solution.md", "solution.tex", "key.json"))
    assert all(files_of(tmp_path)[n] == files_of(klass)[n] for n in files_of(tmp_path))


def closed_form(problem_file: Path) -> tuple[dict, sp.Expr, dict]:
    """The loss as one expression of the symbols, built from the file's node texts by sympy alone."""
    data = yaml.safe_load(problem_file.read_text(encoding="utf-8"))
    sigmoid = sp.Lambda(sp.Symbol("x"), 1 / (1 + sp.exp(-sp.Symbol("x"))))
    nodes: dict[str, sp.Expr] = {}
    for name, text in data["nodes"].items():
        nodes[name] = sp.sympify(text, locals={"sigmoid": sigmoid}).subs(
            {sp.Symbol(n): e for n, e in nodes.items()})
    values = {sp.Symbol(n): sp.Rational(str(v)) for n, v in data["values"].items()}
    return data, nodes["E"], values


def test_every_key_is_re_derived_by_sympy_diff_of_the_closed_form(klass):
    for row in csv.DictReader((klass / "answers.csv").open(encoding="utf-8")):
        data, loss, values = closed_form(klass / row["id"] / "problem.yaml")
        eta = sp.Rational(str(data["learning_rate"]))
        gradients = {w: sp.diff(loss, sp.Symbol(w)).subs(values) for w in ("w5", "w1")}
        updated = {**values, **{sp.Symbol(n): values[sp.Symbol(n)] - eta * sp.diff(loss, sp.Symbol(n)).subs(values)
                                for n in data["parameters"]}}
        expected = {"E": loss.subs(values), "dE/dw5": gradients["w5"], "dE/dw1": gradients["w1"],
                    "w5+": updated[sp.Symbol("w5")], "w1+": updated[sp.Symbol("w1")]}
        key = json.loads((klass / row["id"] / "key.json").read_text(encoding="utf-8"))
        answers = {a["quantity"]: a for a in key["variant"]["answers"]}
        assert list(answers) == list(expected)
        for name, value in expected.items():
            exact = sp.N(value, 30)
            shown = sp.Rational(answers[name]["answer"])
            # The answer is the value rounded to 4 significant digits: within half a unit of it.
            assert abs(shown - exact) <= sp.Rational(answers[name]["tolerance"]) / 2, (row["id"], name)
            # The key's decimal holds 15 correctly rounded significant digits.
            assert abs(sp.Rational(answers[name]["decimal"]) - exact) <= abs(exact) * sp.Rational(1, 10**14)
            assert row[next(c for c in row if c.endswith(f") {name}"))] == answers[name]["answer"]


def test_drawn_values_lie_on_the_grid_and_meet_every_condition(klass):
    problem = load(PROBLEM)
    grid = {d.name: set(d.choices) for d in problem.vary}
    for row in csv.DictReader((klass / "answers.csv").open(encoding="utf-8")):
        key = json.loads((klass / row["id"] / "key.json").read_text(encoding="utf-8"))
        drawn = key["variant"]["drawn"]
        assert set(drawn) == set(grid) and all(drawn[n] in grid[n] for n in drawn)
        data, loss, values = closed_form(klass / row["id"] / "problem.yaml")
        assert all(str(v).split(".")[-1].__len__() <= 2 for v in data["values"].values())   # max_decimals: 2
        for w in ("w5", "w1"):
            assert abs(sp.diff(loss, sp.Symbol(w)).subs(values)) >= sp.Rational("0.0005")
        # loss_decreases: the loss after the update (all eight weights) below E, by sympy.
        updated = {**values, **{sp.Symbol(n): values[sp.Symbol(n)] - sp.Rational(str(data["learning_rate"]))
                                * sp.diff(loss, sp.Symbol(n)).subs(values) for n in data["parameters"]}}
        assert sp.N(loss.subs(updated), 30) < sp.N(loss.subs(values), 30)


def test_the_grid_reads_as_written():
    problem = load(PROBLEM)
    assert {d.name: d.choices for d in problem.vary}["w1"] == ("0.1", "0.15", "0.2", "0.25", "0.3")


def test_check_accepts_a_variants_problem_file_and_judges_its_answers(klass, tmp_path):
    row = next(csv.DictReader((klass / "answers.csv").open(encoding="utf-8")))
    claims = tmp_path / "answers.yaml"
    claims.write_text("".join(f"{c.split(') ')[1]}: {v}\n" for c, v in row.items() if c.startswith("(")),
                      encoding="utf-8")
    assert run("check", klass / row["id"] / "problem.yaml", claims).exit_code == 0
    wrong = claims.read_text(encoding="utf-8").replace("dE/dw5: ", "dE/dw5: -")
    claims.write_text(wrong, encoding="utf-8")
    result = run("check", klass / row["id"] / "problem.yaml", claims)
    assert result.exit_code == 1 and "sign flipped" in result.output


def test_an_impossible_condition_fails_naming_it(tmp_path):
    problem = tmp_path / "impossible.yaml"
    problem.write_text(PROBLEM.read_text(encoding="utf-8").replace("gradients_at_least: 0.0005",
                                                                   "gradients_at_least: 5"), encoding="utf-8")
    result = run("variants", problem, "--count", "3", "--seed", "x", "-o", tmp_path / "out", "--jobs", "1")
    assert result.exit_code == 2
    assert "key 'require.gradients_at_least'" in result.output and "no variant met" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_small_grid_is_exhausted_before_the_draws_run_out():
    text = PROBLEM.read_text(encoding="utf-8").split("vary:")[0] + (
        "vary:\n  w5: [0.4, 0.5]\nrequire:\n  gradients_at_least: 5\n")
    from symbackprop.errors import ProblemError
    from symbackprop.homework.drawing import draw
    with pytest.raises(ProblemError, match="in 2 of 2 different draws"):
        draw(loads(text), "seed")
    assert MAX_DRAWS >= 100


@pytest.mark.parametrize("text, key", [
    ("vary:\n  w9: [0.1]\n", "vary.w9"),
    ("vary:\n  w5: {from: 0.1, to: 0.9}\n", "vary.w5"),
    ("vary:\n  w5: {from: 0.9, to: 0.1, step: 0.1}\n", "vary.w5.to"),
    ("vary:\n  w5: [1/3]\n", "vary.w5.0"),
    ("vary:\n  w5: []\n", "vary.w5"),
    ("require: [hard_enough]\n", "require.hard_enough"),
    ("require: {max_decimals: -1}\n", "require.max_decimals"),
    ("require: {gradients_at_least: 0}\n", "require.gradients_at_least"),
    ("tasks: [{task: 'the gradient', answers: [dE/dw9]}]\n", "tasks.0.answers.0"),
    ("tasks: 3\n", "tasks"),
    ("blank: [dE/dw5, dE/dw5]\n", "blank.1"),
    ("blank: [w5]\n", "blank.0"),
])
def test_bad_homework_keys_are_one_line_naming_the_key(tmp_path, text, key):
    base = PROBLEM.read_text(encoding="utf-8").split("vary:")[0]
    problem = tmp_path / "bad.yaml"
    problem.write_text(base + text, encoding="utf-8")
    result = run("variants", problem, "--count", "1", "--seed", "x", "-o", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert f"key '{key}'" in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("roster, message", [
    ("name\nAda\n", "no id column"),
    ("id,name\ns1,Ada\ns1,Alan\n", "line 3: the id s1 is on line 2 already"),
    ("id,name\n,Ada\n", "line 2: a student without an id"),
    ("id,name\n", "lists no student"),
    ("id,name\na/b,Ada\na_b,Alan\n", "same directory name"),
])
def test_a_bad_roster_is_one_line_naming_the_file(tmp_path, roster, message):
    path = tmp_path / "roster.csv"
    path.write_text(roster, encoding="utf-8")
    result = run("variants", PROBLEM, "--roster", path, "--seed", "x", "-o", tmp_path / "out")
    assert result.exit_code == 2 and message in result.output and str(path) in result.output


def test_count_or_roster_and_a_known_student(tmp_path):
    assert "give either --count N or --roster" in run("variants", PROBLEM, "--seed", "x", "-o", tmp_path).output
    result = run("variants", PROBLEM, "--count", "2", "--seed", "x", "-o", tmp_path, "--student", "007")
    assert result.exit_code == 2 and "no student 007" in result.output


def test_the_committed_homework_example_is_what_variants_writes(klass):
    """worked_examples/homework/class is regenerated by scripts/regenerate_examples.sh; its
    gradescope/ bundle carries a copy of the package's own source, so it is not committed
    (.gitignore) and tests/test_gradescope.py runs it instead."""
    committed = files_of(HOMEWORK / "class")
    assert committed, "run scripts/regenerate_examples.sh"
    fresh = files_of(klass)
    assert "gradescope/autograder.zip" in fresh and "gradescope/symbackprop/cli/variants.py" in fresh
    assert {n: b for n, b in fresh.items() if not n.startswith("gradescope/")} == \
        {n: b for n, b in committed.items() if not n.startswith("gradescope/")}


@pytest.mark.parametrize("name", ["questions.tex", "solutions.tex"])
def test_the_class_documents_compile_one_student_after_another(klass, name, tmp_path):
    from test_rendered_outputs import missing, pdflatex

    import shutil
    if shutil.which("pdflatex") is None:
        missing("pdflatex is not installed: bash scripts/setup_test_deps.sh")
    tex = tmp_path / name
    shutil.copyfile(klass / name, tex)
    code, log = pdflatex(tex)
    assert code == 0, "\n".join(log.splitlines()[-30:])
    assert "Overfull \\hbox" not in log
    text = tex.read_text(encoding="utf-8")
    # Each student's sheet starts a page numbered from 1, with their name, id and seed on it.
    assert text.count("\\setcounter{page}{1}") == 4
    for row in csv.DictReader((klass / "answers.csv").open(encoding="utf-8")):
        assert row["id"] in text and row["seed"] in text
    if name == "questions.tex":
        for row in csv.DictReader((klass / "answers.csv").open(encoding="utf-8")):
            assert not any(value in text for column, value in row.items() if column.startswith("("))


def test_the_exports_hold_every_variants_correct_values(klass):
    """moodle.xml has one question per variant (its idnumber the seed) whose blanks open with the
    variant's correct values; canvas_qti.zip has, per quantity, an item per variant whose varequal
    is that value (times the power of ten the item asks for)."""
    import re
    import zipfile

    from lxml import etree

    keys = {}
    for row in csv.DictReader((klass / "answers.csv").open(encoding="utf-8")):
        key = json.loads((klass / row["id"] / "key.json").read_text(encoding="utf-8"))
        keys[row["seed"]] = [sp.Rational(a["decimal"]) for a in key["variant"]["answers"]]
    quiz = etree.parse(str(klass / "moodle.xml")).getroot()
    questions = {q.findtext("idnumber"): q for q in quiz.iter("question") if q.get("type") == "cloze"}
    assert set(questions) == set(keys)
    for seed, values in keys.items():
        text = questions[seed].findtext("questiontext/text")
        blanks = re.findall(r"\{1:NUMERICAL:=([-0-9.]+):([0-9.e-]+)", text)
        assert len(blanks) == len(values)
        for (value, tolerance), exact in zip(blanks, values):
            assert abs(sp.Rational(value) - exact) < sp.Rational(tolerance) / 1000
    with zipfile.ZipFile(klass / "canvas_qti.zip") as archive:
        name = next(n for n in archive.namelist() if n.count("/") == 1 and "assessment_meta" not in n
                    and n.endswith(".xml"))
        root = etree.fromstring(archive.read(name))
    ns = {"q": "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"}
    groups = root.findall("q:assessment/q:section/q:section", ns)
    assert len(groups) == len(next(iter(keys.values())))
    for index, group in enumerate(groups):
        found = sorted(sp.Rational(v.text) for v in group.iterfind(".//q:varequal", ns))
        expected = [value[index] for value in keys.values()]
        # The power of ten the items ask for, if any ("Enter 10³ · ∂E/∂w₁").
        scale = sp.Integer(10) ** round(float(sp.log(min(found) / min(expected), 10)))
        assert all(abs(f - e * scale) < sp.Rational(1, 10**9) * abs(e * scale)
                   for f, e in zip(found, sorted(expected)))


def test_a_line_break_in_a_roster_name_cannot_reach_the_variants_problem_file(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text('id,name\ns1,"Ada\nvalues: {w5: 9}"\n', encoding="utf-8")
    result = run("variants", PROBLEM, "--roster", path, "--seed", "x", "-o", tmp_path / "out")
    assert result.exit_code == 2 and "control character U+000A" in result.output
    assert not (tmp_path / "out").exists()


def test_only_values_the_file_lists_can_vary(tmp_path):
    problem = tmp_path / "layers.yaml"
    problem.write_text("layers:\n  inputs: {x1: 1}\n  dense:\n    - {activation: relu, weights: [[0.5]], "
                       "biases: [0.1]}\n  targets: {t1: 2}\n  loss: cross_entropy\n"
                       "vary:\n  w1_11: [0.1, 0.2]\n", encoding="utf-8")
    result = run("variants", problem, "--count", "1", "--seed", "x", "-o", tmp_path / "out")
    assert result.exit_code == 2 and "key 'vary.w1_11'" in result.output, result.output


RELU_UNIT = """
nodes:
  h: relu(w1*x + b)
  y: w2*h
  E: (y - t)**2/2
values: {x: 1, w1: 0.5, b: 0, w2: 1, t: 2}
parameters: [w1, w2]
learning_rate: 0.1
"""


def test_relu_units_active_and_no_zero_gradient_are_met_or_said():
    from symbackprop.errors import ProblemError
    from symbackprop.homework.drawing import draw

    # Half the grid leaves the unit off (w1*x + b <= 0), which zeroes dE/dw1 and dE/dw2.
    text = RELU_UNIT + "vary:\n  b: {from: -1, to: 1, step: 0.25}\n  x: [-1, 1]\n"
    for seed in ("a", "b", "c", "d"):
        for condition in ("relu_units_active", "no_zero_gradient"):
            drawn = draw(loads(text + f"require: [{condition}]\n"), seed)
            h = drawn.solution.forward["h"].value
            assert h > 0, (seed, condition, drawn.values)
    unmet = text.replace("from: -1, to: 1", "from: -2, to: -1").replace("x: [-1, 1]", "x: [1, 2]")
    for condition in ("relu_units_active", "no_zero_gradient"):
        with pytest.raises(ProblemError, match=f"no variant met the condition {condition}") as error:
            draw(loads(unmet + f"require: [{condition}]\n"), "a")
        assert error.value.key == f"require.{condition}"


def test_max_decimals_counts_every_given_value():
    from symbackprop.errors import ProblemError
    from symbackprop.homework.drawing import draw

    text = RELU_UNIT + "vary:\n  w1: [0.125, 0.25, 0.375]\nrequire: {max_decimals: 2}\n"
    assert draw(loads(text), "a").values == {"w1": "0.25"}
    with pytest.raises(ProblemError, match="max_decimals"):
        draw(loads(text.replace("0.25,", "0.255,")), "a")


def test_a_variant_past_the_time_limit_is_one_line(tmp_path):
    result = run("variants", PROBLEM, "--count", "2", "--seed", "x", "-o", tmp_path / "out", "--jobs", "2",
                 "--time-limit", "0.01")
    assert result.exit_code == 2 and "took longer than 0.01 s" in result.output
    assert len(result.output.strip().splitlines()) == 1
