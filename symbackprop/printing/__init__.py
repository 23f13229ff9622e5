"""Printing: a Solution written out. SymPy's printers adjusted (printers), how each format writes
mathematics and numbers (formats), a Solution as plain data for the templates (view), the
templates filled (rendering), the JSON answer key (answer_key) and the graph drawn (diagram).
Printing reads what the engine derived; it never derives."""

from . import answer_key, rendering

__all__ = ["answer_key", "rendering"]
