"""Gradescope (issue 14): `check --format gradescope` writes results.json, on bad answers too, held to
our JSON Schema of Gradescope's published format (gradescope/autograder_samples docs/specs.md); the
autograder bundle's run_autograder finds the student, rebuilds the variant and marks the answers,
here with `symbackprop variants` stubbed by a fake command (the real one is written in parallel)."""

from __future__ import annotations

import ast
import csv
import json
import os
import py_compile
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import symbackprop
from symbackprop.check.claims import loads_claims
from symbackprop.check.judge import judge_claims
from symbackprop.cli.check import check as check_command
from symbackprop.engine.tasks import answers_of
from symbackprop.homework import gradescope_results, run_autograder
from symbackprop.homework.answers import answers_of as marked_answers
from symbackprop.homework.gradescope import write_autograder
from symbackprop.homework.variants import Homework, Student, build_variant
from symbackprop.parsing.problems import read_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "worked_examples"
SIGMOID = EXAMPLES / "sigmoid_2_2_2.yaml"
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gradescope_results.schema.json").read_text())
#: The 2-2-2 example asks for E, eight gradients, eight updated weights and E+.
ASKED = 18


def valid(record: dict) -> dict:
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    return record


def by_number(record: dict) -> dict[str, dict]:
    return {t["number"]: t for t in record["tests"]}


@pytest.fixture(scope="module")
def problem():
    return symbackprop.load(SIGMOID)


@pytest.fixture(scope="module")
def right_claims(problem) -> str:
    """Every asked quantity, right to eight significant digits."""
    return "".join(f"{a.key}: {a.shown}\n" for a in marked_answers(problem, problem.solve(), 8))


def run_check(tmp_path: Path, claims: str, *options: str) -> tuple[int, str, dict]:
    answers = tmp_path / "answers.yaml"
    answers.write_text(claims)
    out = tmp_path / "results.json"
    result = CliRunner().invoke(check_command, [str(SIGMOID), str(answers), "--format", "gradescope",
                                                "-o", str(out), *options])
    return result.exit_code, result.output, valid(json.loads(out.read_text()))


# --- the schema itself ---------------------------------------------------------------------------

def test_schema_is_a_schema_and_holds_the_spec_example():
    """The example of docs/specs.md's 'Output format' (comments removed) is valid; a field the spec
    does not name, or a visibility outside its four, is not."""
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    spec_example = {
        "score": 44.0, "execution_time": 136, "output": "Text relevant to the entire submission",
        "output_format": "simple_format", "test_output_format": "text", "test_name_format": "text",
        "visibility": "after_due_date", "stdout_visibility": "visible", "extra_data": {},
        "tests": [{"score": 2.0, "max_score": 2.0, "status": "passed", "name": "Your name here",
                   "name_format": "text", "number": "1.1", "output": "Giant multiline string",
                   "output_format": "text", "tags": ["tag1", "tag2", "tag3"], "visibility": "visible",
                   "extra_data": {}}],
        "leaderboard": [{"name": "Accuracy", "value": .926}, {"name": "Time", "value": 15.1, "order": "asc"},
                        {"name": "Stars", "value": "*****"}]}
    valid(spec_example)
    valid({"tests": [{"name": "Compilation check", "status": "passed"}]})     # 'Test case status'
    for bad in ({"tests": [{"score": 1, "colour": "red"}]}, {"tests": [], "visibility": "soon"},
                {"tests": [{"status": "ok"}]}, {"output": "no score, no tests"},
                {"tests": [{"output_format": "latex"}]}):
        with pytest.raises(jsonschema.ValidationError):
            valid(bad)


# --- results.json from check --------------------------------------------------------------------

def test_all_right_passes_every_asked_quantity(tmp_path, right_claims):
    status, _, record = run_check(tmp_path, right_claims)
    assert status == 0
    tests = record["tests"]
    assert len(tests) == ASKED and all(t["status"] == "passed" for t in tests)
    assert sum(t["score"] for t in tests) == sum(t["max_score"] for t in tests) == ASKED
    assert "score" not in record                       # Gradescope sums the tests
    assert f"{ASKED} of {ASKED} asked quantities right" in record["output"]
    tests = by_number(record)
    assert tests["a.1"]["name"] == "(a) E"
    assert tests["b.5"]["name"] == "(b) ∂E/∂w₅ (dE/dw5)"
    assert tests["c.9"]["name"] == "(c) E⁺ (E+)"


