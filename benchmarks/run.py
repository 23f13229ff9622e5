"""Benchmarks of issue 15 ("A fast exact engine"): symbackprop against its peers, on one machine, in one run.

    python benchmarks/run.py [--quick] [--cap SECONDS] [--save] [--naive-eval WAY]

Every measurement runs in a fresh subprocess (this script with --worker), so no run profits from
another's SymPy cache, a run that exceeds the cap is killed, and its peak memory is its own (the
rusage of that child, read with os.wait4). The children import symbackprop from this checkout
(PYTHONPATH is set to it). The figures and goals are those of issue 15's table:

- full answer key (load -> solve -> to_dict), 64-128-128-10 ReLU / micrograd        <= 1x
- exact gradients only (load -> Problem.gradients(digits=15)), same network / micrograd  <= 0.3x
- naive SymPy / symbackprop, 4-8-8-3 sigmoid, all gradients to 15 digits              >= 500x
  (with a sigmoid output layer and with a linear one; symbackprop as the answer key and as
  Problem.gradients(); a ratio counts only when the two agree to 12 significant digits)
- time 16-32-32-10 / time 4-8-8-3, over their edge ratio                              <= 1.2
- `symbackprop solve` / `python -c "import sympy"`                                    <= 1.4x
- `symbackprop solve --format json` / `python -c "import sympy"`                      <= 1.3x
- peak memory of an answer key run on 64-128-128-10                                   <= 150 MiB
- a warm worked solution (md + tex + json) of the 2-2-2 network                       <= 25 ms

No learning rate is given to the generated networks, so the answer key holds the forward pass and
the gradients only, which is what the peers compute too. Prints a table; with --save also writes
benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE_2_2_2 = ROOT / "worked_examples" / "sigmoid_2_2_2.yaml"
CLI = "import sys; from symbackprop.cli import main; sys.argv[0] = 'symbackprop'; main()"
SEED = 6
TENTHS = [f"{k / 10:g}" for k in range(-10, 11) if k]          # "-1", "-0.9", ..., "0.9", "1"
#: The ways of evaluating a derivative at the values, as `--naive-eval` names them.
NAIVE_EVAL = {"evalf-subs": "d.evalf(15, subs=values)", "subs": "d.subs(values).evalf(15)",
              "xreplace": "d.xreplace(values).evalf(15)"}


# --- the networks --------------------------------------------------------------------------------

def network(sizes: list[int], activation: str, seed: int = SEED, output: str | None = None) -> dict:
    """Seeded weights, biases, inputs and targets, all one-decimal numbers as text ("0.3", "-0.7").
    `output` is the output layer's activation: "linear", or by default linear for ReLU networks (as
    micrograd's MLP) and the hidden layers' activation otherwise."""
    rng = random.Random(seed)
    layers = [{"weights": [[rng.choice(TENTHS) for _ in range(n_in)] for _ in range(n_out)],
               "biases": [rng.choice(TENTHS) for _ in range(n_out)]}
              for n_in, n_out in zip(sizes, sizes[1:])]
    return {"sizes": sizes, "activation": activation, "layers": layers,
            "output": output or ("linear" if activation == "relu" else activation),
            "inputs": [rng.choice(TENTHS) for _ in range(sizes[0])],
            "targets": [f"{rng.randint(0, 10) / 10:g}" for _ in range(sizes[-1])]}


def weight_name(layer: int, j: int, i: int, units: int, inputs: int) -> str:
    """The layers: shorthand's names: w1_21 in small layers, w1_2_1 where an index can pass 9."""
    return f"w{layer}_{j}{i}" if units < 10 and inputs < 10 else f"w{layer}_{j}_{i}"


