"""The floor of issue 15's micrograd figures, measured: the least work an exact engine that keeps
every step does on the 64-128-128-10 ReLU network, against micrograd in the same process.

    python benchmarks/floor.py [--sizes 64 128 128 10] [--repeat 7] [--check]

Each part is plain Python at its cheapest, with each exact type this interpreter has
(`fractions.Fraction`, python-flint `fmpq`, gmpy2 `mpq`), best of `--repeat` rounds in which
micrograd and every part take turns (so a busy moment on the machine hits all of them):
- parse: the network's node texts (run.py's nodes mapping, as symbackprop reads them) into a table
  of slots: each weighted sum a list of (weight slot, input slot) pairs and a bias slot, each
  activation its rule and argument slot; the value texts into exact numbers. Each node's
  expression string is made once (its terms sorted, as a printed sum is);
- passes: the forward pass and the reverse pass over that table, two products per edge;
- steps: the same passes also recording each step lazily, one index tuple per step (the chain
  steps and the sum steps of symbackprop's answer key: the same count), and its value;
- key: the answer key's dicts from those records: forward (expr, exact, decimal, given), the
  gradients of every node and parameter (exact, decimal) and one dict per step with the answer
  key's fields; each value's strings are made once (per node, or per step for a step's own product),
  the general forms once per node and joined per step.
SymPy is used once per node kind for the local derivatives in general form (three sp.diff calls).
The exact gradients alone cost parse + passes; the answer key parse + steps + key + those diffs.
Decimals are written with 15 significant digits by integer arithmetic, in fixed notation (the
same work as the key's, not its exact text). `--check` compares the floor's exact gradients and
its step count with symbackprop's answer key on a 4-8-8-3 ReLU network.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import SEED, network, nodes_mapping, work_micrograd  # noqa: E402

SUM, RELU, LINEAR = 0, 1, 2
SQUARE = re.compile(r"\((\w+) - (\w+)\)\*\*2")


def exact_types() -> dict:
    types = {"Fraction": Fraction}
    try:
        from flint import fmpq
        types["flint fmpq"] = fmpq
    except ImportError:
        pass
    try:
        from gmpy2 import mpq
        types["gmpy2 mpq"] = mpq
    except ImportError:
        pass
    return types


def parse(mapping: dict, number) -> tuple:
    """Node texts -> a table of slots; value texts -> exact numbers of type `number`."""
    slot, names, values = {}, [], []

    def index(name: str) -> int:
        if name not in slot:
            slot[name] = len(names)
            names.append(name)
            values.append(None)
        return slot[name]

    for name, text in mapping["values"].items():
        negative = text.startswith("-")
        whole, _, fraction = text.lstrip("-").partition(".")
        numerator = int(whole + fraction)
        values[index(name)] = number(-numerator if negative else numerator, 10 ** len(fraction))
    nodes, exprs = [], {}
    for name, text in mapping["nodes"].items():
        if name == mapping["loss"]:
            loss = [(index(y), index(t)) for y, t in SQUARE.findall(text)]
            exprs[name] = text
            continue
        if " + " in text:
            terms = text.split(" + ")
            pairs = [tuple(index(f) for f in term.split("*")) for term in terms if "*" in term]
            bias = next(index(term) for term in terms if "*" not in term)
            nodes.append((SUM, index(name), pairs, bias))
            exprs[name] = " + ".join(sorted(terms))
        elif text.startswith("relu("):
            nodes.append((RELU, index(name), index(text[5:-1]), None))
            exprs[name] = text
        else:
            nodes.append((LINEAR, index(name), index(text), None))
            exprs[name] = text
    return names, values, nodes, loss, exprs, index(mapping["loss"])


def passes(table: tuple, number, record: bool) -> tuple:
    """Forward and reverse pass; with `record`, one index tuple per step and the step's value."""
    names, values, nodes, loss, _, loss_slot = table
    values = list(values)
    zero, two = number(0), number(2)
    for kind, out, a, bias in nodes:
        if kind == SUM:
            total = values[bias]
            for w, x in a:
                total += values[w] * values[x]
            values[out] = total
        elif kind == RELU:
            values[out] = values[a] if values[a] > zero else zero
        else:
            values[out] = values[a]
    values[loss_slot] = sum(((values[y] - values[t]) ** 2 for y, t in loss), zero)
    grad = [None] * len(values)
    steps = [] if record else None
    for y, t in loss:
        grad[y] = two * (values[y] - values[t])
        if record:
            steps.append((0, y, loss_slot, grad[y]))
            steps.append((0, t, loss_slot, -grad[y]))
    parts = {}                                   # slot -> the steps' values to sum (several paths)
    for kind, out, a, bias in reversed(nodes):
        upstream = grad[out]
        if upstream is None:                     # a node fed by several sums: its sum step
            contributions = parts.pop(out)
            upstream = grad[out] = sum(contributions, zero)
            if record:
                steps.append((1, out, len(contributions), upstream))
        if kind == SUM:
            grad[bias] = upstream
            if record:
                steps.append((2, bias, out, upstream))
            for w, x in a:
                grad[w] = g = upstream * values[x]
                contribution = upstream * values[w]
                parts.setdefault(x, []).append(contribution)
                if record:
                    steps.append((3, w, out, g))
                    steps.append((4, x, out, contribution))
        elif kind == RELU:
            grad[a] = upstream if values[a] > zero else zero
            if record:
                steps.append((5, a, out, grad[a]))
        else:
            grad[a] = upstream
            if record:
                steps.append((6, a, out, upstream))
    for x, contributions in parts.items():       # the inputs: a sum step each
        grad[x] = sum(contributions, zero)
        if record:
            steps.append((1, x, len(contributions), grad[x]))
    return values, grad, steps


