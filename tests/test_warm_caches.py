"""Kept results never change what is written: a worked solution rendered again in the same process,
after its caches (printings, rounded values, cancelled forms, measured lines) are full, and after
other problems and other options have filled them too, is the same bytes as the committed one and
as a fresh process's first rendering."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import symbackprop

EXAMPLES = Path(__file__).resolve().parent.parent / "worked_examples"
PROBLEMS = sorted(EXAMPLES.glob("*.yaml"))
FORMATS = ("txt", "md", "tex", "json")

#: In a fresh process: every example rendered cold, then other options, then every example again
#: (in reverse order, each from a new load) twice from one solution.
RENDER_TWICE = """
import json, sys
from pathlib import Path
import symbackprop
paths = sorted(Path(sys.argv[1]).glob("*.yaml"))
def rendered(path):
    solution = symbackprop.load(path).solve()
    return {fmt: solution.render(fmt) for fmt in ("txt", "md", "tex", "json")}
first = {path.name: rendered(path) for path in paths}
for path in paths:
    solution = symbackprop.load(path).solve()
    for fmt in ("md", "tex"):
        solution.render(fmt, digits=4)
        solution.render(fmt, numbers="exact")
        solution.render(fmt, symbolic=True)
second = {path.name: rendered(path) for path in reversed(paths)}
sys.stdout.write(json.dumps({"first": first, "second": second}))
"""


def test_a_second_rendering_in_one_process_and_a_fresh_process_give_the_committed_bytes():
    done = subprocess.run([sys.executable, "-c", RENDER_TWICE, str(EXAMPLES)], capture_output=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    fresh = json.loads(done.stdout)
    assert len(fresh["first"]) == len(PROBLEMS) >= 5
    for path in PROBLEMS:
        solution = symbackprop.load(path).solve()
        here = [solution.render(fmt) for fmt in FORMATS]
        again = [symbackprop.load(path).solve().render(fmt) for fmt in FORMATS]
        for fmt, mine, mine_again in zip(FORMATS, here, again):
            committed = path.with_suffix(f".{fmt}").read_text(encoding="utf-8")
            assert fresh["first"][path.name][fmt] == committed, f"{path.stem}.{fmt}, fresh process"
            assert fresh["second"][path.name][fmt] == committed, f"{path.stem}.{fmt}, warm process"
            assert mine == mine_again == committed, f"{path.stem}.{fmt}, this process"
