"""The engine: the forward pass and the memoised reverse pass as steps (backprop), the update and
the Solution (solution), and long runs of many updates (compiled, training)."""
