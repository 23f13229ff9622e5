"""The rule for every text a problem shows (a title, a note, a task): one paragraph, no control
characters, and mathematics only as the notation whitelist allows."""

from __future__ import annotations

import unicodedata

from ..errors import ProblemError
from ..model import notation as notation_module


def paragraph(text: str, key: str) -> str:
    """A title or note as one paragraph: a blank line inside would end LaTeX's \\section{...} or
    \\emph{...} mid-argument (pdflatex stops) and Markdown's quote; a control character (YAML's
    "\\a") is not text at all."""
    control = next((c for c in text if unicodedata.category(c) == "Cc" and not c.isspace()), None)
    if control is not None:
        raise ProblemError(f"contains the control character U+{ord(control):04X}", key=key)
    # $...$ is written into LaTeX and Markdown as mathematics: refused here, with its key, rather
    # than shown as escaped text, so that a lecturer's typo (or \input) is said, not printed.
    # Checked before the spaces are joined: a tab there is YAML's "\t" of a "\text" in double quotes.
    problem = notation_module.math_refusal(text.replace("\n", " ").replace("\r", " "))
    if problem:
        raise ProblemError(f"{problem} (write \\$ for a dollar sign)", key=key)
    return " ".join(text.split())