def test_wrong_answers_name_the_mistake_without_the_correct_value(tmp_path, right_claims):
    """dE/dw5 with its sign flipped, and w5+ computed from it: the first names the mistake, the
    second says it follows from the first; neither shows the correct value."""
    claims = right_claims.replace("dE/dw5: 0.082167041", "dE/dw5: -0.082167041")
    claims = claims.replace("w5+: 0.35891648", "w5+: 0.44108352")
    status, _, record = run_check(tmp_path, claims)
    assert status == 1
    tests = by_number(record)
    gradient, updated = tests["b.5"], tests["c.5"]
    assert (gradient["status"], gradient["score"], gradient["max_score"]) == ("failed", 0, 1)
    assert "sign flipped" in gradient["output"] and gradient["extra_data"]["mistake"] == "sign"
    assert updated["status"] == "failed"
    assert "follows from your wrong dE/dw5" in updated["output"]
    assert updated["extra_data"]["follows_from"] == ["dE/dw5"]
    for test in (gradient, updated):
        assert "0.0821670" not in test["output"].replace("-0.082167041", "")
        assert "0.358916" not in test["output"]
    assert sum(t["score"] for t in record["tests"]) == ASKED - 2
    assert f"{ASKED - 2} of {ASKED} asked quantities right" in record["output"]


def test_missing_quantities_fail_and_extra_claims_score_nothing(tmp_path):
    """The published figures of the example answer 5 asked quantities (E+ wrongly) and out_h1,
    which is not asked: 4 of 18, not 4 of 5, and out_h1 shown without points."""
    status, _, record = run_check(tmp_path, (EXAMPLES / "checks" / "sigmoid_2_2_2_claims.yaml").read_text())
    assert status == 1
    tests = by_number(record)
    missing = tests["b.1"]
    assert (missing["status"], missing["score"], missing["max_score"]) == ("failed", 0, 1)
    assert "No answer given for ∂E/∂w₁" in missing["output"] and "dE/dw1: " in missing["output"]
    assert "No answer for ∂E/∂w₁ (dE/dw1)" in record["output"]
    assert tests["c.9"]["extra_data"]["mistake"] == "updated_too_early"
    extra = tests["extra.1"]
    assert extra["status"] == "passed" and "score" not in extra and "max_score" not in extra
    graded = [t for t in record["tests"] if "max_score" in t]
    assert len(graded) == ASKED and sum(t["score"] for t in graded) == 4


def test_nothing_answered_is_zero_of_the_problem(tmp_path, problem):
    """A file that answers only a quantity not asked scores 0 of 18, not 0 of 0."""
    _, _, record = run_check(tmp_path, "out_h1: 0.5\n")
    graded = [t for t in record["tests"] if "max_score" in t]
    assert sum(t["max_score"] for t in graded) == ASKED == len(answers_of(problem))
    assert sum(t["score"] for t in graded) == 0


def test_points_and_visibility(tmp_path, right_claims):
    """--points scales every asked quantity; a visibility other than visible keeps the count of
    right answers out of the summary, which students see at once."""
    _, _, record = run_check(tmp_path, right_claims, "--points", "2.5", "--visibility", "after_due_date")
    assert {t["max_score"] for t in record["tests"]} == {2.5}
    assert {t["visibility"] for t in record["tests"]} == {"after_due_date"}
    assert "asked quantities right" not in record["output"]
    assert "after the due date" in record["output"]


@pytest.mark.parametrize("claims, said", [
    ("dE/dw5: 0.08\ndE/dw9: 1\n", "dE/dw9"),
    ("- dE/dw5\n- 0.08\n", "must map quantities to values"),
    ("dE/dw5: [0.08\n", "answers.yaml"),
    ("", "the file is empty"),
    ("dE/dw5: 0.08\ndE / dw5: 0.08\n", "names the same quantity"),
])
def test_malformed_answers_still_write_results(tmp_path, claims, said):
    """Bad answers: exit 2 with one line naming the file, and a results.json saying so, worth the
    whole problem, visible."""
    status, output, record = run_check(tmp_path, claims)
    assert status == 2
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "answers.yaml" in errors[0] and "Traceback" not in output
    (test,) = record["tests"]
    assert (test["status"], test["score"], test["max_score"], test["visibility"]) == \
        ("failed", 0, ASKED, "visible")
    assert said in test["output"] and test["output"].startswith("Your answers could not be read")


