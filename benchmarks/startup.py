"""Start-up of the command line (issue 15): `symbackprop solve` on the built-in example, as text and as
the JSON answer key, end to end as a subprocess, over `python -c "import sympy"`, in one run.

    python benchmarks/startup.py                # best of 7 each
    python benchmarks/startup.py --repeat 5
    python benchmarks/startup.py --before DIR   # also DIR (another revision's copy), interleaved
    python benchmarks/startup.py --instructions # instructions counted by valgrind, not time

This checkout is run (PYTHONPATH), its bytecode compiled first as `pip install` compiles it (the
environment may set PYTHONDONTWRITEBYTECODE, and compiling 80 modules on every run would be timed
otherwise), through the `symbackprop` script beside this interpreter when it
is installed there (as a user runs it), else `python -m symbackprop`. The commands are interleaved
so that a noisy second hits each of them, and the best time of each is kept. It prints the times
and the ratios (issue 15's goals: solve <= 1.4x, --format json <= 1.3x); it asserts nothing.
With --instructions each command runs once under valgrind (cachegrind), and the figures are the
instructions it executed: not time, but the same on a busy machine, where times are not.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "symbackprop"
CLI = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "symbackprop"]

#: name -> the command; the first is the baseline the others are divided by.
COMMANDS = {
    "import sympy": [sys.executable, "-c", "import sympy"],
    "symbackprop solve": [*CLI, "solve"],
    "symbackprop solve --format json": [*CLI, "solve", "--format", "json"],
}
GOALS = {"symbackprop solve": 1.4, "symbackprop solve --format json": 1.3}


def timed(command: list[str], source: Path) -> dict[str, float]:
    """The command's wall time and its CPU time (user + system, from its own rusage), in seconds: on
    a busy machine the CPU time is the steadier figure."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise subprocess.CalledProcessError(os.waitstatus_to_exitcode(status), command)
    return {"wall s": wall, "cpu s": usage.ru_utime + usage.ru_stime}


def instructions(command: list[str], source: Path) -> dict[str, float]:
    """The instructions the command executes (in billions), counted by cachegrind."""
    env = {**os.environ, "PYTHONPATH": str(source), "PYTHONHASHSEED": "0"}
    valgrind = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    done = subprocess.run([*valgrind, *command], env=env, check=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    return {"G instr": int(re.search(r"I\s+refs:\s+([\d,]+)", done.stderr).group(1).replace(",", "")) / 1e9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--before", type=Path, help="a copy of another revision (its symbackprop/ "
                        "and worked_examples/) to time beside this checkout")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions with valgrind (once each) instead of timing")
    options = parser.parse_args()
    measure, repeat = (instructions, 1) if options.instructions else (timed, options.repeat)
    sources = {"this checkout": ROOT, **({"before": options.before} if options.before else {})}
    runs = [(label, name) for label in sources for name in COMMANDS
            if label == "this checkout" or name != "import sympy"]
    for source in sources.values():
        compileall.compile_dir(source / "symbackprop", quiet=1)
    for label, name in runs:                # warm the file cache once, unmeasured
        timed(COMMANDS[name], sources[label])
    best: dict[tuple[str, str], dict[str, float]] = {}
    for _ in range(repeat):
        for run in runs:
            figures = measure(COMMANDS[run[1]], sources[run[0]])
            best[run] = {k: min(v, best.get(run, figures)[k]) for k, v in figures.items()}
    baseline = best[("this checkout", "import sympy")]
    print(f"best of {repeat}, {' '.join(CLI)}, load average {os.getloadavg()[0]:.2f}")
    for label, source in sources.items():
        print(f"{label}: PYTHONPATH={source}")
    print(f"\n{'':50}" + "".join(f" {unit:>9} {'ratio':>7}" for unit in baseline))
    for run, figures in best.items():
        label, name = run
        title = name if name == "import sympy" else f"{name} ({label})"
        ratios = {unit: "" if run == ("this checkout", "import sympy") else f"{value / baseline[unit]:.2f}x"
                  for unit, value in figures.items()}
        cells = "".join(f" {value:9.3f} {ratios[unit]:>7}" for unit, value in figures.items())
        goal = f"  (goal <= {GOALS[name]}x)" if name in GOALS else ""
        print(f"{title:50}{cells}{goal}")


if __name__ == "__main__":
    main()