def nodes_mapping(net: dict) -> dict:
    """The network as a lecturer writes it: one node per weighted sum, one per activation; the
    output layer's activation is net["output"] ("linear": y_j is z_j itself)."""
    values = {f"x{i}": v for i, v in enumerate(net["inputs"], 1)}
    values.update({f"t{j}": v for j, v in enumerate(net["targets"], 1)})
    nodes, parameters = {}, []
    previous = [f"x{i}" for i in range(1, len(net["inputs"]) + 1)]
    for k, layer in enumerate(net["layers"], 1):
        last = k == len(net["layers"])
        units, outputs = len(layer["weights"]), []
        for j, (row, bias) in enumerate(zip(layer["weights"], layer["biases"]), 1):
            terms = []
            for i, weight in enumerate(row, 1):
                name = weight_name(k, j, i, units, len(previous))
                values[name] = weight
                parameters.append(name)
                terms.append(f"{name}*{previous[i - 1]}")
            values[f"b{k}_{j}"] = bias
            parameters.append(f"b{k}_{j}")
            terms.append(f"b{k}_{j}")
            nodes[f"z{k}_{j}"] = " + ".join(terms)
        activation = net["output"] if last else net["activation"]
        for j in range(1, units + 1):
            out = f"y{j}" if last else f"h{k}_{j}"
            nodes[out] = f"z{k}_{j}" if activation == "linear" else f"{activation}(z{k}_{j})"
            outputs.append(out)
        previous = outputs
    nodes["E"] = " + ".join(f"({y} - t{j})**2" for j, y in enumerate(previous, 1))
    return {"nodes": nodes, "loss": "E", "values": values, "parameters": parameters}


def layers_mapping(net: dict) -> dict:
    dense = []
    for k, layer in enumerate(net["layers"], 1):
        last = k == len(net["layers"])
        dense.append({"activation": net["output"] if last else net["activation"], **layer})
    return {"layers": {"inputs": net["inputs"], "dense": dense, "targets": net["targets"],
                       "loss": "squared_error"}}


def parameter_names(net: dict) -> list[str]:
    return nodes_mapping(net)["parameters"]


