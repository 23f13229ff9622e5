"""The Gradescope autograder bundle of a homework problem (issue 14): what a lecturer uploads so
that each student's answers.yaml is marked against their own variant.

The bundle (gradescope/autograder_samples, docs/specs.md: setup.sh and an executable
run_autograder at the root of the zip):

- setup.sh: run once when Gradescope builds the image. It installs symbackprop into a virtual
  environment (/opt/symbackprop) and links the command into /usr/local/bin. symbackprop needs
  Python 3.11; Gradescope's default image is Ubuntu 22.04 (docs/base_images.md), whose python3 is
  3.10, so there it takes python3.11 from Ubuntu's archive; a venv because the system Python of
  Ubuntu 24.04 refuses pip installs (PEP 668). It installs the wheel or sdist bundled with
  `package`, else this version of symbackprop from PyPI: pinned, since a variant drawn by another
  version might not be the one on the student's sheet.
- run_autograder: homework/run_autograder.py, which finds the student on the roster, rebuilds
  their variant with `symbackprop variants` and marks the answers with `symbackprop check --format
  gradescope` (read its docstring for the matching order).
- autograder.json: the class seed, the file names, the options for check and the problem's points
  (for the results of a submission that cannot be marked).
- the problem file and the roster under their own names (a variant is drawn from them as given).
- autograder.zip: all of the above at the root of the archive, ready to upload.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from ..engine.tasks import answers_of
from ..errors import ProblemError
from ..parsing.problems import load
from . import gradescope_results
from .answers import DEFAULT_DIGITS
from .archive import fixed_zip
from .variants import read_roster

#: The directory of symbackprop's virtual environment on the autograder image.
VENV = "/opt/symbackprop"
ZIP = "autograder.zip"

SETUP = """#!/usr/bin/env bash
# Run once by Gradescope when it builds the autograder image (as root, on Ubuntu).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
# symbackprop needs Python 3.11 or later: Ubuntu 22.04's python3 is 3.10, so take python3.11 there.
if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    apt-get install -y python3-venv
    python=python3
else
    apt-get install -y python3.11 python3.11-venv
    python=python3.11
fi
# A virtual environment: newer Ubuntu refuses pip installs into the system Python (PEP 668).
"$python" -m venv {venv}
{venv}/bin/pip install --upgrade pip
{install}
symbackprop --help > /dev/null    # the command runs (the bundled source has no version metadata)
"""

#: setup.sh's install of a bundled wheel or sdist.
INSTALL_PACKAGE = """{venv}/bin/pip install /autograder/source/{package}
ln -sf {venv}/bin/symbackprop /usr/local/bin/symbackprop"""
#: setup.sh's install of the bundled source: the requirements as installed where the sheets were
#: made, and a command that runs the bundled package itself (-P: not one in the working directory).
INSTALL_SOURCE = """{venv}/bin/pip install -r /autograder/source/requirements.txt
printf '#!/bin/sh\\nPYTHONPATH=/autograder/source exec {venv}/bin/python -P -m symbackprop "$@"\\n' \\
    > /usr/local/bin/symbackprop
chmod 755 /usr/local/bin/symbackprop"""


def write_autograder(directory: Path, problem_file: Path, seed: str, roster_csv: Path | None, *,
                     package: Path | None = None, points: float = gradescope_results.DEFAULT_POINTS,
                     visibility: str = gradescope_results.DEFAULT_VISIBILITY,
                     digits: int | None = DEFAULT_DIGITS) -> Path:
    """Write the bundle into `directory` and return the zip to upload. Without a roster every
    student is marked against the problem itself (no variants). Decimals are judged right within
    one unit in the `digits`-th significant digit of the correct value, the window of the Moodle
    and Canvas exports (judged by the digits written instead, 0.1 would pass for 0.0822); None
    judges them by the digits each answer writes."""
    problem = load(problem_file)          # a bad problem is said now, not at the first submission
    if visibility not in gradescope_results.VISIBILITIES:
        raise ProblemError(f"must be one of {', '.join(gradescope_results.VISIBILITIES)}, got "
                           f"'{visibility}'", key="visibility")
    if not points > 0:
        raise ProblemError(f"must be greater than 0, got {points}", key="points")
    if digits is not None and not 1 <= digits <= 30:
        raise ProblemError(f"must be between 1 and 30, got {digits}", key="digits")
    if roster_csv is not None:
        read_roster(roster_csv)          # as `symbackprop variants` will read it at marking time
    if package is not None and not package.is_file():
        raise ProblemError("the package file does not exist", source=str(package))
    if package is not None and not package.name.endswith((".whl", ".tar.gz")):
        raise ProblemError("a package is a wheel (.whl) or an sdist (.tar.gz)", source=str(package))
    directory.mkdir(parents=True, exist_ok=True)
    files = [_copy(problem_file, directory), *(_copy(p, directory) for p in (roster_csv, package) if p)]
    options = ["--points", f"{points:g}", "--visibility", visibility]
    options += ["--digits", str(digits)] if digits is not None else []
    config = {"problem": problem_file.name, "roster": roster_csv.name if roster_csv else None,
              "seed": seed, "check_options": options,
              "max_score": points * len(answers_of(problem))}
    files.append(_write(directory / "autograder.json", json.dumps(config, indent=2) + "\n"))
    if package is not None:
        install = INSTALL_PACKAGE.format(venv=VENV, package=package.name)
    else:
        # The code that drew the students' variants, not a release from PyPI: a variant drawn by
        # other code might not be the one on the student's sheet.
        files += _bundled_source(directory)
        install = INSTALL_SOURCE.format(venv=VENV)
    files.append(_write(directory / "setup.sh", SETUP.format(venv=VENV, install=install)))
    script = (Path(__file__).parent / "run_autograder.py").read_text(encoding="utf-8")
    files.append(_write(directory / "run_autograder", script, executable=True))
    return _zip(directory / ZIP, files)


def _copy(path: Path, directory: Path) -> Path:
    target = directory / path.name
    if target.resolve() != path.resolve():
        shutil.copyfile(path, target)
    return target


def _write(path: Path, text: str, executable: bool = False) -> Path:
    path.write_text(text, encoding="utf-8", newline="\n")     # Unix line endings for bash
    path.chmod(0o755 if executable else 0o644)
    return path


def _bundled_source(directory: Path) -> list[Path]:
    """This symbackprop's package source under `directory`/symbackprop (pure Python), and
    requirements.txt pinning its dependencies to the versions installed here."""
    package = Path(__file__).resolve().parent.parent
    files = []
    for source in sorted(package.rglob("*")):
        if source.is_file() and "__pycache__" not in source.parts and source.suffix != ".pyc":
            target = directory / "symbackprop" / source.relative_to(package)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            files.append(target)
    from importlib import metadata  # here: a cost every command would pay at start-up

    pinned = []
    for requirement in metadata.requires("symbackprop") or []:
        if "extra ==" not in requirement:
            name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
            pinned.append(f"{name}=={metadata.version(name)}\n")
    files.append(_write(directory / "requirements.txt", "".join(pinned)))
    return files


def _zip(path: Path, files: list[Path]) -> Path:
    """The files at the root of the archive (Gradescope looks for setup.sh there, not in a folder),
    the bundled source in its folder, with their permissions, so that run_autograder stays
    executable; the same bundle, the same bytes."""
    path.write_bytes(fixed_zip((file.relative_to(path.parent).as_posix(), file.read_bytes(),
                                file.stat().st_mode & 0o777) for file in files))
    return path
