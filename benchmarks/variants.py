"""Issue 14's speed figure: a class's variants with every file, against one cold `symbackprop solve`.

    python benchmarks/variants.py                   # 300 variants of the homework example
    python benchmarks/variants.py --count 60 --jobs 1

Both are run as a lecturer runs them, in a fresh process each (`--repeat` times, best kept), and
the script prints both times and their ratio: how many cold solves a class of N costs. It asserts
nothing; the figure goes into the closing note and benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = ROOT / "worked_examples" / "homework" / "homework.yaml"
CLI = "import sys; from symbackprop.cli import main; sys.argv[0] = 'symbackprop'; main()"


def timed(arguments: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", CLI, *arguments], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        solve = min(timed(["solve", str(HOMEWORK), "--format", "tex", "-o", f"{tmp}/one.tex"])
                    for _ in range(args.repeat))
        jobs = [] if args.jobs is None else ["--jobs", str(args.jobs)]
        run = min(timed(["variants", str(HOMEWORK), "--count", str(args.count), "--seed", "bench",
                         "-o", f"{tmp}/class", *jobs]) for _ in range(args.repeat))
        files = sum(1 for p in Path(tmp, "class").rglob("*") if p.is_file())
    print(f"one cold solve (tex)         {solve:8.2f} s")
    print(f"{args.count} variants ({files} files) {run:8.2f} s")
    print(f"ratio                        {run / solve:8.1f}x one solve; {run / args.count:.3f} s per variant")


if __name__ == "__main__":
    main()