def edges(sizes: list[int]) -> int:
    """Edges into the weighted sums: one per weight and one per bias (= the parameters)."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))


def label(sizes: list[int]) -> str:
    return "-".join(map(str, sizes))


# --- the workers: each runs in its own process and prints one JSON line --------------------------

def preload() -> None:
    """Import every module of symbackprop before a timer starts: a module it imports lazily is
    start-up (figure 4), not the work timed. SymPy's and symbackprop's caches stay cold.

    SymPy's own lazy import counts the same: its first evaluated sum in a process imports
    sympy.tensor.tensor and sympy.combinatorics (Add.flatten; 0.05-0.08 s, a quarter of the exact
    gradients' figure), whichever sum that is and whatever program makes it. The command line
    imports it with its modules (cli/__init__.py) and figure 4 times it there."""
    import importlib
    import pkgutil

    import sympy.tensor.tensor  # noqa: F401

    import symbackprop
    for module in pkgutil.walk_packages(symbackprop.__path__, "symbackprop."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def work_answer_key(net: dict, fmt: str) -> dict:
    """load -> solve -> to_dict(): the full answer key (forward pass, every step, the gradients of
    all the parameters, which are every weight and bias here)."""
    import symbackprop
    mapping = nodes_mapping(net) if fmt == "nodes" else layers_mapping(net)
    t0 = time.perf_counter()
    problem = symbackprop.load(mapping)
    t1 = time.perf_counter()
    solution = problem.solve()
    t2 = time.perf_counter()
    key = solution.to_dict()
    t3 = time.perf_counter()
    return {"seconds": t3 - t0, "load": t1 - t0, "solve": t2 - t1, "to_dict": t3 - t2,
            "steps": len(key["steps"]),
            "gradients": {n: key["gradients"][n]["decimal"] for n in parameter_names(net)}}


def number_text(value) -> str:
    """A gradient from Problem.gradients() as text mpmath reads: "p/q" for an exact rational,
    the midpoint's 30 digits for a ball (whose radius the agreement check then bounds)."""
    if hasattr(value, "mid"):                                          # flint.arb
        return value.mid().str(30, radius=False)
    return str(value)                                                 # flint.fmpq (or an int)


def work_gradients(net: dict) -> dict:
    """load -> Problem.gradients(digits=15): exact gradients without steps (parsing included)."""
    import symbackprop
    mapping = nodes_mapping(net)
    t0 = time.perf_counter()
    problem = symbackprop.load(mapping)
    t1 = time.perf_counter()
    if not callable(getattr(problem, "gradients", None)):
        return {"seconds": None, "available": False}
    values = problem.gradients(digits=15)
    t2 = time.perf_counter()
    names = parameter_names(net)
    return {"seconds": t2 - t0, "load": t1 - t0, "gradients_call": t2 - t1, "available": True,
            "types": sorted({type(values[n]).__name__ for n in names}),
            "gradients": {n: number_text(values[n]) for n in names}}


def work_naive(net: dict, limit: int | None, way: str) -> dict:
    """The naive SymPy baseline, as a SymPy user writes it from the problem's own node texts:
    every name a Symbol; each node text sympified (sigmoid and relu given as Lambdas) and the
    earlier nodes substituted into it with .subs, so the loss is one expression of the weights,
    biases, inputs and targets; sympy.diff once per parameter; the derivative evaluated at the
    values (exact Rationals of the value texts) to 15 digits in the way `way` names."""
    import sympy as sp
    mapping = nodes_mapping(net)
    names = mapping["parameters"]
    t0 = time.perf_counter()
    z = sp.Symbol("z")
    functions = {"sigmoid": sp.Lambda(z, 1 / (1 + sp.exp(-z))), "relu": sp.Lambda(z, sp.Max(z, 0))}
    defined = {}
    for node, text in mapping["nodes"].items():
        defined[sp.Symbol(node)] = sp.sympify(text, locals=functions).subs(defined)
    loss = defined[sp.Symbol(mapping["loss"])]
    values = {sp.Symbol(n): sp.Rational(v) for n, v in mapping["values"].items()}
    build = time.perf_counter() - t0
    gradients, diff_time, eval_time = {}, 0.0, 0.0
    sample = [names[int((k + 0.5) * len(names) / limit)] for k in range(limit)] \
        if limit and limit < len(names) else names   # with a limit, a sample spread evenly over layers
    for n in sample:
        t1 = time.perf_counter()
        d = sp.diff(loss, sp.Symbol(n))
        t2 = time.perf_counter()
        if way == "evalf-subs":
            value = d.evalf(15, subs=values)
        elif way == "subs":
            value = d.subs(values).evalf(15)
        else:
            value = d.xreplace(values).evalf(15)
        gradients[n] = str(value)
        diff_time, eval_time = diff_time + t2 - t1, eval_time + time.perf_counter() - t2
    scale = len(names) / len(gradients)
    return {"seconds": build + scale * (diff_time + eval_time), "build": build, "diff": scale * diff_time,
            "evalf": scale * eval_time, "measured": len(gradients), "of": len(names),
            "gradients": gradients}


def work_micrograd(net: dict, repeat: int = 3) -> dict:
    """micrograd's MLP (ReLU hidden layers, linear output) with the same weights, as floats."""
    from micrograd.engine import Value
    from micrograd.nn import MLP
    sizes = net["sizes"]
    mlp = MLP(sizes[0], sizes[1:])
    for layer, spec in zip(mlp.layers, net["layers"]):
        for neuron, row, bias in zip(layer.neurons, spec["weights"], spec["biases"]):
            for w, value in zip(neuron.w, row):
                w.data = float(value)
            neuron.b.data = float(bias)
    x = [float(v) for v in net["inputs"]]
    targets = [float(v) for v in net["targets"]]
    best = float("inf")
    for _ in range(repeat):
        mlp.zero_grad()
        t0 = time.perf_counter()
        outputs = mlp(x)
        loss = sum(((y - t) ** 2 for y, t in zip(outputs, targets)), Value(0))
        loss.backward()
        best = min(best, time.perf_counter() - t0)
    names = parameter_names(net)
    params = [p for layer in mlp.layers for neuron in layer.neurons for p in neuron.w + [neuron.b]]
    return {"seconds": best, "gradients": {n: p.grad for n, p in zip(names, params)}}


def work_warm(repeat: int) -> dict:
    """The 2-2-2 example's worked solution in md, tex and json, in a process that has made it once
    already: load(path) -> solve -> render md, tex, json; the best of `repeat`, and the first. Beside
    the wall-clock time, the process's CPU time, which other work on a busy machine disturbs less."""
    import symbackprop

    def once() -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        solution = symbackprop.load(EXAMPLE_2_2_2).solve()
        for fmt in ("md", "tex", "json"):
            solution.render(fmt)
        return time.perf_counter() - t0, time.process_time() - c0

    first = once()[0]
    runs = [once() for _ in range(repeat)]
    return {"first": first, "seconds": min(w for w, _ in runs), "cpu": min(c for _, c in runs)}


def worker(spec: dict) -> dict:
    if spec["kind"] in ("answer_key", "gradients", "warm") and spec.get("preload", True):
        preload()
    if spec["kind"] == "warm":
        return work_warm(spec.get("repeat", 30))
    net = network(spec["sizes"], spec["activation"], output=spec.get("output"))
    if spec["kind"] == "answer_key":
        return work_answer_key(net, spec.get("format", "nodes"))
    if spec["kind"] == "gradients":
        return work_gradients(net)
    if spec["kind"] == "naive":
        return work_naive(net, spec.get("limit"), spec.get("way", "evalf-subs"))
    return work_micrograd(net)


# --- running a worker with a cap ------------------------------------------------------------------

#: The checkout whose symbackprop the children import (--source; this one by default).
SOURCE = ROOT


def child_env() -> dict:
    """The benchmarked checkout's package first, whatever is installed."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(SOURCE) + (os.pathsep + path if path else "")}


def measure(spec: dict, cap: float) -> dict:
    """Run a worker in a subprocess, killed at `cap` seconds; adds its peak RSS and wall time."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(spec)],
                                stdout=out, stderr=err, env=child_env())
        timer = threading.Timer(cap, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)     # this child's rusage alone
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read().strip().splitlines()
    result = json.loads(text) if proc.returncode == 0 else {"seconds": None}
    result["timed_out"] = proc.returncode != 0 and wall >= cap
    result["failed"] = proc.returncode != 0 and not result["timed_out"]
    result["error"] = errors[-1] if result["failed"] and errors else None
    result["max_rss_mib"] = usage.ru_maxrss / 1024             # ru_maxrss is in KiB on Linux
    result["wall"] = wall
    return result


