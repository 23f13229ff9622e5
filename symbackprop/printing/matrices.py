"""The matrix form written out (issue 13): each layer's matrices with their names, shapes and numbers.

Per layer, forward: W^l and b^l (names, then values), z^l = W^l a^(l-1) + b^l multiplied out row by
row, a^l = f(z^l). Backward, from the output layer down: delta^l (y - t, or (W^(l+1))^T delta^(l+1)
(.) f'(z^l) with the transpose and the Hadamard product written out), dE/dW^l = delta^l (a^(l-1))^T
as an outer product and dE/db^l = delta^l, each with the shapes that make the product fit, as the
dimension check is taught. The update as matrices. Numbers follow the solution's policy (Format).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ..engine.matrix import MatrixForm
from .equations import Equation, equation
from .formats import Format


class MatrixWriter:
    """The matrix form's sections (forward, backward, update), one entry per layer: a heading, its
    equations and the sentences that say the shapes."""

    def __init__(self, form: MatrixForm, fmt: Format, both: bool = False):
        self.form = form
        self.f = fmt
        #: The scalar derivation follows (--form both).
        self.both = both
        self.loss = form.network.loss
        #: With a batch, each column is one example's gradient: of its own loss E_n.
        self.example_loss = self.loss if form.examples == 1 else f"{self.loss}_n"
        #: A batch's mean, 1/m, before a product over its examples (nothing for one example or a sum).
        self.scale = "" if form.scale == 1 else f"{fmt.one_over(form.examples)} "

    # --- names and matrices ----------------------------------------------------------------------
    def name(self, letter: str, index: int) -> str:
        return self.f.layered(letter, index)

    def values(self, m: sp.Matrix) -> str:
        return self.f.matrix([[self.f.inside(m[r, c]) for c in range(m.cols)] for r in range(m.rows)])

    def names(self, rows) -> str:
        return self.f.matrix([[self.f.symbol(n) if n else "0" for n in row] for row in rows])

    def rel(self, *matrices: sp.Matrix) -> str:
        """= where every entry is written exactly, else ≈."""
        return self.f.relation(*(v for m in matrices for v in m))

    def shape(self, m: sp.Matrix) -> str:
        return self.f.math(f"{m.rows} {self.f.times} {m.cols}")

    # --- sections --------------------------------------------------------------------------------
    def forward(self) -> list[dict[str, Any]]:
        f = self.f
        out = []
        for layer in self.form.layers:
            n = layer.index
            W, b, z, a = self.name("W", n), self.name("b", n), self.name("z", n), self.name("a", n)
            a_prev = self.name("a", n - 1)
            # One example: each row of z multiplied out (a batch's columns are too many to).
            rows = [" + ".join(f.product(f.factor(layer.W[j, i]), f.factor(layer.a_prev[i]))
                               for i in range(layer.W.cols)) +
                    (f" + {f.factor(layer.b[j])}" if any(layer.bias_names) else "")
                    for j in range(layer.W.rows)] if layer.a_prev.cols == 1 else []
            equations: list[Equation] = [
                equation(W, (f.eq, self.names(layer.weight_names)), (f.eq, self.values(layer.W))),
                equation(a_prev, (f.eq, self.names([[s] for s in layer.sources])),
                         (f.eq, self.values(layer.a_prev))),
            ]
            if any(layer.bias_names):
                equations.append(equation(b, (f.eq, self.names([[bias] for bias in layer.bias_names])),
                                          (f.eq, self.values(layer.b))))
            equations.append(equation(
                z, (f.eq, f"{W} {a_prev}" + (f" + {b}" if any(layer.bias_names) else "")),
                (f.eq, self.values(layer.W) + " " + self.values(layer.a_prev) +
                 (" + " + self.values(layer.b) if any(layer.bias_names) else "")),
                *([(self.rel(layer.W, layer.a_prev), f.matrix([[row] for row in rows]))] if rows else []),
                (self.rel(layer.z), self.values(layer.z))))
            function = f.function_name(layer.activation)
            equations.append(equation(a, (f.eq, f"{function}({z})" if function else z),
                                      (self.rel(layer.a), self.values(layer.a))))
            out.append({"heading": f"Layer {n}", "equations": equations,
                        "sentences": [f"{f.math(W)} is {self.shape(layer.W)} (a row per unit, a column "
                                      f"per input) and {f.math(a_prev)} is {self.shape(layer.a_prev)}, so "
                                      f"{f.math(z)} is {self.shape(layer.z)}."]})
        return out

    def backward(self) -> list[dict[str, Any]]:
        f = self.f
        out = []
        layers = self.form.layers
        for position in range(len(layers) - 1, -1, -1):
            layer = layers[position]
            n = layer.index
            delta, a_prev = f.layered_delta(n), self.name("a", n - 1)
            equations, sentences = [], []
            if layer.targets is not None:
                equations.append(equation(delta, (f.eq, f"{self.name('a', n)} - t"),
                                          (f.eq, f"{self.values(layer.a)} - {self.values(layer.targets)}"),
                                          (self.rel(layer.delta), self.values(layer.delta))))
                sentences.append("Under cross-entropy with targets that sum to 1, the output layer's "
                                 "delta is its output minus the target" +
                                 (": the derivation entry by entry below shows why." if self.both else
                                  f" ({f.code('--form both')} derives it entry by entry)."))
            elif position == len(layers) - 1 and layer.activation is None:
                # A linear output: its delta is the loss's own derivative.
                upstream = f.partial_matrix(self.example_loss, self.name("a", n))
                equations.append(equation(delta, (f.eq, upstream), (self.rel(layer.delta),
                                                                    self.values(layer.delta))))
            elif position == len(layers) - 1:
                slope = self.values(layer.slope)
                equations.append(equation(
                    delta, (f.eq, f"{f.partial_matrix(self.example_loss, self.name('a', n))} {f.hadamard} "
                                  f"{f.function_name(layer.activation, prime=True)}({self.name('z', n)})"),
                    (f.eq, f"{self.values(layer.upstream)} {f.hadamard} {slope}"),
                    (self.rel(layer.delta), self.values(layer.delta))))
            else:
                above = layers[position + 1]
                W_next = self.name("W", n + 1)
                transposed = f.transpose(W_next)
                equations.append(equation(
                    delta, (f.eq, f"{f.grouped(f'{transposed} {f.layered_delta(n + 1)}')} {f.hadamard} "
                                  f"{f.function_name(layer.activation, prime=True)}({self.name('z', n)})"),
                    (f.eq, f"{self.values(above.W.T)} {self.values(above.delta)} {f.hadamard} "
                           f"{self.values(layer.slope)}"),
                    (self.rel(layer.upstream, layer.slope),
                     f"{self.values(layer.upstream)} {f.hadamard} {self.values(layer.slope)}"),
                    (self.rel(layer.delta), self.values(layer.delta))))
                sentences.append(f"{f.math(transposed)} is {self.shape(above.W.T)} and "
                                 f"{f.math(f.layered_delta(n + 1))} {self.shape(above.delta)}, so their "
                                 f"product is {self.shape(layer.upstream)}, the shape of "
                                 f"{f.math(self.name('z', n))}; {f.math(f.hadamard)} multiplies entry by "
                                 "entry.")
            equations.append(equation(
                f.partial_matrix(self.loss, self.name("W", n)),
                (f.eq, f"{self.scale}{delta} {f.transpose(a_prev)}"),
                (f.eq, f"{self.scale}{self.values(layer.delta)} {self.values(layer.a_prev.T)}"),
                (self.rel(layer.dW), self.values(layer.dW))))
            if any(layer.bias_names):
                batch = f" {f.ones}" if self.form.examples > 1 else ""
                equations.append(equation(f.partial_matrix(self.loss, self.name("b", n)),
                                          (f.eq, f"{self.scale}{delta}{batch}"),
                                          (self.rel(layer.db), self.values(layer.db))))
                shared = sorted({b for b in layer.bias_names if b and layer.bias_names.count(b) > 1})
                for bias in shared:
                    sentences.append(f"{f.math(f.symbol(bias))} is shared by several units of this layer: "
                                     f"its gradient is the sum of their entries.")
            sentences.append(f"{f.math(delta)} is {self.shape(layer.delta)} and "
                             f"{f.math(f.transpose(a_prev))} {self.shape(layer.a_prev.T)}: their "
                             + ("outer product" if self.form.examples == 1 else
                                "product, a sum over the examples,") +
                             f" is {self.shape(layer.dW)}, the shape of {f.math(self.name('W', n))}.")
            out.append({"heading": f"Layer {n}", "equations": equations, "sentences": sentences})
        return out

    def update(self) -> list[dict[str, Any]]:
        f = self.f
        if self.form.learning_rate is None:
            return []
        eta = f.symbol("eta")
        rate = f.factor(self.form.learning_rate)
        out = []
        for layer in self.form.layers:
            equations = []
            for letter, old, gradient, new in (("W", layer.W, layer.dW, layer.W_new),
                                               ("b", layer.b, layer.db, layer.b_new)):
                if new is None:
                    continue
                name = self.name(letter, layer.index)
                rule = f"{name} - {eta} {f.partial_matrix(self.loss, name)}"
                equations.append(equation(f.layered(letter, layer.index, updated=True), (f.eq, rule),
                                          (f.eq, f"{self.values(old)} - {rate} {self.values(gradient)}"),
                                          (self.rel(new), self.values(new))))
            if equations:
                out.append({"heading": f"Layer {layer.index}", "equations": equations, "sentences": []})
        return out


def matrix_view(form: MatrixForm, fmt: Format, both: bool = False,
                losses: list[sp.Expr] | None = None, batch_loss: sp.Expr | None = None) -> dict[str, Any]:
    """The sections; with a batch, `losses` are its examples' and `batch_loss` their mean or sum."""
    writer = MatrixWriter(form, fmt, both)
    columns = ""
    if form.examples > 1:
        how = "mean" if form.scale != 1 else "sum"
        columns = (f"The matrices of values have one column per example of the batch ({form.examples}), "
                   f"each column of a delta that example's own gradient; the bias is added to every column, "
                   f"and the gradients of {fmt.math(fmt.symbol(form.network.loss))} take the {how} over the "
                   f"columns, as its loss does: the {how} of "
                   f"{', '.join(fmt.number(v) for v in losses or [])} is {fmt.number(batch_loss)}.")
    # Not "update": Jinja would find the dict's own update method first.
    return {"forward": writer.forward(), "backward": writer.backward(), "updates": writer.update(),
            "columns": columns}