def decimal(value) -> str:
    """15 significant digits of an exact rational, by integer arithmetic, in fixed notation."""
    p, q = int(value.numerator), int(value.denominator)
    if p == 0:
        return "0"
    sign, p = ("-" if p < 0 else ""), abs(p)
    exponent = len(str(p)) - len(str(q))        # 10**exponent <= p/q < 10**(exponent+1), or one less
    if p * 10 ** max(0, -exponent) < q * 10 ** max(0, exponent):
        exponent -= 1
    shift = 14 - exponent
    n, r = divmod(p * 10 ** shift, q) if shift >= 0 else divmod(p, q * 10 ** -shift)
    n += 2 * r >= (q if shift >= 0 else q * 10 ** -shift)
    if n == 10 ** 15:
        n, exponent = n // 10, exponent + 1
    digits = str(n)
    if exponent >= 0:
        if exponent >= 14:
            return sign + digits + "0" * (exponent - 14)
        return f"{sign}{digits[:exponent + 1]}.{digits[exponent + 1:]}"
    return f"{sign}0.{'0' * (-exponent - 1)}{digits}"


def answer_key(table: tuple, values: list, grad: list, steps: list) -> dict:
    """The answer key's dicts from the records: each value's strings made once."""
    names, _, nodes, loss, exprs, loss_slot = table
    exact, dec = {}, {}

    def strings(i: int, value) -> tuple[str, str]:
        if i not in exact:
            exact[i], dec[i] = str(value), decimal(value)
        return exact[i], dec[i]

    forward = {}
    for kind, out, a, bias in nodes:
        e, d = strings(out, values[out])
        forward[names[out]] = {"expr": exprs[names[out]], "exact": e, "decimal": d, "given": False}
    forward[names[loss_slot]] = {"expr": exprs[names[loss_slot]], "exact": str(values[loss_slot]),
                                 "decimal": decimal(values[loss_slot]), "given": False}
    general = {out: f"d{names[out]}" for _, out, _, _ in nodes}   # one general form per node, made once
    gradients = {}
    for _, out, a, bias in nodes:
        for i in ([out, bias] + [w for w, _ in a] if bias is not None else [out]):
            gradients[names[i]] = {"symbolic": general.get(i), "exact": str(grad[i]),
                                   "decimal": decimal(grad[i])}
    rules = (["add", "power", "add"], None, ["add"], ["add", "multiply"], ["add", "multiply"], ["relu"],
             ["chain"])
    key_steps = []
    for kind, target, via, value in steps:
        if kind == 1:
            key_steps.append({"kind": "sum", "target": names[target], "vias": [], "general": None,
                              "value": str(value), "reduction": None})
            continue
        up = general.get(via)
        key_steps.append({"kind": "chain", "target": names[target], "via": names[via], "rules": rules[kind],
                          "local": names[target], "local_value": strings(target, values[target])[0],
                          "upstream": up, "upstream_value": exact.get(via),
                          "general": f"{names[target]}*{up}",
                          "value": str(value), "branches": [], "reused": True, "local_general": None,
                          "reduction": None})
    return {"forward": forward, "gradients": gradients, "steps": key_steps}


