#!/usr/bin/env python3
"""Gradescope's run_autograder for a symbackprop homework: mark one student's answers.yaml against
their own variant of the problem (issue 14). homework/gradescope.py copies this file into the
autograder bundle; it runs there on its own, with the system's python3 (standard library only, so
any Python 3.8 or later), and calls the `symbackprop` command that setup.sh installs.

At run time (gradescope/autograder_samples, docs/specs.md, "File hierarchy"): the bundle is in
/autograder/source, the student's files in /autograder/submission, the submission's metadata in
/autograder/submission_metadata.json, and the results go to /autograder/results/results.json.
AUTOGRADER_ROOT moves /autograder (for a test), SYMBACKPROP names the command.

The student is found on the roster by, in order: the student id Gradescope gives as a user's
`sid` (the course roster's Student ID: docs/submission_metadata.md lists only email, id and name,
so it is used where present and never required), then the email (the roster's email column, or its id
column where the ids are emails), then Gradescope's own user id. Of a group, the first member found
is marked. The variant is rebuilt with `symbackprop variants` from the class seed, exactly as the
lecturer's sheets were, and the answers are checked with `symbackprop check --format gradescope`,
which writes results.json itself, on bad answers too. Whatever stops the marking before that (no
answers.yaml, a student not on the roster, a variant that cannot be built) is said in a
results.json worth 0 of the problem's points, so the student always reads why.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

#: The file a student uploads: a claims file, `dE/dw5: 0.08217` lines.
ANSWERS = "answers.yaml"
#: Roster columns that hold the student's id, in order of preference: homework/variants.py's
#: read_roster, which write_autograder has read the roster with already.
ID_COLUMNS = ("id", "student_id", "sid")


class Stop(Exception):
    """The submission cannot be marked: the message is what the student reads."""


def main() -> int:
    root = Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    command = os.environ.get("SYMBACKPROP", "symbackprop")
    source = root / "source"
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    if results.exists():
        results.unlink()            # a stale file must not pass for this run's results
    config: dict = {}
    try:
        config = json.loads((source / "autograder.json").read_text(encoding="utf-8"))
        answers = root / "submission" / ANSWERS
        if not answers.is_file():
            submitted = sorted(p.name for p in (root / "submission").glob("*")) or ["nothing"]
            raise Stop(f"No {ANSWERS} in your submission (you submitted: {', '.join(submitted)}). "
                       f"Upload a file named {ANSWERS} with one line per answer, such as\n"
                       "    dE/dw5: 0.08217")
        problem = source / config["problem"]
        with tempfile.TemporaryDirectory() as scratch:
            if config.get("roster"):
                problem = variant(command, source, config, root, Path(scratch))
            run(command, "check", str(problem), str(answers), "--format", "gradescope",
                "-o", str(results), *config.get("check_options", []))
            # check writes results.json on bad answers too (exit 2); none means it failed itself.
            if not results.exists():
                raise Stop("Your answers could not be marked: the checker stopped unexpectedly. "
                           "This is not your fault: please tell the course staff.")
    except Stop as stop:
        write_error(results, str(stop), config.get("max_score", 0))
    except Exception:
        # The bundle's own fault: the traceback for the course staff (stdout), a line for the student.
        traceback.print_exc(file=sys.stdout)
        write_error(results, "Your answers could not be marked: the autograder failed. This is not "
                    "your fault: please tell the course staff.", config.get("max_score", 0))
    return 0


def variant(command: str, source: Path, config: dict, root: Path, scratch: Path) -> Path:
    """The student's own problem file, rebuilt by `symbackprop variants` from the class seed."""
    roster = source / config["roster"]
    metadata = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
    users = metadata.get("users") or []
    student = find_student(users, read_roster(roster))
    if student is None:
        who = ", ".join(f"{u.get('name', '?')} <{u.get('email', '?')}>" for u in users) or "no user"
        raise Stop(f"You ({who}) are not on the course roster, so your own variant of the problem "
                   "cannot be found. Please tell the course staff.")
    out = scratch / "variant"
    done = run(command, "variants", str(source / config["problem"]), "--roster", str(roster),
               "--seed", config["seed"], "--student", student, "-o", str(out))
    problem = out / directory_name(student) / "problem.yaml"
    if done.returncode != 0 or not problem.is_file():
        raise Stop("Your variant of the problem could not be built. This is not your fault: "
                   "please tell the course staff.")
    return problem


def read_roster(path: Path) -> list[dict[str, str]]:
    """The roster's rows as {"id", "email"}: the id column (ID_COLUMNS) and the email column
    where there is one."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        rows = list(csv.reader(file))
    header = [h.strip().lower() for h in rows[0]] if rows else []
    id_at = next((header.index(c) for c in ID_COLUMNS if c in header), None)
    if id_at is None:
        return []
    email_at = header.index("email") if "email" in header else None
    return [{"id": row[id_at].strip(),
             "email": row[email_at].strip() if email_at is not None and email_at < len(row) else ""}
            for row in rows[1:] if len(row) > id_at and row[id_at].strip()]


def find_student(users: list[dict], roster: list[dict[str, str]]) -> str | None:
    """The roster id of the first user found: by student id, then email, then Gradescope id."""
    ids = {r["id"]: r["id"] for r in roster}
    emails = {e.lower(): r["id"] for r in roster for e in (r["email"], r["id"]) if "@" in e}
    for user in users:
        sid = str(user.get("sid") or "").strip()
        email = str(user.get("email") or "").strip().lower()
        gradescope_id = str(user.get("id") or "").strip()
        found = ids.get(sid) if sid else None
        found = found or (emails.get(email) if email else None)
        found = found or (ids.get(gradescope_id) if gradescope_id else None)
        if found:
            return found
    return None


def directory_name(student: str) -> str:
    """The folder `symbackprop variants` writes a student's files to: the roster id with every
    character outside [A-Za-z0-9._-] made _."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", student)


def run(*command: str) -> subprocess.CompletedProcess:
    """Run a symbackprop command, its output in the autograder's stdout (course staff only)."""
    print("$", " ".join(command), flush=True)
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    except OSError as exc:
        print(f"cannot run {command[0]}: {exc}", flush=True)
        return subprocess.CompletedProcess(command, 127, "", "")
    print(done.stdout + done.stderr, f"(exit status {done.returncode})", flush=True)
    return done


def write_error(results: Path, message: str, max_score: float) -> None:
    """One failed test worth the whole problem (0 of N, not 0 of 0), always visible: the same shape
    as `symbackprop check --format gradescope` writes for bad answers."""
    test = {"name": "Your submission", "score": 0, "max_score": max_score, "status": "failed",
            "output": message, "output_format": "text", "visibility": "visible"}
    record = {"output": message, "output_format": "text", "tests": [test]}
    results.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(message, flush=True)


if __name__ == "__main__":
    sys.exit(main())
