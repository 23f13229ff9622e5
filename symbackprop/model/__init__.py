"""The model: what a problem is. Symbols, the SymPy functions of the activations, the table of
operations (one class per operation: its derivative, names, gate rule, glyph and evaluation), the
local derivatives read from it (rules), the graph of nodes, the steps of a derivation as frozen
records, data sets, and the Problem itself. No parsing, no deriving, no printing."""

# Imported with the package so that the table has handed every evaluation to the arithmetic floor
# (certified.register) before any value is computed.
from . import operations  # noqa: F401
