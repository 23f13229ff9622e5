"""The lecturer's notation: which LaTeX a name may be written as, and which `$...$` a title may hold.

A problem's `notation:` maps a name to a LaTeX math snippet (`net_h1: "z^{(1)}_1"`), and its title
and notes may hold `$...$` mathematics. Both reach pdflatex (and KaTeX or MathJax in Markdown), so
both pass one check first, `refusal()`, and the printers write only what passed it.

The check is a whitelist, as MediaWiki's texvc (and its port texvcjs, github.com/wikimedia/texvcjs)
validates the mathematics of Wikipedia before TeX sees it: every command must be one it knows
("F: a TeX function was not recognized"), and arguments must be braced where they need it. KaTeX's
safety options (`trust` for \\href and \\includegraphics, `maxExpand` against macro loops) and
MathJax's Safe extension (filtering URLs, classes and styles) instead block the dangerous features
of an interpreter written for the web, which never reads a file; KaTeX's own advisories
(\\def/\\newcommand loops despite maxExpand, \\includegraphics and \\htmlData escapes) show how such
a list falls behind. Here the output goes to real TeX, where \\input, \\openout, \\write18,
\\csname, \\catcode and `^^5c` (a backslash written by its code) reach files and the shell, so only
known tokens pass: ASCII letters and digits, spaces, `_ ^ { } ( ) [ ] , . ' + - | /` and `= : ;` (a
title's `$\\eta = 0.5$`; not `<` or `>`, which Markdown may take for HTML), and the control words
below, all defined by LaTeX's kernel or amsmath and all known to KaTeX and MathJax; no macro can be
defined and no file named. The check also refuses what would stop pdflatex (unbalanced braces, a
double subscript, a command without its argument, `_` inside \\text), so a snippet that passes
compiles.
"""

from __future__ import annotations

import re

#: Greek letters as LaTeX's kernel names them (no \Alpha or \omicron: those are Latin letters).
GREEK = frozenset((
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi "
    "pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega").split())
#: Symbols that take no argument.
SYMBOLS = GREEK | frozenset((
    "prime ell partial nabla infty cdot cdots ldots times ast star circ dagger top hbar imath "
    "jmath leq geq neq approx in to sum").split())
#: Commands whose one argument is mathematics: fonts and accents.
MATH_ARGUMENT = frozenset((
    "mathrm mathbf mathit mathsf mathtt mathcal boldsymbol operatorname hat bar tilde vec dot ddot "
    "check breve widehat widetilde overline underline").split())
#: Commands whose one argument is text: only plain words may stand there.
TEXT_ARGUMENT = frozenset({"text"})
COMMANDS = SYMBOLS | MATH_ARGUMENT | TEXT_ARGUMENT

#: Characters that stand for themselves in mathematics (and, but for _ and ^, in text).
PUNCTUATION = "()[],.'+-|/=:;"
#: Names notation: may take beyond the problem's nodes and symbols, and what each stands for
#: (a delta or a loss's average may join them).
EXTRA_KEYS = {"eta": "the learning rate"}
#: A key delta_<node> names the delta of a weighted-sum node: delta_net_h1: '\delta^{(1)}_1'.
DELTA_PREFIX = "delta_"
MAX_LENGTH = 200

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.?|.", re.DOTALL)
#: Why a character that is not on the whitelist is refused, where there is more to say.
_SPECIAL = {
    "$": "the value is already mathematics; leave out the $",
    "%": "% starts a TeX comment",
    "#": "# is a macro parameter",
    "&": "& is an alignment tab",
    "~": "~ is TeX's non-breaking space",
}


def refusal(tex: str) -> str | None:
    """Why `tex` may not be written into LaTeX or Markdown mathematics, or None where it may."""
    if not tex.strip():
        return "is empty"
    if len(tex) > MAX_LENGTH:
        return f"is longer than {MAX_LENGTH} characters"
    if "^^" in tex:
        return "^^ writes a character by its code in TeX (^^5c is a backslash) and is not allowed"
    return _Checker().run(tex)