def best_of_interleaved(commands: dict[str, list[str]], times: int, compiled: bool) -> dict[str, float]:
    """Each command `times` times, the commands taking turns (a noisy moment hits all), best kept.
    With `compiled`, every module runs from bytecode, as in an installed package: the children write
    and read it under a temporary PYTHONPYCACHEPREFIX (never in a checkout), after one untimed run of
    each command; else they run as this environment has them (PYTHONDONTWRITEBYTECODE, if set, leaves
    a checkout without bytecode, so its modules are compiled at every start)."""
    best = {name: float("inf") for name in commands}
    with tempfile.TemporaryDirectory() as tmp:
        env = child_env()
        if compiled:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        for k in range(times + compiled):
            for name, command in commands.items():
                t0 = time.perf_counter()
                subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                               cwd=tmp, env=env)
                if k or not compiled:
                    best[name] = min(best[name], time.perf_counter() - t0)
    return best


def agree(a: dict, b: dict, digits: int) -> tuple[bool, str]:
    """Do two gradient mappings (decimal or "p/q" strings, or floats) agree to `digits` significant
    digits? Exact zeros must be zeros in both (a relative difference of 1 otherwise)."""
    from mpmath import mp, mpf
    mp.dps = 40

    def number(x):
        text = str(x)
        if "/" in text:
            p, q = text.split("/")
            return mpf(p) / mpf(q)
        return mpf(text)

    worst, where = mpf(0), None
    for name in sorted(a.keys() & b.keys()):
        x, y = number(a[name]), number(b[name])
        error = abs(x - y) / max(abs(x), abs(y)) if x != y else mpf(0)
        if error > worst:
            worst, where = error, name
    common = len(a.keys() & b.keys())
    return common > 0 and worst <= mpf(10) ** -digits, (
        f"{common} gradients, worst relative difference {mp.nstr(worst, 2)}"
        + (f" at {where}" if where else ""))


