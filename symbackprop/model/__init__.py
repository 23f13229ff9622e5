"""The model: what a problem is. Symbols, the SymPy functions of the activations, the table of
operations and their local derivatives (rules), the graph of nodes, the steps of a derivation as
frozen records, data sets, and the Problem itself. No parsing, no deriving, no printing."""