def timed(work) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def check() -> None:
    """The floor's exact gradients and step count against symbackprop's answer key, 4-8-8-3 ReLU."""
    import symbackprop
    mapping = nodes_mapping(network([4, 8, 8, 3], "relu", SEED))
    key = symbackprop.load(mapping).solve().to_dict()
    table = parse(mapping, Fraction)
    _, grad, steps = passes(table, Fraction, True)
    names = table[0]
    wrong = [n for n in mapping["parameters"] if str(grad[names.index(n)]) != key["gradients"][n]["exact"]]
    count = len(mapping["parameters"])
    print(f"check on 4-8-8-3 ReLU: {count - len(wrong)} of {count} gradients equal to the answer key's; "
          f"{len(steps)} steps recorded, the key has {len(key['steps'])}")
    if wrong or len(steps) != len(key["steps"]):
        sys.exit("the floor does not compute what the answer key holds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 128, 10])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="check the floor against symbackprop first")
    args = parser.parse_args()
    if args.check:
        check()
    import sympy as sp
    net = network(args.sizes, "relu", SEED)
    mapping = nodes_mapping(net)
    z, y, t, w, x = sp.symbols("z y t w x")
    diffs, _ = timed(lambda: (sp.diff(sp.Max(z, 0), z), sp.diff((y - t) ** 2, y), sp.diff(w * x, w)))
    types = exact_types()
    tables = {name: parse(mapping, number) for name, number in types.items()}
    parts = ("parse", "passes", "steps", "key")
    best = {name: dict.fromkeys(parts, float("inf")) for name in types}
    micrograd = float("inf")
    for _ in range(args.repeat):       # rounds: micrograd and every type's parts take turns
        micrograd = min(micrograd, work_micrograd(net, repeat=1)["seconds"])
        for name, number in types.items():
            table = tables[name]
            times = {"parse": timed(lambda: parse(mapping, number))[0],
                     "passes": timed(lambda: passes(table, number, False))[0]}
            times["steps"], (values, grad, steps) = timed(lambda: passes(table, number, True))
            times["key"], _ = timed(lambda: answer_key(table, values, grad, steps))
            best[name] = {part: min(best[name][part], times[part]) for part in parts}
    label = "-".join(map(str, args.sizes))
    print(f"floor on the {label} ReLU network (nodes format), best of {args.repeat} rounds; micrograd "
          f"forward+backward {micrograd:.4f} s; SymPy's three local derivatives {diffs:.4f} s")
    print(f"{'exact type':12} {'parse':>7} {'passes':>7} {'steps':>7} {'key':>7}   "
          f"{'gradients':>17} {'answer key':>17}")
    for name, b in best.items():
        gradients = b["parse"] + b["passes"]
        key = b["parse"] + b["steps"] + b["key"] + diffs
        print(f"{name:12} {b['parse']:7.3f} {b['passes']:7.3f} {b['steps']:7.3f} {b['key']:7.3f}   "
              f"{gradients:7.3f} s {gradients / micrograd:5.2f}x   {key:7.3f} s {key / micrograd:5.2f}x")
    print(f"({len(steps):,} steps; 'steps' is the passes with the step records, so it replaces 'passes' "
          "in the answer key's sum)")


if __name__ == "__main__":
    main()