# --- the benchmarks ---------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="naive SymPy on 10 parameters (extrapolated); 16-32-32-10 for the "
                             "micrograd and memory figures; fewer repeats")
    parser.add_argument("--cap", type=float, default=600, help="seconds before a run is killed")
    parser.add_argument("--save", action="store_true", help="write benchmarks/results.json")
    parser.add_argument("--naive-eval", choices=sorted(NAIVE_EVAL), default="evalf-subs",
                        help="how the naive baseline evaluates a derivative at the values (default "
                             "evalf-subs: d.evalf(15, subs=values), as SymPy's tutorial advises)")
    parser.add_argument("--naive-sample", type=int, default=None,
                        help="differentiate only this many parameters, spread over the layers, and "
                             "extrapolate (default: all; 10 with --quick)")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="the checkout whose symbackprop is timed (default: this one); the "
                             "start-up figures keep their bytecode in a temporary directory")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    global SOURCE
    SOURCE = args.source.resolve()
    commit = subprocess.run(["git", "-C", str(SOURCE), "log", "-1", "--format=%h"], capture_output=True,
                            text=True).stdout.strip() or "?"

    small, medium = [4, 8, 8, 3], [16, 32, 32, 10]
    big = medium if args.quick else [64, 128, 128, 10]
    repeat = 2 if args.quick else 3
    rows, notes = [], []
    load_start = os.getloadavg()

    def row(name, figure, goal, met):
        rows.append({"figure": name, "value": figure, "goal": goal,
                     "met": None if met is None else bool(met)})
        print(f"  => {name}: {figure}  [goal {goal}: {'-' if met is None else 'met' if met else 'NOT met'}]",
              flush=True)

    def seconds(result):
        if result.get("available") is False:
            return "n/a (Problem.gradients() is not in this checkout)"
        return f"> {args.cap:g} s (killed)" if result["timed_out"] else (
            f"failed: {result['error']}" if result["failed"] else f"{result['seconds']:.3f} s")

    def best_run(spec, times):
        """The best of `times` runs of a worker (a run over the cap or failing is not repeated)."""
        runs = []
        for _ in range(times):
            runs.append(measure(spec, args.cap))
            if runs[-1]["seconds"] is None:
                break
        done = [r for r in runs if r["seconds"] is not None]
        return min(done, key=lambda r: r["seconds"]) if done else runs[-1]

    def key_spec(sizes, activation, output=None, fmt="nodes"):
        return {"kind": "answer_key", "sizes": sizes, "activation": activation, "output": output,
                "format": fmt}

    def breakdown(result):
        if result["seconds"] is None:
            return ""
        if "to_dict" in result:
            return (f" (load {result['load']:.3f}, solve {result['solve']:.3f}, "
                    f"to_dict {result['to_dict']:.3f}; {result['steps']:,} steps)")
        return f" (load {result['load']:.3f}, gradients() {result['gradients_call']:.3f}; {result['types']})"

    print(f"symbackprop benchmarks ({'quick' if args.quick else 'full'} mode, cap {args.cap:g} s, "
          f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, load average "
          f"{load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"symbackprop of {SOURCE} at {commit})", flush=True)

    # 1. naive SymPy vs symbackprop, 4-8-8-3 sigmoid, with a sigmoid and with a linear output layer
    sample = args.naive_sample or (10 if args.quick else None)
    naive_runs, small_runs = {}, {}
    for output in ("sigmoid", "linear"):
        print(f"\n1. naive SymPy vs symbackprop, 4-8-8-3 sigmoid network, {output} output layer, squared "
              f"error, {edges(small)} parameters, all their gradients to 15 digits")
        naive = measure({"kind": "naive", "sizes": small, "activation": "sigmoid", "output": output,
                         "limit": sample, "way": args.naive_eval}, args.cap)
        key = best_run(key_spec(small, "sigmoid", output), repeat)
        layers = best_run(key_spec(small, "sigmoid", output, "layers"), repeat)
        grads = best_run({"kind": "gradients", "sizes": small, "activation": "sigmoid", "output": output},
                         repeat)
        naive_runs[output], small_runs[output] = naive, {"key": key, "layers": layers, "gradients": grads}
        text = seconds(naive)
        if naive["seconds"] is not None:
            text += (f" (build the loss {naive['build']:.2f}, sympy.diff {naive['diff']:.2f}, "
                     f"{NAIVE_EVAL[args.naive_eval]} {naive['evalf']:.2f})")
            if naive["measured"] < naive["of"]:
                text += (f" [extrapolated from {naive['measured']} of {naive['of']} parameters spread "
                         "over the layers]")
        print(f"  naive SymPy: {text}")
        print(f"  symbackprop answer key, nodes format: {seconds(key)}{breakdown(key)}")
        print(f"  symbackprop answer key, layers format: {seconds(layers)}{breakdown(layers)}")
        print(f"  symbackprop Problem.gradients(digits=15): {seconds(grads)}{breakdown(grads)}")
        if key["seconds"] is not None and layers["seconds"] is not None:
            ok, detail = agree(key["gradients"], layers["gradients"], 15)
            print(f"  nodes and layers formats agree to 15 digits: {ok} ({detail})")
        extrapolated = " (extrapolated)" if naive["seconds"] is not None and naive["measured"] < naive["of"] \
            else ""
        for name, result in (("answer key", key), ("gradients()", grads)):
            title = f"naive SymPy / symbackprop {name}, 4-8-8-3 sigmoid, {output} output"
            if result["seconds"] is None or naive["seconds"] is None:
                row(title, "n/a" if result.get("available") is False else
                    f"naive {seconds(naive)}, symbackprop {seconds(result)}", ">= 500x", None)
                continue
            ok, detail = agree(naive["gradients"], result["gradients"], 12)
            print(f"  naive SymPy and symbackprop {name} agree to 12 digits: {ok} ({detail})")
            if not ok:
                notes.append(f"{title}: naive SymPy and symbackprop DISAGREE; the ratio does not count")
            ratio = naive["seconds"] / result["seconds"]
            row(title, f"{naive['seconds']:.1f} s / {result['seconds']:.3f} s = {ratio:.0f}x{extrapolated}",
                ">= 500x", ok and ratio >= 500)

    # 2. micrograd vs symbackprop on the ReLU network: the answer key and the gradients alone
    name = label(big)
    print(f"\n2. micrograd vs symbackprop, {name} ReLU network (linear output, as micrograd's MLP), "
          f"squared error, {edges(big):,} parameters" + (" [quick: a smaller network than the issue's "
                                                         "64-128-128-10]" if args.quick else ""))
    micro = measure({"kind": "micrograd", "sizes": big, "activation": "relu"}, args.cap)
    print(f"  micrograd forward+backward (floats, best of 3 in one process): {seconds(micro)}")
    big_key = measure(key_spec(big, "relu"), args.cap)
    big_layers = measure(key_spec(big, "relu", fmt="layers"), args.cap)
    big_grads = measure({"kind": "gradients", "sizes": big, "activation": "relu"}, args.cap)
    print(f"  symbackprop answer key, nodes format: {seconds(big_key)}{breakdown(big_key)}")
    print(f"  symbackprop answer key, layers format: {seconds(big_layers)}{breakdown(big_layers)}")
    print(f"  symbackprop Problem.gradients(digits=15): {seconds(big_grads)}{breakdown(big_grads)}")
    for title, result, goal in (("full answer key", big_key, 1), ("exact gradients only", big_grads, 0.3)):
        title = f"{title}, {name} ReLU / micrograd"
        if result["seconds"] is not None and micro["seconds"] is not None:
            ok, detail = agree(result["gradients"], micro["gradients"], 9)
            print(f"  micrograd's floats agree with symbackprop {title.split(',')[0]} to 9 digits: {ok} "
                  f"({detail})")
            if not ok:
                notes.append(f"{title}: micrograd and symbackprop DISAGREE")
            ratio = result["seconds"] / micro["seconds"]
            row(title, f"{result['seconds']:.3f} s / {micro['seconds']:.3f} s = {ratio:.2f}x",
                f"<= {goal:g}x", ratio <= goal)
        else:
            figure = ("n/a" if result.get("available") is False else f"> {args.cap / micro['seconds']:.0f}x"
                      if result["timed_out"] and micro["seconds"] else seconds(result))
            row(title, figure, f"<= {goal:g}x", None if result.get("available") is False else False)

    # 3. scaling: the answer key of 16-32-32-10 over 4-8-8-3, sigmoid (sigmoid output)
    print(f"\n3. scaling: symbackprop's answer key on 16-32-32-10 over 4-8-8-3 (sigmoid, sigmoid output, "
          f"nodes format, best of {repeat} each)")
    medium_key = best_run(key_spec(medium, "sigmoid"), repeat)
    small_key = small_runs["sigmoid"]["key"]
    edge_ratio = edges(medium) / edges(small)
    print(f"  edges (weights and biases): {edges(small)} -> {edges(medium)}, ratio {edge_ratio:.2f}")
    print(f"  16-32-32-10: {seconds(medium_key)}{breakdown(medium_key)}")
    title = "time 16-32-32-10 / time 4-8-8-3, over their edge ratio"
    if medium_key["seconds"] is not None and small_key["seconds"] is not None:
        ratio = medium_key["seconds"] / small_key["seconds"]
        row(title, f"{medium_key['seconds']:.3f} s / {small_key['seconds']:.3f} s = {ratio:.2f}; "
            f"/ {edge_ratio:.2f} = {ratio / edge_ratio:.2f}", "<= 1.2", ratio / edge_ratio <= 1.2)
    else:
        row(title, seconds(medium_key), "<= 1.2", False)

    # 4. start-up: the command end to end vs importing SymPy
    times = 5 if args.quick else 9
    print(f"\n4. start-up: `symbackprop solve` (the built-in example) end to end vs `python -c 'import "
          f"sympy'`, best of {times}, interleaved")
    cli = [sys.executable, "-c", CLI]
    commands = {"import sympy": [sys.executable, "-c", "import sympy"], "solve": cli + ["solve"],
                "json": cli + ["solve", "--format", "json"]}
    start = best_of_interleaved(commands, times, compiled=True)
    print(f"  from bytecode (as installed): import sympy {start['import sympy']:.3f} s; symbackprop solve "
          f"{start['solve']:.3f} s; symbackprop solve --format json {start['json']:.3f} s")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        plain = best_of_interleaved(commands, times, compiled=False)
        print(f"  as this environment runs them (PYTHONDONTWRITEBYTECODE: the checkout's modules compiled at "
              f"every start): import sympy {plain['import sympy']:.3f} s; solve {plain['solve']:.3f} s "
              f"({plain['solve'] / plain['import sympy']:.2f}x); --format json {plain['json']:.3f} s "
              f"({plain['json'] / plain['import sympy']:.2f}x)")
    for title, which, goal in (("`symbackprop solve` / `import sympy`", "solve", 1.4),
                               ("`symbackprop solve --format json` / `import sympy`", "json", 1.3)):
        ratio = start[which] / start["import sympy"]
        row(title, f"{start[which]:.3f} s / {start['import sympy']:.3f} s = {ratio:.2f}x", f"<= {goal:g}x",
            ratio <= goal)

    # 5. peak memory: the answer key run of figure 2 again, without the preload (which imports modules
    # the answer key does not need: 10 MiB or so)
    print(f"\n5. peak memory (max RSS of the worker process), {name} ReLU")
    memory = measure({**key_spec(big, "relu"), "preload": False}, args.cap)
    for title, result in (("answer key, nodes, symbackprop's own imports only", memory),
                          ("answer key, nodes, all of symbackprop imported (figure 2's run)", big_key),
                          ("answer key, layers, all imported", big_layers),
                          ("gradients(), all imported", big_grads), ("micrograd", micro)):
        state = (" (killed at the cap: the peak until then)" if result["timed_out"] else
                 " (the run failed)" if result["failed"] else " (n/a)" if result.get("available") is False
                 else "")
        print(f"  {title}: {result['max_rss_mib']:.0f} MiB{state}")
    mib = memory["max_rss_mib"]
    row(f"peak memory, answer key of {name}", "failed" if memory["failed"] else f"{mib:.0f} MiB",
        "<= 150 MiB", None if memory["failed"] else mib <= 150)

    # 6. a warm worked solution of the 2-2-2 network
    print("\n6. a warm worked solution of the 2-2-2 network (worked_examples/sigmoid_2_2_2.yaml): load "
          "-> solve -> render md, tex, json, in a process that has made it once; best of 30")
    warm = measure({"kind": "warm", "repeat": 30}, args.cap)
    if warm["seconds"] is not None:
        print(f"  first (cold caches, modules imported): {warm['first'] * 1000:.1f} ms; warm: "
              f"{warm['seconds'] * 1000:.1f} ms (CPU time {warm['cpu'] * 1000:.1f} ms)")
        row("warm worked solution (md + tex + json), 2-2-2", f"{warm['seconds'] * 1000:.1f} ms", "<= 25 ms",
            warm["seconds"] <= 0.025)
    else:
        row("warm worked solution (md + tex + json), 2-2-2", seconds(warm), "<= 25 ms", False)

    load_end = os.getloadavg()
    print("\nsummary" + (" (quick mode: not the issue's figures where it says so)" if args.quick else "") +
          f"; load average at the start {load_start[0]:.2f}, at the end {load_end[0]:.2f} {load_end[1]:.2f} "
          f"{load_end[2]:.2f} (other work on the machine slows every figure)")
    width = max(len(r["figure"]) for r in rows)
    vwidth = max(len(r["value"]) for r in rows)
    print(f"  {'figure':<{width}}  {'value':<{vwidth}}  {'goal':<11} met")
    for r in rows:
        met = "-" if r["met"] is None else "yes" if r["met"] else "NO"
        print(f"  {r['figure']:<{width}}  {r['value']:<{vwidth}}  {r['goal']:<11} {met}")
    for note in notes:
        print("  " + note)

    if args.save:
        def plain(result):
            return {k: v for k, v in result.items() if k != "gradients"}
        results = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "mode": "quick" if args.quick else "full",
                   "source": str(SOURCE), "commit": commit,
                   "cap_seconds": args.cap, "cores": os.cpu_count(), "python": sys.version.split()[0],
                   "load_average_start": [round(x, 2) for x in load_start],
                   "load_average_end": [round(x, 2) for x in load_end],
                   "naive_eval": NAIVE_EVAL[args.naive_eval], "rows": rows, "notes": notes,
                   "runs": {
                       **{f"naive_sympy_4-8-8-3_{o}_output": plain(r) for o, r in naive_runs.items()},
                       **{f"symbackprop_{k}_4-8-8-3_{o}_output": plain(r)
                          for o, runs in small_runs.items() for k, r in runs.items()},
                       "symbackprop_key_16-32-32-10": plain(medium_key),
                       f"micrograd_{name}": plain(micro), f"symbackprop_key_{name}": plain(big_key),
                       f"symbackprop_layers_{name}": plain(big_layers),
                       f"symbackprop_gradients_{name}": plain(big_grads),
                       f"symbackprop_key_{name}_memory_run": plain(memory),
                       "startup": start, "warm_2-2-2": plain(warm)}}
        (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {HERE / 'results.json'}")


if __name__ == "__main__":
    main()
