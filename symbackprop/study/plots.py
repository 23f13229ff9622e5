"""The loss curves of a learning-rate study: PNG and SVG with matplotlib, and a pgfplots picture.

All learning rates share one plot: the step on the x axis (0 is before the first update), the loss
over all examples on the y axis, on a log scale when the losses span more than two decades. A run
that overflowed ends in a cross; where other runs did not diverge, a diverging one leaves the plot
at the top. The figure is drawn with matplotlib's object API on an Agg canvas, never through
pyplot, so it needs no display and leaves the backend of a notebook that imports this module alone.
Matplotlib is imported when a figure is drawn, so that commands other than `train` never load it.
The files are deterministic: matplotlib runs with its default style whatever the user's
matplotlibrc says, SVG ids come from a fixed hash salt, neither file records a date, and the PNG
does not record matplotlib's version (the SVG's creator does).
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

from ..printing.formats import Format, LatexFormat
from ..printing.view import evenly_spread
from .runs import Study
from .verdicts import DIVERGES, Curve

#: The losses span more than this factor (two decades): use a log scale.
LOG_SPAN = 100
#: At most this many points per curve in the pgfplots picture (TeX is slow with more).
MAX_POINTS = 200
#: Matplotlib's default colour cycle (tab10), used by both pictures so that they match.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
#: Fixed settings that make the SVG and PNG byte-identical on every run.
RC = {"svg.hashsalt": "symbackprop", "svg.fonttype": "path", "path.simplify": True}
DPI = 150
#: Learning rates in the legends: plain text for matplotlib, LaTeX for pgfplots.
_TEXT, _LATEX = Format(6), LatexFormat(6)


def points(curve: Curve) -> list[tuple[int, float]]:
    """(step, loss) for every finite loss of a curve that a float can hold."""
    result = []
    for step, loss in enumerate(curve.history):
        value = _float(loss)
        if value is None:
            break           # past the range of floats: a diverging run, cut where it leaves it
        result.append((step, value))
    return result


def _float(value: Decimal) -> float | None:
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def log_scale(study: Study) -> bool:
    """True when the positive losses shown span more than two decades (diverging runs left out
    where others did not diverge: they leave the plot at the top)."""
    positive = [y for i in _scaled(study) for _, y in points(study.curves[i]) if y > 0]
    return bool(positive) and max(positive) > LOG_SPAN * min(positive)


def _scaled(study: Study) -> list[int]:
    """The curves that decide the axes: those that did not diverge, or all if every one did."""
    kept = [i for i, v in enumerate(study.verdicts) if v.kind != DIVERGES]
    return kept or list(range(len(study.curves)))


def top(study: Study, log: bool) -> float | None:
    """The top of the loss axis when some runs diverge and others do not: a decade (log scale) or
    half again (linear) above the highest loss of the others; None to fit everything."""
    if len(_scaled(study)) == len(study.curves):
        return None
    highest = max((y for i in _scaled(study) for _, y in points(study.curves[i])), default=None)
    if highest is None or highest <= 0:
        return None
    return highest * (10 if log else 1.5)


def visible(curve: Curve, log: bool, ceiling: float | None) -> list[tuple[float, float]]:
    """The points drawn: positive ones on a log scale; a curve that rises above the ceiling ends
    where it crosses it (interpolated on the axis's scale)."""
    shown: list[tuple[float, float]] = []
    for x, y in points(curve):
        if log and y <= 0:
            continue
        if ceiling is not None and y > ceiling:
            if shown:
                x0, y0 = shown[-1]
                scale = math.log if log else (lambda v: v)
                t = (scale(ceiling) - scale(y0)) / (scale(y) - scale(y0))
                shown.append((x0 + t * (x - x0), ceiling))
            break
        shown.append((x, y))
    return shown


def label(curve: Curve, index: int, study: Study) -> str:
    """The legend entry (matplotlib mathtext for eta): the learning rate and its verdict."""
    text = r"$\eta$ = " + _TEXT.rate(curve.learning_rate).replace("$", r"\$")
    return f"{text}: {_verdict(study, index)}"


def _verdict(study: Study, index: int) -> str:
    verdict = study.verdicts[index]
    if verdict.overflow_step is not None:
        return f"{verdict.kind} (past 1e100 at step {verdict.overflow_step})"
    return verdict.kind


def _ends_in_overflow(study: Study, index: int, shown) -> bool:
    """A cross marks the last loss of a run that overflowed, where it is inside the plot."""
    curve = study.curves[index]
    return (study.verdicts[index].overflow_step is not None and bool(shown)
            and shown[-1][0] == len(curve.history) - 1)


def figure(study: Study):
    """The matplotlib figure of all the loss curves."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    log = log_scale(study)
    ceiling = top(study, log)
    fig = Figure(figsize=(7, 4.3), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.add_subplot()
    for index, curve in enumerate(study.curves):
        shown = visible(curve, log, ceiling)
        colour = COLOURS[index % len(COLOURS)]
        axes.plot([x for x, _ in shown], [y for _, y in shown], color=colour, linewidth=1.5,
                  label=label(curve, index, study))
        if _ends_in_overflow(study, index, shown):
            axes.plot([shown[-1][0]], [shown[-1][1]], marker="x", markersize=9, color=colour,
                      linestyle="none")
    if log:
        axes.set_yscale("log")
    if ceiling is not None:
        axes.set_ylim(top=ceiling)
    axes.set_xlim(0, study.steps)
    axes.set_xlabel("step")
    axes.set_ylabel("loss" + (" (log scale)" if log else ""))
    title = study.problem.title or "Learning-rate study"
    axes.set_title(title.replace("$", r"\$"))
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(loc="best")
    fig.tight_layout()
    return fig


def write_images(study: Study, png: Path, svg: Path) -> list[Path]:
    """Write the plot as PNG and SVG; returns the paths written."""
    import matplotlib.style

    with matplotlib.style.context("default"), matplotlib.rc_context(RC):
        fig = figure(study)
        fig.savefig(png, format="png", metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None})
    return [png, svg]


def pgf_number(value: float) -> str:
    """A coordinate as pgfplots reads it: 6 significant digits, exponent where needed."""
    return format(value, ".6g")


def pgfplots(study: Study) -> str:
    """A pgfplots `tikzpicture` of the curves, to \\input into a document that loads pgfplots."""
    log = log_scale(study)
    ceiling = top(study, log)
    options = [
        r"width=0.72\linewidth", "height=6.5cm",
        "xlabel={step}", "ylabel={loss}",
        "xmin=0", f"xmax={study.steps}",
        "grid=major", "grid style={black!12}",
        "legend cell align={left}",
        "legend style={at={(1.03,1)}, anchor=north west, font=\\small}",
        "unbounded coords=discard",
    ]
    if ceiling is not None:
        options.append(f"ymax={pgf_number(ceiling)}")
    if log:
        options += ["ymode=log", "log basis y=10"]
    lines = [
        "% The loss curves of a learning-rate study (symbackprop train): \\input this into a",
        "% document that loads pgfplots (\\usepackage{pgfplots}).",
        r"\begin{tikzpicture}",
        r"\begin{axis}[",
        *(f"  {option}," for option in options),
        "]",
    ]
    for index, curve in enumerate(study.curves):
        shown = visible(curve, log, ceiling)
        colour = _pgf_colour(COLOURS[index % len(COLOURS)])
        chosen = [shown[i] for i in evenly_spread(len(shown), MAX_POINTS)]
        coordinates = " ".join(f"({pgf_number(x)},{pgf_number(y)})" for x, y in chosen)
        lines.append(rf"\addplot[color={colour}, thick, mark=none] coordinates {{")
        lines.extend(_wrap(coordinates))
        lines.append("};")
        entry = rf"\(\eta = {_LATEX.rate(curve.learning_rate)}\): {_verdict(study, index)}"
        lines.append(rf"\addlegendentry{{{entry}}}")
        if _ends_in_overflow(study, index, shown):
            x, y = shown[-1]
            lines.append(rf"\addplot[color={colour}, only marks, mark=x, mark size=4pt, "
                         f"forget plot] coordinates {{({pgf_number(x)},{pgf_number(y)})}};")
    lines += [r"\end{axis}", r"\end{tikzpicture}"]
    return "\n".join(lines) + "\n"


def _pgf_colour(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"{{rgb,255:red,{red};green,{green};blue,{blue}}}"


def _wrap(text: str, width: int = 96) -> list[str]:
    """Coordinates broken into lines of about `width` characters, at spaces."""
    lines, current = [], ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append("  " + current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append("  " + current)
    return lines