def test_missing_answers_file_and_bad_problem(tmp_path):
    out = tmp_path / "results.json"
    result = CliRunner().invoke(check_command, [str(SIGMOID), str(tmp_path / "none.yaml"),
                                                "--format", "gradescope", "-o", str(out)])
    assert result.exit_code == 2
    assert "no such file" in valid(json.loads(out.read_text()))["tests"][0]["output"]
    (tmp_path / "answers.yaml").write_text("E: 1\n")
    result = CliRunner().invoke(check_command, [str(tmp_path / "nope.yaml"), str(tmp_path / "answers.yaml"),
                                                "--format", "gradescope", "-o", str(out)])
    assert result.exit_code == 2
    record = valid(json.loads(out.read_text()))
    assert "not your fault" in record["output"] and record["tests"][0]["max_score"] == 0


def test_gradescope_options_need_the_gradescope_format(tmp_path):
    (tmp_path / "answers.yaml").write_text("E: 1\n")
    result = CliRunner().invoke(check_command, [str(SIGMOID), str(tmp_path / "answers.yaml"),
                                                "--points", "2"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: option '--points': applies to --format gradescope only"


def test_results_of_the_library(problem):
    """results() from a Report, without the command line: a formula claim judged wrong."""
    report = judge_claims(problem, loads_claims("dE/dw5: 2*out_h1\n", problem), None, "answers.yaml")
    record = valid(gradescope_results.results(report))
    assert by_number(record)["b.5"]["status"] == "failed"
    assert "formula" in by_number(record)["b.5"]["output"]


# --- the autograder bundle -----------------------------------------------------------------------

ROSTER = "id,name,email\nS-001,Ada Lovelace,ada@uni.edu\nab 12,Alan Turing,alan@uni.edu\n"

FAKE = """#!/usr/bin/env bash
# symbackprop for the test: `variants` copies a known problem into place as the real command's
# contract says (<out>/<roster id, [^A-Za-z0-9._-] made _>/problem.yaml); the rest is the real CLI.
echo "$*" >> "$FAKE_LOG"
if [ "$1" = variants ]; then
    while [ $# -gt 0 ]; do
        case "$1" in --student) student="$2"; shift;; -o) out="$2"; shift;; esac; shift
    done
    [ -n "${FAKE_VARIANTS_FAIL:-}" ] && { echo "variants failed" >&2; exit 2; }
    dir="$out/$(printf '%s' "$student" | sed 's/[^A-Za-z0-9._-]/_/g')"
    mkdir -p "$dir" && cp "$FAKE_PROBLEM" "$dir/problem.yaml"
    exit 0
fi
exec "$FAKE_PYTHON" -m symbackprop "$@"
"""


@pytest.fixture
def bundle(tmp_path) -> Path:
    roster = tmp_path / "class.csv"
    roster.write_text(ROSTER)
    zipped = write_autograder(tmp_path / "bundle", SIGMOID, "c0ffee", roster, points=2)
    return zipped.parent


def test_bundle_files(bundle):
    names = {"setup.sh", "run_autograder", "autograder.json", "sigmoid_2_2_2.yaml", "class.csv"}
    assert names <= {p.name for p in bundle.iterdir()}
    assert os.access(bundle / "run_autograder", os.X_OK)
    assert (bundle / "run_autograder").read_text().startswith("#!/usr/bin/env python3\n")
    py_compile.compile(str(bundle / "run_autograder"), doraise=True, cfile=str(bundle.parent / "ra.pyc"))
    # It runs with the image's own python3: Ubuntu 22.04's is 3.10, so nothing newer than 3.8's syntax.
    ast.parse((bundle / "run_autograder").read_text(), feature_version=(3, 8))
    subprocess.run(["bash", "-n", str(bundle / "setup.sh")], check=True)
    setup = (bundle / "setup.sh").read_text()
    # The source that drew the variants, pinned requirements, and a command that runs it.
    assert "pip install -r /autograder/source/requirements.txt" in setup and "\r" not in setup
    assert "PYTHONPATH=/autograder/source exec /opt/symbackprop/bin/python -P -m symbackprop" in setup
    requirements = (bundle / "requirements.txt").read_text().split()
    assert any(r.startswith("sympy==") for r in requirements) and not any("pytest" in r for r in requirements)
    assert (bundle / "symbackprop" / "homework" / "variants.py").read_bytes() == \
        (Path(symbackprop.__file__).parent / "homework" / "variants.py").read_bytes()
    config = json.loads((bundle / "autograder.json").read_text())
    assert config["seed"] == "c0ffee" and config["max_score"] == 2 * ASKED
    assert config["check_options"] == ["--points", "2", "--visibility", "visible", "--digits", "4"]
    with zipfile.ZipFile(bundle / "autograder.zip") as archive:
        listed = set(archive.namelist())
        assert names | {"requirements.txt"} == {n for n in listed if "/" not in n}   # at the root
        assert "symbackprop/cli/variants.py" in listed and not any("__pycache__" in n for n in listed)
        mode = archive.getinfo("run_autograder").external_attr >> 16
        assert mode & stat.S_IXUSR


def test_bundle_with_a_package(tmp_path):
    wheel = tmp_path / "symbackprop-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel")
    write_autograder(tmp_path / "b", SIGMOID, "1", None, package=wheel, digits=None)
    assert "pip install /autograder/source/symbackprop-0.1.0-py3-none-any.whl" in \
        (tmp_path / "b" / "setup.sh").read_text()
    config = json.loads((tmp_path / "b" / "autograder.json").read_text())
    assert config["roster"] is None and "--digits" not in config["check_options"]


@pytest.mark.parametrize("kwargs, said", [
    ({"visibility": "soon"}, "visibility"), ({"points": 0}, "points"),
    ({"roster_csv": Path("nowhere.csv")}, "cannot read the roster"),
    ({"package": Path("nowhere.whl")}, "does not exist"), ({"digits": 0}, "between 1 and 30"),
])
def test_bundle_bad_input(tmp_path, kwargs, said):
    with pytest.raises(symbackprop.ProblemError, match=said):
        write_autograder(tmp_path, SIGMOID, "1", **{"roster_csv": None, **kwargs})


def test_bundle_refuses_a_roster_variants_cannot_read(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("name,email\nAda,ada@uni.edu\n")
    with pytest.raises(symbackprop.ProblemError, match="no id column"):
        write_autograder(tmp_path / "b", SIGMOID, "1", roster)


def autograde(bundle: Path, tmp_path: Path, answers: str | None, users: list[dict],
              **env: str) -> tuple[dict, str]:
    """Run run_autograder in a temporary AUTOGRADER_ROOT with the fake symbackprop on PATH."""
    root = tmp_path / "autograder"
    shutil.copytree(bundle, root / "source")
    (root / "submission").mkdir()
    if answers is not None:
        (root / "submission" / "answers.yaml").write_text(answers)
    (root / "submission_metadata.json").write_text(json.dumps({"id": 1, "users": users}))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "symbackprop").write_text(FAKE)
    (fake / "symbackprop").chmod(0o755)
    log = tmp_path / "calls.log"
    environment = {**os.environ, "AUTOGRADER_ROOT": str(root),
                   "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}", "FAKE_LOG": str(log),
                   "FAKE_PROBLEM": str(SIGMOID), "FAKE_PYTHON": sys.executable,
                   "PYTHONPATH": str(ROOT), **env}
    done = subprocess.run([str(root / "source" / "run_autograder")], env=environment,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    record = valid(json.loads((root / "results" / "results.json").read_text()))
    return record, log.read_text() if log.exists() else ""


def test_run_autograder_end_to_end(bundle, tmp_path, right_claims):
    """A student found by email: their variant rebuilt from the seed, the answers marked (one sign
    flipped) at the bundle's points."""
    answers = right_claims.replace("dE/dw5: 0.082167041", "dE/dw5: -0.082167041")
    record, calls = autograde(bundle, tmp_path, answers,
                              [{"email": "ADA@uni.edu", "id": 99, "name": "Ada Lovelace"}])
    assert "--seed c0ffee --student S-001 -o" in calls
    graded = [t for t in record["tests"] if "max_score" in t]
    assert len(graded) == ASKED and {t["max_score"] for t in graded} == {2}
    assert sum(t["score"] for t in graded) == 2 * (ASKED - 1)
    assert "sign flipped" in by_number(record)["b.5"]["output"]


def test_run_autograder_student_id_first_and_folder_names(bundle, tmp_path, right_claims):
    """The user's sid wins over an email of another roster row; a roster id with a space lives in a
    folder with _ for it."""
    record, calls = autograde(bundle, tmp_path, right_claims,
                              [{"email": "ada@uni.edu", "id": 5, "name": "A. T.", "sid": "ab 12"}])
    assert "--student ab 12 -o" in calls
    assert all(t["status"] == "passed" for t in record["tests"])


@pytest.mark.parametrize("answers, users, env, said", [
    (None, [{"email": "ada@uni.edu", "id": 1, "name": "Ada"}], {}, "No answers.yaml in your submission"),
    ("E: 1\n", [{"email": "eve@else.where", "id": 7, "name": "Eve"}], {}, "not on the course roster"),
    ("E: 1\n", [{"email": "ada@uni.edu", "id": 1, "name": "Ada"}], {"FAKE_VARIANTS_FAIL": "1"},
     "could not be built"),
    ("E: [1\n", [{"email": "ada@uni.edu", "id": 1, "name": "Ada"}], {}, "could not be read"),
    ("E: 1\n", [{"email": "ada@uni.edu", "id": 1, "name": "Ada"}], {"SYMBACKPROP": "/nonexistent/sbp"},
     "could not be built"),
])
def test_run_autograder_says_why_it_cannot_mark(bundle, tmp_path, answers, users, env, said):
    record, _ = autograde(bundle, tmp_path, answers, users, **env)
    (test,) = record["tests"]
    assert (test["score"], test["max_score"], test["status"]) == (0, 2 * ASKED, "failed")
    assert said in test["output"]


def test_run_autograder_without_a_roster(tmp_path):
    """No roster: every student is marked against the problem itself."""
    write_autograder(tmp_path / "bundle", SIGMOID, "1", None)
    record, calls = autograde(tmp_path / "bundle", tmp_path, "E: 0.298371109\n",
                              [{"email": "x@y.z", "id": 1, "name": "X"}])
    assert "variants" not in calls
    assert by_number(record)["a.1"]["status"] == "passed"


def test_find_student_order(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("Name,Student_ID,Email\nAda,123,ada@uni.edu\nAlan,456,\nGrace,grace@uni.edu,\n")
    assert run_autograder.read_roster(tmp_path / "r.csv")[0]["email"] == "ada@uni.edu"
    roster = run_autograder.read_roster(path)
    assert [r["id"] for r in roster] == ["123", "456", "grace@uni.edu"]
    find = run_autograder.find_student
    assert find([{"sid": "456", "email": "ada@uni.edu", "id": 1}], roster) == "456"
    assert find([{"sid": "999", "email": "Ada@Uni.edu", "id": 1}], roster) == "123"
    assert find([{"email": "grace@uni.edu", "id": 1}], roster) == "grace@uni.edu"
    assert find([{"email": "x@y.z", "id": 456}], roster) == "456"           # Gradescope's id, last
    assert find([{"email": "x@y.z", "id": 1}, {"email": "ada@uni.edu", "id": 2}], roster) == "123"
    assert find([{"email": "x@y.z", "id": 1}], roster) is None
    assert run_autograder.directory_name("ab 12/ü") == "ab_12__"


def test_roster_written_by_csv_module_round_trips(tmp_path):
    path = tmp_path / "r.csv"
    with path.open("w", newline="") as file:
        csv.writer(file).writerows([["id", "email"], ["a,b", "q@r.s"]])
    assert run_autograder.read_roster(path) == [{"id": "a,b", "email": "q@r.s"}]


def test_run_autograder_with_the_real_variants_command(tmp_path):
    """End to end with `symbackprop variants` itself, run from the source the bundle carries (as
    setup.sh's command runs it): the homework's roster and seed, the student found by email, their
    own variant rebuilt, and their answers (the variant's key, one sign flipped) marked against it."""
    homework_dir = EXAMPLES / "homework"
    problem, roster = homework_dir / "homework.yaml", homework_dir / "roster.csv"
    write_autograder(tmp_path / "bundle", problem, "ML 2025", roster)
    homework = Homework(read_text(problem), str(problem), "ML 2025")
    key = build_variant(homework, Student("s2303", "Grace Hopper", "grace@example.edu")).variant.answers
    assert (tmp_path / "bundle" / "symbackprop" / "cli" / "variants.py").is_file()
    wrong = next(a for a in key if a.key == "dE/dw5")
    answers = "".join(f"{a.key}: {'-' if a is wrong else ''}{a.shown}\n" for a in key)
    command = tmp_path / "symbackprop"
    source = tmp_path / "autograder" / "source"       # where autograde() unpacks the bundle
    command.write_text(f"#!/bin/sh\nPYTHONPATH={source} exec {sys.executable} -P -c "
                       f"\"import symbackprop, sys; assert symbackprop.__file__.startswith('{source}'); "
                       f"from symbackprop.cli import main; sys.argv[0] = 'symbackprop'; main()\" \"$@\"\n")
    command.chmod(0o755)
    record, _ = autograde(tmp_path / "bundle", tmp_path, answers,
                          [{"email": "grace@example.edu", "id": 4711, "name": "Grace Hopper"}],
                          SYMBACKPROP=str(command))
    graded = {t["extra_data"]["key"]: t for t in record["tests"]}
    assert set(graded) == {a.key for a in key}
    assert graded["dE/dw5"]["status"] == "failed" and "sign flipped" in graded["dE/dw5"]["output"]
    assert all(t["status"] == "passed" for k, t in graded.items() if k != "dE/dw5")