class _Checker:
    """One pass over the tokens with a stack of groups: each group's mode (math, or text inside
    \\text{...}) and the scripts its current nucleus already has, and what the last token awaits
    (the argument of a command, or of _ or ^)."""

    def __init__(self):
        self.groups: list[dict] = [{"mode": "math", "scripts": set(), "script": None}]
        self.pending: tuple[str, str] | None = None       # ("script", "_") or ("argument", "hat")

    def run(self, tex: str) -> str | None:
        for token in _TOKEN.findall(tex):
            problem = self.token(token)
            if problem:
                return problem
        if self.pending:
            return self._unfinished() + " at the end"
        if len(self.groups) > 1:
            return "has unbalanced braces: a { is never closed"
        return None

    def token(self, token: str) -> str | None:
        group = self.groups[-1]
        text = group["mode"] == "text"
        if token == " ":
            return None
        if token.isspace() or not token.isprintable():
            # YAML's double quotes read \t, \a, \b, \f, \v, \n and \r as control characters, so
            # "\text" or "\alpha" arrive as a tab or a bell followed by the rest of the word.
            return (f"holds the control character U+{ord(token):04X}: in YAML's double quotes \\a, "
                    "\\b, \\f, \\n, \\r, \\t and \\v are escapes, so write LaTeX in single quotes, "
                    "'\\alpha', or double its backslashes, \"\\\\alpha\"")
        if token.startswith("\\"):
            name = token[1:]
            if not name.isalpha():
                return f"{token} is not allowed (TeX reads a backslash and what follows as a command)"
            if name not in COMMANDS:
                return f"\\{name} is not allowed; allowed are " + allowed()
            if text:
                return f"\\{name} cannot stand inside \\text{{...}}, which takes plain words"
            if name in SYMBOLS:
                return self.atom()
            if self.pending:
                before = self.pending[1] if self.pending[0] == "script" else "\\" + self.pending[1]
                return f"write {before}{{\\{name}{{...}}}}: \\{name} there needs braces around it"
            self.pending = ("argument", name)
            return None
        if token == "{":
            mode = group["mode"]
            script = None
            if self.pending and self.pending[0] == "argument":
                mode = "text" if self.pending[1] in TEXT_ARGUMENT else "math"
            elif self.pending:
                script = self.pending[1]
            self.pending = None
            self.groups.append({"mode": mode, "scripts": set(), "script": script})
            return None
        if token == "}":
            if self.pending:
                return self._unfinished()
            if len(self.groups) == 1:
                return "has unbalanced braces: a } closes nothing"
            closed = self.groups.pop()
            if closed["script"]:
                self.groups[-1]["scripts"].add(closed["script"])
            else:
                self.groups[-1]["scripts"] = set()
            return None
        if token in "_^":
            if text:
                return f"{token} cannot stand inside \\text{{...}}, which takes plain words"
            if self.pending:
                return self._unfinished()
            if token in group["scripts"]:
                kind = "subscript" if token == "_" else "superscript"
                return f"has a double {kind}: write x{token}{{12}}, or {{x{token}1}}{token}2"
            self.pending = ("script", token)
            return None
        if token == "'" and not text:
            if self.pending:
                return f"{self._unfinished()}: write x^{{\\prime}}"
            if "^" in group["scripts"]:
                return "has a prime after a superscript: write x'^2, not x^2'"
            return None
        if token.isascii() and (token.isalnum() or token in PUNCTUATION):
            return self.atom()
        reason = _SPECIAL.get(token, f"the character {token!r} is not allowed")
        return f"{reason}; allowed are " + allowed()

    def atom(self) -> None:
        """A letter, digit, punctuation or symbol: a script's argument, an accent's, or a new nucleus."""
        group = self.groups[-1]
        if self.pending and self.pending[0] == "script":
            group["scripts"].add(self.pending[1])
        else:
            group["scripts"] = set()
        self.pending = None
        return None

    def _unfinished(self) -> str:
        kind, what = self.pending
        return (f"\\{what} needs its argument" if kind == "argument"
                else f"{what} needs a subscript or superscript after it")


def allowed() -> str:
    """The whitelist in one line, for error messages (the README lists every command)."""
    return ("letters, digits, spaces, _ ^ { } ( ) [ ] , . ' + - | / = : ; and the Greek letters, "
            "\\text, \\mathrm, \\mathbf, \\mathcal, \\operatorname, \\hat, \\bar, \\tilde, \\vec, "
            "\\prime, \\ell, \\partial, \\cdot and the few more the README lists")


def math_spans(text: str) -> list[tuple[bool, str]]:
    """Prose split into (is mathematics, piece): `$...$` is mathematics (its inside, without the
    dollars), `\\$` a literal dollar and a lone `$` too. Whether the mathematics passes the
    whitelist is refusal()'s to say."""
    pieces: list[tuple[bool, str]] = []
    position = 0
    for match in re.finditer(r"\\\$|\$([^$]+)\$", text):
        math = match.group(1)
        pieces.append((False, text[position:match.start()] + ("$" if math is None else "")))
        if math is not None:
            pieces.append((True, math))
        position = match.end()
    pieces.append((False, text[position:]))
    spans: list[tuple[bool, str]] = []
    for is_math, piece in pieces:
        if spans and not is_math and not spans[-1][0]:
            spans[-1] = (False, spans[-1][1] + piece)      # prose on both sides of a literal \\$
        elif piece or is_math:
            spans.append((is_math, piece))
    return spans


def math_refusal(text: str) -> str | None:
    """Why a title's or note's `$...$` may not be written as mathematics, or None."""
    for is_math, piece in math_spans(text):
        problem = refusal(piece) if is_math else None
        if problem:
            return f"${piece}$: {problem}"
    return None