def entry_of(form: MatrixForm, fmt: Format) -> dict[str, str]:
    """Each weight's place in its matrix, as a sentence: w3_21 is entry (2, 1) of dE/dW^(3)."""
    places = {}
    for layer in form.layers:
        for j, row in enumerate(layer.weight_names, start=1):
            for i, name in enumerate(row, start=1):
                if name:
                    matrix = fmt.partial_matrix(form.network.loss, fmt.layered("W", layer.index))
                    places[name] = f"entry ({j}, {i}) of {fmt.math(matrix)}"
    return places


def answer_key(form: MatrixForm, decimal) -> dict[str, Any]:
    """The answer key's matrix entry: per layer W, b, z, a, delta, dW, db as lists of rows of
    {exact, decimal}."""
    def rows(m: sp.Matrix) -> list[list[dict]]:
        return [[decimal(m[r, c]) for c in range(m.cols)] for r in range(m.rows)]
    return {"layers": [{"index": layer.index, "W": rows(layer.W), "b": rows(layer.b), "z": rows(layer.z),
                        "a": rows(layer.a), "delta": rows(layer.delta), "dW": rows(layer.dW),
                        "db": rows(layer.db),
                        "weights": [list(r) for r in layer.weight_names], "biases": list(layer.bias_names)}
                       for layer in form.layers]}
